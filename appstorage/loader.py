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
from .model import Config, Environment, ImagesSettings, MonitoringSettings, OutputSettings, TableSettings
from .reader import Reader, kind_of
from .validators import shown

__all__ = ["bundled_example_path", "load_config", "parse_config", "parse_yaml"]

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
    "outputs",
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


def _outputs(r: Reader, raw: Any) -> OutputSettings | None:
    d = r.mapping(raw, tuple(OutputSettings.__dataclass_fields__))
    kwargs: dict[str, Any] = {}
    if (publish := r.typed(d, "ssm_parameters", bool)) is not None:
        kwargs["ssm_parameters"] = publish
    if (path := r.typed(d, "ssm_path", str)) is not None:
        kwargs["ssm_path"] = path
    return r.construct(OutputSettings, kwargs)


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
    sections = (("table", _table), ("images", _images), ("monitoring", _monitoring), ("outputs", _outputs))
    for key, section in sections:
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
    if isinstance(data, dict):  # x-... keys hold what anchors share (docker compose's extension fields)
        data = {k: val for k, val in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
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


#: A configuration is a few kilobytes: a larger file is refused before it is parsed.
MAX_FILE_BYTES = 1 << 20
#: How deeply a file may nest, how many values it may hold once its aliases and merge keys are
#: expanded (an alias "bomb" expands exponentially), how long one value may be, and how many digits
#: a number may have: a file past these is refused with the line, never parsed further.
MAX_DEPTH, MAX_VALUES, MAX_SCALAR, MAX_DIGITS = 64, 100_000, 10_000, 64
_MERGE = "tag:yaml.org,2002:merge"
_INT = "tag:yaml.org,2002:int"


class _ConfigLoader(yaml.SafeLoader):
    """YAML's safe loader: anchors, aliases and merge keys (``<<: *defaults``, the keys the
    mapping itself writes win) work; what the loader refuses is checked on the composed nodes
    first (:func:`_node_problems`)."""


class _Refused(Exception):
    def __init__(self, node: yaml.Node, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.mark, self.problem, self.fix = node.start_mark, problem, fix


def _check_keys(loader: _ConfigLoader, node: yaml.MappingNode) -> None:
    """Keys are plain values and none is written twice (a merge key's keys may be overridden)."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE:
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            raise _Refused(key_node, "a key is a list or a mapping", "write a plain name before the ':'")
        key = loader.construct_object(key_node)
        if key in seen:
            raise _Refused(key_node, f"duplicate key {shown(key)}", "keep one of the two entries")
        seen.add(key)


def _node_problems(loader: _ConfigLoader, root: yaml.Node) -> None:
    """Raise :class:`_Refused` for a node graph the loader will not construct: nested deeper than
    :data:`MAX_DEPTH`, holding more than :data:`MAX_VALUES` values once expanded, a value longer than
    :data:`MAX_SCALAR`, a number of more than :data:`MAX_DIGITS` digits, an alias inside the node
    it names (a recursive structure), a key that is not a plain value or is written twice."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise _Refused(
                node, "an alias names a node that contains it (a recursive structure)", "remove the alias"
            )
        if depth > MAX_DEPTH:
            raise _Refused(
                node, f"nested more than {MAX_DEPTH} levels deep", "a configuration nests five levels"
            )
        open_nodes.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > MAX_SCALAR:
                raise _Refused(node, f"a value of {len(node.value):,} characters", "shorten it")
            if node.tag == _INT and len(node.value) > MAX_DIGITS:
                raise _Refused(node, f"a number of {len(node.value)} digits", "write a smaller number")
            total = 1
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(item, depth + 1) for item in node.value)
        else:
            assert isinstance(node, yaml.MappingNode)  # the composer makes only these three kinds
            _check_keys(loader, node)
            total = 1 + sum(size(k, depth + 1) + size(val, depth + 1) for k, val in node.value)
        if total > MAX_VALUES:
            raise _Refused(
                node,
                f"holds more than {MAX_VALUES:,} values once its aliases are expanded",
                "share fewer values through aliases (a configuration holds a few hundred)",
            )
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root, 0)


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "<file>"


def parse_yaml(raw: bytes, source: str = "<memory>") -> Any:
    """The YAML document in ``raw`` (UTF-8, or UTF-16 with a byte order mark) as plain data, or a
    :class:`ConfigError` naming the line: whatever the bytes, nothing else is raised."""
    loader: _ConfigLoader | None = None
    try:
        loader = _ConfigLoader(raw)  # decodes the bytes: a ReaderError for what is not text
        node = loader.get_single_node()
        if node is None:
            return None
        _node_problems(loader, node)
        return loader.construct_document(node)
    except _Refused as refused:
        raise ConfigError(source, [FieldError(_where(refused.mark), refused.problem, refused.fix)]) from None
    except yaml.reader.ReaderError as exc:
        # PyYAML gives the offending byte, or the code of the offending character, as a number
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
        if exc.encoding != "unicode":
            problem = f"is not {exc.encoding.upper()} text (byte 0x{code:02x} at offset {exc.position})"
            fix = "save the file as UTF-8"
        else:
            problem = f"has the control character U+{code:04X} at offset {exc.position}"
            fix = "remove it (YAML takes printable characters, tabs and line breaks)"
        raise ConfigError(source, [FieldError("<file>", problem, fix)]) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        # PyYAML raises ValueError and friends for scalars it resolved but cannot build (a date
        # 2024-13-45, an !!int that is not a number), RecursionError for very deep nesting.
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or (
            "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        )
        problem = f"is not valid YAML ({' '.join(str(reason).split())[:200]})"
        raise ConfigError(source, [FieldError(_where(mark), problem, "fix the YAML syntax")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def bundled_example_path() -> Path:
    """The bundled tattoo-directory example configuration (the default everywhere)."""
    return Path(__file__).resolve().parent / "examples" / "tattoo-directory.yaml"


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a configuration file (the bundled example when ``path`` is None)."""
    file = Path(path) if path is not None else bundled_example_path()
    source = str(file)
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            source,
            [
                FieldError(
                    "<file>", f"cannot be read ({exc.strerror})", "pass an existing YAML file with --config"
                )
            ],
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(
            source,
            [FieldError("<file>", f"is larger than {MAX_FILE_BYTES:,} bytes", "pass the configuration file")],
        )
    return parse_config(parse_yaml(raw, source), source)
