"""Fault injection: the deployer's CLI against moto's server, with AWS behaviours moto never
shows injected through botocore ``before-send`` hooks (tests/faults.py).

For every fault: the exit code, what is printed, and that nothing was deleted, cancelled or left
half-done without the user being told (no Delete*/StopStackSetOperation call; the primary phase
is not started after a failed replica phase; the running or failed operation is named).

Decisions these tests pin down:

* StaleRequestException ("another operation has been performed on this stack set since the
  specified operation was performed", per the API reference): the run planned from stale state,
  so it stops (exit 1) and says to re-plan, rather than retrying a request built on that state.
* Instances FAILED inside an operation that SUCCEEDED within its failure tolerance: the rollout
  goes on (the tolerance allows it), every such instance is printed as a warning, outputs are
  written, and the exit code is 1 so CI notices.
* Expired or invalid credentials: a one-line message naming the error code, exit 1.
* Network errors while polling an operation: botocore retries each call; on top of that the
  wait loop polls again a few times; if it persists, exit 1 naming the operation still running.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from stacksets.session import CallLog
from tests.faults import FakeClock, Faults, VirtualBotocoreTime, deploy, members, run_cli
from tests.helpers import ACCOUNTS, example_data, seeded, write_config

REPLICA = "tattoo-directory-dev-app-storage-replica"
PRIMARY = "tattoo-directory-dev-app-storage-primary"


@pytest.fixture(autouse=True)
def _virtual_botocore_time(botocore_time: VirtualBotocoreTime) -> VirtualBotocoreTime:
    """botocore's own retry waits are recorded, not waited (:class:`tests.faults.VirtualBotocoreTime`)."""
    return botocore_time


