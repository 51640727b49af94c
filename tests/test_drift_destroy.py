"""``drift`` and ``destroy``.

moto deviations (checked in moto 5.2's cloudformation backend; the deployer is written for AWS):

* moto implements no drift detection at all (no DetectStackSetDrift, no
  DescribeStackResourceDrifts): drift is tested with botocore's Stubber (request shapes
  validated against the service model) and, through the CLI, against moto with the drift
  calls' responses injected (tests/faults.py).
* moto ignores ``RetainStacks`` on DeleteStackInstances and always deletes the instance stacks
  (AWS deletes them only with RetainStacks false, which is what destroy sends); stack deletion
  does honour ``DeletionPolicy: Retain``, so the table and buckets survive as on AWS.
* moto ignores the OperationId sent with DeleteStackInstances and returns its own.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from appstorage.config import Config, load_config
from appstorage.naming import Purpose, bucket_name_for_region
from stacksets.desired import desired_stack_sets
from stacksets.drift import StackSetDrift, detect_drift, instance_drift, render_drift
from stacksets.local import local_session
from stacksets.model import ObservedInstance
from stacksets.session import ClientFactory
from stacksets.stacks import InstanceStacks
from stacksets.toolkit import environment_tools
from tests.faults import FakeClock, Faults, Rule, members, run_cli
from tests.helpers import ACCOUNTS, offline_factory

ROLE = "AWSCloudFormationStackSetExecutionRole"
PREFS = {
    "RegionConcurrencyType": "SEQUENTIAL",
    "ConcurrencyMode": "STRICT_FAILURE_TOLERANCE",
    "FailureToleranceCount": 0,
    "MaxConcurrentCount": 1,
}
DEV_ACCOUNT = "111111111111"  # the bundled example's dev account
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

# --------------------------------------------------------------------------- drift, Stubber


@pytest.fixture
def config() -> Config:
    return load_config()


@pytest.fixture
def stubs() -> Iterator[tuple[ClientFactory, Stubber, Stubber]]:
    factory = offline_factory(caller_account=DEV_ACCOUNT)  # the target account is the caller's: no AssumeRole
    admin = Stubber(factory.cloudformation("us-east-1"))
    west = Stubber(factory.cloudformation("us-west-2"))
    with admin, west:
        yield factory, admin, west
    admin.assert_no_pending_responses()
    west.assert_no_pending_responses()


def _observe(
    stub: Stubber, name: str, region: str, drift: str, ops: list[dict[str, Any]] | None = None
) -> None:
    stub.add_response(
        "describe_stack_set",
        {"StackSet": {"StackSetName": name, "Status": "ACTIVE", "TemplateBody": "{}"}},
        {"StackSetName": name, "CallAs": "SELF"},
    )
    stub.add_response(
        "list_stack_instances",
        {
            "Summaries": [
                {
                    "StackSetId": name,
                    "Account": DEV_ACCOUNT,
                    "Region": region,
                    "Status": "CURRENT",
                    "StackId": f"arn:aws:cloudformation:{region}:{DEV_ACCOUNT}:stack/StackSet-{name}-x/1",
                    "DriftStatus": drift,
                }
            ]
        },
        {"StackSetName": name, "CallAs": "SELF"},
    )
    stub.add_response(
        "list_stack_set_operations", {"Summaries": ops or []}, {"StackSetName": name, "CallAs": "SELF"}
    )


def test_drift_detects_waits_and_reports_properties(
    stubs: tuple[ClientFactory, Stubber, Stubber], config: Config
) -> None:
    factory, admin, west = stubs
    clock = FakeClock()
    tools = environment_tools(factory, config, config.environment("dev"), runtime=clock.runtime())
    replica, primary = (d.name for d in tools.desired)

    # replica: a new detection, RUNNING then SUCCEEDED, one instance DRIFTED
    _observe(admin, replica, "us-west-2", "NOT_CHECKED")
    admin.add_response(
        "list_stack_set_operations", {"Summaries": []}, {"StackSetName": replica, "CallAs": "SELF"}
    )
    admin.add_response(
        "detect_stack_set_drift",
        {"OperationId": "op-0"},
        {"StackSetName": replica, "OperationPreferences": PREFS, "OperationId": "op-0", "CallAs": "SELF"},
    )
    for status in ("RUNNING", "SUCCEEDED"):
        admin.add_response(
            "describe_stack_set_operation",
            {"StackSetOperation": {"OperationId": "op-0", "Status": status, "Action": "DETECT_DRIFT"}},
            {"StackSetName": replica, "OperationId": "op-0", "CallAs": "SELF"},
        )
    _observe(admin, replica, "us-west-2", "DRIFTED")
    stack_id = f"arn:aws:cloudformation:us-west-2:{DEV_ACCOUNT}:stack/StackSet-{replica}-x/1"
    bucket = bucket_name_for_region(
        "tattoo-directory", "dev", Purpose.IMAGES_BACKUP, DEV_ACCOUNT, "us-west-2"
    )
    # DescribeStackResourceDrifts runs in the instance's own account and region (us-west-2), paged.
    west.add_response(
        "describe_stack_resource_drifts",
        {
            "StackResourceDrifts": [
                {
                    "StackId": stack_id,
                    "LogicalResourceId": "ImagesBackupBucket",
                    "PhysicalResourceId": bucket,
                    "ResourceType": "AWS::S3::Bucket",
                    "StackResourceDriftStatus": "MODIFIED",
                    "Timestamp": NOW,
                    "PropertyDifferences": [
                        {
                            "PropertyPath": "/VersioningConfiguration/Status",
                            "ExpectedValue": "Enabled",
                            "ActualValue": "Suspended",
                            "DifferenceType": "NOT_EQUAL",
                        }
                    ],
                }
            ],
            "NextToken": "page-2",
        },
        {"StackName": stack_id, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]},
    )
    west.add_response(
        "describe_stack_resource_drifts",
        {
            "StackResourceDrifts": [
                {
                    "StackId": stack_id,
                    "LogicalResourceId": "FrontendBackupBucketPolicy",
                    "ResourceType": "AWS::S3::BucketPolicy",
                    "StackResourceDriftStatus": "DELETED",
                    "Timestamp": NOW,
                }
            ]
        },
        {
            "StackName": stack_id,
            "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"],
            "NextToken": "page-2",
        },
    )
    # primary: a detection already running (an interrupted drift run) is resumed, not restarted
    _observe(admin, primary, "us-east-1", "NOT_CHECKED", [{"OperationId": "theirs", "Status": "RUNNING"}])
    admin.add_response(
        "list_stack_set_operations",
        {"Summaries": [{"OperationId": "theirs", "Action": "DETECT_DRIFT", "Status": "RUNNING"}]},
        {"StackSetName": primary, "CallAs": "SELF"},
    )
    admin.add_response(
        "describe_stack_set_operation",
        {"StackSetOperation": {"OperationId": "theirs", "Status": "SUCCEEDED"}},
        {"StackSetName": primary, "OperationId": "theirs", "CallAs": "SELF"},
    )
    _observe(admin, primary, "us-east-1", "IN_SYNC")

    reports = detect_drift(tools.desired, cfn=tools.cfn, runner=tools.runner, stacks=tools.stacks)

    assert [r.operation_id for r in reports] == ["op-0", "theirs"]
    assert [len(r.drifted) for r in reports] == [1, 0]
    resources = reports[0].drifted[0].resources
    assert [(r.logical_id, r.status) for r in resources] == [
        ("FrontendBackupBucketPolicy", "DELETED"),
        ("ImagesBackupBucket", "MODIFIED"),
    ]
    text = render_drift("dev", reports)
    assert "1 of 1 instance(s) drifted (operation op-0)" in text
    assert "/VersioningConfiguration/Status: expected Enabled, actual Suspended [NOT_EQUAL]" in text
    assert f"ImagesBackupBucket (AWS::S3::Bucket) MODIFIED {bucket}" in text
    assert "dev: DRIFT: 1 drifted instance(s)" in text
    assert clock.sleeps == [3.75]  # backoff while RUNNING


# --------------------------------------------------------------------------- drift, CLI on moto


def _drift_faults(drift: dict[str, str], resource_drifts: str = "") -> Faults:
    """moto has no drift detection: answer its calls, and report ``drift`` (kind -> status) in
    the ListStackInstances made after the detection (the one before it goes to moto)."""
    faults = Faults()
    for kind, status in drift.items():
        detect = faults.respond(
            "DetectStackSetDrift", f"<OperationId>drift-{kind}</OperationId>", match={"StackSetName": kind}
        )
        faults.respond(
            "DescribeStackSetOperation",
            "<StackSetOperation><OperationId>x</OperationId><Status>SUCCEEDED</Status></StackSetOperation>",
            match={"OperationId": f"drift-{kind}"},
        )
        region = "us-west-2" if kind == "replica" else "us-east-1"
        rows = [
            {
                "Account": a,
                "Region": region,
                "Status": "CURRENT",
                "StackId": f"stack-{kind}-{a}",
                "DriftStatus": status,
            }
            for a in ACCOUNTS
        ]
        listing = faults.respond(
            "ListStackInstances", f"<Summaries>{members(rows)}</Summaries>", match={"StackSetName": kind}
        )
        listing.when = _after(detect, kind)
    faults.respond("DescribeStackResourceDrifts", resource_drifts, times=None)
    return faults


def _after(detect: Rule, kind: str) -> Callable[[dict[str, str]], bool]:
    return lambda params: detect.hits > 0 and kind in params.get("StackSetName", "")


def test_drift_cli_in_sync_exits_0(moto_endpoint: str, deployed: Path) -> None:
    faults = _drift_faults({"replica": "IN_SYNC", "primary": "IN_SYNC"})
    code, out, err = run_cli(moto_endpoint, "drift", "--config", str(deployed), "--env", "dev", faults=faults)
    assert code == 0, err
    assert "dev: in sync (0 drifted instances)" in out
    assert len(faults.calls("DetectStackSetDrift")) == 2
    assert faults.calls("DescribeStackResourceDrifts") == []  # nothing drifted: no per-stack reads
    assert faults.deletes() == []


def test_drift_cli_drifted_exits_1_with_json(moto_endpoint: str, deployed: Path) -> None:
    drifts = members(
        [
            {
                "StackId": "s",
                "LogicalResourceId": "Table",
                "PhysicalResourceId": "tattoo-directory-dev",
                "ResourceType": "AWS::DynamoDB::Table",
                "StackResourceDriftStatus": "MODIFIED",
                "Timestamp": "2026-01-01T00:00:00Z",
                "PropertyDifferences": members(
                    [
                        {
                            "PropertyPath": "/BillingMode",
                            "ExpectedValue": "PAY_PER_REQUEST",
                            "ActualValue": "PROVISIONED",
                            "DifferenceType": "NOT_EQUAL",
                        }
                    ]
                ),
            }
        ]
    )
    faults = _drift_faults(
        {"replica": "IN_SYNC", "primary": "DRIFTED"}, f"<StackResourceDrifts>{drifts}</StackResourceDrifts>"
    )
    code, out, err = run_cli(
        moto_endpoint, "drift", "--config", str(deployed), "--env", "dev", "--json", faults=faults
    )
    assert code == 1, err
    data = json.loads(out)["dev"]
    assert data["drifted"] == 3 and data["in_sync"] is False
    primary = next(s for s in data["stack_sets"] if s["kind"] == "primary")
    instance = primary["instances"][0]
    assert instance["resources"][0]["properties"][0] == {
        "path": "/BillingMode",
        "expected": "PAY_PER_REQUEST",
        "actual": "PROVISIONED",
        "difference": "NOT_EQUAL",
    }
    # DescribeStackResourceDrifts per drifted instance, with the MODIFIED/DELETED filter
    calls = faults.calls("DescribeStackResourceDrifts")
    assert sorted(c["StackName"] for c in calls) == [f"stack-primary-{a}" for a in ACCOUNTS]
    assert {
        (c["StackResourceDriftStatusFilters.member.1"], c["StackResourceDriftStatusFilters.member.2"])
        for c in calls
    } == {("MODIFIED", "DELETED")}


# --------------------------------------------------------------------------- destroy, moto e2e


def _factory(endpoint: str) -> ClientFactory:
    return ClientFactory(local_session(), endpoint_url=endpoint)


def test_destroy_deletes_instances_then_stack_sets_and_keeps_retained_data(
    moto_endpoint: str, deployed: Path
) -> None:
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint, "destroy", "--config", str(deployed), "--env", "dev", "--yes", faults=faults
    )
    assert code == 0, err
    deletes = [(op, p.get("StackSetName", "")) for op, p in faults.requests if op.startswith("Delete")]
    primary, replica = "tattoo-directory-dev-app-storage-primary", "tattoo-directory-dev-app-storage-replica"
    assert deletes == [
        ("DeleteStackInstances", primary),
        ("DeleteStackSet", primary),
        ("DeleteStackInstances", replica),
        ("DeleteStackSet", replica),
    ]
    for call in faults.calls("DeleteStackInstances"):
        assert call["RetainStacks"] == "false"
        assert call["CallAs"] == "SELF"
        assert [call[f"Accounts.member.{n}"] for n in (1, 2, 3)] == ACCOUNTS
    # the stack sets are gone
    code, status, err = run_cli(moto_endpoint, "status", "--config", str(deployed), "--env", "dev", "--json")
    assert code == 0, err
    assert [s["status"] for s in json.loads(status)["dev"]] == ["NOT DEPLOYED", "NOT DEPLOYED"]
    # ... and the retained table and buckets exist, named in the output
    factory = _factory(moto_endpoint)
    for account in ACCOUNTS:
        ddb = factory.client("dynamodb", "us-east-1", account, ROLE)
        assert ddb.describe_table(TableName="tattoo-directory-dev")["Table"]["TableStatus"]
        assert f"{account} us-east-1 AWS::DynamoDB::GlobalTable tattoo-directory-dev" in out
        assert f"{account} us-west-2 AWS::DynamoDB::GlobalTable" not in out  # dev: no replica Region
        for purpose, region in (
            (Purpose.FRONTEND, "us-east-1"),
            (Purpose.IMAGES, "us-east-1"),
            (Purpose.FRONTEND_BACKUP, "us-west-2"),
            (Purpose.IMAGES_BACKUP, "us-west-2"),
        ):
            name = bucket_name_for_region("tattoo-directory", "dev", purpose, account, region)
            factory.s3(region, account, ROLE).head_bucket(Bucket=name)
            assert f"{account} {region} AWS::S3::Bucket {name}" in out
        # the instance stacks were deleted (RetainStacks false)
        for region in ("us-east-1", "us-west-2"):
            stacks = factory.cloudformation(region, account, ROLE).list_stacks()["StackSummaries"]
            assert all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks if "StackSet" in s["StackName"])
    assert "still hold data and cost money" in out

    # again: nothing left, said so, nothing deleted
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint, "destroy", "--config", str(deployed), "--env", "dev", "--yes", faults=faults
    )
    assert code == 0, err
    assert out.count("does not exist, nothing to delete") == 2
    assert faults.deletes() == []


def test_destroy_never_deletes_what_the_config_does_not_name(
    moto_endpoint: str, deployed: Path, tmp_path: Path
) -> None:
    import yaml

    data = yaml.safe_load(deployed.read_text())
    data["environments"]["dev"]["deployment"]["accounts"] = ACCOUNTS[:2]
    fewer = tmp_path / "fewer.yaml"
    fewer.write_text(yaml.safe_dump(data))
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint, "destroy", "--config", str(fewer), "--env", "dev", "--yes", faults=faults
    )
    assert code == 1, err
    deleted = faults.calls("DeleteStackInstances")
    assert len(deleted) == 2
    assert all("333333333333" not in json.dumps(c) for c in deleted)
    assert faults.calls("DeleteStackSet") == []
    assert (
        out.count("stack set KEPT: it still has instances the configuration does not name: 333333333333") == 2
    )


def test_destroy_without_yes_and_without_a_tty_is_refused(moto_endpoint: str, deployed: Path) -> None:
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint, "destroy", "--config", str(deployed), "--env", "dev", faults=faults
    )
    assert code == 2
    assert "pass --yes" in err and "Traceback" not in err + out
    assert faults.requests == []  # no API call at all


def test_destroy_prompt_needs_the_environment_name(
    moto_endpoint: str, deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    prompts: list[str] = []

    def answer(text: str) -> str:
        prompts.append(text)
        return "y"  # not the environment name

    faults = Faults()
    code, _, err = run_cli(
        moto_endpoint,
        "destroy",
        "--config",
        str(deployed),
        "--env",
        "dev",
        faults=faults,
        confirm_input=answer,
    )
    assert code == 1
    assert "cancelled: nothing was deleted" in err and "(dev)" in prompts[0]
    assert "delete stack set and instance(s) 111111111111 us-east-1" in err
    assert faults.deletes() == []
    code, out, err = run_cli(
        moto_endpoint,
        "destroy",
        "--config",
        str(deployed),
        "--env",
        "dev",
        faults=faults,
        confirm_input=lambda _: "dev",
    )
    assert code == 0, err
    assert out.count("stack set deleted") == 2


def test_destroy_needs_an_environment(moto_endpoint: str) -> None:
    faults = Faults()
    code, _, err = run_cli(moto_endpoint, "destroy", "--yes", faults=faults)
    assert code == 2 and "destroy needs --env" in err and faults.requests == []


# --------------------------------------------------------------------------- drift, unreadable member accounts


def test_drift_of_an_instance_whose_role_cannot_be_assumed_is_not_checked() -> None:
    """The member account's role cannot be assumed: that instance is "not checked" (exit 1 stays),
    the others are still reported; other errors stop the command."""
    factory = offline_factory(caller_account=ACCOUNTS[0])
    desired = desired_stack_sets(load_config(), "dev")[0]
    stacks = InstanceStacks(factory, "AWSCloudFormationStackSetExecutionRole")
    instance = ObservedInstance(
        ACCOUNTS[1], "us-west-2", "CURRENT", drift_status="DRIFTED", stack_id="arn:aws:cloudformation:x"
    )
    with Stubber(factory.client("sts", "us-west-2")) as sts:
        sts.add_client_error(
            "assume_role", "AccessDenied", "not authorized to perform: sts:AssumeRole", http_status_code=403
        )
        drift = instance_drift(stacks, desired, instance)
        sts.assert_no_pending_responses()
    assert drift.drift_status == "DRIFTED" and drift.resources == ()
    assert (
        drift.error
        == "not checked: AssumeRole refused (AccessDenied: not authorized to perform: sts:AssumeRole)"
    )
    report = StackSetDrift(desired.name, desired.kind, deployed=True, operation_id="op", instances=(drift,))
    assert not report.clean and report.unchecked == (drift,)  # drift keeps exit 1
    text = render_drift("dev", [report])
    assert "drifted resources not checked: AssumeRole refused" in text
    assert "set deployment.execution_role_name" in text

    # Other errors still stop the command (the instance in the caller's own account: no role).
    mine = attrs.evolve(instance, account=ACCOUNTS[0])
    with Stubber(factory.cloudformation("us-west-2")) as cfn:
        cfn.add_client_error("describe_stack_resource_drifts", "ValidationError", "x")
        with pytest.raises(ClientError, match="ValidationError"):
            instance_drift(stacks, desired, mine)
