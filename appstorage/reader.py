"""Walking raw YAML data: shapes here, values in the model.

The :class:`Reader` checks what only YAML can get wrong (a mapping where a list belongs, an
unknown or duplicate key, a number where a string belongs), keeps the dotted path of the field
it is in, and collects every problem instead of stopping at the first. It passes the keys that
are present to the model's constructors (:meth:`Reader.construct`), whose defaults and checks
are the only ones (:mod:`appstorage.model`), and reports their problems under that path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from . import validators as v
from .errors import FieldError, PropsError
from .inputs import ParameterValue
from .validators import shown

__all__ = ["Reader", "describe", "kind_of"]

T = TypeVar("T")


def kind_of(value: Any) -> str:
    """What a YAML value is, in words: ``a mapping``, ``a list``, ``a number``..."""
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "nothing",
    }.get(type(value), type(value).__name__)


def describe(kind: type) -> str:
    return {bool: "boolean (true or false)", str: "string", int: "whole number"}.get(kind, kind.__name__)


class Reader:
    """Walks the raw YAML data, recording errors with their dotted field path."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self._path: list[str] = []

    def field(self, *parts: str) -> str:
        # A list index ("[0]") attaches to its list: "overrides[0].parameters", not "overrides.[0]".
        return ".".join(p for p in (*self._path, *parts) if p).replace(".[", "[") or "<root>"

    def error(self, field: str, problem: str, fix: str) -> None:
        self.errors.append(FieldError(field, problem, fix))

    def problem(self, field: str, problem: v.Problem) -> bool:
        if problem is not None:
            self.error(field, *problem)
            return True
        return False

    @contextmanager
    def at(self, *parts: str) -> Iterator[None]:
        self._path.extend(parts)
        try:
            yield
        finally:
            del self._path[len(self._path) - len(parts) :]

    def construct(
        self, build: Callable[..., T], kwargs: Mapping[str, Any], rename: Mapping[str, str] | None = None
    ) -> T | None:
        """``build(**kwargs)``; its :class:`PropsError` becomes field errors here (a field of the
        object, renamed by ``rename`` if listed there, under the current path) and None."""
        try:
            return build(**kwargs)
        except PropsError as error:
            for e in error.errors:
                self.error(self.field((rename or {}).get(e.field, e.field)), e.problem, e.fix)
            return None

    def mapping(self, data: Any, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
        """Check ``data`` is a mapping with only ``allowed`` keys and every ``required`` one."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.error(
                self.field(), f"expected a mapping, got {kind_of(data)}", "write 'key: value' lines here"
            )
            return {}
        for key in data:
            if key not in allowed:
                import difflib  # only on the error path: keeps start-up fast

                close = difflib.get_close_matches(str(key), allowed, n=1)
                fix = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
                self.error(self.field(str(key)), "unknown key", fix)
        for key in required:
            if data.get(key) is None:
                self.error(self.field(key), "missing", "this field is required")
        return {k: val for k, val in data.items() if k in allowed}

    def typed(self, data: dict[str, Any], key: str, kind: type[T]) -> T | None:
        """The value of ``key`` if it is a ``kind``; None if absent or (recorded) of another type."""
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.error(
                self.field(key),
                f"expected {kind.__name__}, got {kind_of(value)}",
                f"write a {describe(kind)}",
            )
            return None
        return value

    def strings(self, data: dict[str, Any], key: str) -> tuple[str, ...] | None:
        """A list of distinct strings, or None if absent; wrong items are recorded and left out."""
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            self.error(self.field(key), f"expected a list, got {kind_of(value)}", "write a YAML list: [a, b]")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            where = self.field(f"{key}[{i}]")
            if not isinstance(item, str):
                fix = (
                    "quote it: YAML reads unquoted digits as a number"
                    if isinstance(item, int)
                    else "write a string"
                )
                self.error(where, f"expected a string, got {kind_of(item)} {shown(item)}", fix)
            elif item in out:
                self.error(where, f"{shown(item)} is listed twice", "remove the duplicate")
            else:
                out.append(item)
        return tuple(out)

    def tags(self, data: dict[str, Any], key: str) -> dict[Any, Any] | None:
        """A mapping of tags (its keys and values are the model's to check), or None if absent."""
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(
                self.field(key), f"expected a mapping, got {kind_of(value)}", "write 'key: value' lines"
            )
            return None
        return value

    def parameter_value(self, key: str, raw: Any) -> ParameterValue | None:
        """``raw`` as a :class:`ParameterValue` (a literal or ``ssm:/path``), or None (recorded)."""
        where = self.field(key)
        if not isinstance(raw, str) or not raw:
            self.error(
                where, f"expected a string, got {kind_of(raw)}", "write a literal value or 'ssm:/path'"
            )
            return None
        try:
            return ParameterValue.parse(raw)
        except PropsError as error:
            for e in error.errors:
                self.error(where, e.problem, e.fix)
            return None
