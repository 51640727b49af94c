"""Unit tests of appstorage.keys: layout, validation, normalisation, parsers, queries."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from appstorage import keys as k
from appstorage.keys import (
    ArtistProfileKey,
    InvalidKeyError,
    LocationIndexKey,
    PortfolioImageKey,
    StudioProfileKey,
    StyleIndexKey,
    StyleMembershipKey,
    StyleMetadataKey,
    artist_items,
    normalize_name,
    parse_gsi1,
    parse_gsi2,
    parse_item,
)

TABLE = "tattoo-directory-dev"

# --------------------------------------------------------------------------- strategies

# Any text, including whitespace, '#', control characters and full-width forms.
any_text = st.text(max_size=30)
# Ids that the documented rule accepts: non-empty, no '#', no control characters,
# no surrogates, no leading/trailing whitespace.
valid_ids = st.text(
    alphabet=st.characters(exclude_characters="#", exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=30,
).filter(lambda s: s == s.strip())


def _valid_name(text: str) -> bool:
    try:
        normalize_name(text)
    except InvalidKeyError:
        return False
    return True


valid_names = st.text(
    alphabet=st.characters(exclude_characters="#\uff03\ufe5f", exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=30,
).filter(_valid_name)


def _expect_name_ok(text: str) -> str:
    """The normalised name, or skip the example if the documented rule rejects it."""
    try:
        name = normalize_name(text)
    except InvalidKeyError:
        assume(False)
        raise
    assume("#" not in name and not any(unicodedata.category(c) == "Cc" for c in name))
    return name


# --------------------------------------------------------------------------- layout


def test_artist_items_profile_and_memberships() -> None:
    items = artist_items("a1", city="  New   York ", styles=["Neo Traditional", "Blackwork"])
    assert items == [
        {
            "PK": {"S": "ARTIST#a1"},
            "SK": {"S": "PROFILE"},
            "GSI1PK": {"S": "LOCATION#new-york"},
            "GSI1SK": {"S": "ARTIST#a1"},
        },
        {
            "PK": {"S": "ARTIST#a1"},
            "SK": {"S": "STYLE#neo-traditional"},
            "GSI2PK": {"S": "STYLE#neo-traditional"},
            "GSI2SK": {"S": "ARTIST#a1"},
        },
        {
            "PK": {"S": "ARTIST#a1"},
            "SK": {"S": "STYLE#blackwork"},
            "GSI2PK": {"S": "STYLE#blackwork"},
            "GSI2SK": {"S": "ARTIST#a1"},
        },
    ]


def test_artist_items_without_city_is_not_in_gsi1_and_dedupes_styles() -> None:
    items = artist_items("a1", styles=["Black Work", "black-work", "BLACK  WORK", "Dotwork"])
    assert items == [
        {"PK": {"S": "ARTIST#a1"}, "SK": {"S": "PROFILE"}},
        StyleMembershipKey("a1", "black-work").item(),
        StyleMembershipKey("a1", "dotwork").item(),
    ]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (StudioProfileKey("s-9"), {"PK": {"S": "STUDIO#s-9"}, "SK": {"S": "PROFILE"}}),
        (PortfolioImageKey("a1", "img-007"), {"PK": {"S": "ARTIST#a1"}, "SK": {"S": "PORTFOLIO#img-007"}}),
        (
            StyleMetadataKey("Japanese Irezumi"),
            {"PK": {"S": "STYLE#japanese-irezumi"}, "SK": {"S": "METADATA"}},
        ),
        (
            ArtistProfileKey("A1", "Berlin"),
            {
                "PK": {"S": "ARTIST#A1"},
                "SK": {"S": "PROFILE"},
                "GSI1PK": {"S": "LOCATION#berlin"},
                "GSI1SK": {"S": "ARTIST#A1"},
            },
        ),
    ],
)
def test_item_layout(key: k.EntityKey, expected: dict[str, Any]) -> None:
    assert key.item() == expected
    assert key.key() == {"PK": expected["PK"], "SK": expected["SK"]}


def test_index_key_objects() -> None:
    assert LocationIndexKey("Köln", "a1").item() == {
        "GSI1PK": {"S": "LOCATION#köln"},
        "GSI1SK": {"S": "ARTIST#a1"},
    }
    assert StyleIndexKey("Fine Line", "a1").item() == {
        "GSI2PK": {"S": "STYLE#fine-line"},
        "GSI2SK": {"S": "ARTIST#a1"},
    }


def test_key_objects_are_frozen() -> None:
    key = ArtistProfileKey("a1", "berlin")
    with pytest.raises(AttributeError):
        key.artist_id = "a2"  # type: ignore[misc]


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Neo Traditional", "neo-traditional"),
        ("  Neo   Traditional ", "neo-traditional"),
        ("NEO-traditional", "neo-traditional"),
        ("Neo - Traditional", "neo-traditional"),
        ("neo\t\ntraditional", "neo-traditional"),
        ("-Neo-", "neo"),
        ("São  Paulo", "são-paulo"),
        ("Sa\u0303o Paulo", "são-paulo"),  # decomposed tilde composes under NFKC
        ("\uff34\uff4f\uff4b\uff59\uff4f", "tokyo"),  # full-width letters
        ("Straße", "strasse"),  # casefold, not lower
        ("\u01f0", "\u01f0"),  # casefold decomposes j-caron; NFKC after casefold recomposes
        ("\u0390 Town", "\u0390-town"),  # same for Greek iota with dialytika and tonos
        ("New\u00a0York", "new-york"),  # no-break space
        ("los angeles", "los-angeles"),
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


@given(any_text)
def test_normalize_is_idempotent(text: str) -> None:
    try:
        once = normalize_name(text)
    except InvalidKeyError as error:
        assert error.field == "name"
        return
    assert normalize_name(once) == once
    assert once == once.strip("-")
    assert "--" not in once
    assert not any(c.isspace() for c in once)
    assert unicodedata.normalize("NFKC", once) == once


@given(any_text)
def test_normalize_rejects_exactly_the_empty_names(text: str) -> None:
    separators_only = all(c.isspace() or c == "-" for c in unicodedata.normalize("NFKC", text))
    if separators_only:
        with pytest.raises(InvalidKeyError, match="empty"):
            normalize_name(text, "city")
    else:
        assert normalize_name(text)


# --------------------------------------------------------------------------- validation

LONG_ARTIST = "x" * (1024 - len("ARTIST#") + 1)


@pytest.mark.parametrize(
    ("build", "field", "fragment"),
    [
        (lambda: ArtistProfileKey(""), "artist_id", "empty"),
        (lambda: ArtistProfileKey("a#b"), "artist_id", "'#'"),
        (lambda: ArtistProfileKey(" a1"), "artist_id", "whitespace"),
        (lambda: ArtistProfileKey("a1\n"), "artist_id", "whitespace"),
        (lambda: ArtistProfileKey("a\x00b"), "artist_id", "control"),
        (lambda: ArtistProfileKey("a\ud800"), "artist_id", "surrogate"),
        (lambda: ArtistProfileKey(42), "artist_id", "int"),
        (lambda: ArtistProfileKey(LONG_ARTIST), "artist_id", "bytes"),
        (lambda: ArtistProfileKey("é" * 509), "artist_id", "1018 bytes"),
        (lambda: ArtistProfileKey("a1", ""), "city", "empty"),
        (lambda: ArtistProfileKey("a1", " - - "), "city", "empty"),
        (lambda: ArtistProfileKey("a1", "a#b"), "city", "'#'"),
        (lambda: ArtistProfileKey("a1", "a\uff03b"), "city", "'#'"),
        (lambda: ArtistProfileKey("a1", "x" * 2040), "city", "2040 bytes"),
        (lambda: ArtistProfileKey("a1", 7), "city", "int"),
        (lambda: LocationIndexKey("berlin", "a#1"), "artist_id", "'#'"),
        (lambda: StyleIndexKey("", "a1"), "style", "empty"),
        (lambda: StudioProfileKey(""), "studio_id", "empty"),
        (lambda: StudioProfileKey("s#1"), "studio_id", "'#'"),
        (lambda: StudioProfileKey("x" * 2042), "studio_id", "bytes"),
        (lambda: PortfolioImageKey("a1", ""), "image_id", "empty"),
        (lambda: PortfolioImageKey("a1", "x" * 1015), "image_id", "bytes"),
        (lambda: PortfolioImageKey("", "img"), "artist_id", "empty"),
        (lambda: StyleMetadataKey("#"), "style", "'#'"),
        (lambda: StyleMetadataKey("   "), "style", "empty"),
        (lambda: StyleMetadataKey("x" * 1019), "style", "bytes"),
        (lambda: StyleMembershipKey("a1", "fine#line"), "style", "'#'"),
        (lambda: artist_items("a1", styles=["ok", "bad#"]), "styles[1]", "'#'"),
        (lambda: artist_items("a1", styles="blackwork"), "styles", "single string"),
        (lambda: artist_items("", city="berlin"), "artist_id", "empty"),
        (lambda: k.artist_profile_query(TABLE, "a#1"), "artist_id", "'#'"),
        (lambda: k.artist_portfolio_query(TABLE, "a1", limit=0), "limit", "positive"),
        (lambda: k.artist_portfolio_query(TABLE, "a1", limit=True), "limit", "positive"),
        (
            lambda: k.artist_portfolio_query(TABLE, "a1", exclusive_start_key={"PK": "x"}),
            "exclusive_start_key",
            "PK",
        ),
        (
            lambda: k.artists_in_city_query(
                TABLE, "a1-only-gsi", exclusive_start_key={"PK": {"S": "ARTIST#a1"}, "SK": {"S": "PROFILE"}}
            ),
            "exclusive_start_key",
            "GSI1PK",
        ),
        (lambda: k.artist_profile_query("t", "a1"), "table_name", "table name"),
        (lambda: k.artists_in_city_query(TABLE, ""), "city", "empty"),
        (lambda: k.artists_of_style_query(TABLE, "a#b"), "style", "'#'"),
        (lambda: k.studio_profile_query(TABLE, ""), "studio_id", "empty"),
        (lambda: k.style_metadata_query(TABLE, "-"), "style", "empty"),
    ],
)
def test_invalid_inputs_name_the_field(build: Callable[[], object], field: str, fragment: str) -> None:
    with pytest.raises(InvalidKeyError) as info:
        build()
    error = info.value
    assert isinstance(error, ValueError)
    assert not isinstance(error, KeyError)
    assert error.field == field
    message = str(error)
    assert message.startswith(f"{field}: ")
    assert fragment in message
    assert "Fix: " in message


@pytest.mark.parametrize(
    ("build", "value"),
    [
        (ArtistProfileKey, "x" * (1024 - len("ARTIST#"))),
        (StudioProfileKey, "x" * (2048 - len("STUDIO#"))),
        (lambda v: PortfolioImageKey("a1", v), "x" * (1024 - len("PORTFOLIO#"))),
        (StyleMetadataKey, "x" * (1024 - len("STYLE#"))),
        (lambda v: ArtistProfileKey("a1", v), "x" * (2048 - len("LOCATION#"))),
    ],
)
def test_longest_allowed_values_fit_the_key_limits(build: Callable[[str], Any], value: str) -> None:
    key = build(value)
    for name, attribute in key.item().items():
        limit = 2048 if name.endswith("PK") else 1024
        assert len(attribute["S"].encode()) <= limit


@given(st.text(max_size=20))
def test_id_rule_matches_the_documentation(text: str) -> None:
    documented_ok = (
        bool(text)
        and "#" not in text
        and text == text.strip()
        and not any(unicodedata.category(c) in ("Cc", "Cs") for c in text)
    )
    if documented_ok:
        assert StudioProfileKey(text).studio_id == text
    else:
        with pytest.raises(InvalidKeyError) as info:
            StudioProfileKey(text)
        assert info.value.field == "studio_id"


# --------------------------------------------------------------------------- parsers


@pytest.mark.parametrize(
    ("parse", "item", "field"),
    [
        (parse_item, {"PK": "FOO#1", "SK": "PROFILE"}, "PK"),
        (parse_item, {"PK": "ARTIST#a1"}, "SK"),
        (parse_item, {"SK": "PROFILE"}, "PK"),
        (parse_item, {"PK": {"N": "1"}, "SK": "PROFILE"}, "PK"),
        (parse_item, {"PK": "ARTIST#a1", "SK": "UNKNOWN"}, "SK"),
        (parse_item, {"PK": "ARTIST#", "SK": "PROFILE"}, "PK"),
        (parse_item, {"PK": "ARTIST#a1", "SK": "PORTFOLIO#"}, "SK"),
        (parse_item, {"PK": "STUDIO#s1", "SK": "METADATA"}, "SK"),
        (parse_item, {"PK": "STYLE#x", "SK": "PROFILE"}, "SK"),
        (parse_item, {"PK": "STYLE#Black Work", "SK": "METADATA"}, "PK"),
        (parse_item, {"PK": "ARTIST#a1", "SK": "STYLE#Dot Work"}, "SK"),
        (
            parse_item,
            {"PK": "ARTIST#a1", "SK": "PROFILE", "GSI1PK": "LOCATION#berlin", "GSI1SK": "ARTIST#a2"},
            "GSI1SK",
        ),
        (parse_item, {"PK": "ARTIST#a1", "SK": "PROFILE", "GSI1PK": "LOCATION#berlin"}, "GSI1SK"),
        (
            parse_item,
            {"PK": "ARTIST#a1", "SK": "STYLE#dotwork", "GSI2PK": "STYLE#blackwork", "GSI2SK": "ARTIST#a1"},
            "GSI2PK",
        ),
        (parse_gsi1, {"GSI1PK": "LOCATION#berlin", "GSI1SK": "STUDIO#s1"}, "GSI1SK"),
        (parse_gsi1, {"GSI1PK": "CITY#berlin", "GSI1SK": "ARTIST#a1"}, "GSI1PK"),
        (parse_gsi1, {"GSI1PK": "LOCATION#New York", "GSI1SK": "ARTIST#a1"}, "GSI1PK"),
        (parse_gsi2, {"GSI2PK": "STYLE#", "GSI2SK": "ARTIST#a1"}, "GSI2PK"),
        (parse_gsi2, {"GSI2PK": "STYLE#dotwork"}, "GSI2SK"),
    ],
)
def test_invalid_items_name_the_attribute(
    parse: Callable[[dict[str, Any]], object], item: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidKeyError) as info:
        parse(item)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert "Fix: " in str(info.value)


def test_parsers_accept_plain_values() -> None:
    assert parse_item({"PK": "ARTIST#a1", "SK": "PORTFOLIO#i1", "url": "x"}) == PortfolioImageKey("a1", "i1")
    assert parse_gsi1({"GSI1PK": "LOCATION#berlin", "GSI1SK": "ARTIST#a1"}) == LocationIndexKey(
        "berlin", "a1"
    )


def test_profile_parsed_from_its_primary_key_has_no_city() -> None:
    assert parse_item(ArtistProfileKey("a1", "berlin").key()) == ArtistProfileKey("a1")


@given(valid_ids, st.one_of(st.none(), valid_names))
def test_artist_profile_round_trip(artist_id: str, city: str | None) -> None:
    key = ArtistProfileKey(artist_id, city)
    parsed = parse_item(key.item())
    assert parsed == key
    assert isinstance(parsed, ArtistProfileKey)
    assert parsed.artist_id == artist_id
    assert parsed.city == (None if city is None else normalize_name(city))
    if city is not None:
        assert parse_gsi1(key.item()) == LocationIndexKey(city, artist_id)


@given(valid_ids, valid_ids)
def test_portfolio_round_trip(artist_id: str, image_id: str) -> None:
    parsed = parse_item(PortfolioImageKey(artist_id, image_id).item())
    assert isinstance(parsed, PortfolioImageKey)
    assert (parsed.artist_id, parsed.image_id) == (artist_id, image_id)


@given(valid_ids)
def test_studio_round_trip(studio_id: str) -> None:
    parsed = parse_item(StudioProfileKey(studio_id).item())
    assert isinstance(parsed, StudioProfileKey)
    assert parsed.studio_id == studio_id


@given(valid_names)
def test_style_metadata_round_trip(style: str) -> None:
    parsed = parse_item(StyleMetadataKey(style).item())
    assert isinstance(parsed, StyleMetadataKey)
    assert parsed.style == normalize_name(style)
    # Building from the parsed (normalised) value is a fixed point.
    assert StyleMetadataKey(parsed.style) == parsed


@given(valid_ids, valid_names)
def test_style_membership_round_trip(artist_id: str, style: str) -> None:
    key = StyleMembershipKey(artist_id, style)
    parsed = parse_item(key.item())
    assert isinstance(parsed, StyleMembershipKey)
    assert (parsed.artist_id, parsed.style) == (artist_id, normalize_name(style))
    assert parse_gsi2(key.item()) == StyleIndexKey(style, artist_id)


@given(valid_ids, st.one_of(st.none(), valid_names), st.lists(valid_names, max_size=6))
def test_artist_items_round_trip(artist_id: str, city: str | None, styles: list[str]) -> None:
    items = artist_items(artist_id, city=city, styles=styles)
    parsed = [parse_item(item) for item in items]
    assert parsed[0] == ArtistProfileKey(artist_id, city)
    expected_styles = list(dict.fromkeys(normalize_name(s) for s in styles))
    assert parsed[1:] == [StyleMembershipKey(artist_id, s) for s in expected_styles]
    assert [parse_gsi2(item).style for item in items[1:]] == expected_styles


@given(valid_ids, any_text)
def test_any_text_either_builds_a_normalised_style_or_is_rejected(artist_id: str, text: str) -> None:
    try:
        key = StyleMembershipKey(artist_id, text)
    except InvalidKeyError as error:
        assert error.field == "style"
        return
    expected = _expect_name_ok(text)
    assert key.style == expected
    assert parse_item(key.item()) == key


# --------------------------------------------------------------------------- queries


def test_profile_queries() -> None:
    assert k.artist_profile_query(TABLE, "a1") == {
        "TableName": TABLE,
        "KeyConditionExpression": "#pk = :pk AND #sk = :sk",
        "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK"},
        "ExpressionAttributeValues": {":pk": {"S": "ARTIST#a1"}, ":sk": {"S": "PROFILE"}},
    }
    assert k.studio_profile_query(TABLE, "s1")["ExpressionAttributeValues"] == {
        ":pk": {"S": "STUDIO#s1"},
        ":sk": {"S": "PROFILE"},
    }
    assert k.style_metadata_query(TABLE, " Fine  Line")["ExpressionAttributeValues"] == {
        ":pk": {"S": "STYLE#fine-line"},
        ":sk": {"S": "METADATA"},
    }


def test_portfolio_query_with_paging() -> None:
    start = PortfolioImageKey("a1", "i3").key()
    assert k.artist_portfolio_query(TABLE, "a1", limit=3, exclusive_start_key=start) == {
        "TableName": TABLE,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sk)",
        "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK"},
        "ExpressionAttributeValues": {":pk": {"S": "ARTIST#a1"}, ":sk": {"S": "PORTFOLIO#"}},
        "Limit": 3,
        "ExclusiveStartKey": start,
    }
    assert "Limit" not in k.artist_portfolio_query(TABLE, "a1")


def test_index_queries() -> None:
    city = k.artists_in_city_query(TABLE, "New York", limit=10)
    assert city == {
        "TableName": TABLE,
        "IndexName": "GSI1",
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sk)",
        "ExpressionAttributeNames": {"#pk": "GSI1PK", "#sk": "GSI1SK"},
        "ExpressionAttributeValues": {":pk": {"S": "LOCATION#new-york"}, ":sk": {"S": "ARTIST#"}},
        "Limit": 10,
    }
    style = k.artists_of_style_query(TABLE, "Neo Traditional")
    assert style["IndexName"] == "GSI2"
    assert style["ExpressionAttributeNames"] == {"#pk": "GSI2PK", "#sk": "GSI2SK"}
    assert style["ExpressionAttributeValues"][":pk"] == {"S": "STYLE#neo-traditional"}
    styles = k.artist_styles_query(TABLE, "a1")
    assert styles["ExpressionAttributeValues"] == {":pk": {"S": "ARTIST#a1"}, ":sk": {"S": "STYLE#"}}
    assert "IndexName" not in styles


def test_index_query_accepts_a_full_index_start_key() -> None:
    start = {**ArtistProfileKey("a1", "berlin").item()}
    query = k.artists_in_city_query(TABLE, "berlin", exclusive_start_key=start)
    assert query["ExclusiveStartKey"] == start
    assert query["ExclusiveStartKey"] is not start  # copied, not aliased


def test_resource_query_form() -> None:
    start = PortfolioImageKey("a1", "i3").key()
    query = k.artist_portfolio_query(TABLE, "a1", limit=2, exclusive_start_key=start)
    assert k.resource_query(query) == {
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sk)",
        "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK"},
        "ExpressionAttributeValues": {":pk": "ARTIST#a1", ":sk": "PORTFOLIO#"},
        "Limit": 2,
        "ExclusiveStartKey": {"PK": "ARTIST#a1", "SK": "PORTFOLIO#i3"},
    }
    assert k.resource_query(k.artists_of_style_query(TABLE, "dotwork"))["IndexName"] == "GSI2"


def test_module_does_not_import_boto3() -> None:
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(k))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert not imported & {"boto3", "botocore"}
    assert set(k.__all__) <= set(dir(k))
