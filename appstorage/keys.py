"""Keys and access patterns of the single DynamoDB table.

Nothing here talks to AWS or imports boto3 (nor troposphere or PyYAML): this module builds
key attributes, parses them back, and returns the keyword arguments of a ``query`` call.

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
The ``*_query`` helpers (:mod:`appstorage.queries`) return the keyword arguments of the
low-level client's ``query``; :func:`resource_query` converts them for the resource API.
Item and key dicts built here use the same typed form (``item()`` / ``key()``); parsers
accept typed or plain string values.

Here a spec per key class (its attributes' parts) drives building and ``_PARTITIONS``
drives parsing; the values and their checks are :mod:`appstorage.keyvalues`, the attribute
names :mod:`appstorage.schema`. Everything is importable from this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import ClassVar, Final, NamedTuple, Self, TypeVar

from .keyvalues import (
    ARTIST,
    ARTIST_ID_MAX_BYTES,
    CITY_MAX_BYTES,
    IMAGE_ID_MAX_BYTES,
    LOCATION,
    METADATA,
    PORTFOLIO,
    PROFILE,
    STUDIO,
    STUDIO_ID_MAX_BYTES,
    STYLE,
    STYLE_MAX_BYTES,
    AttributeValue,
    InvalidKeyError,
    Item,
    checked_id,
    checked_name,
    normalize_name,
    typed,
)
from .queries import (
    QueryInput,
    artist_portfolio_query,
    artist_profile_query,
    artist_styles_query,
    artists_in_city_query,
    artists_of_style_query,
    resource_query,
    studio_profile_query,
    style_metadata_query,
)
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

_K = TypeVar("_K")
_I = TypeVar("_I", "LocationIndexKey", "StyleIndexKey")


# --------------------------------------------------------------------------- key objects


@dataclass(frozen=True)
class _Part:
    """One key attribute's value: ``prefix`` followed by the value of ``field``, or the constant
    ``prefix`` alone when ``field`` is None."""

    prefix: str
    field: str | None = None

    def of(self, key: object) -> str:
        return self.prefix + (getattr(key, self.field) if self.field else "")

    def matches(self, value: str) -> bool:
        return value.startswith(self.prefix) if self.field else value == self.prefix


#: How each field is checked (and normalised), and its longest value.
_FIELDS: Final[Mapping[str, tuple[Callable[[str, object, int], str], int]]] = MappingProxyType(
    {
        "artist_id": (checked_id, ARTIST_ID_MAX_BYTES),
        "studio_id": (checked_id, STUDIO_ID_MAX_BYTES),
        "image_id": (checked_id, IMAGE_ID_MAX_BYTES),
        "city": (checked_name, CITY_MAX_BYTES),
        "style": (checked_name, STYLE_MAX_BYTES),
    }
)


class _Key:
    """A key object built from its class's spec: the attribute names and the two parts (``_PK``,
    ``_SK``). Every field is checked (names normalised) at construction; an optional field
    (default None) may stay None."""

    __slots__ = ()
    _NAMES: ClassVar[tuple[str, str]] = (PK, SK)
    _PK: ClassVar[_Part]
    _SK: ClassVar[_Part]

    def __post_init__(self) -> None:
        for spec in fields(self):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            if value is not None or spec.default is not None:
                check, max_bytes = _FIELDS[spec.name]
                object.__setattr__(self, spec.name, check(spec.name, value, max_bytes))

    @property
    def pk(self) -> str:
        return self._PK.of(self)

    @property
    def sk(self) -> str:
        return self._SK.of(self)

    def item(self) -> Item:
        """The key attributes (of an index key: the index's)."""
        return {self._NAMES[0]: typed(self.pk), self._NAMES[1]: typed(self.sk)}


class _EntityKey(_Key):
    __slots__ = ()

    def _index(self) -> _Key | None:
        return None

    def key(self) -> Item:
        """The primary key (for GetItem, DeleteItem, ExclusiveStartKey...)."""
        return super().item()

    def item(self) -> Item:
        """Every key attribute of the item (primary key plus its index keys, if any)."""
        index = self._index()
        return {**self.key(), **(index.item() if index else {})}

    @classmethod
    def _parsed(cls, item: Mapping[str, object], values: dict[str, str], where: tuple[str, str]) -> Self:
        """The key of ``item`` from its PK/SK ``values``; ``where`` labels a problem with them."""
        return _reparse(*where, lambda: cls(**values))


@dataclass(frozen=True, slots=True)
class LocationIndexKey(_Key):
    """GSI1 keys: ``GSI1PK=LOCATION#{city}``, ``GSI1SK=ARTIST#{artist_id}``."""

    _NAMES = (GSI1PK, GSI1SK)
    _PK = _Part(LOCATION, "city")
    _SK = _Part(ARTIST, "artist_id")
    city: str
    artist_id: str


@dataclass(frozen=True, slots=True)
class StyleIndexKey(_Key):
    """GSI2 keys: ``GSI2PK=STYLE#{style}``, ``GSI2SK=ARTIST#{artist_id}``."""

    _NAMES = (GSI2PK, GSI2SK)
    _PK = _Part(STYLE, "style")
    _SK = _Part(ARTIST, "artist_id")
    style: str
    artist_id: str


@dataclass(frozen=True, slots=True)
class ArtistProfileKey(_EntityKey):
    """An artist's profile: ``ARTIST#{artist_id}`` / ``PROFILE``, in GSI1 if ``city`` is set."""

    _PK = _Part(ARTIST, "artist_id")
    _SK = _Part(PROFILE)
    artist_id: str
    city: str | None = None

    @property
    def location(self) -> LocationIndexKey | None:
        return None if self.city is None else LocationIndexKey(self.city, self.artist_id)

    def _index(self) -> _Key | None:
        return self.location

    @classmethod
    def _parsed(cls, item: Mapping[str, object], values: dict[str, str], where: tuple[str, str]) -> Self:
        """The city comes from the GSI1 keys, which must name the same artist."""
        if item.get(GSI1PK) is not None or item.get(GSI1SK) is not None:
            location = parse_gsi1(item)
            if location.artist_id != values["artist_id"]:
                raise InvalidKeyError(
                    GSI1SK,
                    _value(item, GSI1SK),
                    f"does not match PK {where[1]!r}",
                    f"write GSI1SK as {ARTIST + values['artist_id']!r}",
                )
            values["city"] = location.city
        return _reparse(*where, lambda: cls(**values))


@dataclass(frozen=True, slots=True)
class StyleMembershipKey(_EntityKey):
    """One style of one artist: ``ARTIST#{artist_id}`` / ``STYLE#{style}``, in GSI2."""

    _PK = _Part(ARTIST, "artist_id")
    _SK = _Part(STYLE, "style")
    artist_id: str
    style: str

    @property
    def index(self) -> StyleIndexKey:
        return StyleIndexKey(self.style, self.artist_id)

    def _index(self) -> _Key | None:
        return self.index

    @classmethod
    def _parsed(cls, item: Mapping[str, object], values: dict[str, str], where: tuple[str, str]) -> Self:
        """GSI2 keys, when present, must be the membership's."""
        membership = _reparse(*where, lambda: cls(**values))
        present = item.get(GSI2PK) is not None or item.get(GSI2SK) is not None
        if present and parse_gsi2(item) != membership.index:
            raise InvalidKeyError(
                GSI2PK,
                _value(item, GSI2PK),
                "does not match PK/SK",
                f"write GSI2PK/GSI2SK as {membership.index.pk!r}/{membership.index.sk!r}",
            )
        return membership


@dataclass(frozen=True, slots=True)
class PortfolioImageKey(_EntityKey):
    """One portfolio image: ``ARTIST#{artist_id}`` / ``PORTFOLIO#{image_id}``."""

    _PK = _Part(ARTIST, "artist_id")
    _SK = _Part(PORTFOLIO, "image_id")
    artist_id: str
    image_id: str


@dataclass(frozen=True, slots=True)
class StudioProfileKey(_EntityKey):
    """A studio's profile: ``STUDIO#{studio_id}`` / ``PROFILE``."""

    _PK = _Part(STUDIO, "studio_id")
    _SK = _Part(PROFILE)
    studio_id: str


@dataclass(frozen=True, slots=True)
class StyleMetadataKey(_EntityKey):
    """A style's metadata: ``STYLE#{style}`` / ``METADATA`` (not in GSI2)."""

    _PK = _Part(STYLE, "style")
    _SK = _Part(METADATA)
    style: str


EntityKey = ArtistProfileKey | StyleMembershipKey | PortfolioImageKey | StudioProfileKey | StyleMetadataKey


class _Partition(NamedTuple):
    """The entities whose partition key starts with ``prefix``, as fixes show them."""

    prefix: str
    noun: str
    shown: str
    entities: tuple[tuple[type[EntityKey], str], ...]  # (class, its sort key as shown), parse order


#: The table's entities by partition: this drives :func:`parse_item`.
_PARTITIONS: Final = (
    _Partition(
        ARTIST,
        "an artist",
        "ARTIST#{id}",
        (
            (ArtistProfileKey, "PROFILE"),
            (StyleMembershipKey, "STYLE#{style}"),
            (PortfolioImageKey, "PORTFOLIO#{imageId}"),
        ),
    ),
    _Partition(STUDIO, "a studio", "STUDIO#{id}", ((StudioProfileKey, "PROFILE"),)),
    _Partition(STYLE, "a style", "STYLE#{style}", ((StyleMetadataKey, "METADATA"),)),
)


def _either(options: Iterable[str]) -> str:
    """``"use A, B or C"``."""
    *rest, last = options
    return "use " + (f"{', '.join(rest)} or {last}" if rest else last)


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


def _value(item: Mapping[str, object], name: str) -> str:
    raw = item.get(name)
    if raw is None:
        raise InvalidKeyError(name, None, "is missing from the item", f"include the {name} attribute")
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


def _reparse(field: str, value: str, build: Callable[[], _K]) -> _K:
    """Build a key object, re-labelling a validation error with the attribute it came from."""
    try:
        return build()
    except InvalidKeyError as error:
        raise InvalidKeyError(
            field, value, f"holds an invalid {error.field}: {error.problem}", error.fix
        ) from None


def _parse_index(cls: type[_I], item: Mapping[str, object]) -> _I:
    pk_name, sk_name = cls._NAMES
    pk, sk = _value(item, pk_name), _value(item, sk_name)
    values = {cls._PK.field or "": _suffix(pk_name, pk, cls._PK.prefix)}
    values[cls._SK.field or ""] = _suffix(sk_name, sk, cls._SK.prefix)
    key = _reparse(pk_name, pk, lambda: cls(**values))
    if key.pk != pk:
        raise InvalidKeyError(pk_name, pk, "is not normalised", f"write it as {key.pk!r}")
    return key


def parse_gsi1(item: Mapping[str, object]) -> LocationIndexKey:
    """The GSI1 keys of an item (e.g. a result of :func:`artists_in_city_query`)."""
    return _parse_index(LocationIndexKey, item)


def parse_gsi2(item: Mapping[str, object]) -> StyleIndexKey:
    """The GSI2 keys of an item (e.g. a result of :func:`artists_of_style_query`)."""
    return _parse_index(StyleIndexKey, item)


def parse_item(item: Mapping[str, object]) -> EntityKey:
    """The key object of an item or key, from ``PK``/``SK`` (typed or plain values).

    Index keys, when present, are checked against the primary key; an artist profile's
    ``city`` comes from its GSI1 keys (``None`` without them). ``parse_item(k.item()) == k``.
    """
    pk, sk = _value(item, PK), _value(item, SK)
    partition = next((p for p in _PARTITIONS if pk.startswith(p.prefix)), None)
    if partition is None:
        raise InvalidKeyError(PK, pk, "has no known entity prefix", _either(p.shown for p in _PARTITIONS))
    entity = next((cls for cls, _shown in partition.entities if cls._SK.matches(sk)), None)
    if entity is None:
        raise InvalidKeyError(
            SK, sk, f"is not a known sort key of {partition.noun}", _either(s for _, s in partition.entities)
        )
    values = {entity._PK.field or "": pk[len(entity._PK.prefix) :]}
    if entity._SK.field is not None:
        values[entity._SK.field] = sk[len(entity._SK.prefix) :]
    result: EntityKey = entity._parsed(item, values, (SK, sk) if entity._SK.field else (PK, pk))
    if result.pk != pk or result.sk != sk:
        raise InvalidKeyError(
            PK if result.pk != pk else SK,
            pk if result.pk != pk else sk,
            "is not normalised",
            f"write it as {result.pk!r}/{result.sk!r}",
        )
    return result
