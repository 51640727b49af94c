"""Deterministic rendering: JSON with sorted keys, YAML through cfn-flip."""

from __future__ import annotations

import json
from typing import Any

from troposphere import Template

__all__ = ["to_dict", "to_json", "to_yaml"]


def to_dict(template: Template) -> dict[str, Any]:
    result: dict[str, Any] = template.to_dict()
    return result


def to_json(template: Template) -> str:
    """Two-space indented JSON with sorted keys and a final newline: byte-identical on re-run."""
    return json.dumps(to_dict(template), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_yaml(template: Template, *, json_text: str | None = None) -> str:
    """CloudFormation YAML (short-form intrinsics) converted by cfn-flip from the JSON."""
    from cfn_flip import to_yaml as flip

    text: str = flip(json_text if json_text is not None else to_json(template), clean_up=False)
    return text if text.endswith("\n") else text + "\n"
