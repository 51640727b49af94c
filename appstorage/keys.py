"""Keys and access patterns of the single DynamoDB table.

Nothing here talks to AWS or imports boto3: this module builds key attributes, parses
them back, and returns the keyword arguments of a ``query`` call.

Layout
------
The table has ``PK`` (HASH) / ``SK`` (RANGE); ``GSI1`` is keyed on ``GSI1PK``/``GSI1SK``
and ``GSI2`` on ``GSI2PK``/``GSI2SK``; every key attribute is a string and both indexes
project ALL attributes.

==================  ======================  =====================  ==========================
item                PK                      SK                     index keys
==================  ======================  =====================  ==========================
artist profile      ``ARTIST#{artistId}``   ``PROFILE``            GSI1: ``LOCATION#{city}`` /
                                                                   ``ARTIST#{artistId}``
                                                                   (only if the artist has a
                                                                   city)
style membership    ``ARTIST#{artistId}``   ``STYLE#{style}``      GSI2: ``STYLE#{style}`` /
                                                                   ``ARTIST#{artistId}``
portfolio image     ``ARTIST#{artistId}``   ``PORTFOLIO#{imageId}``  --
studio profile      ``STUDIO#{studioId}``   ``PROFILE``            --
style metadata      ``STYLE#{style}``       ``METADATA``           --
==================  ======================  =====================  ==========================

Style membership rule
---------------------
An artist can have several styles but an item has exactly one ``GSI2PK``, so styles are
not stored on the profile. Each (artist, style) pair is its own item in the artist's item
collection (``PK=ARTIST#{id}``, ``SK=STYLE#{style}``) that carries ``GSI2PK=STYLE#{style}``
and ``GSI2SK=ARTIST#{id}``. Querying GSI2 for a style therefore returns exactly one entry
per artist, and querying the artist's partition with ``begins_with(SK, "STYLE#")`` lists
the artist's styles. The profile item carries the GSI1 keys of the artist's city (sparse:
no city, no GSI1 entry). :func:`artist_items` returns all of an artist's key items in one
call; changing an artist's styles means putting the new membership items and deleting
the ones no longer listed (compare with :func:`artist_styles_query`'s result).

Normalisation
-------------
Ids (artist, studio, image) are opaque: kept exactly as given (case-sensitive), and must
be non-empty, contain no ``#`` and no control character, and have no leading or trailing
whitespace.

City and style names are *normalised* before they are used (and parsers return the
normalised value): Unicode NFKC, then ``str.casefold``, then NFKC again; then every run
of whitespace and/or ``-`` becomes a single ``-`` and leading/trailing ``-`` are removed.
The steps repeat until the value no longer changes, so normalisation is idempotent:
``"  Neo   Traditional "``, ``"NEO-traditional"`` and ``"Neo - Traditional"`` are all
``"neo-traditional"``; ``"São  Paulo"`` is ``"são-paulo"``; full-width letters become
their ASCII twins. A name that is empty after normalisation, or contains ``#`` (also the
full-width number sign U+FF03, which NFKC turns into ``#``) or a control character is
rejected.

Every value is also checked against DynamoDB's key size limits (partition key values at
most 2048 bytes of UTF-8, sort key values at most 1024, index keys likewise) *including
its prefix*, in the most restrictive attribute the value appears in. Problems raise
:class:`InvalidKeyError` (a :class:`ValueError`), whose message names the field and the fix.

Queries
-------
The ``*_query`` helpers return the keyword arguments of the **low-level client**
``query`` (``boto3.client("dynamodb").query(**kwargs)``): ``TableName``,
``KeyConditionExpression``, ``ExpressionAttributeNames`` and ``ExpressionAttributeValues``
in the typed form (``{":pk": {"S": "ARTIST#a1"}}``), plus ``IndexName``, ``Limit`` and
``ExclusiveStartKey`` where relevant. :func:`resource_query` converts them to the keyword
arguments of the resource API's ``Table.query``. Item and key dicts built here use the
same typed form (``item()`` / ``key()``); parsers accept typed or plain string values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, NotRequired, TypedDict, TypeVar

from .schema import (
    GSI1,
    GSI1PK,
    GSI1SK,
    GSI2,
    GSI2PK,
    GSI2SK,
    PARTITION_KEY_MAX_BYTES,
    PK,
    SK,
    SORT_KEY_MAX_BYTES,
)
from .validators import TABLE_NAME_RE

__all__ = [
    "ARTIST_ID_MAX_BYTES",
    "CITY_MAX_BYTES",
    "GSI1",
    "GSI1PK",
    "GSI1SK",
    "GSI2",
    "GSI2PK",
    "GSI2SK",
    "IMAGE_ID_MAX_BYTES",
    "PARTITION_KEY_MAX_BYTES",
    "PK",
    "SK",
    "SORT_KEY_MAX_BYTES",
    "STUDIO_ID_MAX_BYTES",
    "STYLE_MAX_BYTES",
    "ArtistProfileKey",
    "AttributeValue",
    "EntityKey",
    "InvalidKeyError",
    "Item",
    "LocationIndexKey",
    "PortfolioImageKey",
    "QueryInput",
    "StudioProfileKey",
    "StyleIndexKey",
    "StyleMembershipKey",
    "StyleMetadataKey",
    "artist_items",
    "artist_portfolio_query",
    "artist_profile_query",
    "artist_styles_query",
    "artists_in_city_query",
    "artists_of_style_query",
    "normalize_name",
    "parse_gsi1",
    "parse_gsi2",
    "parse_item",
    "resource_query",
    "studio_profile_query",
    "style_metadata_query",
]

# --------------------------------------------------------------------------- constants

_ARTIST: Final = "ARTIST#"
_STUDIO: Final = "STUDIO#"
_STYLE: Final = "STYLE#"
_PORTFOLIO: Final = "PORTFOLIO#"
_LOCATION: Final = "LOCATION#"
_PROFILE: Final = "PROFILE"
_METADATA: Final = "METADATA"

#: Longest value of each field, from the most restrictive key attribute it appears in.
#: An artist id is also a GSI sort key (``ARTIST#{id}``), a style a sort key (membership).
ARTIST_ID_MAX_BYTES: Final = SORT_KEY_MAX_BYTES - len(_ARTIST)
STUDIO_ID_MAX_BYTES: Final = PARTITION_KEY_MAX_BYTES - len(_STUDIO)
IMAGE_ID_MAX_BYTES: Final = SORT_KEY_MAX_BYTES - len(_PORTFOLIO)
STYLE_MAX_BYTES: Final = SORT_KEY_MAX_BYTES - len(_STYLE)
CITY_MAX_BYTES: Final = PARTITION_KEY_MAX_BYTES - len(_LOCATION)

#: A typed attribute value of the low-level client, e.g. ``{"S": "PROFILE"}``.
AttributeValue = dict[str, str]
#: An item or key in the low-level client's typed form.
Item = dict[str, AttributeValue]

_K = TypeVar("_K")

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


# --------------------------------------------------------------------------- validation


def normalize_name(value: str, field: str = "name") -> str:
    """The normalised form of a city or style name (see the module docstring).

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