@pytest.fixture
def config(moto_endpoint: str, tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    seeded(moto_endpoint, path)
    return path


def operation(op_id: str, status: str, failed: int = 0) -> str:
    details = (
        f"<StatusDetails><FailedStackInstancesCount>{failed}</FailedStackInstancesCount></StatusDetails>"
    )
    return f"<StackSetOperation><OperationId>{op_id}</OperationId><Status>{status}</Status>{details}</StackSetOperation>"


def results(rows: list[dict[str, str]]) -> str:
    return f"<Summaries>{members(rows)}</Summaries>"


def assert_primary_not_started(faults: Faults) -> None:
    assert faults.calls("CreateStackSet", StackSetName=PRIMARY) == []
    assert faults.calls("CreateStackInstances", StackSetName=PRIMARY) == []


def assert_nothing_deleted_or_cancelled(faults: Faults) -> None:
    assert faults.deletes() == []


# --------------------------------------------------------------------------- throttling


def test_throttling_burst_is_retried_by_botocore(
    moto_endpoint: str, config: Path, botocore_time: VirtualBotocoreTime
) -> None:
    faults = Faults()
    burst = faults.error(
        "CreateStackInstances", "Throttling", "Rate exceeded", match={"StackSetName": REPLICA}, times=4
    )
    code, _, err = deploy(moto_endpoint, config, faults=faults)
    assert code == 0, err
    assert burst.hits == 4
    assert len(faults.calls("CreateStackInstances", StackSetName=REPLICA)) == 5  # 4 throttled + 1
    assert len(botocore_time.backoffs) >= 4  # botocore's backoff, not ours
    assert botocore_time.rate_limits  # and its adaptive rate limiter, on the virtual clock
    assert "Throttling" not in err
    assert len(faults.calls("CreateStackInstances", StackSetName=PRIMARY)) == 1
    assert_nothing_deleted_or_cancelled(faults)


# --------------------------------------------------------------------------- operation in progress


def test_operation_in_progress_waits_for_it_then_continues(moto_endpoint: str, config: Path) -> None:
    faults = Faults()
    faults.error(
        "CreateStackInstances",
        "OperationInProgressException",
        "Another Operation on StackSet is in progress",
        match={"StackSetName": REPLICA},
    )
    faults.respond(
        "ListStackSetOperations",
        results([{"OperationId": "theirs", "Action": "UPDATE", "Status": "RUNNING"}]),
        match={"StackSetName": REPLICA},
    )
    faults.respond(
        "DescribeStackSetOperation", operation("theirs", "RUNNING"), match={"OperationId": "theirs"}
    )
    faults.respond(
        "DescribeStackSetOperation", operation("theirs", "SUCCEEDED"), match={"OperationId": "theirs"}
    )
    clock = FakeClock()
    code, _, err = deploy(moto_endpoint, config, faults=faults, clock=clock)
    assert code == 0, err
    attempts = faults.calls("CreateStackInstances", StackSetName=REPLICA)
    assert len(attempts) == 2
    assert attempts[0]["OperationId"] == attempts[1]["OperationId"]  # idempotent retry
    assert [c["OperationId"] for c in faults.calls("DescribeStackSetOperation")][:2] == ["theirs", "theirs"]
    # one poll of theirs while RUNNING, then the retry's own backoff (always taken before retrying)
    assert clock.sleeps == [3.75, 3.75]
    assert_nothing_deleted_or_cancelled(faults)


# --------------------------------------------------------------------------- stale request


def test_stale_request_stops_and_says_to_replan(moto_endpoint: str, config: Path) -> None:
    faults = Faults()
    faults.error(
        "CreateStackInstances",
        "StaleRequestException",
        "Another operation has been performed",
        match={"StackSetName": REPLICA},
    )
    code, out, err = deploy(moto_endpoint, config, faults=faults)
    assert code == 1
    assert "StaleRequestException" in err and REPLICA in err and "Nothing was started" in err
    assert "Traceback" not in err + out
    assert len(faults.calls("CreateStackInstances", StackSetName=REPLICA)) == 1  # not retried blindly
    assert_primary_not_started(faults)
    assert_nothing_deleted_or_cancelled(faults)


# --------------------------------------------------------------------------- failed / stopped


@pytest.mark.parametrize("status", ["FAILED", "STOPPED"])
def test_failed_in_one_region_stopped_in_the_next(moto_endpoint: str, config: Path, status: str) -> None:
    faults = Faults()
    faults.respond("DescribeStackSetOperation", operation("op", "RUNNING"), match={"StackSetName": REPLICA})
    faults.respond("DescribeStackSetOperation", operation("op", status), match={"StackSetName": REPLICA})
    faults.respond(
        "ListStackSetOperationResults",
        results(
            [
                {
                    "Account": ACCOUNTS[0],
                    "Region": "us-west-2",
                    "Status": "FAILED",
                    "StatusReason": "ResourceLogicalId:ImagesBackupBucket, Access Denied",
                },
                {"Account": ACCOUNTS[1], "Region": "us-west-2", "Status": "SUCCEEDED"},
                {
                    "Account": ACCOUNTS[0],
                    "Region": "eu-west-1",
                    "Status": "CANCELLED",
                    "StatusReason": "Cancelled since failure tolerance has exceeded",
                },
            ]
        ),
        match={"StackSetName": REPLICA},
    )
    code, out, err = deploy(moto_endpoint, config, faults=faults)
    assert code == 1
    assert f"on stack set {REPLICA} ended {status}" in err
    assert f"{ACCOUNTS[0]} us-west-2 FAILED: ResourceLogicalId:ImagesBackupBucket, Access Denied" in err
    assert f"{ACCOUNTS[0]} eu-west-1 CANCELLED: Cancelled since failure tolerance has exceeded" in err
    assert f"{ACCOUNTS[1]} us-west-2" not in err  # only the instances that did not succeed
    assert "later phases were not started" in err and "Traceback" not in err + out
    assert_primary_not_started(faults)
    assert_nothing_deleted_or_cancelled(faults)


# --------------------------------------------------------------------------- failure tolerance


def test_failed_instances_within_failure_tolerance_are_reported_and_exit_1(
    moto_endpoint: str, config: Path
) -> None:
    faults = Faults()
    faults.respond(
        "DescribeStackSetOperation", operation("op", "SUCCEEDED", failed=1), match={"StackSetName": REPLICA}
    )
    faults.respond(
        "ListStackSetOperationResults",
        results(
            [
                {"Account": ACCOUNTS[0], "Region": "us-west-2", "Status": "SUCCEEDED"},
                {
                    "Account": ACCOUNTS[1],
                    "Region": "us-west-2",
                    "Status": "FAILED",
                    "StatusReason": "KMS key is disabled",
                },
                {"Account": ACCOUNTS[2], "Region": "us-west-2", "Status": "SUCCEEDED"},
            ]
        ),
        match={"StackSetName": REPLICA},
    )
    code, out, err = deploy(moto_endpoint, config, "--json", faults=faults)
    assert code == 1
    op_id = faults.calls("DescribeStackSetOperation", StackSetName=REPLICA)[0]["OperationId"]
    assert (
        f"warning: {REPLICA}: operation {op_id} succeeded within its failure tolerance but "
        f"{ACCOUNTS[1]} us-west-2 is FAILED: KMS key is disabled"
    ) in err
    assert "deploy finished, but some instances failed" in err
    data = json.loads(out)["dev"]
    assert data["failed_instances"] == [
        {
            "stack_set": REPLICA,
            "operation": op_id,
            "account": ACCOUNTS[1],
            "region": "us-west-2",
            "status": "FAILED",
            "reason": "KMS key is disabled",
        }
    ]
    # the tolerance let the rollout go on: the primary phase ran and outputs were collected
    assert len(faults.calls("CreateStackInstances", StackSetName=PRIMARY)) == 1
    assert (config.parent / "outputs.json").exists()
    assert_nothing_deleted_or_cancelled(faults)


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize("code_", ["ExpiredToken", "InvalidClientTokenId", "UnrecognizedClientException"])
def test_expired_or_invalid_credentials(moto_endpoint: str, config: Path, code_: str) -> None:
    faults = Faults()
    faults.error(
        "DescribeStackSet",
        code_,
        "The security token included in the request is invalid",
        times=None,
        status=403,
    )
    code, out, err = deploy(moto_endpoint, config, faults=faults)
    assert code == 1
    assert f"the AWS credentials were rejected ({code_}: The security token" in err
    assert "Traceback" not in err + out
    assert [op for op, _ in faults.requests if op.startswith(("Create", "Update", "Delete"))] == []


# --------------------------------------------------------------------------- network


NETWORK_ERRORS: dict[str, Callable[[], Exception]] = {
    "EndpointConnectionError": lambda: EndpointConnectionError(endpoint_url="https://cloudformation"),
    "ReadTimeout": lambda: ReadTimeoutError(endpoint_url="https://cloudformation"),
}


@pytest.mark.parametrize("kind", sorted(NETWORK_ERRORS))
def test_network_blip_while_waiting_is_retried(moto_endpoint: str, config: Path, kind: str) -> None:
    faults = Faults()
    blip = faults.fail(
        "DescribeStackSetOperation", NETWORK_ERRORS[kind], match={"StackSetName": REPLICA}, times=3
    )
    clock = FakeClock()
    # one botocore attempt per call, so the wait loop's own retries are what carries on
    code, _, err = deploy(moto_endpoint, config, "--max-attempts", "1", faults=faults, clock=clock)
    assert code == 0, err
    assert blip.hits == 3 and len(clock.sleeps) == 3
    assert len(faults.calls("CreateStackInstances", StackSetName=PRIMARY)) == 1
    assert_nothing_deleted_or_cancelled(faults)


def test_network_error_is_first_retried_by_botocore(
    moto_endpoint: str, config: Path, botocore_time: VirtualBotocoreTime
) -> None:
    faults = Faults()
    faults.fail(
        "DescribeStackSetOperation",
        NETWORK_ERRORS["EndpointConnectionError"],
        match={"StackSetName": REPLICA},
        times=2,
    )
    clock = FakeClock()
    code, _, err = deploy(moto_endpoint, config, "--max-attempts", "4", faults=faults, clock=clock)
    assert code == 0, err
    assert clock.sleeps == [] and len(botocore_time.backoffs) >= 2


@pytest.mark.parametrize("kind", sorted(NETWORK_ERRORS))
def test_persistent_network_error_names_the_operation_still_running(
    moto_endpoint: str, config: Path, kind: str
) -> None:
    faults = Faults()
    faults.fail(
        "DescribeStackSetOperation", NETWORK_ERRORS[kind], match={"StackSetName": REPLICA}, times=None
    )
    clock = FakeClock()
    code, out, err = deploy(moto_endpoint, config, "--max-attempts", "2", faults=faults, clock=clock)
    assert code == 1
    op_id = faults.calls("DescribeStackSetOperation", StackSetName=REPLICA)[0]["OperationId"]
    assert (
        f"lost contact with CloudFormation while waiting for operation {op_id} on stack set {REPLICA}" in err
    )
    assert f"still running (not cancelled): operation {op_id} on stack set {REPLICA}" in err
    assert "Traceback" not in err + out
    assert len(clock.sleeps) == 5  # WAIT_NETWORK_RETRIES polls after the first failure
    assert_primary_not_started(faults)
    assert_nothing_deleted_or_cancelled(faults)


# --------------------------------------------------------------------------- interrupt and resume


def test_interrupt_then_resume(moto_endpoint: str, config: Path) -> None:
    faults = Faults()
    faults.respond(
        "DescribeStackSetOperation", operation("x", "RUNNING"), match={"StackSetName": REPLICA}, times=None
    )
    code, out, err = deploy(moto_endpoint, config, faults=faults, clock=FakeClock(interrupt_after=0))
    assert code == 130
    op_id = faults.calls("DescribeStackSetOperation", StackSetName=REPLICA)[0]["OperationId"]
    assert f"still running: operation {op_id} on stack set {REPLICA}" in err
    assert "not cancelled" in err and "run deploy again" in err and "Traceback" not in err + out
    assert_primary_not_started(faults)
    assert_nothing_deleted_or_cancelled(faults)  # in particular no StopStackSetOperation

    # The next deploy finds the operation still running, waits for it, re-plans and finishes.
    resumed = Faults()
    resumed.respond(
        "ListStackSetOperations",
        results([{"OperationId": op_id, "Action": "CREATE", "Status": "RUNNING"}]),
        match={"StackSetName": REPLICA},
    )
    resumed.respond("DescribeStackSetOperation", operation(op_id, "RUNNING"), match={"OperationId": op_id})
    clock = FakeClock()
    code, out, err = deploy(moto_endpoint, config, faults=resumed, clock=clock)
    assert code == 0, err
    assert [c["OperationId"] for c in resumed.calls("DescribeStackSetOperation")][:2] == [op_id, op_id]
    assert resumed.calls("CreateStackInstances", StackSetName=REPLICA) == []  # not started twice
    assert len(resumed.calls("CreateStackInstances", StackSetName=PRIMARY)) == 1
    assert clock.sleeps == [3.75]
    data = json.loads((config.parent / "outputs.json").read_text())
    assert sum(len(s["instances"]) for s in data["stack_sets"]) == 2 * len(ACCOUNTS)
    assert_nothing_deleted_or_cancelled(resumed)


# --------------------------------------------------------------------------- member roles and phases


def test_deploy_writes_outputs_when_a_member_role_cannot_be_assumed(moto_endpoint: str, config: Path) -> None:
    assert deploy(moto_endpoint, config)[0] == 0
    faults = Faults()
    denied = faults.error(
        "AssumeRole",
        "AccessDenied",
        "not authorized to perform: sts:AssumeRole",
        match={"RoleArn": ACCOUNTS[1]},
        times=None,
        status=403,
    )
    # A deploy reads outputs only after a change: one to the replica instances only (an override
    # in the replica region), so that the replica check before the primary phase does not run.
    deployment = {
        **example_data()["environments"]["dev"]["deployment"],
        "accounts": list(ACCOUNTS),
        "overrides": [
            {
                "regions": ["us-west-2"],
                "parameters": {"AccessLogsBucketName": "ssm:/tattoo-directory/dev/alt/access-logs-bucket"},
            }
        ],
    }
    changed = write_config(config.parent, dev__deployment=deployment)
    log = CallLog()
    code, out, err = deploy(
        moto_endpoint, changed, faults=faults, log=log, outputs=config.parent / "outputs.json"
    )
    assert code == 0, err  # the rollout succeeded: unreadable outputs are a warning
    assert log.mutating() == {"cloudformation.UpdateStackInstances": 1}
    assert denied.hits >= 1
    assert "Traceback" not in err + out
    data = json.loads((config.parent / "outputs.json").read_text())
    instances = [i for s in data["stack_sets"] for i in s["instances"]]
    assert len(instances) == 2 * len(ACCOUNTS)
    bad = [i for i in instances if i["account"] == ACCOUNTS[1]]
    good = [i for i in instances if i["account"] != ACCOUNTS[1]]
    assert len(bad) == 2 and all(i["status"] == "NOT READABLE" and i["outputs"] == {} for i in bad)
    assert all(i["error"].startswith("not readable: AssumeRole refused (AccessDenied") for i in bad)
    assert all(i["outputs"] and "error" not in i for i in good)
    assert f"warning: dev: outputs of the replica instance in {ACCOUNTS[1]} us-west-2 were not read" in err
    assert "set deployment.execution_role_name to a role this caller can assume" in err

    # `outputs` exists to read them: there the same situation is exit 1 (file still written).
    faults = Faults()
    faults.error("AssumeRole", "AccessDenied", match={"RoleArn": ACCOUNTS[1]}, times=None, status=403)
    code, _, err = run_cli(
        moto_endpoint,
        "outputs",
        "--config",
        str(config),
        "--env",
        "dev",
        faults=faults,
        outputs=config.parent / "outputs.json",
    )
    assert code == 1 and "were not read" in err


def test_error_in_the_primary_phase_says_the_replica_phase_was_applied(
    moto_endpoint: str, config: Path
) -> None:
    faults = Faults()
    faults.error(
        "CreateStackInstances",
        "InvalidOperationException",
        "injected refusal",
        match={"StackSetName": PRIMARY},
    )
    code, out, err = deploy(moto_endpoint, config, faults=faults)
    assert code == 1, out + err
    assert "AWS refused a call" in err and "InvalidOperationException" in err
    assert f"dev: the replica phase (stack set {REPLICA}) was already applied and stays applied" in err
    assert f"dev: the primary phase (stack set {PRIMARY}) did not complete" in err
    assert "Traceback" not in err + out
