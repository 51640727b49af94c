"""``drift`` reads every instance's drifted resources from the administration account
(ListStackInstanceResourceDrifts with the detection's OperationId) and never assumes a role in a
member account: the calls grow with the drifted instances, not with the accounts.

moto implements neither DetectStackSetDrift nor ListStackInstanceResourceDrifts: these tests
answer through botocore's Stubber, which checks every request against the service model (and,
given expected parameters, the request exactly). Every client the factory makes and every call is
recorded, so a call to STS or to CloudFormation in another account or Region fails the test.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from appstorage.config import load_config
from stacksets.desired import desired_stack_sets
from stacksets.drift import (
    DRIFT_PREFERENCES,
    RESOURCE_DRIFTS_HINT,
    StackSetDrift,
    detect_drift,
    drift_detection_request,
    drift_to_json,
    render_drift,
)
from stacksets.model import CallAs, DesiredStackSet
from stacksets.session import CallLog, ClientFactory
from stacksets.toolkit import Tools, environment_tools
from tests.faults import FakeClock

CALLER = "111111111111"  # the administration account (the bundled example's dev account)
ADMIN_REGION = "us-east-1"
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
FILTERS = ["MODIFIED", "DELETED"]


@attrs.define
class Admin:
    """The administration account's CloudFormation, stubbed, with every client made and call made."""

    tools: Tools
    stub: Stubber
    log: CallLog
    clients: list[tuple[str, str]]
    clock: FakeClock

    @property
    def replica(self) -> DesiredStackSet:
        return self.tools.desired[0]

    @property
    def primary(self) -> DesiredStackSet:
        return self.tools.desired[1]

    def run(self, desired: Sequence[DesiredStackSet] | None = None) -> list[StackSetDrift]:
        t = self.tools
        return detect_drift(t.desired if desired is None else desired, cfn=t.cfn, runner=t.runner)


@pytest.fixture
def admin() -> Iterator[Admin]:
    log = CallLog()
    clients: list[tuple[str, str]] = []

    def record(client: Any) -> None:
        clients.append((client.meta.service_model.service_name, client.meta.region_name))
        log.attach(client)

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=ADMIN_REGION
    )
    factory = ClientFactory(session, max_attempts=1, caller_account=CALLER, hooks=(record,))
    config = load_config()
    clock = FakeClock()
    tools = environment_tools(factory, config, config.environment("dev"), runtime=clock.runtime())
    with Stubber(tools.cfn) as stub:
        yield Admin(tools, stub, log, clients, clock)
        stub.assert_no_pending_responses()
    # Nothing but the administration Region's CloudFormation client was ever made: no STS, no
    # client in a member account or another Region.
    assert clients == [("cloudformation", ADMIN_REGION)]
    assert log.count("AssumeRole") == 0


def _row(account: str, region: str, drift: str) -> dict[str, Any]:
    return {
        "Account": account,
        "Region": region,
        "Status": "CURRENT",
        "StackId": f"arn:aws:cloudformation:{region}:{account}:stack/StackSet-x/{account}",
        "DriftStatus": drift,
    }


def observe(stub: Stubber, name: str, rows: Sequence[dict[str, Any]]) -> None:
    """observe_stack_set: DescribeStackSet, ListStackInstances, ListStackSetOperations."""
    stub.add_response(
        "describe_stack_set",
        {"StackSet": {"StackSetName": name, "Status": "ACTIVE", "TemplateBody": "{}"}},
        {"StackSetName": name, "CallAs": "SELF"},
    )
    stub.add_response(
        "list_stack_instances", {"Summaries": list(rows)}, {"StackSetName": name, "CallAs": "SELF"}
    )
    stub.add_response(
        "list_stack_set_operations", {"Summaries": []}, {"StackSetName": name, "CallAs": "SELF"}
    )


def detection(stub: Stubber, name: str, operation_id: str, failed: Sequence[dict[str, Any]] = ()) -> None:
    """No detection running: DetectStackSetDrift with the drift preferences, then it SUCCEEDED
    (with ``failed`` instances within the failure tolerance)."""
    stub.add_response(
        "list_stack_set_operations", {"Summaries": []}, {"StackSetName": name, "CallAs": "SELF"}
    )
    stub.add_response(
        "detect_stack_set_drift",
        {"OperationId": operation_id},
        {
            "StackSetName": name,
            "OperationPreferences": DRIFT_PREFERENCES,
            "OperationId": operation_id,
            "CallAs": "SELF",
        },
    )
    operation: dict[str, Any] = {"OperationId": operation_id, "Status": "SUCCEEDED", "Action": "DETECT_DRIFT"}
    if failed:
        operation["StatusDetails"] = {"FailedStackInstancesCount": len(failed)}
    stub.add_response(
        "describe_stack_set_operation",
        {"StackSetOperation": operation},
        {"StackSetName": name, "OperationId": operation_id, "CallAs": "SELF"},
    )
    if failed:
        stub.add_response(
            "list_stack_set_operation_results",
            {"Summaries": list(failed)},
            {"StackSetName": name, "OperationId": operation_id, "CallAs": "SELF"},
        )


