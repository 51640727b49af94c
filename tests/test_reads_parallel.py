"""stacksets.parallel.parallel_map and the client factory called from many threads.

No sleeps: calls that must overlap meet at a threading.Barrier (which fails after its timeout
when they do not), and the factory is driven against moto's server with a CallLog.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from stacksets.local import local_session
from stacksets.parallel import parallel_map
from stacksets.session import CallLog, ClientFactory
from tests.helpers import offline_factory


class Tracked:
    """Counts calls running at the same time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def __enter__(self) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)

    def __exit__(self, *_: Any) -> None:
        with self.lock:
            self.running -= 1


@pytest.mark.parametrize("workers", [1, 2, 4, 16])
def test_results_come_back_in_input_order(workers: int) -> None:
    assert parallel_map(lambda n: n * n, range(20), workers=workers) == [n * n for n in range(20)]
    assert parallel_map(lambda n: n, [], workers=workers) == []


@pytest.mark.parametrize("workers", [2, 3])
def test_at_most_workers_calls_run_at_once_and_that_many_do(workers: int) -> None:
    tracked = Tracked()
    meet = threading.Barrier(workers, timeout=10)  # breaks (fails the test) unless `workers` overlap

    def call(n: int) -> int:
        with tracked:
            meet.wait()
            return n

    assert parallel_map(call, range(workers * 3), workers=workers) == list(range(workers * 3))
    assert tracked.most == workers


def test_the_first_failure_in_input_order_is_raised_after_the_running_calls_finish() -> None:
    release = threading.Event()
    finished: list[int] = []

    def call(n: int) -> int:
        if n == 0:  # still running when 1 and 2 fail: it finishes, its result is dropped
            release.wait(10)
            finished.append(n)
            return n
        if n in (1, 2):
            if n == 2:
                release.set()
            raise ValueError(f"item {n}")
        finished.append(n)
        return n

    with pytest.raises(ValueError, match="item 1"):
        parallel_map(call, range(3), workers=3)
    assert finished == [0]


def test_calls_not_started_when_one_fails_are_cancelled() -> None:
    called: list[int] = []

    def call(n: int) -> int:
        called.append(n)
        if n == 1:
            raise RuntimeError("boom")
        return n

    with pytest.raises(RuntimeError, match="boom"):
        parallel_map(call, range(50), workers=1)
    assert called == [0, 1]  # one worker: nothing after the failure runs


def test_workers_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        parallel_map(str, [1], workers=0)


def test_clients_made_from_many_threads_are_made_once_and_each_role_assumed_once(
    moto_endpoint: str,
) -> None:
    log = CallLog()
    factory = ClientFactory(local_session(), endpoint_url=moto_endpoint, hooks=(log.attach,))
    accounts = [f"{200000000000 + n:012d}" for n in range(6)]
    asks = [(account, region) for account in accounts for region in ("us-east-1", "us-west-2")] * 4

    def make(ask: tuple[str, str]) -> Any:
        return factory.cloudformation(ask[1], ask[0], "exec-role")

    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(make, asks))
    by_ask: dict[tuple[str, str], set[int]] = {}
    for ask, client in zip(asks, clients, strict=True):
        by_ask.setdefault(ask, set()).add(id(client))
    assert all(len(ids) == 1 for ids in by_ask.values())  # one client per (account, Region)
    assert len({id(c) for c in clients}) == 12
    assert log.count("AssumeRole") == len(accounts)  # one per account, whichever thread asked
    assert log.count("GetCallerIdentity") == 1


def test_a_role_refused_is_asked_for_once_per_run() -> None:
    """AccessDenied from AssumeRole is remembered for the account and role: the instance's other
    Region (and its outputs, its template) get the same error without another call (Stubber
    fails any call it was not given)."""
    factory = offline_factory(caller_account="999999999999")
    stub = Stubber(factory.client("sts", "us-east-1"))
    stub.add_client_error("assume_role", "AccessDenied", "not authorized to perform sts:AssumeRole")
    stub.activate()
    for region in ("us-east-1", "us-west-2", "us-east-1"):
        with pytest.raises(ClientError) as err:
            factory.cloudformation(region, "111111111111", "exec-role")
        assert err.value.response["Error"]["Code"] == "AccessDenied"
        assert err.value.operation_name == "AssumeRole"
    stub.assert_no_pending_responses()
