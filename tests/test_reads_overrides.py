"""Each instance's overrides without a DescribeStackInstance per instance
(stacksets.observe.read_overrides), and the plan built on them.

AWS behaviour the shortcut relies on (DescribeStacks of an instance's stack reports the stack
set's parameters overlaid with the instance's overrides, an SSM-typed one by name) is not what
moto does: moto reports an SSM-typed parameter's resolved value and does not update the stack
when UpdateStackInstances changes an override (stacksets.compat: reports_instance_parameters).
So the shortcut is tested here with AWS-shaped answers: DescribeStacks through botocore's
Stubber, the instance stacks of the table tests as a stand-in reporting what AWS would, and
DescribeStackInstance through Stubber with a CallLog. On moto (the emulator's Compat) every
instance falls back to DescribeStackInstance: the end-to-end test shows an override changed by
hand with UpdateStackInstances is found and planned there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from stacksets.compat import AWS, EMULATOR, Compat
from stacksets.desired import desired_stack_sets
from stacksets.local import local_session
from stacksets.model import DesiredStackSet, ObservedInstance, ObservedStackSet
from stacksets.observe import read_overrides
from stacksets.plan import plan_stack_set
from stacksets.session import CallLog, ClientFactory
from stacksets.stacks import InstanceStacks
from tests.faults import deploy, run_cli
from tests.helpers import config_from, offline_factory, seeded, with_dev_deployment, write_dev_config

A, B, C = "111111111111", "222222222222", "333333333333"
ALT = "/tattoo-directory/dev/alt/access-logs-bucket"
HAND = "/tattoo-directory/dev/by-hand/access-logs-bucket"


def _primary() -> DesiredStackSet:
    config = config_from(
        with_dev_deployment(
            {
                "permission_model": "SELF_MANAGED",
                "accounts": [A, B, C],
                "overrides": [{"accounts": [B], "parameters": {"AccessLogsBucketName": f"ssm:{ALT}"}}],
            }
        )
    )
    return desired_stack_sets(config, config.environment("dev"))[1]


def _observed(desired: DesiredStackSet, **status: str) -> ObservedStackSet:
    return ObservedStackSet(
        name=desired.name,
        status="ACTIVE",
        template_body=desired.template_body,
        parameters=dict(desired.parameters),
        instances=tuple(
            ObservedInstance(
                i.account, i.region, status.get(i.account, "CURRENT"), stack_id=f"stack-{i.account}"
            )
            for i in desired.instances
        ),
    )


class ReportedStacks(InstanceStacks):
    """Instance stacks reporting what AWS would: per account, the parameters the stack runs
    with, None (no stack) or an exception (cannot be read)."""

    def __init__(self, reported: Mapping[str, Any], compat: Compat = AWS, workers: int = 1) -> None:
        super().__init__(offline_factory(caller_account="999999999999"), "exec", compat, workers=workers)
        self.reported = reported
        self.read: list[str] = []

    def parameters(self, stack_set: str, instance: ObservedInstance) -> dict[str, str] | None:
        self.read.append(instance.account)
        value = self.reported[instance.account]
        if isinstance(value, Exception):
            raise value
        return None if value is None else dict(value)


def _runs(desired: DesiredStackSet, account: str, **changed: str) -> dict[str, str]:
    """The parameters the account's stack runs with when its overrides are as configured."""
    want = next(i.overrides for i in desired.instances if i.account == account)
    return {**desired.parameters, **want, **changed}


def _admin(described: Mapping[str, dict[str, str]]) -> tuple[Any, CallLog, Stubber]:
    """The administration account's CloudFormation (Stubber), answering DescribeStackInstance
    for the accounts in ``described`` (in that order) with those overrides; CallLog attached
    first so that it sees the stubbed calls."""
    cfn = offline_factory(caller_account="999999999999").cloudformation("us-east-1")
    log = CallLog()
    log.attach(cfn)
    stub = Stubber(cfn)
    for account, overrides in described.items():
        stub.add_response(
            "describe_stack_instance",
            {
                "StackInstance": {
                    "Account": account,
                    "Region": "us-east-1",
                    "ParameterOverrides": [
                        {"ParameterKey": k, "ParameterValue": v} for k, v in overrides.items()
                    ],
                }
            },
            {
                "StackSetName": _primary().name,
                "StackInstanceAccount": account,
                "StackInstanceRegion": "us-east-1",
                "CallAs": "SELF",
            },
        )
    stub.activate()
    return cfn, log, stub