def resources(
    stub: Stubber,
    name: str,
    operation_id: str,
    account: str,
    region: str,
    summaries: Sequence[dict[str, Any]],
    *,
    token: str | None = None,
    next_token: str | None = None,
) -> None:
    """One page of ListStackInstanceResourceDrifts, as the deployer must ask for it."""
    params: dict[str, Any] = {
        "StackSetName": name,
        "StackInstanceAccount": account,
        "StackInstanceRegion": region,
        "OperationId": operation_id,
        "StackInstanceResourceDriftStatuses": FILTERS,
        "MaxResults": 100,
        "CallAs": "SELF",
    }
    if token:
        params["NextToken"] = token
    response: dict[str, Any] = {"Summaries": list(summaries)}
    if next_token:
        response["NextToken"] = next_token
    stub.add_response("list_stack_instance_resource_drifts", response, params)


def modified(logical_id: str, account: str, path: str, expected: str, actual: str) -> dict[str, Any]:
    return {
        "StackId": f"arn:aws:cloudformation:us-west-2:{account}:stack/StackSet-x/{account}",
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": f"{logical_id.lower()}-{account}",
        "ResourceType": "AWS::S3::Bucket",
        "StackResourceDriftStatus": "MODIFIED",
        "Timestamp": NOW,
        "PropertyDifferences": [
            {
                "PropertyPath": path,
                "ExpectedValue": expected,
                "ActualValue": actual,
                "DifferenceType": "NOT_EQUAL",
            }
        ],
    }


def deleted(logical_id: str, account: str) -> dict[str, Any]:
    """A DELETED resource: no PhysicalResourceId, no PropertyDifferences (both optional)."""
    return {
        "StackId": f"arn:aws:cloudformation:us-west-2:{account}:stack/StackSet-x/{account}",
        "LogicalResourceId": logical_id,
        "ResourceType": "AWS::S3::BucketPolicy",
        "StackResourceDriftStatus": "DELETED",
        "Timestamp": NOW,
    }


# --------------------------------------------------------------------------- the report


def test_drifted_resources_are_read_from_the_administration_account_every_page(admin: Admin) -> None:
    replica, primary = admin.replica.name, admin.primary.name
    members = ("222222222222", "333333333333", "444444444444")
    # replica: a new detection; two of three member-account instances DRIFTED
    observe(admin.stub, replica, [_row(a, "us-west-2", "NOT_CHECKED") for a in members])
    detection(admin.stub, replica, "op-0")
    observe(
        admin.stub,
        replica,
        [
            _row(members[0], "us-west-2", "DRIFTED"),
            _row(members[1], "us-west-2", "IN_SYNC"),
            _row(members[2], "us-west-2", "DRIFTED"),
        ],
    )
    # the first drifted instance's resources come in two pages, the second's in one
    resources(
        admin.stub,
        replica,
        "op-0",
        members[0],
        "us-west-2",
        [
            modified(
                "ImagesBackupBucket", members[0], "/VersioningConfiguration/Status", "Enabled", "Suspended"
            )
        ],
        next_token="page-2",
    )
    resources(
        admin.stub,
        replica,
        "op-0",
        members[0],
        "us-west-2",
        [deleted("FrontendBackupBucketPolicy", members[0])],
        token="page-2",
    )
    resources(
        admin.stub,
        replica,
        "op-0",
        members[2],
        "us-west-2",
        [modified("FrontendBackupBucket", members[2], "/Tags/0/Value", "dev", "prod")],
    )
    # primary: a detection already running (someone else's) is waited for and its id used
    observe(admin.stub, primary, [_row(members[0], "us-east-1", "NOT_CHECKED")])
    admin.stub.add_response(
        "list_stack_set_operations",
        {"Summaries": [{"OperationId": "theirs", "Action": "DETECT_DRIFT", "Status": "RUNNING"}]},
        {"StackSetName": primary, "CallAs": "SELF"},
    )
    for status in ("RUNNING", "SUCCEEDED"):
        admin.stub.add_response(
            "describe_stack_set_operation",
            {"StackSetOperation": {"OperationId": "theirs", "Status": status}},
            {"StackSetName": primary, "OperationId": "theirs", "CallAs": "SELF"},
        )
    observe(admin.stub, primary, [_row(members[0], "us-east-1", "DRIFTED")])
    resources(admin.stub, primary, "theirs", members[0], "us-east-1", [deleted("TablePolicy", members[0])])

    reports = admin.run()

    assert [r.operation_id for r in reports] == ["op-0", "theirs"]
    assert [len(r.drifted) for r in reports] == [2, 1]
    first, second = reports[0].drifted
    assert [(r.logical_id, r.status, r.physical_id) for r in first.resources] == [
        ("FrontendBackupBucketPolicy", "DELETED", ""),
        ("ImagesBackupBucket", "MODIFIED", f"imagesbackupbucket-{members[0]}"),
    ]
    assert first.resources[1].properties[0].path == "/VersioningConfiguration/Status"
    assert [r.logical_id for r in second.resources] == ["FrontendBackupBucket"]
    assert admin.log.count("ListStackInstanceResourceDrifts") == 4  # 3 drifted instances, one paged twice
    text = render_drift("dev", reports)
    assert text.splitlines() == [
        f"{replica} (replica): 2 of 3 instance(s) drifted (operation op-0)",
        f"  {members[0]} us-west-2: DRIFTED",
        "    FrontendBackupBucketPolicy (AWS::S3::BucketPolicy) DELETED",
        f"    ImagesBackupBucket (AWS::S3::Bucket) MODIFIED imagesbackupbucket-{members[0]}",
        "      /VersioningConfiguration/Status: expected Enabled, actual Suspended [NOT_EQUAL]",
        f"  {members[2]} us-west-2: DRIFTED",
        f"    FrontendBackupBucket (AWS::S3::Bucket) MODIFIED frontendbackupbucket-{members[2]}",
        "      /Tags/0/Value: expected dev, actual prod [NOT_EQUAL]",
        f"{primary} (primary): 1 of 1 instance(s) drifted (operation theirs)",
        f"  {members[0]} us-east-1: DRIFTED",
        "    TablePolicy (AWS::S3::BucketPolicy) DELETED",
        "dev: DRIFT: 3 drifted instance(s)",
    ]
    assert drift_to_json(reports)["drifted"] == 3
    assert admin.clock.sleeps == [3.75]  # backoff while theirs was RUNNING


