"""The boto3 clients of the deployer (stacksets.session)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from stacksets.parallel import parallel_map
from stacksets.session import ClientFactory
from tests.faults import fake_response, result_body


def test_assumed_role_credentials_are_assumed_again_when_they_expire() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    now = [start]
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    factory = ClientFactory(session, max_attempts=1, now=lambda: now[0])
    role = "arn:aws:iam::222222222222:role/Exec"
    with Stubber(factory.client("sts", "us-east-1")) as sts:
        sts.add_response("get_caller_identity", {"Account": "111111111111"}, {})
        for n in (1, 2):
            sts.add_response(
                "assume_role",
                {
                    "Credentials": {
                        "AccessKeyId": f"ASIAEXAMPLEKEY000{n}",
                        "SecretAccessKey": f"secret-{n}",
                        "SessionToken": f"token-{n}",
                        "Expiration": start + timedelta(hours=n),
                    }
                },
                {"RoleArn": role, "RoleSessionName": "appstorage-deploy"},
            )
        cfn = factory.cloudformation("us-east-1", "222222222222", "Exec")
        credentials = cfn._request_signer._credentials  # type: ignore[attr-defined]
        assert credentials.get_frozen_credentials().token == "token-1"
        now[0] = start + timedelta(minutes=30)  # still valid: no new AssumeRole
        assert credentials.get_frozen_credentials().token == "token-1"
        now[0] = start + timedelta(minutes=58)  # about to expire: assumed again
        assert credentials.get_frozen_credentials().token == "token-2"
        assert factory.cloudformation("us-east-1", "222222222222", "Exec") is cfn  # same cached client
        sts.assert_no_pending_responses()


# --------------------------------------------------------------------------- shared set-up, own credentials
#
# Every assumed-role session shares one event emitter (botocore's and boto3's handlers, registered
# once) and one loader. What must not be shared: the credentials. These tests answer every request
# from a ``before-send`` hook, so each call is signed as it would be for AWS, and read the access
# key and session token it was signed with.

CALLER = "111111111111"
MEMBERS = ("222222222222", "333333333333", "444444444444")
START = datetime(2030, 1, 1, tzinfo=UTC)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Signed:
    """Answers AssumeRole (credentials numbered per account: ``ASIA<account>N``, ``token-<account>-N``,
    valid one hour from the clock) and DescribeStacks (no stack), and records which credentials
    signed each DescribeStacks, by the stack name asked for."""

    def __init__(self, now: list[datetime]) -> None:
        self.now = now
        self.lock = threading.Lock()
        self.assumed: Counter[str] = Counter()
        self.signed: dict[str, set[tuple[str, str]]] = {}

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send", self.answer)

    def answer(self, request: Any, **_: Any) -> AWSResponse:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        params = {k: v[0] for k, v in parse_qs(body).items()}
        action = params["Action"]
        if action == "AssumeRole":
            account = params["RoleArn"].split(":")[4]
            with self.lock:
                self.assumed[account] += 1
                n = self.assumed[account]
            expiry = (self.now[0] + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            inner = (
                f"<Credentials><AccessKeyId>ASIA{account}{n}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>"
                f"<SessionToken>token-{account}-{n}</SessionToken><Expiration>{expiry}</Expiration></Credentials>"
                "<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:deploy</AssumedRoleId>"
                f"<Arn>arn:aws:sts::{account}:assumed-role/Exec/deploy</Arn></AssumedRoleUser>"
            )
            return fake_response(request.url, 200, result_body("AssumeRole", inner))
        assert action == "DescribeStacks", action
        key = re.search(r"Credential=([A-Z0-9]+)/", _text(request.headers["Authorization"]))
        assert key is not None
        token = _text(request.headers.get("X-Amz-Security-Token", ""))
        with self.lock:
            self.signed.setdefault(params["StackName"], set()).add((key.group(1), token))
        return fake_response(request.url, 200, result_body("DescribeStacks", "<Stacks/>"))


def _factory(signed: Signed, now: list[datetime]) -> ClientFactory:
    session = boto3.Session(
        aws_access_key_id="AKIACALLER", aws_secret_access_key="x", region_name="us-east-1"
    )
    return ClientFactory(
        session, max_attempts=1, hooks=(signed.attach,), now=lambda: now[0], caller_account=CALLER
    )


def test_each_account_s_calls_are_signed_with_its_own_role_from_many_threads() -> None:
    now = [START]
    signed = Signed(now)
    factory = _factory(signed, now)
    asks = [(a, r) for a in (*MEMBERS, CALLER) for r in ("us-east-1", "us-west-2")] * 3

    def read(ask: tuple[str, str]) -> None:
        account, region = ask
        factory.cloudformation(region, account, "Exec").describe_stacks(StackName=f"{account}-{region}")

    parallel_map(read, asks, workers=8)

    for account, region in set(asks):
        expected = {("AKIACALLER", "")} if account == CALLER else {(f"ASIA{account}1", f"token-{account}-1")}
        assert signed.signed[f"{account}-{region}"] == expected
    assert signed.assumed == Counter(dict.fromkeys(MEMBERS, 1))  # one AssumeRole per account


def test_refreshed_credentials_sign_the_next_call_and_only_that_account_s() -> None:
    now = [START]
    signed = Signed(now)
    factory = _factory(signed, now)
    first, second = MEMBERS[:2]
    factory.cloudformation("us-east-1", first, "Exec").describe_stacks(StackName="a")
    now[0] = START + timedelta(minutes=30)
    factory.cloudformation("us-east-1", second, "Exec").describe_stacks(StackName="b")
    now[0] = START + timedelta(minutes=58)  # the first account's role expires in 2 minutes: assumed again
    factory.cloudformation("us-east-1", first, "Exec").describe_stacks(StackName="a-later")
    factory.cloudformation("us-west-2", first, "Exec").describe_stacks(StackName="a-west")  # a new client
    factory.cloudformation("us-east-1", second, "Exec").describe_stacks(StackName="b-later")  # 28 minutes old

    assert signed.signed["a"] == {(f"ASIA{first}1", f"token-{first}-1")}
    assert signed.signed["a-later"] == signed.signed["a-west"] == {(f"ASIA{first}2", f"token-{first}-2")}
    assert signed.signed["b"] == signed.signed["b-later"] == {(f"ASIA{second}1", f"token-{second}-1")}
    assert signed.assumed == Counter({first: 2, second: 1})


def _handlers(client: Any) -> list[tuple[str, str]]:
    """Every handler registered on a client (event, name): botocore's private trie, read only."""
    out: list[tuple[str, str]] = []

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        values = node.get("values")
        if values:
            for handler in (*values.first, *values.middle, *values.last):
                out.append((".".join(path), getattr(handler, "__qualname__", type(handler).__qualname__)))
        for chunk, child in node.get("children", {}).items():
            walk(child, (*path, chunk))

    walk(client.meta.events._emitter._handlers._root, ())
    return sorted(out)


