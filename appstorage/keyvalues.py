"""The values that go into the single table's keys: the entity prefixes, each field's size
limit, and the checks and normalisation every key object and query applies (see
:mod:`appstorage.keys` for the layout and the rules). Imports only the standard library.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from .schema import PARTITION_KEY_MAX_BYTES, SORT_KEY_MAX_BYTES

__all__ = [
    "ARTIST",
    "ARTIST_ID_MAX_BYTES",
    "CITY_MAX_BYTES",
    "IMAGE_ID_MAX_BYTES",
    "LOCATION",
    "METADATA",
    "PORTFOLIO",
    "PROFILE",
    "STUDIO",
    "STUDIO_ID_MAX_BYTES",
    "STYLE",
    "STYLE_MAX_BYTES",
    "AttributeValue",
    "InvalidKeyError",
    "Item",
    "checked_id",
    "checked_name",
    "normalize_name",
    "typed",
]

#: Entity prefixes of key values (``ARTIST#{artistId}``) and the constant sort keys.
ARTIST: Final = "ARTIST#"
STUDIO: Final = "STUDIO#"
STYLE: Final = "STYLE#"
PORTFOLIO: Final = "PORTFOLIO#"
LOCATION: Final = "LOCATION#"
PROFILE: Final = "PROFILE"
METADATA: Final = "METADATA"

#: Longest value of each field, from the most restrictive key attribute it appears in.
#: An artist id is also a GSI sort key (``ARTIST#{id}``), a style a sort key (membership).
ARTIST_ID_MAX_BYTES: Final = SORT_KEY_MAX_BYTES - len(ARTIST)
STUDIO_ID_MAX_BYTES: Final = PARTITION_KEY_MAX_BYTES - len(STUDIO)
IMAGE_ID_MAX_BYTES: Final = SORT_KEY_MAX_BYTES - len(PORTFOLIO)
STYLE_MAX_BYTES: Final = SORT_KEY_MAX_BYTES - len(STYLE)
CITY_MAX_BYTES: Final = PARTITION_KEY_MAX_BYTES - len(LOCATION)

#: A typed attribute value of the low-level client, e.g. ``{"S": "PROFILE"}``.
AttributeValue = dict[str, str]
#: An item or key in the low-level client's typed form.
Item = dict[str, AttributeValue]

_SEPARATORS_RE = re.compile(r"[\s\-]+")


class InvalidKeyError(ValueError):
    """A key value (or query argument) is invalid. ``str()`` names the field and the fix."""

    def __init__(self, field: str, value: object, problem: str, fix: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        self.fix = fix
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field}: {shown} {problem}. Fix: {fix}.")


def normalize_name(value: str, field: str = "name") -> str:
    """The normalised form of a city or style name (see :mod:`appstorage.keys`).

    Idempotent. Raises :class:`InvalidKeyError` naming ``field`` if ``value`` is not a
    string or normalises to nothing. Does not check ``#`` or length (the key builders do).
    """
    if not isinstance(value, str):
        raise InvalidKeyError(field, value, f"is a {type(value).__name__}", "pass a string")
    current = value
    for _ in range(10):
        step = unicodedata.normalize("NFKC", current)
        step = unicodedata.normalize("NFKC", step.casefold())
        step = _SEPARATORS_RE.sub("-", step).strip("-")
        if step == current:
            break
        current = step
    else:  # pragma: no cover - NFKC/casefold converge in one or two rounds
        raise InvalidKeyError(
            field, value, "does not normalise to a stable value", "use plain letters, digits and spaces"
        )
    if not current:
        raise InvalidKeyError(
            field, value, "is empty after normalisation", "give a name with at least one letter or digit"
        )
    return current


def _check_text(field: str, value: str, max_bytes: int, what: str) -> None:
    if "#" in value:
        raise InvalidKeyError(
            field, value, "contains '#', the key delimiter", f"remove the '#' from the {what}"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidKeyError(
            field,
            value,
            "contains a control character",
            f"remove control characters (newlines, tabs, ...) from the {what}",
        )
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidKeyError(
            field,
            value,
            "is not valid Unicode (lone surrogate)",
            f"decode the {what} properly before using it",
        ) from None
    if size > max_bytes:
        raise InvalidKeyError(
            field,
            value,
            f"is {size} bytes of UTF-8, over the key limit",
            f"shorten the {what} to at most {max_bytes} bytes",
        )


def checked_id(field: str, value: object, max_bytes: int) -> str:
    """``value`` if it is a valid id for ``field`` (kept exactly as given), else :class:`InvalidKeyError`."""
    if not isinstance(value, str):
        raise InvalidKeyError(field, value, f"is a {type(value).__name__}", "pass the id as a string")
    if not value:
        raise InvalidKeyError(field, value, "is empty", "pass a non-empty id")
    if value != value.strip():
        raise InvalidKeyError(
            field, value, "has leading or trailing whitespace", "strip the id (ids are used exactly as given)"
        )
    _check_text(field, value, max_bytes, "id")
    return value


def checked_name(field: str, value: object, max_bytes: int) -> str:
    """``value`` normalised (:func:`normalize_name`) if it is a valid name for ``field``, else
    :class:`InvalidKeyError` (naming the original value when normalising changed it)."""
    if not isinstance(value, str):
        raise InvalidKeyError(field, value, f"is a {type(value).__name__}", "pass the name as a string")
    name = normalize_name(value, field)
    try:
        _check_text(field, name, max_bytes, "name")
    except InvalidKeyError as error:
        if name == value:
            raise
        raise InvalidKeyError(
            field, value, f"normalises to a value that {error.problem}", error.fix
        ) from None
    return name


def typed(value: str) -> AttributeValue:
    """A string attribute value in the low-level client's typed form."""
    return {"S": value}
