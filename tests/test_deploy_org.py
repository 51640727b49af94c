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

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from appstorage.config import Config, load_config
from stacksets.local import local_session, seed
from stacksets.model import ObservedInstance, ObservedStackSet
from stacksets.observe import observe_stack_set
from stacksets.plan import plan_stack_set
from stacksets.requests import stack_set_request
from stacksets.rollout import apply_phase
from stacksets.session import CallLog, ClientFactory
from stacksets.toolkit import Tools, environment_tools
from tests.faults import FakeClock, run_cli
from tests.helpers import config_from, offline_factory, with_dev_deployment, write_dev_config

OU = "ou-ab12-cd34ef56"
MEMBERS = ["444444444444", "555555555555"]
DEPLOY = ("deploy", "--yes", "--config")


def org_config(**deployment: Any) -> Config:
    """dev as SERVICE_MANAGED, targeting :data:`OU` as a delegated administrator."""
    return config_from(
        with_dev_deployment(
            {
                "permission_model": "SERVICE_MANAGED",
                "organizational_units": [OU],
                "call_as": "DELEGATED_ADMIN",
                "auto_deployment": {"enabled": True, "retain_stacks_on_account_removal": False},
                **deployment,
            }
        )
    )


@pytest.fixture
def factory() -> ClientFactory:
    return offline_factory()


@pytest.fixture
def stub(factory: ClientFactory) -> Iterator[Stubber]:
    stubber = Stubber(factory.cloudformation("us-east-1"))
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def tools_for(factory: ClientFactory, config: Config) -> Tools:
    return environment_tools(factory, config, config.environment("dev"), runtime=FakeClock().runtime())


def test_create_sends_service_managed_auto_deployment_call_as_and_ou_targets(
    factory: ClientFactory, stub: Stubber
) -> None:
    config = org_config(accounts=MEMBERS[:1], account_filter_type="INTERSECTION")
    tools = tools_for(factory, config)
    replica = tools.desired[0]
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
    apply_phase(plan_stack_set(replica, None), tools.runner, tools.stager)


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
    tools = tools_for(factory, org_config())
    replica = tools.desired[0]
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
    assert plan.action == "update" and [s.key for s in plan.settings] == ["AutoDeployment"]
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
    apply_phase(plan, tools.runner, tools.stager)


def test_union_filter_and_per_account_overrides_are_refused_before_any_call(tmp_path: Path) -> None:
    path = write_dev_config(
        tmp_path,
        {
            "permission_model": "SERVICE_MANAGED",
            "organizational_units": [OU],
            "accounts": MEMBERS,
            "account_filter_type": "UNION",
        },
    )
    log = CallLog()
    code, _, err = run_cli("http://127.0.0.1:9", *DEPLOY, str(path), "--env", "dev", log=log)
    assert code == 2 and log.by_operation() == {}
    assert "deployment.account_filter_type: UNION is not supported by CreateStackInstances" in err


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
    # What other modules provide (KMS keys, SSM parameters, log buckets) in the member accounts.
    seeding = config_from(with_dev_deployment({"accounts": members}))
    seed(factory, seeding, [seeding.environment("dev")])
    path = write_dev_config(
        tmp_path,
        {
            "permission_model": "SERVICE_MANAGED",
            "organizational_units": [ou],
            "auto_deployment": {"enabled": True, "retain_stacks_on_account_removal": True},
        },
        name="org.yaml",
    )
    assert load_config(path).environment("dev").deployment.permission_model == "SERVICE_MANAGED"

    outputs = tmp_path / "o.json"

    def deploy(log: CallLog) -> tuple[int, str, str]:
        return run_cli(
            moto_endpoint,
            *DEPLOY,
            str(path),
            "--env",
            "dev",
            outputs=outputs,
            log=log,
            hooks=(add_ou_ids(moto_endpoint),),
        )

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


# --------------------------------------------------------------------------- AutoDeployment as sent and as reported


def test_disabled_auto_deployment_sends_only_enabled_false(factory: ClientFactory) -> None:
    # retain_stacks_on_account_removal keeps its default (true), which must not be sent:
    # "Specify only if Enabled is set to True" (AutoDeployment, API reference).
    tools = tools_for(factory, org_config(auto_deployment={"enabled": False}))
    replica = tools.desired[0]
    assert replica.auto_deployment == (False, True)
    with Stubber(factory.cloudformation("us-east-1")) as stub:
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


def test_disabled_auto_deployment_as_reported_plans_no_change(factory: ClientFactory) -> None:
    replica = tools_for(factory, org_config(auto_deployment={"enabled": False})).desired[0]
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
    enabled = tools_for(factory, org_config()).desired[0]  # enabled, retain false
    plan = plan_stack_set(enabled, observed)
    assert tuple(s.text for s in plan.settings) == (
        "AutoDeployment: Enabled=false -> Enabled=true, RetainStacksOnAccountRemoval=false",
    )