@pytest.mark.parametrize("service", ["cloudformation", "s3", "dynamodb", "ssm", "kms"])
def test_a_member_client_has_the_handlers_of_a_boto3_client_and_a_hook_on_one_stays_there(
    service: str,
) -> None:
    now = [START]
    signed = Signed(now)
    factory = _factory(signed, now)
    reference = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x").client(
        service,
        region_name="us-west-2",
        config=factory.config,  # type: ignore[call-overload]
    )
    signed.attach(reference)  # the factory's hook
    expected = _handlers(reference)
    members = [factory.client(service, "us-west-2", account, "Exec") for account in MEMBERS]
    members[0].meta.events.register("before-call", lambda **_: None)  # on one client only
    assert len(_handlers(members[0])) == len(expected) + 1
    assert [_handlers(m) for m in members[1:]] == [expected, expected]  # nothing leaked, nothing repeated
    if service == "s3":
        assert all(hasattr(m, "upload_file") for m in members)  # boto3's customisations are there


def test_a_new_account_registers_no_more_handlers_than_a_new_client_in_a_known_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore's and boto3's session handlers are registered once per factory, not once per
    account (registering about 130 handlers, each checked with inspect, per account was the
    largest CPU cost per account at 1,000 accounts)."""
    from botocore.hooks import HierarchicalEmitter

    registered = [0]
    original = vars(HierarchicalEmitter)["_register_section"]  # botocore private: counted, not changed

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        registered[0] += 1
        return original(self, *args, **kwargs)

    now = [START]
    signed = Signed(now)
    factory = _factory(signed, now)
    factory.cloudformation("us-east-1", MEMBERS[0], "Exec")
    monkeypatch.setattr(HierarchicalEmitter, "_register_section", counting)
    factory.cloudformation("us-west-2", MEMBERS[0], "Exec")  # a new client, the role already assumed
    known = registered[0]
    registered[0] = 0
    factory.cloudformation("us-east-1", MEMBERS[1], "Exec")  # a new account: AssumeRole, a session, a client
    assert signed.assumed[MEMBERS[1]] == 1
    assert registered[0] == known > 0
