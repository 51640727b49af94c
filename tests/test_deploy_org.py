"""SERVICE_MANAGED stack sets: organizational-unit targets, AutoDeployment, CallAs, filters.

Request shapes with botocore's Stubber (validated against the service model), and an end to
end rollout to an OU against moto's server. moto deviations met here (the deployer is written
for AWS):

* ListStackInstances reports no OrganizationalUnitId: the e2e test adds it from moto's own
  Organizations data (a client hook), as AWS reports it, so OU targets match their instances.
* DescribeStackSet reports no AutoDeployment: the planner compares it only when reported.
* AccountFilterType and CallAs are ignored; SERVICE_MANAGED instance stacks are hidden from
  DescribeStacks, so their outputs read as "NOT FOUND" (the instances are still listed first).
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber

from appstorage.config import Config, bundled_example_path, load_config, parse_config
from stacksets.cli import main
from stacksets.execute import Executor, Runtime
from stacksets.local import local_session, seed
from stacksets.model import ObservedInstance, ObservedStackSet
from stacksets.observe import observe_stack_set
from stacksets.plan import plan_stack_set
from stacksets.session import CallLog, ClientFactory

OU = "ou-ab12-cd34ef56"
MEMBERS = ["444444444444", "555555555555"]
DEPLOY = ("deploy", "--yes", "--config")


def org_config(**deployment: Any) -> Config:
    data: dict[str, Any] = copy.deepcopy(yaml.safe_load(bundled_example_path().read_text()))
    data["environments"]["dev"]["deployment"] = {
        "permission_model": "SERVICE_MANAGED",
        "organizational_units": [OU],
        "call_as": "DELEGATED_ADMIN",
        "auto_deployment": {"enabled": True, "retain_stacks_on_account_removal": False},
        **deployment,
    }
    return parse_config(data, "org.yaml")


@pytest.fixture
def factory() -> ClientFactory:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return ClientFactory(session, max_attempts=1)


@pytest.fixture
def stub(factory: ClientFactory) -> Iterator[Stubber]:
    stubber = Stubber(factory.cloudformation("us-east-1"))
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def executor_for(factory: ClientFactory, config: Config) -> Executor:
    ids = iter(f"op-{n}" for n in range(100))
    runtime = Runtime(sleep=lambda s: None, clock=lambda: 0.0, new_id=lambda: next(ids))
    return Executor(factory, config, config.environment("dev"), runtime=runtime)


def test_create_sends_service_managed_auto_deployment_call_as_and_ou_targets(
    factory: ClientFactory, stub: Stubber
) -> None:
    config = org_config(accounts=MEMBERS[:1], account_filter_type="INTERSECTION")
    executor = executor_for(factory, config)
    replica = executor.desired[0]
    stub.add_response(
        "create_stack_set",
        {"StackSetId": "x"},
        {
            "StackSetName": replica.name,
            "Description": ANY,
            "TemplateBody": replica.template_body,
            "Parameters": ANY,
            "Capabilities": [],
            "Tags": ANY,
            "PermissionModel": "SERVICE_MANAGED",
            "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": False},
            "ManagedExecution": {"Active": True},
            "CallAs": "DELEGATED_ADMIN",
            "ClientRequestToken": "op-0",
        },  # no AdministrationRoleARN / ExecutionRoleName: service-linked roles
    )
    stub.add_response(
        "create_stack_instances",
        {"OperationId": "op-1"},
        {
            "StackSetName": replica.name,
            "DeploymentTargets": {
                "OrganizationalUnitIds": [OU],
                "Accounts": MEMBERS[:1],
                "AccountFilterType": "INTERSECTION",
            },
            "Regions": ["us-west-2"],
            "OperationPreferences": ANY,
            "CallAs": "DELEGATED_ADMIN",
            "OperationId": "op-1",
        },
    )
    stub.add_response(
        "describe_stack_set_operation",
        {"StackSetOperation": {"OperationId": "op-1", "Status": "SUCCEEDED"}},
        {"StackSetName": replica.name, "OperationId": "op-1", "CallAs": "DELEGATED_ADMIN"},
    )
    executor.execute_phase(plan_stack_set(replica, None))


def test_observe_passes_call_as_on_every_read(factory: ClientFactory, stub: Stubber) -> None:
    name = "tattoo-directory-dev-app-storage-replica"
    call = {"StackSetName": name, "CallAs": "DELEGATED_ADMIN"}
    stub.add_response(
        "describe_stack_set",
        {
            "StackSet": {
                "StackSetName": name,
                "Status": "ACTIVE",
                "TemplateBody": "{}",
                "PermissionModel": "SERVICE_MANAGED",
                "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": True},
            }
        },
        call,
    )
    stub.add_response(
        "list_stack_instances",
        {
            "Summaries": [
                {
                    "Account": MEMBERS[0],
                    "Region": "us-west-2",
                    "Status": "CURRENT",
                    "OrganizationalUnitId": OU,
                }
            ]
        },
        call,
    )
    stub.add_response(
        "describe_stack_instance",
        {"StackInstance": {"ParameterOverrides": [{"ParameterKey": "A", "ParameterValue": "b"}]}},
        {**call, "StackInstanceAccount": MEMBERS[0], "StackInstanceRegion": "us-west-2"},
    )
    stub.add_response("list_stack_set_operations", {"Summaries": []}, call)
    observed = observe_stack_set(
        factory.cloudformation("us-east-1"), name, "DELEGATED_ADMIN", with_overrides=True
    )
    assert observed is not None
    assert observed.auto_deployment == (True, True)
    assert observed.instances[0].organizational_unit == OU
    assert observed.instances[0].overrides == {"A": "b"}


def test_changed_auto_deployment_is_an_update_and_removed_ou_is_deleted_by_ou(
    factory: ClientFactory, stub: Stubber
) -> None:
    executor = executor_for(factory, org_config())
    replica = executor.desired[0]
    old_ou = "ou-ab12-00000000"
    observed = ObservedStackSet(
        name=replica.name,
        status="ACTIVE",
        template_body=replica.template_body,
        parameters=dict(replica.parameters),
        instances=(
            ObservedInstance(MEMBERS[0], "us-west-2", "CURRENT", organizational_unit=OU),
            ObservedInstance(MEMBERS[1], "us-west-2", "CURRENT", organizational_unit=old_ou),
        ),
        permission_model="SERVICE_MANAGED",
        auto_deployment=(True, True),
    )
    plan = plan_stack_set(replica, observed)
    assert plan.action == "update" and any("AutoDeployment" in s for s in plan.settings)
    update = {
        "StackSetName": replica.name,
        "Description": ANY,
        "TemplateBody": ANY,
        "Parameters": ANY,
        "Capabilities": [],
        "Tags": ANY,
        "PermissionModel": "SERVICE_MANAGED",
        "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": False},
        "ManagedExecution": {"Active": True},
        "CallAs": "DELEGATED_ADMIN",
        "OperationPreferences": ANY,
        "OperationId": "op-0",
    }
    stub.add_response("update_stack_set", {"OperationId": "op-0"}, update)
    stub.add_response(
        "describe_stack_set_operation",
        {"StackSetOperation": {"OperationId": "op-0", "Status": "SUCCEEDED"}},
        {"StackSetName": replica.name, "OperationId": "op-0", "CallAs": "DELEGATED_ADMIN"},
    )
    stub.add_response(
        "delete_stack_instances",
        {"OperationId": "op-1"},
        {
            "StackSetName": replica.name,
            "DeploymentTargets": {"OrganizationalUnitIds": [old_ou]},
            "Regions": ["us-west-2"],
            "OperationPreferences": ANY,
            "CallAs": "DELEGATED_ADMIN",
            "RetainStacks": True,
            "OperationId": "op-1",
        },
    )
    stub.add_response(
        "describe_stack_set_operation",
        {"StackSetOperation": {"OperationId": "op-1", "Status": "SUCCEEDED"}},
        {"StackSetName": replica.name, "OperationId": "op-1", "CallAs": "DELEGATED_ADMIN"},
    )
    executor.execute_phase(plan)


def test_union_filter_and_per_account_overrides_are_refused_before_any_call(tmp_path: Path) -> None:
    data: dict[str, Any] = copy.deepcopy(yaml.safe_load(bundled_example_path().read_text()))
    data["environments"]["dev"]["deployment"] = {
        "permission_model": "SERVICE_MANAGED",
        "organizational_units": [OU],
        "accounts": MEMBERS,
        "account_filter_type": "UNION",
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    log, err = CallLog(), io.StringIO()
    code = main(
        ["deploy", "--config", str(path), "--env", "dev", "--yes", "--endpoint-url", "http://127.0.0.1:9"],
        session=local_session(),
        hooks=(log.attach,),
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 2 and log.by_operation() == {}
    assert "deployment.account_filter_type: UNION is not supported by CreateStackInstances" in err.getvalue()


def add_ou_ids(endpoint: str) -> Any:
    """moto deviation: ListStackInstances omits OrganizationalUnitId. AWS reports it; this hook
    fills it in from moto's Organizations (each account's parent)."""
    org = ClientFactory(local_session(), endpoint_url=endpoint).client("organizations", "us-east-1")

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        for summary in parsed.get("Summaries", []):
            parent = org.list_parents(ChildId=summary["Account"])["Parents"][0]["Id"]
            summary.setdefault("OrganizationalUnitId", parent)

    def attach(client: Any) -> None:
        client.meta.events.register("after-call.cloudformation.ListStackInstances", handler)

    return attach


def test_ou_rollout_end_to_end_then_no_changes(moto_endpoint: str, tmp_path: Path) -> None:
    factory = ClientFactory(local_session(), endpoint_url=moto_endpoint)
    org = factory.client("organizations", "us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    members = []
    for n in range(2):
        account = org.create_account(Email=f"m{n}@example.com", AccountName=f"m{n}")["CreateAccountStatus"][
            "AccountId"
        ]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
        members.append(account)
    data: dict[str, Any] = copy.deepcopy(yaml.safe_load(bundled_example_path().read_text()))
    # What other modules provide (KMS keys, SSM parameters, log buckets) in the member accounts.
    data["environments"]["dev"]["deployment"] = {"accounts": members}
    seeding = parse_config(data, "seed.yaml")
    seed(factory, seeding, [seeding.environment("dev")])
    data["environments"]["dev"]["deployment"] = {
        "permission_model": "SERVICE_MANAGED",
        "organizational_units": [ou],
        "auto_deployment": {"enabled": True, "retain_stacks_on_account_removal": True},
    }
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_config(path).environment("dev").deployment.permission_model == "SERVICE_MANAGED"

    outputs = str(tmp_path / "o.json")

    def deploy(log: CallLog) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            [*DEPLOY, str(path), "--env", "dev", "--endpoint-url", moto_endpoint, "--outputs-file", outputs],
            session=local_session(),
            hooks=(log.attach, add_ou_ids(moto_endpoint)),
            stdout=out,
            stderr=err,
        )
        return code, out.getvalue(), err.getvalue()

    log = CallLog()
    code, _out, err = deploy(log)
    assert code == 0, err
    assert log.count("CreateStackInstances") == 2  # one per phase for the whole OU
    cfn = factory.cloudformation("us-east-1")
    for name, region in (
        ("tattoo-directory-dev-app-storage-replica", "us-west-2"),
        ("tattoo-directory-dev-app-storage-primary", "us-east-1"),
    ):
        summaries = cfn.list_stack_instances(StackSetName=name)["Summaries"]
        assert sorted(s["Account"] for s in summaries) == sorted(members)
        assert {s["Region"] for s in summaries} == {region}
    # Outputs: the OU's instances are listed first, then read per account.
    data_out = json.loads((tmp_path / "o.json").read_text())
    for stack_set in data_out["stack_sets"]:
        assert sorted(i["account"] for i in stack_set["instances"]) == sorted(members)

    log.reset()
    code, out, err = deploy(log)
    assert code == 0, err
    assert log.mutating() == {} and "dev: no changes" in out
