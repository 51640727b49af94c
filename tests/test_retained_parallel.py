"""The retained-resource lookups (stacksets.retained.find_existing) run several accounts at a time
on moto's server, with the same results and messages as one lookup at a time.

No timing and no barrier: the lookups are shown to run on the parallel map's threads (named
``reads_*``, :mod:`stacksets.parallel`) by the thread each request is sent from, and their results
are compared with a run with one worker, on the same moto state.

moto deviations: DescribeTable never refuses (moto checks no IAM), so AccessDeniedException is
injected by a ``before-send`` hook, as in tests/test_retained.py.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from stacksets.local import local_session
from stacksets.retained import Found, OwnedResource, find_existing
from stacksets.session import CallLog, ClientFactory
from tests.faults import Faults, RawBody

ROLE = "exec-role"
GLOBAL = "AWS::DynamoDB::GlobalTable"
BUCKET = "AWS::S3::Bucket"
ACCOUNTS = [f"{300000000000 + n:012d}" for n in range(6)]
EXISTING_BUCKET = (ACCOUNTS[1], "us-east-1")
EXISTING_TABLE = (ACCOUNTS[3], "us-west-2")
DENIED_TABLE = (ACCOUNTS[2], "us-east-1")  # DescribeTable refused there
UNREACHABLE = ACCOUNTS[4]  # AssumeRole refused


def _bucket(account: str, region: str) -> str:
    return f"b-{account}-{region}"


def _table(account: str) -> str:
    return f"t-{account}"


def _resources() -> list[OwnedResource]:
    """Per account, as resources_to_create orders them: the table in both Regions, a bucket in
    each, and one whose Region is not a literal (never looked up)."""
    out = []
    for account in ACCOUNTS:
        for region in ("us-east-1", "us-west-2"):
            out.append(OwnedResource(account, region, "Table", GLOBAL, _table(account), "us-east-1"))
        for region in ("us-east-1", "us-west-2"):
            out.append(OwnedResource(account, region, "Images", BUCKET, _bucket(account, region), region))
        out.append(OwnedResource(account, "(Region {})", "Table", GLOBAL, _table(account), "us-east-1"))
    return out


def _deny_describe_table(request: Any, **_: Any) -> AWSResponse | None:
    account, region = DENIED_TABLE
    body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
    if _table(account) not in body or f"/{region}/dynamodb/" not in str(request.headers.get("Authorization")):
        return None
    headers = HTTPHeaders()
    headers["x-amzn-RequestId"] = "fault"
    error = {
        "__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
        "message": "no DescribeTable",
    }
    return AWSResponse(request.url, 400, headers, RawBody(json.dumps(error).encode()))


class Threads:
    """The thread each DescribeTable and HeadBucket request was sent from."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.dynamodb.DescribeTable", self._record)
        client.meta.events.register("before-send.s3.HeadBucket", self._record)

    def _record(self, **_: Any) -> None:
        self.names.append(threading.current_thread().name)


def _lookup(endpoint: str, workers: int) -> tuple[list[Found], CallLog, Faults, Threads]:
    log, faults, threads = CallLog(), Faults(), Threads()
    faults.error("AssumeRole", "AccessDenied", "not authorized", match={"RoleArn": UNREACHABLE}, times=None)

    def deny(client: Any) -> None:
        client.meta.events.register("before-send.dynamodb.DescribeTable", _deny_describe_table)

    factory = ClientFactory(
        local_session(),
        endpoint_url=endpoint,
        max_attempts=1,
        hooks=(log.attach, faults.attach, threads.attach, deny),
    )
    return find_existing(factory, ROLE, _resources(), workers=workers), log, faults, threads


@pytest.fixture
def existing(moto_endpoint: str) -> str:
    """A bucket and a table that exist already, each in its account (made with assumed roles)."""
    setup = ClientFactory(local_session(), endpoint_url=moto_endpoint, max_attempts=1)
    account, region = EXISTING_BUCKET
    setup.s3(region, account, ROLE).create_bucket(Bucket=_bucket(account, region))
    account, region = EXISTING_TABLE
    setup.dynamodb(region, account, ROLE).create_table(
        TableName=_table(account),
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return moto_endpoint


def _summary(found: list[Found]) -> list[tuple[str, str, str, str, str]]:
    return [(f.resource.account, f.resource.region, f.resource.name, f.status, f.detail) for f in found]


def test_accounts_are_looked_up_in_parallel_with_the_same_results_in_input_order(existing: str) -> None:
    sequential, _, _, one_thread = _lookup(existing, workers=1)
    parallel, log, faults, threads = _lookup(existing, workers=4)

    not_literal = "its Region is not a literal in the template: not looked up"
    refused = "AssumeRole refused (AccessDenied: not authorized)"
    expected: list[tuple[str, str, str, str, str]] = []
    for account in ACCOUNTS:
        if account == UNREACHABLE:  # every resource of it, the first after one AssumeRole attempt
            expected += [
                (account, r, _table(account), "unknown", refused) for r in ("us-east-1", "us-west-2")
            ]
            expected += [
                (account, r, _bucket(account, r), "unknown", refused) for r in ("us-east-1", "us-west-2")
            ]
            expected.append((account, "(Region {})", _table(account), "unknown", refused))
            continue
        if (account, "us-east-1") == DENIED_TABLE:
            expected.append(
                (
                    account,
                    "us-east-1",
                    _table(account),
                    "unknown",
                    "DescribeTable refused (AccessDeniedException: no DescribeTable)",
                )
            )
        if (account, "us-west-2") == EXISTING_TABLE:
            expected.append((account, "us-west-2", _table(account), "exists", "ACTIVE"))
        if (account, "us-east-1") == EXISTING_BUCKET:
            expected.append((account, "us-east-1", _bucket(account, "us-east-1"), "exists", ""))
        expected.append((account, "(Region {})", _table(account), "unknown", not_literal))

    assert _summary(parallel) == _summary(sequential) == expected
    # the lookups ran on the parallel map's threads, none on the caller's; with one worker, none did
    assert len(threads.names) == 4 * (len(ACCOUNTS) - 1)
    assert all(name.startswith("reads_") for name in threads.names)
    assert one_thread.names and all(name == threading.current_thread().name for name in one_thread.names)
    # each reachable account's role assumed once; the refused one asked once, its other lookups not tried
    assert log.count("AssumeRole") == len(ACCOUNTS)
    assert len(faults.calls("AssumeRole", RoleArn=UNREACHABLE)) == 1
