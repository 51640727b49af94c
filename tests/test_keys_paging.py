"""Paging through a query: ``LastEvaluatedKey`` says DynamoDB stopped at the page's limit, not
that more items match. A page can end exactly on the last match; the next page then comes back
empty, without a ``LastEvaluatedKey``. Against the dev primary template deployed through
CloudFormation to moto's real server (as tests/test_access_patterns.py), whose query stops at the
limit the same way when the partition holds more items after the matches; and the README's
paging example, run as written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from appstorage import keys as k
from appstorage.config import Config
from appstorage.keys import PortfolioImageKey, artist_items, parse_item

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS..S3..BucketPolicy:UserWarning")

REGION = "us-east-1"
README = Path(__file__).resolve().parent.parent / "README.md"


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


@pytest.fixture
def table(bundled_config: Config, moto_endpoint: str) -> Iterator[str]:
    """The dev primary template as a stack on moto; yields the table's name."""
    from appstorage.render import to_json
    from appstorage.templates import build_environment

    env = bundled_config.environment("dev")
    key = client("kms", moto_endpoint).create_key(Description="foundation")["KeyMetadata"]["Arn"]
    logs = "tattoo-directory-dev-logs-111111111111-us-east-1"
    client("s3", moto_endpoint).create_bucket(Bucket=logs)
    ssm = client("ssm", moto_endpoint)
    ssm.put_parameter(Name=env.parameters["KmsKeyArn"].ssm_path, Value=key, Type="String")
    ssm.put_parameter(Name=env.parameters["AccessLogsBucketName"].ssm_path, Value=logs, Type="String")
    cfn = client("cloudformation", moto_endpoint)
    cfn.create_stack(
        StackName="paging", TemplateBody=to_json(build_environment(bundled_config, "dev").primary)
    )
    stack = cfn.describe_stacks(StackName="paging")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    yield next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "TableName")


def pages(ddb: Any, table: str, artist: str, size: int) -> list[list[str]]:
    """Every page of an artist's portfolio, the way the README pages: until no LastEvaluatedKey."""
    out: list[list[str]] = []
    start: dict[str, Any] | None = None
    while True:
        page = ddb.query(**k.artist_portfolio_query(table, artist, limit=size, exclusive_start_key=start))
        out.append(
            [key.image_id for key in map(parse_item, page["Items"]) if isinstance(key, PortfolioImageKey)]
        )
        start = page.get("LastEvaluatedKey")
        if start is None:
            return out


def put_artist(ddb: Any, table: str, artist: str, images: int) -> None:
    """An artist with ``images`` portfolio images and two styles (their items sort after them)."""
    for item in artist_items(artist, city="Berlin", styles=["Blackwork", "Fine Line"]):
        ddb.put_item(TableName=table, Item=item)
    for n in range(1, images + 1):
        ddb.put_item(TableName=table, Item=PortfolioImageKey(artist, f"img-{n:02d}").item())


@pytest.mark.parametrize(
    ("images", "size", "expected"),
    [
        (6, 3, [3, 3, 0]),  # divides evenly: the last page is empty
        (4, 4, [4, 0]),
        (7, 3, [3, 3, 1]),
        (2, 3, [2]),
    ],
    ids=["6-by-3", "4-by-4", "7-by-3", "2-by-3"],
)
def test_a_result_that_divides_evenly_ends_with_an_empty_page(
    moto_endpoint: str, table: str, images: int, size: int, expected: list[int]
) -> None:
    ddb = client("dynamodb", moto_endpoint)
    put_artist(ddb, table, "a1", images)
    found = pages(ddb, table, "a1", size)
    assert [len(page) for page in found] == expected
    assert [image for page in found for image in page] == [f"img-{n:02d}" for n in range(1, images + 1)]


def test_the_full_page_before_the_empty_one_has_a_last_evaluated_key(moto_endpoint: str, table: str) -> None:
    """What the README warns about: the key is there although nothing more matches."""
    ddb = client("dynamodb", moto_endpoint)
    put_artist(ddb, table, "a1", 3)
    first = ddb.query(**k.artist_portfolio_query(table, "a1", limit=3))
    assert len(first["Items"]) == 3 and "LastEvaluatedKey" in first
    last = ddb.query(
        **k.artist_portfolio_query(table, "a1", limit=3, exclusive_start_key=first["LastEvaluatedKey"])
    )
    assert last["Items"] == [] and "LastEvaluatedKey" not in last


def readme_paging_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Access patterns", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "the README's access patterns section has a python example"
    return match.group(1)


def test_the_readme_paging_example_runs_as_written(
    moto_endpoint: str, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    ddb = client("dynamodb", moto_endpoint)
    for artist in ("a2", "a3"):  # two more artists in Berlin: three in all, on pages of two
        for item in artist_items(artist, city="Berlin", styles=[]):
            ddb.put_item(TableName=table, Item=item)
    namespace: dict[str, Any] = {}
    exec(compile(readme_paging_example(), f"{README}:Access patterns", "exec"), namespace)
    assert namespace["table"] == table
    assert namespace["ids"] == ["a1", "a2", "a3"]