DENIED = ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole")
Case = Callable[[DesiredStackSet], tuple[dict[str, Any], dict[str, str], Compat, dict[str, dict[str, str]]]]

# (reported by each account's stack, observed statuses, compat, what DescribeStackInstance answers)
CASES: dict[str, Case] = {
    "nothing changed: no DescribeStackInstance": lambda d: (
        {a: _runs(d, a) for a in (A, B, C)},
        {},
        AWS,
        {},
    ),
    "an override changed by hand: that instance is described": lambda d: (
        {A: _runs(d, A), B: _runs(d, B, AccessLogsBucketName=HAND), C: _runs(d, C)},
        {},
        AWS,
        {B: {"AccessLogsBucketName": HAND}},
    ),
    "an override added by hand where none is configured": lambda d: (
        {A: _runs(d, A, AccessLogsBucketName=HAND), B: _runs(d, B), C: _runs(d, C)},
        {},
        AWS,
        {A: {"AccessLogsBucketName": HAND}},
    ),
    "stack cannot be read (role not assumable): described": lambda d: (
        {A: _runs(d, A), B: _runs(d, B), C: DENIED},
        {},
        AWS,
        {C: {}},
    ),
    "no stack: described": lambda d: ({A: None, B: _runs(d, B), C: _runs(d, C)}, {}, AWS, {A: {}}),
    "a NoEcho value: described": lambda d: (
        {A: _runs(d, A), B: _runs(d, B), C: _runs(d, C, KmsKeyArn="****")},
        {},
        AWS,
        {C: {}},
    ),
    "OUTDATED: described, its stack not read": lambda d: (
        {A: _runs(d, A), B: _runs(d, B), C: _runs(d, C)},
        {B: "OUTDATED"},
        AWS,
        {B: {"AccessLogsBucketName": ALT}},
    ),
    "the emulator: every instance described": lambda d: (
        {a: _runs(d, a) for a in (A, B, C)},
        {},
        EMULATOR,
        {A: {}, B: {"AccessLogsBucketName": ALT}, C: {}},
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_overrides_come_from_the_stacks_unless_they_cannot_tell(case: str) -> None:
    desired = _primary()
    reported, status, compat, described = CASES[case](desired)
    cfn, log, stub = _admin(described)
    stacks = ReportedStacks(reported, compat)
    observed = read_overrides(cfn, desired, _observed(desired, **status), stacks)
    stub.assert_no_pending_responses()
    assert log.count("DescribeStackInstance") == len(described)
    overrides = {i.account: dict(i.overrides) for i in observed.instances}
    expected = {i.account: dict(i.overrides) for i in desired.instances} | described
    assert overrides == expected
    # The plan: an instance is outdated exactly when its overrides are not the configured ones.
    plan = plan_stack_set(desired, observed)
    outdated = {i.account for i in plan.instances.outdated}
    configured = {i.account: dict(i.overrides) for i in desired.instances}
    assert outdated == {a for a in overrides if overrides[a] != configured[a]} | set(status)
    assert plan.changed == bool(outdated)
    if compat.reports_instance_parameters:
        assert sorted(stacks.read) == sorted(set(reported) - set(status))
    else:
        assert stacks.read == []


def test_a_stack_set_parameter_to_change_reads_every_instance() -> None:
    """An override equal to the stack set's value is invisible in the stack; it matters only
    when that parameter changes in the stack set, and then every instance is described."""
    desired = _primary()
    observed = attrs.evolve(
        _observed(desired), parameters={**desired.parameters, "AccessLogsBucketName": "/old/value"}
    )
    cfn, log, stub = _admin(
        {A: {"AccessLogsBucketName": "/old/value"}, B: {"AccessLogsBucketName": ALT}, C: {}}
    )
    stacks = ReportedStacks({a: _runs(desired, a) for a in (A, B, C)})
    found = read_overrides(cfn, desired, observed, stacks)
    stub.assert_no_pending_responses()
    assert log.count("DescribeStackInstance") == 3 and stacks.read == []
    # A's leftover override (equal to the old stack set value) is seen and will be removed.
    assert A in {i.account for i in plan_stack_set(desired, found).instances.outdated}


def test_reads_run_in_parallel_with_the_same_result() -> None:
    desired = _primary()
    stacks = ReportedStacks({a: _runs(desired, a) for a in (A, B, C)}, workers=3)
    cfn, log, _ = _admin({})
    observed = read_overrides(cfn, desired, _observed(desired), stacks)
    assert [i.account for i in observed.instances] == [A, B, C]
    assert log.count("DescribeStackInstance") == 0


def test_the_stack_parameters_are_read_by_name_as_aws_reports_them() -> None:
    """InstanceStacks.parameters on an AWS-shaped DescribeStacks answer (Stubber): an SSM-typed
    parameter reads as its name, not its ResolvedValue."""
    factory = offline_factory(caller_account=A)  # the instance is in the caller's account: no role
    member = factory.cloudformation("us-east-1")
    stub = Stubber(member)
    stack_id = f"arn:aws:cloudformation:us-east-1:{A}:stack/StackSet-x-1/abc"
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "StackSet-x-1",
                    "StackId": stack_id,
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "StackStatus": "UPDATE_COMPLETE",
                    "Parameters": [
                        {
                            "ParameterKey": "KmsKeyArn",
                            "ParameterValue": "/kms/arn",
                            "ResolvedValue": "arn:aws:kms:x",
                        },
                        {"ParameterKey": "S3VpcEndpointId", "ParameterValue": ""},
                    ],
                }
            ]
        },
        {"StackName": stack_id},
    )
    stub.activate()
    stacks = InstanceStacks(factory, "exec")
    instance = ObservedInstance(A, "us-east-1", "CURRENT", stack_id=stack_id)
    assert stacks.parameters("x", instance) == {"KmsKeyArn": "/kms/arn", "S3VpcEndpointId": ""}
    stub.assert_no_pending_responses()