@pytest.mark.parametrize("accounts", [1, 4, 32])
def test_calls_do_not_grow_with_the_accounts(admin: Admin, accounts: int) -> None:
    """One drifted instance among 1, 4 or 32 accounts: the same calls, all in the administration
    account (ListStackInstances pages aside, none here), and no AssumeRole (the fixture checks)."""
    name = admin.replica.name
    members = [f"{n:012d}" for n in range(200000000000, 200000000000 + accounts)]
    observe(admin.stub, name, [_row(a, "us-west-2", "NOT_CHECKED") for a in members])
    detection(admin.stub, name, "op-0")
    observe(
        admin.stub,
        name,
        [_row(a, "us-west-2", "IN_SYNC" if a != members[-1] else "DRIFTED") for a in members],
    )
    resources(
        admin.stub,
        name,
        "op-0",
        members[-1],
        "us-west-2",
        [deleted("FrontendBackupBucketPolicy", members[-1])],
    )

    [report] = admin.run([admin.replica])

    assert len(report.instances) == accounts and len(report.drifted) == 1
    assert admin.log.by_operation() == {
        "cloudformation.DescribeStackSet": 2,
        "cloudformation.DescribeStackSetOperation": 1,
        "cloudformation.DetectStackSetDrift": 1,
        "cloudformation.ListStackInstanceResourceDrifts": 1,
        "cloudformation.ListStackInstances": 2,
        "cloudformation.ListStackSetOperations": 3,
    }


# --------------------------------------------------------------------------- an instance not checked


