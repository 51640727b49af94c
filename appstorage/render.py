"""Deterministic rendering: JSON with sorted keys, YAML through cfn-flip.

cfn-flip's pure-Python YAML emitter dominates the build time, so the build command keeps a
content-addressed cache of its output (:class:`YamlCache`): the key is a hash of the JSON
text, the source of cfn-flip's YAML dumpers and the PyYAML version, so a hit is exactly
what the installed cfn-flip would write.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from troposphere import Template

__all__ = [
    "YamlCache",
    "default_cache_dir",
    "to_dict",
    "to_json",
    "to_request_json",
    "to_yaml",
    "yaml_from_json",
]

#: Bump when the way YAML is produced from JSON changes.
RENDER_VERSION = "1"


def to_dict(template: Template) -> dict[str, Any]:
    result: dict[str, Any] = template.to_dict()
    return result


def to_json(template: Template) -> str:
    """Two-space indented JSON with sorted keys and a final newline: byte-identical on re-run."""
    return json.dumps(to_dict(template), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_request_json(template: Template) -> str:
    """Compact JSON with sorted keys, as sent to CloudFormation: the TemplateBody limit (51,200
    bytes) counts every byte, and indentation roughly doubles the size of our templates."""
    return json.dumps(to_dict(template), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def yaml_from_json(json_text: str) -> str:
    """CloudFormation YAML (short-form intrinsics) converted by cfn-flip from template JSON."""
    from cfn_flip import to_yaml as flip

    text: str = flip(json_text, clean_up=False)
    return text if text.endswith("\n") else text + "\n"


def to_yaml(template: Template, *, json_text: str | None = None) -> str:
    """The template as cfn-flip YAML (pass ``json_text`` when the JSON is already rendered)."""
    return yaml_from_json(json_text if json_text is not None else to_json(template))


def default_cache_dir() -> Path:
    """``$APPSTORAGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/appstorage``, else ``~/.cache/appstorage``."""
    explicit = os.environ.get("APPSTORAGE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "appstorage"


class YamlCache:
    """A content-addressed cache of :func:`yaml_from_json`. Failures to read or write the cache
    are ignored: the cache only ever saves time, it never changes the output."""

    def __init__(self, directory: Path) -> None:
        import importlib

        import yaml

        self.directory = directory / "yaml"
        salt = hashlib.sha256(f"{RENDER_VERSION}\0{yaml.__version__}\0".encode())
        # The code that turns JSON into YAML: any upgrade or local patch gives new keys.
        for module in ("cfn_flip", "cfn_flip.yaml_dumper", "cfn_tools.yaml_dumper", "cfn_clean.yaml_dumper"):
            salt.update(Path(importlib.import_module(module).__file__ or "").read_bytes())
        self._salt = salt.digest()

    def _path(self, json_text: str) -> Path:
        key = hashlib.sha256(self._salt + json_text.encode("utf-8")).hexdigest()
        return self.directory / key[:2] / f"{key}.yaml"

    def yaml_from_json(self, json_text: str) -> str:
        path = self._path(json_text)
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            pass
        text = yaml_from_json(json_text)
        try:
            import tempfile  # only on a miss: keeps start-up fast

            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as tmp:
                tmp.write(text)
            os.replace(tmp.name, path)  # atomic: a concurrent reader sees all or nothing
        except OSError:
            pass
        return text
