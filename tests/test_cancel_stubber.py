"""StopStackSetOperation and --detach as AWS answers them, through botocore's Stubber: moto ends
every operation at once and stops even an operation that already ended
(tests/test_cancel_e2e.py), so the waits and AWS's refusal are shown here. No real sleep: the
runner's sleep is a FakeClock."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from stacksets.operations import Detached, OperationRunner
from tests.faults import FakeClock

STACK_SET = "tattoo-directory-dev-app-storage-primary"


def client() -> Any:
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("cloudformation")


def described(stub: Stubber, status: str) -> None:
    stub.add_response(
        "describe_stack_set_operation",
        {"StackSetOperation": {"OperationId": "op-9", "Status": status}},
        {"StackSetName": STACK_SET, "OperationId": "op-9", "CallAs": "SELF"},
    )


@pytest.mark.parametrize(
    ("refused", "statuses", "ended", "sleeps"),
    [
        # Stopped while running: STOPPING is polled (with backoff) until STOPPED.
        (False, ["RUNNING", "STOPPING", "STOPPED"], "STOPPED", 2),
        # It ended before it could be stopped: AWS refuses the stop; how it ended is reported.
        (True, ["SUCCEEDED"], "SUCCEEDED", 0),
        (True, ["FAILED"], "FAILED", 0),
    ],
)
def test_stop_waits_until_the_operation_ended(
    refused: bool, statuses: list[str], ended: str, sleeps: int
) -> None:
    cfn = client()
    clock = FakeClock()
    runner = OperationRunner(cfn, runtime=clock.runtime())
    with Stubber(cfn) as stub:
        params = {"StackSetName": STACK_SET, "OperationId": "op-9", "CallAs": "SELF"}
        if refused:
            stub.add_client_error(
                "stop_stack_set_operation", "InvalidOperationException", expected_params=params
            )
        else:
            stub.add_response("stop_stack_set_operation", {}, params)
        for status in statuses:
            described(stub, status)
        if ended != "SUCCEEDED":  # the instances not SUCCEEDED are listed
            stub.add_response(
                "list_stack_set_operation_results",
                {"Summaries": []},
                {"StackSetName": STACK_SET, "OperationId": "op-9", "CallAs": "SELF"},
            )
        assert runner.stop(STACK_SET, "op-9") == ended
        stub.assert_no_pending_responses()
    assert len(clock.sleeps) == sleeps


def test_stop_of_an_unknown_operation_is_an_error() -> None:
    from botocore.exceptions import ClientError

    cfn = client()
    runner = OperationRunner(cfn, runtime=FakeClock().runtime())
    with Stubber(cfn) as stub:
        stub.add_client_error("stop_stack_set_operation", "OperationNotFoundException")
        with pytest.raises(ClientError):
            runner.stop(STACK_SET, "op-9")


def test_a_detached_runner_starts_and_does_not_poll() -> None:
    cfn = client()
    runner = OperationRunner(cfn, runtime=FakeClock().runtime(), detach=True)
    with Stubber(cfn) as stub:
        stub.add_response(
            "update_stack_instances",
            {"OperationId": "op-0"},
            {
                "StackSetName": STACK_SET,
                "Accounts": ["111111111111"],
                "Regions": ["us-east-1"],
                "OperationId": "op-0",
            },
        )
        with pytest.raises(Detached) as raised:
            runner.run(
                STACK_SET,
                "UpdateStackInstances",
                {"StackSetName": STACK_SET, "Accounts": ["111111111111"], "Regions": ["us-east-1"]},
            )
        stub.assert_no_pending_responses()  # and nothing else was called: no DescribeStackSetOperation
    assert raised.value.operation.operation_id == "op-0" and raised.value.api == "UpdateStackInstances"