def _check_id(field: str, value: object, max_bytes: int) -> str:
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


def _check_name(field: str, value: object, max_bytes: int) -> str:
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


def _s(value: str) -> AttributeValue:
    return {"S": value}


# --------------------------------------------------------------------------- key objects


@dataclass(frozen=True, slots=True)
class LocationIndexKey:
    """GSI1 keys: ``GSI1PK=LOCATION#{city}``, ``GSI1SK=ARTIST#{artist_id}``."""

    city: str
    artist_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "city", _check_name("city", self.city, CITY_MAX_BYTES))
        _check_id("artist_id", self.artist_id, ARTIST_ID_MAX_BYTES)

    @property
    def pk(self) -> str:
        return _LOCATION + self.city

    @property
    def sk(self) -> str:
        return _ARTIST + self.artist_id

    def item(self) -> Item:
        return {GSI1PK: _s(self.pk), GSI1SK: _s(self.sk)}


@dataclass(frozen=True, slots=True)
class StyleIndexKey:
    """GSI2 keys: ``GSI2PK=STYLE#{style}``, ``GSI2SK=ARTIST#{artist_id}``."""

    style: str
    artist_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "style", _check_name("style", self.style, STYLE_MAX_BYTES))
        _check_id("artist_id", self.artist_id, ARTIST_ID_MAX_BYTES)

    @property
    def pk(self) -> str:
        return _STYLE + self.style

    @property
    def sk(self) -> str:
        return _ARTIST + self.artist_id

    def item(self) -> Item:
        return {GSI2PK: _s(self.pk), GSI2SK: _s(self.sk)}


