"""Every access pattern of appstorage.keys against the dev primary template, deployed
through CloudFormation to moto's real HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from appstorage import keys as k
from appstorage.config import Config
from appstorage.keys import (
    ArtistProfileKey,
    PortfolioImageKey,
    StudioProfileKey,
    StyleMembershipKey,
    StyleMetadataKey,
    artist_items,
    parse_gsi1,
    parse_gsi2,
    parse_item,
)

# The table (AWS::DynamoDB::GlobalTable) and the alarms come from the emulator's models
# (stacksets.emulator, registered by the moto_server fixture), the table with its SSE key and
# point-in-time recovery. moto's CloudFormation has no AWS::S3::BucketPolicy support: it warns and
# skips the policies (irrelevant here); that is the only warning the deployment raises.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS..S3..BucketPolicy:UserWarning")

REGION = "us-east-1"
STACK = "tattoo-directory-dev-app-storage-primary"

# artist id -> (display name, city as a user typed it, styles as a user typed them)
ARTISTS: dict[str, tuple[str, str | None, list[str]]] = {
    "a1": ("Ana", "Berlin", ["Blackwork", "Fine Line"]),
    "a2": ("Ben", "  berlin ", ["fine-line"]),
    "a3": ("Cleo", "New York", ["Neo Traditional", "NEO-traditional"]),
    "a4": ("Dev", None, ["blackwork"]),
    "a5": ("Eli", "new   york", []),
}
STUDIOS = {"s1": "Ink Works", "s2": "Needle & Co"}
STYLES = {
    "Blackwork": "Solid black ink",
    "Fine Line": "Thin single-needle lines",
    "Neo Traditional": "Bold outlines, rich palette",
    "Dotwork": "Stippled shading",
}
PORTFOLIO = {"a1": [f"img-{n:02d}" for n in range(1, 8)], "a2": ["only"]}


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def _deploy_primary(config: Config, endpoint: str) -> str:
    """Seed the SSM parameters the template resolves, create the stack, return the table."""
    from appstorage.render import to_json
    from appstorage.templates import build_environment

    env = config.environment("dev")
    kms_arn = _client("kms", endpoint).create_key(Description="foundation")["KeyMetadata"]["Arn"]
    logs_bucket = "tattoo-directory-dev-access-logs-111111111111-us-east-1"
    _client("s3", endpoint).create_bucket(Bucket=logs_bucket)
    ssm = _client("ssm", endpoint)
    ssm.put_parameter(Name=env.parameters["KmsKeyArn"].ssm_path, Value=kms_arn, Type="String")
    ssm.put_parameter(Name=env.parameters["AccessLogsBucketName"].ssm_path, Value=logs_bucket, Type="String")

    cfn = _client("cloudformation", endpoint)
    body = to_json(build_environment(config, "dev").primary)
    cfn.create_stack(StackName=STACK, TemplateBody=body)
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    assert outputs["TableName"] == "tattoo-directory-dev"
    return outputs["TableName"]


def _put_directory(ddb: Any, table: str) -> None:
    for artist_id, (name, city, styles) in ARTISTS.items():
        profile, *memberships = artist_items(artist_id, city=city, styles=styles)
        ddb.put_item(TableName=table, Item={**profile, "name": {"S": name}})
        for item in memberships:
            ddb.put_item(TableName=table, Item=item)
    for studio_id, name in STUDIOS.items():
        ddb.put_item(TableName=table, Item={**StudioProfileKey(studio_id).item(), "name": {"S": name}})
    for style, description in STYLES.items():
        item = {**StyleMetadataKey(style).item(), "description": {"S": description}}
        ddb.put_item(TableName=table, Item=item)
    for artist_id, images in PORTFOLIO.items():
        # Written out of order: the sort key, not insertion order, must order the results.
        for image_id in reversed(images):
            key = PortfolioImageKey(artist_id, image_id)
            ddb.put_item(TableName=table, Item={**key.item(), "url": {"S": f"s3://img/{image_id}"}})


@pytest.fixture
def directory(bundled_config: Config, moto_endpoint: str) -> Iterator[tuple[Any, str]]:
    table = _deploy_primary(bundled_config, moto_endpoint)
    ddb = _client("dynamodb", moto_endpoint)
    _put_directory(ddb, table)
    yield ddb, table


def _all(ddb: Any, query: k.QueryInput) -> list[dict[str, Any]]:
    response = ddb.query(**query)
    assert "LastEvaluatedKey" not in response
    items: list[dict[str, Any]] = response["Items"]
    return items


def test_deployed_table_matches_the_key_layout(directory: tuple[Any, str]) -> None:
    ddb, table = directory
    description = ddb.describe_table(TableName=table)["Table"]
    assert description["KeySchema"] == [
        {"AttributeName": k.PK, "KeyType": "HASH"},
        {"AttributeName": k.SK, "KeyType": "RANGE"},
    ]
    indexes = {
        i["IndexName"]: (i["KeySchema"], i["Projection"]["ProjectionType"])
        for i in description["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        k.GSI1: (
            [{"AttributeName": k.GSI1PK, "KeyType": "HASH"}, {"AttributeName": k.GSI1SK, "KeyType": "RANGE"}],
            "ALL",
        ),
        k.GSI2: (
            [{"AttributeName": k.GSI2PK, "KeyType": "HASH"}, {"AttributeName": k.GSI2SK, "KeyType": "RANGE"}],
            "ALL",
        ),
    }
    types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
    assert types == dict.fromkeys([k.PK, k.SK, k.GSI1PK, k.GSI1SK, k.GSI2PK, k.GSI2SK], "S")


def test_artist_profile(directory: tuple[Any, str]) -> None:
    ddb, table = directory
    items = _all(ddb, k.artist_profile_query(table, "a1"))
    assert len(items) == 1
    assert items[0]["name"] == {"S": "Ana"}
    assert parse_item(items[0]) == ArtistProfileKey("a1", "berlin")
    assert _all(ddb, k.artist_profile_query(table, "nobody")) == []
    no_city = _all(ddb, k.artist_profile_query(table, "a4"))
    assert [parse_item(i) for i in no_city] == [ArtistProfileKey("a4")]


def test_artist_styles(directory: tuple[Any, str]) -> None:
    ddb, table = directory
    items = _all(ddb, k.artist_styles_query(table, "a1"))
    assert [parse_item(i) for i in items] == [
        StyleMembershipKey("a1", "blackwork"),
        StyleMembershipKey("a1", "fine-line"),
    ]
    # Two spellings of one style are one membership.
    assert [parse_item(i) for i in _all(ddb, k.artist_styles_query(table, "a3"))] == [
        StyleMembershipKey("a3", "neo-traditional")
    ]
    assert _all(ddb, k.artist_styles_query(table, "a5")) == []


def test_artist_portfolio_pages(directory: tuple[Any, str]) -> None:
    ddb, table = directory
    pages: list[list[str]] = []
    start: dict[str, Any] | None = None
    while True:
        response = ddb.query(**k.artist_portfolio_query(table, "a1", limit=3, exclusive_start_key=start))
        page = [parse_item(item) for item in response["Items"]]
        assert all(isinstance(key, PortfolioImageKey) for key in page)
        pages.append([key.image_id for key in page if isinstance(key, PortfolioImageKey)])
        assert all(item["url"]["S"].startswith("s3://img/") for item in response["Items"])
        start = response.get("LastEvaluatedKey")
        if start is None:
            break
        assert parse_item(start) == PortfolioImageKey("a1", pages[-1][-1])
        assert len(pages) < 10, "pagination does not terminate"
    assert pages == [
        ["img-01", "img-02", "img-03"],
        ["img-04", "img-05", "img-06"],
        ["img-07"],
    ]
    # The profile and style items of the same partition are never part of the portfolio.
    whole = _all(ddb, k.artist_portfolio_query(table, "a1"))
    assert [parse_item(i) for i in whole] == [PortfolioImageKey("a1", i) for i in PORTFOLIO["a1"]]
    assert [parse_item(i) for i in _all(ddb, k.artist_portfolio_query(table, "a2"))] == [
        PortfolioImageKey("a2", "only")
    ]
    assert _all(ddb, k.artist_portfolio_query(table, "a3")) == []


@pytest.mark.parametrize(
    ("city", "expected"),
    [
        ("Berlin", ["a1", "a2"]),
        ("BERLIN", ["a1", "a2"]),
        ("New York", ["a3", "a5"]),
        ("new-york", ["a3", "a5"]),
        ("Tokyo", []),
    ],
)
def test_artists_in_city(directory: tuple[Any, str], city: str, expected: list[str]) -> None:
    ddb, table = directory
    items = _all(ddb, k.artists_in_city_query(table, city))
    assert [parse_gsi1(i).artist_id for i in items] == expected
    assert all(isinstance(parse_item(i), ArtistProfileKey) for i in items)
    assert [i["name"]["S"] for i in items] == [ARTISTS[a][0] for a in expected]  # projection ALL


def test_artists_in_city_pages(directory: tuple[Any, str]) -> None:
    ddb, table = directory
    first = ddb.query(**k.artists_in_city_query(table, "berlin", limit=1))
    assert [parse_gsi1(i).artist_id for i in first["Items"]] == ["a1"]
    start = first["LastEvaluatedKey"]
    assert set(start) == {k.PK, k.SK, k.GSI1PK, k.GSI1SK}
    second = ddb.query(**k.artists_in_city_query(table, "berlin", limit=1, exclusive_start_key=start))
    assert [parse_gsi1(i).artist_id for i in second["Items"]] == ["a2"]


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("Fine Line", ["a1", "a2"]),
        ("blackwork", ["a1", "a4"]),
        ("neo traditional", ["a3"]),  # written under two spellings, listed once
        ("Dotwork", []),  # a style with metadata but no artists
        ("Realism", []),
    ],
)
def test_artists_of_style(directory: tuple[Any, str], style: str, expected: list[str]) -> None:
    ddb, table = directory
    items = _all(ddb, k.artists_of_style_query(table, style))
    assert [parse_gsi2(i).artist_id for i in items] == expected
    assert [parse_item(i) for i in items] == [StyleMembershipKey(a, style) for a in expected]


def test_artists_of_style_pages(directory: tuple[Any, str]) -> None:
    ddb, table = directory
    first = ddb.query(**k.artists_of_style_query(table, "fine line", limit=1))
    start = first["LastEvaluatedKey"]
    assert set(start) == {k.PK, k.SK, k.GSI2PK, k.GSI2SK}
    second = ddb.query(**k.artists_of_style_query(table, "fine line", exclusive_start_key=start))
    assert [parse_gsi2(i).artist_id for i in first["Items"] + second["Items"]] == ["a1", "a2"]


def test_studio_profile(directory: tuple[Any, str]) -> None:
    ddb, table = directory
    items = _all(ddb, k.studio_profile_query(table, "s2"))
    assert [(parse_item(i), i["name"]["S"]) for i in items] == [(StudioProfileKey("s2"), "Needle & Co")]
    assert _all(ddb, k.studio_profile_query(table, "s3")) == []


def test_style_metadata(directory: tuple[Any, str]) -> None:
    ddb, table = directory
    items = _all(ddb, k.style_metadata_query(table, "  FINE line"))
    assert [(parse_item(i), i["description"]["S"]) for i in items] == [
        (StyleMetadataKey("fine-line"), "Thin single-needle lines")
    ]
    assert _all(ddb, k.style_metadata_query(table, "Realism")) == []


def test_resource_form_returns_the_same_items(directory: tuple[Any, str], moto_endpoint: str) -> None:
    ddb, table = directory
    resource_table = boto3.resource("dynamodb", region_name=REGION, endpoint_url=moto_endpoint).Table(table)
    query = k.artist_portfolio_query(table, "a1", limit=2)
    via_resource = resource_table.query(**k.resource_query(query))
    via_client = ddb.query(**query)
    assert (
        [parse_item(i) for i in via_resource["Items"]]
        == [parse_item(i) for i in via_client["Items"]]
        == [PortfolioImageKey("a1", "img-01"), PortfolioImageKey("a1", "img-02")]
    )
    style_query = k.artists_of_style_query(table, "Blackwork")
    assert [
        parse_gsi2(i).artist_id for i in resource_table.query(**k.resource_query(style_query))["Items"]
    ] == ["a1", "a4"]