@pytest.mark.parametrize(
    ("code", "status", "message", "says"),
    [
        (
            "AccessDenied",
            403,
            "not authorized to perform: cloudformation:ListStackInstanceResourceDrifts",
            "not checked: ListStackInstanceResourceDrifts refused (AccessDenied: not authorized to perform: "
            "cloudformation:ListStackInstanceResourceDrifts)",
        ),
        (
            "StackInstanceNotFoundException",
            404,
            "Stack instance not found",
            "not checked: ListStackInstanceResourceDrifts found nothing (StackInstanceNotFoundException: "
            "Stack instance not found)",
        ),
        (
            "OperationNotFoundException",
            404,
            "Operation op-0 not found",
            "not checked: ListStackInstanceResourceDrifts found nothing (OperationNotFoundException: "
            "Operation op-0 not found)",
        ),
    ],
)
def test_an_instance_whose_resources_cannot_be_read_is_not_checked_and_the_others_are_reported(
    admin: Admin, code: str, status: int, message: str, says: str
) -> None:
    name = admin.replica.name
    members = ("222222222222", "333333333333", "444444444444")
    observe(admin.stub, name, [_row(a, "us-west-2", "NOT_CHECKED") for a in members])
    detection(admin.stub, name, "op-0")
    observe(admin.stub, name, [_row(a, "us-west-2", "DRIFTED") for a in members])
    resources(
        admin.stub, name, "op-0", members[0], "us-west-2", [deleted("FrontendBackupBucketPolicy", members[0])]
    )
    admin.stub.add_client_error(
        "list_stack_instance_resource_drifts",
        service_error_code=code,
        service_message=message,
        http_status_code=status,
    )
    resources(
        admin.stub, name, "op-0", members[2], "us-west-2", [deleted("ImagesBackupBucketPolicy", members[2])]
    )

    [report] = admin.run([admin.replica])

    assert [(i.account, i.error) for i in report.instances] == [
        (members[0], ""),
        (members[1], says),
        (members[2], ""),
    ]
    assert [len(i.resources) for i in report.instances] == [1, 0, 1]
    assert not report.clean and [i.account for i in report.unchecked] == [members[1]]  # exit 1 stays
    lines = render_drift("dev", [report]).splitlines()
    assert f"    drifted resources {says}" in lines
    assert "    ImagesBackupBucketPolicy (AWS::S3::BucketPolicy) DELETED" in lines
    assert f"to check them: {RESOURCE_DRIFTS_HINT}" in lines
    assert lines[-1] == "dev: DRIFT: 3 drifted instance(s), 1 instance(s) whose drift could not be checked"
    assert "execution_role_name" not in "\n".join(lines)  # no member-account role is involved any more


def test_other_errors_stop_the_command(admin: Admin) -> None:
    name = admin.replica.name
    observe(admin.stub, name, [_row("222222222222", "us-west-2", "NOT_CHECKED")])
    detection(admin.stub, name, "op-0")
    observe(admin.stub, name, [_row("222222222222", "us-west-2", "DRIFTED")])
    admin.stub.add_client_error(
        "list_stack_instance_resource_drifts", "ValidationError", "1 validation error"
    )
    with pytest.raises(ClientError, match="ValidationError"):
        admin.run([admin.replica])


def test_an_instance_whose_detection_failed_is_not_read(admin: Admin) -> None:
    """Its detection failed in this operation: there are no results of it to read, whatever drift
    status an earlier detection left (DRIFTED here). It is reported with the failure, and counted
    once although it may also show an unknown drift status."""
    name = admin.replica.name
    ok, stale, unknown = "222222222222", "333333333333", "444444444444"
    observe(admin.stub, name, [_row(a, "us-west-2", "NOT_CHECKED") for a in (ok, stale, unknown)])
    reason = "Drift detection failed: the execution role could not be assumed"
    detection(
        admin.stub,
        name,
        "op-0",
        failed=[
            {"Account": ok, "Region": "us-west-2", "Status": "SUCCEEDED"},
            {"Account": stale, "Region": "us-west-2", "Status": "FAILED", "StatusReason": reason},
            {"Account": unknown, "Region": "us-west-2", "Status": "FAILED", "StatusReason": reason},
        ],
    )
    observe(
        admin.stub,
        name,
        [
            _row(ok, "us-west-2", "DRIFTED"),
            _row(stale, "us-west-2", "DRIFTED"),
            _row(unknown, "us-west-2", "UNKNOWN"),
        ],
    )
    resources(admin.stub, name, "op-0", ok, "us-west-2", [deleted("FrontendBackupBucketPolicy", ok)])

    [report] = admin.run([admin.replica])

    assert admin.log.count("ListStackInstanceResourceDrifts") == 1  # the one whose detection succeeded
    assert [len(i.resources) for i in report.instances] == [1, 0, 0]
    lines = render_drift("dev", [report]).splitlines()
    assert f"  {stale} us-west-2: drift detection FAILED: {reason}" in lines
    assert f"  {unknown} us-west-2: drift detection FAILED: {reason}" in lines
    assert lines[-1] == "dev: DRIFT: 2 drifted instance(s), 2 instance(s) whose drift could not be checked"


# --------------------------------------------------------------------------- the detection's preferences


@pytest.mark.parametrize("call_as", ["SELF", "DELEGATED_ADMIN"])
def test_detection_checks_every_account_at_once_whatever_the_rollout_preferences(call_as: CallAs) -> None:
    """The deployment's cautious rollout preferences (one account at a time, stop at the first
    failure: the bundled example's) are for changes; drift detection changes nothing."""
    desired = attrs.evolve(desired_stack_sets(load_config(), "prod")[0], call_as=call_as)
    assert desired.operation_preferences.max_concurrent_count == 1  # what deploy uses
    assert drift_detection_request(desired) == {
        "StackSetName": desired.name,
        "OperationPreferences": {
            "RegionConcurrencyType": "PARALLEL",
            "MaxConcurrentPercentage": 100,
            "FailureTolerancePercentage": 100,
            "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
        },
        "CallAs": call_as,
    }