@dataclass(frozen=True, slots=True)
class ArtistProfileKey:
    """An artist's profile: ``ARTIST#{artist_id}`` / ``PROFILE``, in GSI1 if ``city`` is set."""

    artist_id: str
    city: str | None = None

    def __post_init__(self) -> None:
        _check_id("artist_id", self.artist_id, ARTIST_ID_MAX_BYTES)
        if self.city is not None:
            object.__setattr__(self, "city", _check_name("city", self.city, CITY_MAX_BYTES))

    @property
    def pk(self) -> str:
        return _ARTIST + self.artist_id

    @property
    def sk(self) -> str:
        return _PROFILE

    @property
    def location(self) -> LocationIndexKey | None:
        return None if self.city is None else LocationIndexKey(self.city, self.artist_id)

    def key(self) -> Item:
        """The primary key (for GetItem, DeleteItem, ExclusiveStartKey...)."""
        return {PK: _s(self.pk), SK: _s(self.sk)}

    def item(self) -> Item:
        """Every key attribute of the item (primary key plus GSI1 keys if any)."""
        location = self.location
        return {**self.key(), **(location.item() if location else {})}


@dataclass(frozen=True, slots=True)
class StyleMembershipKey:
    """One style of one artist: ``ARTIST#{artist_id}`` / ``STYLE#{style}``, in GSI2."""

    artist_id: str
    style: str

    def __post_init__(self) -> None:
        _check_id("artist_id", self.artist_id, ARTIST_ID_MAX_BYTES)
        object.__setattr__(self, "style", _check_name("style", self.style, STYLE_MAX_BYTES))

    @property
    def pk(self) -> str:
        return _ARTIST + self.artist_id

    @property
    def sk(self) -> str:
        return _STYLE + self.style

    @property
    def index(self) -> StyleIndexKey:
        return StyleIndexKey(self.style, self.artist_id)

    def key(self) -> Item:
        return {PK: _s(self.pk), SK: _s(self.sk)}

    def item(self) -> Item:
        return {**self.key(), **self.index.item()}


@dataclass(frozen=True, slots=True)
class PortfolioImageKey:
    """One portfolio image: ``ARTIST#{artist_id}`` / ``PORTFOLIO#{image_id}``."""

    artist_id: str
    image_id: str

    def __post_init__(self) -> None:
        _check_id("artist_id", self.artist_id, ARTIST_ID_MAX_BYTES)
        _check_id("image_id", self.image_id, IMAGE_ID_MAX_BYTES)

    @property
    def pk(self) -> str:
        return _ARTIST + self.artist_id

    @property
    def sk(self) -> str:
        return _PORTFOLIO + self.image_id

    def key(self) -> Item:
        return {PK: _s(self.pk), SK: _s(self.sk)}

    def item(self) -> Item:
        return self.key()


@dataclass(frozen=True, slots=True)
class StudioProfileKey:
    """A studio's profile: ``STUDIO#{studio_id}`` / ``PROFILE``."""

    studio_id: str

    def __post_init__(self) -> None:
        _check_id("studio_id", self.studio_id, STUDIO_ID_MAX_BYTES)

    @property
    def pk(self) -> str:
        return _STUDIO + self.studio_id

    @property
    def sk(self) -> str:
        return _PROFILE

    def key(self) -> Item:
        return {PK: _s(self.pk), SK: _s(self.sk)}

    def item(self) -> Item:
        return self.key()


@dataclass(frozen=True, slots=True)
class StyleMetadataKey:
    """A style's metadata: ``STYLE#{style}`` / ``METADATA`` (not in GSI2)."""

    style: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "style", _check_name("style", self.style, STYLE_MAX_BYTES))

    @property
    def pk(self) -> str:
        return _STYLE + self.style

    @property
    def sk(self) -> str:
        return _METADATA

    def key(self) -> Item:
        return {PK: _s(self.pk), SK: _s(self.sk)}

    def item(self) -> Item:
        return self.key()


