"""Errors that name the field, the problem and the fix.

The YAML reader reports a :class:`ConfigError` for a file; an object built in code (a settings
object of the model, a props object of the library) raises a :class:`PropsError` at construction.
Both carry :class:`FieldError` entries whose problem and fix come from the same validators
(:mod:`appstorage.validators`), so a value is refused with the same words on either path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .validators import Problem

__all__ = ["ConfigError", "FieldError", "Problems", "PropsError"]


@dataclass(frozen=True)
class FieldError:
    """One problem with one field."""

    field: str
    problem: str
    fix: str

    def render(self, source: str) -> str:
        where = f"{source}: {self.field}" if self.field else source
        return f"{where}: {self.problem}. Fix: {self.fix}."


class ConfigError(ValueError):
    """The configuration is invalid. ``str()`` lists every problem found."""

    def __init__(self, source: str, errors: Iterable[FieldError]) -> None:
        self.source = source
        self.errors = tuple(errors)
        super().__init__("\n".join(e.render(source) for e in self.errors))


class PropsError(ValueError):
    """An object was built with values that break its rules. ``errors`` holds every problem found,
    each with its field relative to the object (``cors.origins[0]``); ``str()`` lists them as
    ``BucketProps: cors.origins[0]: '*' would let any web site ... Fix: ...``."""

    def __init__(self, owner: str, errors: Iterable[FieldError]) -> None:
        self.owner = owner
        self.errors = tuple(errors)
        super().__init__("\n".join(e.render(owner) for e in self.errors))


class Problems:
    """The problems found while checking one object; :meth:`raise_for` raises them together."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, problem: Problem) -> bool:
        """Record ``problem`` (a validator's result) for ``field``; True if there was one."""
        if problem is None:
            return False
        self.errors.append(FieldError(field, *problem))
        return True

    def extend(self, errors: Iterable[FieldError], under: str = "") -> None:
        """Record another object's errors, their fields prefixed with ``under``."""
        for e in errors:
            field = f"{under}.{e.field}".replace(".[", "[") if under and e.field else under or e.field
            self.errors.append(FieldError(field, e.problem, e.fix))

    def raise_for(self, owner: object) -> None:
        """Raise a :class:`PropsError` naming ``owner``'s class if anything was recorded."""
        if self.errors:
            raise PropsError(type(owner).__name__, self.errors)
