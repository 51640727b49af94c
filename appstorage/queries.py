"""The access patterns as ``query`` requests (all importable from :mod:`appstorage.keys`).

The ``*_query`` helpers return the keyword arguments of the **low-level client**
``query`` (``boto3.client("dynamodb").query(**kwargs)``): ``TableName``,
``KeyConditionExpression``, ``ExpressionAttributeNames`` and ``ExpressionAttributeValues``
in the typed form (``{":pk": {"S": "ARTIST#a1"}}``), plus ``IndexName``, ``Limit`` and
``ExclusiveStartKey`` where relevant. :func:`resource_query` converts them to the keyword
arguments of the resource API's ``Table.query``. See :mod:`appstorage.keys` for the layout.
Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

from .keyvalues import (
    ARTIST,
    ARTIST_ID_MAX_BYTES,
    CITY_MAX_BYTES,
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
    typed,
)
from .schema import GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, PK, SK
from .validators import TABLE_NAME_RE

__all__ = [
    "QueryInput",
    "artist_portfolio_query",
    "artist_profile_query",
    "artist_styles_query",
    "artists_in_city_query",
    "artists_of_style_query",
    "resource_query",
    "studio_profile_query",
    "style_metadata_query",
]

StartKey = Mapping[str, Mapping[str, str]] | None


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
    exclusive_start_key: StartKey = None,
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
        "ExpressionAttributeValues": {":pk": typed(pk), ":sk": typed(sk)},
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


def _artist(artist_id: str) -> str:
    return ARTIST + checked_id("artist_id", artist_id, ARTIST_ID_MAX_BYTES)


def artist_profile_query(table_name: str, artist_id: str) -> QueryInput:
    """An artist's profile item (at most one)."""
    return _query(table_name, PK, _artist(artist_id), SK, PROFILE)


def artist_portfolio_query(
    table_name: str, artist_id: str, *, limit: int | None = None, exclusive_start_key: StartKey = None
) -> QueryInput:
    """An artist's portfolio images, by image id; page with ``limit`` and the previous
    response's ``LastEvaluatedKey`` as ``exclusive_start_key``."""
    pk = _artist(artist_id)
    return _query(
        table_name, PK, pk, SK, PORTFOLIO, prefix=True, limit=limit, exclusive_start_key=exclusive_start_key
    )


def artist_styles_query(table_name: str, artist_id: str) -> QueryInput:
    """An artist's style-membership items (one per style)."""
    return _query(table_name, PK, _artist(artist_id), SK, STYLE, prefix=True)


def artists_in_city_query(
    table_name: str, city: str, *, limit: int | None = None, exclusive_start_key: StartKey = None
) -> QueryInput:
    """Artist profiles in a city (GSI1), by artist id. ``city`` is normalised."""
    pk = LOCATION + checked_name("city", city, CITY_MAX_BYTES)
    start = exclusive_start_key
    return _query(
        table_name,
        GSI1PK,
        pk,
        GSI1SK,
        ARTIST,
        prefix=True,
        index=GSI1,
        limit=limit,
        exclusive_start_key=start,
    )


def artists_of_style_query(
    table_name: str, style: str, *, limit: int | None = None, exclusive_start_key: StartKey = None
) -> QueryInput:
    """Style-membership items of a style (GSI2): one per artist, by artist id."""
    pk = STYLE + checked_name("style", style, STYLE_MAX_BYTES)
    start = exclusive_start_key
    return _query(
        table_name,
        GSI2PK,
        pk,
        GSI2SK,
        ARTIST,
        prefix=True,
        index=GSI2,
        limit=limit,
        exclusive_start_key=start,
    )


def studio_profile_query(table_name: str, studio_id: str) -> QueryInput:
    """A studio's profile item (at most one)."""
    return _query(
        table_name, PK, STUDIO + checked_id("studio_id", studio_id, STUDIO_ID_MAX_BYTES), SK, PROFILE
    )


def style_metadata_query(table_name: str, style: str) -> QueryInput:
    """A style's metadata item (at most one). ``style`` is normalised."""
    return _query(table_name, PK, STYLE + checked_name("style", style, STYLE_MAX_BYTES), SK, METADATA)


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