EntityKey = ArtistProfileKey | StyleMembershipKey | PortfolioImageKey | StudioProfileKey | StyleMetadataKey


def artist_items(artist_id: str, *, city: str | None = None, styles: Iterable[str] = ()) -> list[Item]:
    """All key items of an artist: the profile (with GSI1 keys if ``city``), then one
    style-membership item per distinct normalised style, in the order first given.

    Merge your own attributes into each item before writing it, e.g.
    ``{**items[0], "displayName": {"S": "Ana"}}``.
    """
    if isinstance(styles, str):
        raise InvalidKeyError("styles", styles, "is a single string", "pass a list of style names")
    profile = ArtistProfileKey(artist_id, city)
    memberships: dict[str, StyleMembershipKey] = {}
    for i, style in enumerate(styles):
        try:
            membership = StyleMembershipKey(artist_id, style)
        except InvalidKeyError as error:
            raise InvalidKeyError(f"styles[{i}]", error.value, error.problem, error.fix) from None
        memberships.setdefault(membership.style, membership)
    return [profile.item(), *(m.item() for m in memberships.values())]


# --------------------------------------------------------------------------- parsers


def _value(item: Mapping[str, object], name: str, *, required: bool = True) -> str | None:
    raw = item.get(name)
    if raw is None:
        if required:
            raise InvalidKeyError(name, None, "is missing from the item", f"include the {name} attribute")
        return None
    if isinstance(raw, Mapping):
        raw = raw.get("S")
    if not isinstance(raw, str):
        raise InvalidKeyError(
            name, item.get(name), "is not a string attribute", 'pass {"S": "..."} or a plain string'
        )
    return raw


def _suffix(field: str, value: str, prefix: str) -> str:
    if not value.startswith(prefix):
        raise InvalidKeyError(
            field, value, f"does not start with {prefix!r}", "pass an item written with appstorage.keys"
        )
    return value[len(prefix) :]


def _reparse(field: str, value: str, build: Callable[..., _K], *args: str | None) -> _K:
    """Build a key object, re-labelling a validation error with the attribute it came from."""
    try:
        return build(*args)
    except InvalidKeyError as error:
        raise InvalidKeyError(
            field, value, f"holds an invalid {error.field}: {error.problem}", error.fix
        ) from None


def parse_gsi1(item: Mapping[str, object]) -> LocationIndexKey:
    """The GSI1 keys of an item (e.g. a result of :func:`artists_in_city_query`)."""
    pk = _value(item, GSI1PK) or ""
    sk = _value(item, GSI1SK) or ""
    city = _suffix(GSI1PK, pk, _LOCATION)
    artist_id = _suffix(GSI1SK, sk, _ARTIST)
    key = _reparse(GSI1PK, pk, LocationIndexKey, city, artist_id)
    if key.pk != pk:
        raise InvalidKeyError(GSI1PK, pk, "is not normalised", f"write it as {key.pk!r}")
    return key


def parse_gsi2(item: Mapping[str, object]) -> StyleIndexKey:
    """The GSI2 keys of an item (e.g. a result of :func:`artists_of_style_query`)."""
    pk = _value(item, GSI2PK) or ""
    sk = _value(item, GSI2SK) or ""
    style = _suffix(GSI2PK, pk, _STYLE)
    artist_id = _suffix(GSI2SK, sk, _ARTIST)
    key = _reparse(GSI2PK, pk, StyleIndexKey, style, artist_id)
    if key.pk != pk:
        raise InvalidKeyError(GSI2PK, pk, "is not normalised", f"write it as {key.pk!r}")
    return key