def test_an_override_changed_by_hand_on_moto_is_found_and_planned(moto_endpoint: str, tmp_path: Path) -> None:
    accounts = ["100000000001", "100000000002"]
    config = write_dev_config(
        tmp_path,
        {
            "permission_model": "SELF_MANAGED",
            "accounts": accounts,
            "overrides": [{"accounts": accounts[1:], "parameters": {"AccessLogsBucketName": f"ssm:{ALT}"}}],
        },
    )
    seeded(moto_endpoint, config)
    code, _, err = deploy(moto_endpoint, config)
    assert code == 0, err
    cfn = ClientFactory(local_session(), endpoint_url=moto_endpoint).cloudformation("us-east-1")
    cfn.update_stack_instances(
        StackSetName="tattoo-directory-dev-app-storage-primary",
        Accounts=accounts[:1],
        Regions=["us-east-1"],
        ParameterOverrides=[{"ParameterKey": "AccessLogsBucketName", "ParameterValue": HAND}],
    )
    code, out, err = run_cli(moto_endpoint, "plan", "--config", str(config), "--env", "dev", "--json")
    assert code == 0, err
    outdated = [
        (s["name"], i["account"], i["overrides"])
        for s in json.loads(out)["dev"]["stack_sets"]
        for i in s["instances"]["outdated"]
    ]
    assert outdated == [
        ("tattoo-directory-dev-app-storage-primary", accounts[0], {"AccessLogsBucketName": HAND})
    ]
