"""The YAML reader: one configuration file into the model, every problem reported at once.

The reader checks the shape of the file (:class:`appstorage.reader.Reader`) and passes the keys
it has to the model's constructors, which state the defaults and check the values
(:mod:`appstorage.model`); their problems become :class:`ConfigError` lines naming the file, the
field and the fix. Nothing here talks to AWS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .deployment import read_deployment
from .errors import ConfigError, FieldError
from .inputs import PARAMETER_NAMES, ParameterValue
from .model import Config, Environment, ImagesSettings, MonitoringSettings, TableSettings
from .reader import Reader, kind_of

__all__ = ["bundled_example_path", "load_config", "parse_config"]

#: The environment's flags (booleans).
_FLAGS = ("replication", "deletion_protection", "website")
ENV_KEYS = (
    "primary_region",
    "replica_region",
    "replication",
    "deletion_protection",
    "website",
    "cors_allowed_origins",
    "table",
    "images",
    "monitoring",
    "parameters",
    "deployment",
    "tags",
)


def _parameters(r: Reader, raw: Any) -> dict[str, ParameterValue]:
    data = r.mapping(raw, PARAMETER_NAMES)
    values = {key: r.parameter_value(key, val) for key, val in data.items() if val is not None}
    return {key: value for key, value in values.items() if value is not None}


def _table(r: Reader, raw: Any) -> TableSettings | None:
    d = r.mapping(raw, tuple(TableSettings.__dataclass_fields__))
    kwargs = {k: val for k, val in d.items() if val is not None and k != "contributor_insights"}
    if (insights := r.typed(d, "contributor_insights", bool)) is not None:
        kwargs["contributor_insights"] = insights
    for key in ("max_read_request_units", "max_write_request_units"):
        value = kwargs.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            r.error(
                r.field(key),
                f"expected a whole number, got {kind_of(value)}",
                "write request units per second",
            )
            del kwargs[key]
    return r.construct(TableSettings, kwargs)


def _images(r: Reader, raw: Any) -> ImagesSettings | None:
    d = r.mapping(raw, tuple(ImagesSettings.__dataclass_fields__))
    kwargs = {k: val for k, val in d.items() if val is not None and k != "replica_storage_class"}
    if (storage_class := r.typed(d, "replica_storage_class", str)) is not None:
        kwargs["replica_storage_class"] = storage_class
    return r.construct(ImagesSettings, kwargs)


def _monitoring(r: Reader, raw: Any) -> MonitoringSettings | None:
    d = r.mapping(raw, tuple(MonitoringSettings.__dataclass_fields__))
    flags = {k: flag for k in d if (flag := r.typed(d, k, bool)) is not None}
    return r.construct(MonitoringSettings, flags)


def _environment(r: Reader, name: str, raw: Any) -> Environment | None:
    """One environment, or None (its problems recorded). The model checks the values whenever
    the fields it needs have the right shape, also when a section or a list item has problems
    (a section's defaults stand in), so that every problem is reported at once."""
    before = len(r.errors)
    required = ("primary_region", "replica_region", "parameters")
    d = r.mapping(raw, ENV_KEYS, required=required)
    kwargs: dict[str, Any] = {"name": name}
    for key, kind in (("primary_region", str), ("replica_region", str), *((k, bool) for k in _FLAGS)):
        if (value := r.typed(d, key, kind)) is not None:
            kwargs[key] = value
    if (origins := r.strings(d, "cors_allowed_origins")) is not None:
        kwargs["cors_allowed_origins"] = origins
    if (tags := r.tags(d, "tags")) is not None:
        kwargs["tags"] = tags
    with r.at("parameters"):
        read = len(r.errors)
        kwargs["parameters"] = _parameters(r, d.get("parameters"))
        dropped = len(r.errors) > read
    # Left out for its shape, a required field, flag or parameter would make the model report
    # problems that are not there (a missing key, a default flag): then only the shape is reported.
    shaped = not dropped and all(k in kwargs for k in required[:2]) and "parameters" in d
    shaped = shaped and all(k in kwargs for k in _FLAGS if d.get(k) is not None)
    for key, section in (("table", _table), ("images", _images), ("monitoring", _monitoring)):
        with r.at(key):
            settings = section(r, d.get(key))
        if settings is not None:
            kwargs[key] = settings
    with r.at("deployment"):
        deployment = read_deployment(r, d.get("deployment"))
    if deployment is not None:
        kwargs["deployment"] = deployment
    env = r.construct(Environment, kwargs, rename={"name": ""}) if shaped else None
    return env if len(r.errors) == before else None


def parse_config(data: Any, source: str = "<memory>") -> Config:
    """Validate already-parsed YAML data. Raises :class:`ConfigError` listing every problem."""
    r = Reader()
    d = r.mapping(
        data, ("project", "name_prefix", "tags", "environments"), required=("project", "environments")
    )
    kwargs: dict[str, Any] = {"source": source, "environments": {}}
    for key in ("project", "name_prefix"):
        if (text := r.typed(d, key, str)) is not None:
            kwargs[key] = text
    if (tags := r.tags(d, "tags")) is not None:
        kwargs["tags"] = tags
    envs_raw = d.get("environments")
    if envs_raw is not None and (not isinstance(envs_raw, dict) or not envs_raw):
        r.error(
            "environments",
            "expected a non-empty mapping of environment names",
            "add at least one environment, e.g. 'dev: {primary_region: us-east-1, ...}'",
        )
    elif envs_raw:
        for name, raw in envs_raw.items():
            with r.at("environments", str(name)):
                env = _environment(r, str(name), raw)
            if env is not None:
                kwargs["environments"][str(name)] = env
    config = r.construct(Config, kwargs) if "project" in kwargs else None
    if r.errors or config is None:
        raise ConfigError(source, r.errors)
    return config


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def bundled_example_path() -> Path:
    """The bundled tattoo-directory example configuration (the default everywhere)."""
    return Path(__file__).resolve().parent / "examples" / "tattoo-directory.yaml"


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a configuration file (the bundled example when ``path`` is None)."""
    file = Path(path) if path is not None else bundled_example_path()
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            source,
            [
                FieldError(
                    "<file>", f"cannot be read ({exc.strerror})", "pass an existing YAML file with --config"
                )
            ],
        ) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "<file>"
        raise ConfigError(
            source,
            [FieldError(where, f"is not valid YAML ({getattr(exc, 'problem', exc)})", "fix the YAML syntax")],
        ) from None
    return parse_config(data, source)