def parse_item(item: Mapping[str, object]) -> EntityKey:
    """The key object of an item or key, from ``PK``/``SK`` (typed or plain values).

    Index keys, when present, are checked against the primary key; an artist profile's
    ``city`` comes from its GSI1 keys (``None`` without them). ``parse_item(k.item()) == k``.
    """
    pk = _value(item, PK) or ""
    sk = _value(item, SK) or ""
    result: EntityKey
    if pk.startswith(_ARTIST):
        artist_id = pk[len(_ARTIST) :]
        if sk == _PROFILE:
            city: str | None = None
            if item.get(GSI1PK) is not None or item.get(GSI1SK) is not None:
                location = parse_gsi1(item)
                if location.artist_id != artist_id:
                    raise InvalidKeyError(
                        GSI1SK,
                        _value(item, GSI1SK),
                        f"does not match PK {pk!r}",
                        f"write GSI1SK as {_ARTIST + artist_id!r}",
                    )
                city = location.city
            result = _reparse(PK, pk, ArtistProfileKey, artist_id, city)
        elif sk.startswith(_STYLE):
            membership = _reparse(SK, sk, StyleMembershipKey, artist_id, sk[len(_STYLE) :])
            if item.get(GSI2PK) is not None or item.get(GSI2SK) is not None:
                index = parse_gsi2(item)
                if index != membership.index:
                    raise InvalidKeyError(
                        GSI2PK,
                        _value(item, GSI2PK),
                        "does not match PK/SK",
                        f"write GSI2PK/GSI2SK as {membership.index.pk!r}/{membership.index.sk!r}",
                    )
            result = membership
        elif sk.startswith(_PORTFOLIO):
            result = _reparse(SK, sk, PortfolioImageKey, artist_id, sk[len(_PORTFOLIO) :])
        else:
            raise InvalidKeyError(
                SK,
                sk,
                "is not a known sort key of an artist",
                "use PROFILE, STYLE#{style} or PORTFOLIO#{imageId}",
            )
    elif pk.startswith(_STUDIO):
        if sk != _PROFILE:
            raise InvalidKeyError(SK, sk, "is not a known sort key of a studio", "use PROFILE")
        result = _reparse(PK, pk, StudioProfileKey, pk[len(_STUDIO) :])
    elif pk.startswith(_STYLE):
        if sk != _METADATA:
            raise InvalidKeyError(SK, sk, "is not a known sort key of a style", "use METADATA")
        result = _reparse(PK, pk, StyleMetadataKey, pk[len(_STYLE) :])
    else:
        raise InvalidKeyError(
            PK, pk, "has no known entity prefix", "use ARTIST#{id}, STUDIO#{id} or STYLE#{style}"
        )
    if result.pk != pk or result.sk != sk:
        raise InvalidKeyError(
            PK if result.pk != pk else SK,
            pk if result.pk != pk else sk,
            "is not normalised",
            f"write it as {result.pk!r}/{result.sk!r}",
        )
    return result


# --------------------------------------------------------------------------- queries


class QueryInput(TypedDict):
    """Keyword arguments of the low-level client's ``query``."""

    TableName: str
    KeyConditionExpression: str
    ExpressionAttributeNames: dict[str, str]
    ExpressionAttributeValues: dict[str, AttributeValue]
    IndexName: NotRequired[str]
    Limit: NotRequired[int]
    ExclusiveStartKey: NotRequired[Item]


def _query(
    table_name: str,
    pk_name: str,
    pk: str,
    sk_name: str,
    sk: str,
    *,
    prefix: bool = False,
    index: str | None = None,
    limit: int | None = None,
    exclusive_start_key: Mapping[str, Mapping[str, str]] | None = None,
) -> QueryInput:
    if not isinstance(table_name, str) or not TABLE_NAME_RE.fullmatch(table_name):
        raise InvalidKeyError(
            "table_name",
            table_name,
            "is not a DynamoDB table name",
            "pass 3-255 characters from a-z, A-Z, 0-9, '_', '-', '.'",
        )
    condition = "#pk = :pk AND " + ("begins_with(#sk, :sk)" if prefix else "#sk = :sk")
    query: QueryInput = {
        "TableName": table_name,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": {"#pk": pk_name, "#sk": sk_name},
        "ExpressionAttributeValues": {":pk": _s(pk), ":sk": _s(sk)},
    }
    if index is not None:
        query["IndexName"] = index
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidKeyError(
                "limit",
                limit,
                "is not a positive whole number",
                "pass a page size of 1 or more, or None for no limit",
            )
        query["Limit"] = limit
    if exclusive_start_key is not None:
        query["ExclusiveStartKey"] = _start_key(exclusive_start_key, (PK, SK, pk_name, sk_name))
    return query


