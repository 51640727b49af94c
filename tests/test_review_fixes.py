"""Regression tests for the reviewed deployer defects: AutoDeployment shape, unreadable outputs and
drift in member accounts, OUTDATED instances running an older template (data loss), refreshable
assumed-role credentials, the OperationInProgressException retry loop, and which phases an error
left applied.

moto deviations used here: UpdateStackSet updates no instance stack (which is exactly the state a
failed UpdateStackSet leaves on AWS: the stack set holds the new template, the stacks the old
one), and ListStackInstances never reports OUTDATED (a client hook reports it, as AWS does).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from appstorage.config import load_config
from stacksets.desired import desired_stack_sets
from stacksets.drift import StackSetDrift, instance_drift, render_drift
from stacksets.errors import StillInProgress
from stacksets.local import local_session
from stacksets.model import ObservedInstance, ObservedStackSet
from stacksets.operations import OperationRunner
from stacksets.plan import plan_stack_set
from stacksets.requests import stack_set_request
from stacksets.session import ClientFactory
from stacksets.stacks import InstanceStacks
from tests.faults import FakeClock, Faults, deploy, run_cli
from tests.helpers import ACCOUNTS, offline_factory, seeded, write_config
from tests.test_deploy_org import MEMBERS, OU, org_config, tools_for

REPLICA = "tattoo-directory-dev-app-storage-replica"
PRIMARY = "tattoo-directory-dev-app-storage-primary"


@pytest.fixture
def config(moto_endpoint: str, tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    seeded(moto_endpoint, path)
    return path


# --------------------------------------------------------------------------- 1. AutoDeployment


@pytest.fixture
def org_factory() -> ClientFactory:
    return offline_factory()


def test_disabled_auto_deployment_sends_only_enabled_false(org_factory: ClientFactory) -> None:
    # retain_stacks_on_account_removal keeps its default (true), which must not be sent:
    # "Specify only if Enabled is set to True" (AutoDeployment, API reference).
    tools = tools_for(org_factory, org_config(auto_deployment={"enabled": False}))
    replica = tools.desired[0]
    assert replica.auto_deployment == (False, True)
    with Stubber(org_factory.cloudformation("us-east-1")) as stub:
        stub.add_response(
            "create_stack_set",
            {"StackSetId": "x"},
            {
                "StackSetName": replica.name,
                "Description": ANY,
                "TemplateBody": ANY,
                "Parameters": ANY,
                "Capabilities": [],
                "Tags": ANY,
                "PermissionModel": "SERVICE_MANAGED",
                "AutoDeployment": {"Enabled": False},
                "ManagedExecution": {"Active": True},
                "CallAs": "DELEGATED_ADMIN",
                "ClientRequestToken": "op-0",
            },
        )
        tools.runner.create_stack_set(replica.name, stack_set_request(replica, tools.stager.source(replica)))
        stub.assert_no_pending_responses()


def test_disabled_auto_deployment_as_reported_plans_no_change(org_factory: ClientFactory) -> None:
    replica = tools_for(org_factory, org_config(auto_deployment={"enabled": False})).desired[0]
    observed = ObservedStackSet(
        name=replica.name,
        status="ACTIVE",
        template_body=replica.template_body,
        parameters=dict(replica.parameters),
        instances=(ObservedInstance(MEMBERS[0], "us-west-2", "CURRENT", organizational_unit=OU),),
        permission_model="SERVICE_MANAGED",
        auto_deployment=(False, False),  # AWS reports no retain flag for a disabled setting
    )
    assert plan_stack_set(replica, observed).action == "no change"
    enabled = tools_for(org_factory, org_config()).desired[0]  # enabled, retain false
    plan = plan_stack_set(enabled, observed)
    assert tuple(s.text for s in plan.settings) == (
        "AutoDeployment: Enabled=false -> Enabled=true, RetainStacksOnAccountRemoval=false",
    )


# --------------------------------------------------------------------------- 2. unreadable outputs / drift


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
    code, out, err = deploy(moto_endpoint, config, faults=faults)
    assert code == 0, err  # the rollout (no changes) succeeded: unreadable outputs are a warning
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


# --------------------------------------------------------------------------- 3. OUTDATED instances


def _report_outdated(client: Any) -> None:
    """ListStackInstances reports every instance OUTDATED (moto never does)."""

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        for summary in parsed.get("Summaries", []):
            summary["Status"] = "OUTDATED"

    client.meta.events.register("after-call.cloudformation.ListStackInstances", handler)


def _failed_half_way(endpoint: str, renamed: Path) -> None:
    """What a failed ``--allow-replacement`` UpdateStackSet leaves: the stack sets hold the new
    template, the instance stacks still the old one (moto updates no stack: exactly that)."""
    config = load_config(renamed)
    cfn = ClientFactory(local_session(), endpoint_url=endpoint).cloudformation("us-east-1")
    for desired in desired_stack_sets(config, "dev"):
        request = stack_set_request(desired, {"TemplateBody": desired.template_body}, update=True)
        cfn.update_stack_set(**request, OperationId=f"x-{desired.kind}")


def test_retry_after_failed_replacing_update_is_still_refused_as_data_loss(
    moto_endpoint: str, config: Path
) -> None:
    assert deploy(moto_endpoint, config)[0] == 0
    renamed = write_config(config.parent, name_prefix="tattoo")
    _failed_half_way(moto_endpoint, renamed)
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint,
        "deploy",
        "--config",
        str(renamed),
        "--env",
        "dev",
        "--yes",
        faults=faults,
        hooks=(_report_outdated,),
        outputs=config.parent / "outputs.json",
    )
    assert code == 1, out + err
    assert "refusing to deploy" in err and "--allow-replacement" in err
    assert "DATA LOSS: ImagesBucket" in out and "OUTDATED instance(s)" in out
    assert "DATA LOSS: ImagesBackupBucket" in out
    assert [op for op, _ in faults.requests if op.startswith(("Update", "Create", "Delete"))] == []
    assert faults.calls("GetTemplate")  # read in the instances' accounts

    # A template that cannot be read is treated as possible data loss, with the reason.
    faults = Faults()
    faults.error("GetTemplate", "AccessDenied", "no cloudformation:GetTemplate", times=None, status=403)
    code, out, err = run_cli(
        moto_endpoint,
        "plan",
        "--config",
        str(renamed),
        "--env",
        "dev",
        faults=faults,
        hooks=(_report_outdated,),
    )
    assert code == 0, err
    assert f"DATA LOSS: (stack of {ACCOUNTS[0]} us-west-2)" in out
    assert "deployed template could not be read (GetTemplate refused (AccessDenied" in out


# --------------------------------------------------------------------------- 4. credentials refresh


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


# --------------------------------------------------------------------------- 5. in-progress loop


def test_in_progress_with_finished_listed_operation_backs_off_until_the_deadline(
    org_factory: ClientFactory,
) -> None:
    """ListStackSetOperations lists an operation as RUNNING that DescribeStackSetOperation reports
    SUCCEEDED, and the call keeps being refused: back off every time, stop at the deadline."""
    clock = FakeClock()
    runner = OperationRunner(org_factory.cloudformation("us-east-1"), runtime=clock.runtime(timeout=30))
    replica = desired_stack_sets(load_config(), "dev")[0].name
    with Stubber(org_factory.cloudformation("us-east-1")) as stub:
        for _ in range(5):
            stub.add_client_error("create_stack_instances", "OperationInProgressException", "in progress")
            stub.add_response(
                "list_stack_set_operations",
                {"Summaries": [{"OperationId": "theirs", "Status": "RUNNING"}]},
                {"StackSetName": replica, "CallAs": "SELF"},
            )
            stub.add_response(
                "describe_stack_set_operation",
                {"StackSetOperation": {"OperationId": "theirs", "Status": "SUCCEEDED"}},
                {"StackSetName": replica, "OperationId": "theirs", "CallAs": "SELF"},
            )
        request = {"StackSetName": replica, "Accounts": ["111111111111"], "Regions": ["us-west-2"]}
        with pytest.raises(StillInProgress) as raised:
            runner.run(replica, "CreateStackInstances", request)
        stub.assert_no_pending_responses()  # five attempts, none accepted
    assert clock.sleeps == [3.75, 7.5, 15.0, 30.0]
    message = str(raised.value)
    assert "gave up after 30s" in message and "OperationInProgressException" in message
    assert "still lists theirs as running" in message and "was never started" in message


# --------------------------------------------------------------------------- 6. phases in errors


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