def _start_key(key: Mapping[str, Mapping[str, str]], required: tuple[str, ...]) -> Item:
    if not isinstance(key, Mapping):
        raise InvalidKeyError(
            "exclusive_start_key",
            key,
            "is not a mapping",
            "pass the previous page's LastEvaluatedKey unchanged",
        )
    out: Item = {}
    for name in dict.fromkeys(required):
        value = key.get(name)
        if not isinstance(value, Mapping) or not isinstance(value.get("S"), str):
            raise InvalidKeyError(
                "exclusive_start_key",
                key,
                f"has no typed {name} value",
                "pass the previous page's LastEvaluatedKey (typed) unchanged",
            )
    for name, value in key.items():
        out[name] = dict(value)
    return out


def artist_profile_query(table_name: str, artist_id: str) -> QueryInput:
    """An artist's profile item (at most one)."""
    key = ArtistProfileKey(artist_id)
    return _query(table_name, PK, key.pk, SK, key.sk)


def artist_portfolio_query(
    table_name: str,
    artist_id: str,
    *,
    limit: int | None = None,
    exclusive_start_key: Mapping[str, Mapping[str, str]] | None = None,
) -> QueryInput:
    """An artist's portfolio images, by image id; page with ``limit`` and the previous
    response's ``LastEvaluatedKey`` as ``exclusive_start_key``."""
    key = ArtistProfileKey(artist_id)
    return _query(
        table_name,
        PK,
        key.pk,
        SK,
        _PORTFOLIO,
        prefix=True,
        limit=limit,
        exclusive_start_key=exclusive_start_key,
    )


def artist_styles_query(table_name: str, artist_id: str) -> QueryInput:
    """An artist's style-membership items (one per style)."""
    key = ArtistProfileKey(artist_id)
    return _query(table_name, PK, key.pk, SK, _STYLE, prefix=True)


def artists_in_city_query(
    table_name: str,
    city: str,
    *,
    limit: int | None = None,
    exclusive_start_key: Mapping[str, Mapping[str, str]] | None = None,
) -> QueryInput:
    """Artist profiles in a city (GSI1), by artist id. ``city`` is normalised."""
    pk = _LOCATION + _check_name("city", city, CITY_MAX_BYTES)
    return _query(
        table_name,
        GSI1PK,
        pk,
        GSI1SK,
        _ARTIST,
        prefix=True,
        index=GSI1,
        limit=limit,
        exclusive_start_key=exclusive_start_key,
    )


def artists_of_style_query(
    table_name: str,
    style: str,
    *,
    limit: int | None = None,
    exclusive_start_key: Mapping[str, Mapping[str, str]] | None = None,
) -> QueryInput:
    """Style-membership items of a style (GSI2): one per artist, by artist id."""
    pk = _STYLE + _check_name("style", style, STYLE_MAX_BYTES)
    return _query(
        table_name,
        GSI2PK,
        pk,
        GSI2SK,
        _ARTIST,
        prefix=True,
        index=GSI2,
        limit=limit,
        exclusive_start_key=exclusive_start_key,
    )


def studio_profile_query(table_name: str, studio_id: str) -> QueryInput:
    """A studio's profile item (at most one)."""
    key = StudioProfileKey(studio_id)
    return _query(table_name, PK, key.pk, SK, key.sk)


def style_metadata_query(table_name: str, style: str) -> QueryInput:
    """A style's metadata item (at most one). ``style`` is normalised."""
    key = StyleMetadataKey(style)
    return _query(table_name, PK, key.pk, SK, key.sk)


def resource_query(query: QueryInput) -> dict[str, Any]:
    """The same query as keyword arguments of the resource API's ``Table.query``
    (no ``TableName``; plain values instead of typed ones)."""
    out: dict[str, Any] = {
        "KeyConditionExpression": query["KeyConditionExpression"],
        "ExpressionAttributeNames": dict(query["ExpressionAttributeNames"]),
        "ExpressionAttributeValues": {k: v["S"] for k, v in query["ExpressionAttributeValues"].items()},
    }
    if "IndexName" in query:
        out["IndexName"] = query["IndexName"]
    if "Limit" in query:
        out["Limit"] = query["Limit"]
    if "ExclusiveStartKey" in query:
        out["ExclusiveStartKey"] = {k: v["S"] for k, v in query["ExclusiveStartKey"].items()}
    return out
