"""Observed state: a stack set as CloudFormation reports it, read with an injected client.

Read-only calls: DescribeStackSet, ListStackInstances and ListStackSetOperations (both
paginated), and each instance's parameter overrides when they are to be compared: from the
instance's own stack where that tells them for sure, else DescribeStackInstance
(:func:`read_overrides`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from .awserrors import error_code
from .model import DesiredStackSet, ObservedInstance, ObservedStackSet
from .parallel import parallel_map
from .stacks import InstanceStacks

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = [
    "ACTIVE_OPERATION_STATUSES",
    "observe_stack_set",
    "read_overrides",
    "running_operations",
]

#: Operation statuses that block a new operation on the same stack set.
ACTIVE_OPERATION_STATUSES = frozenset({"RUNNING", "QUEUED", "STOPPING"})


def running_operations(cfn: CloudFormationClient, name: str, call_as: str = "SELF") -> tuple[str, ...]:
    """Ids of the operations still running, queued or stopping on the stack set, oldest first."""
    found: list[tuple[Any, str]] = []
    paginator = cfn.get_paginator("list_stack_set_operations")
    for page in paginator.paginate(StackSetName=name, CallAs=call_as):  # type: ignore[arg-type]
        for summary in page.get("Summaries", []):
            if summary.get("Status") in ACTIVE_OPERATION_STATUSES:
                found.append((summary.get("CreationTimestamp"), summary["OperationId"]))
    found.sort(key=lambda item: (item[0] is None, item[0] or 0))
    return tuple(op for _, op in found)


def _instances(cfn: CloudFormationClient, name: str, call_as: str) -> tuple[ObservedInstance, ...]:
    out: list[ObservedInstance] = []
    paginator = cfn.get_paginator("list_stack_instances")
    for page in paginator.paginate(StackSetName=name, CallAs=call_as):  # type: ignore[arg-type]
        for s in page.get("Summaries", []):
            out.append(
                ObservedInstance(
                    account=s.get("Account", ""),
                    region=s.get("Region", ""),
                    status=s.get("Status", ""),
                    detailed_status=s.get("StackInstanceStatus", {}).get("DetailedStatus", ""),
                    reason=s.get("StatusReason", ""),
                    drift_status=s.get("DriftStatus", ""),
                    stack_id=s.get("StackId", ""),
                    organizational_unit=s.get("OrganizationalUnitId", ""),
                )
            )
    out.sort(key=lambda i: (i.region, i.account))
    return tuple(out)


def _described(cfn: CloudFormationClient, name: str, call_as: str, i: ObservedInstance) -> ObservedInstance:
    """The instance with its ParameterOverrides as DescribeStackInstance reports them
    (ListStackInstances does not)."""
    data = cfn.describe_stack_instance(
        StackSetName=name,
        StackInstanceAccount=i.account,
        StackInstanceRegion=i.region,
        CallAs=call_as,  # type: ignore[arg-type]
    )["StackInstance"]
    overrides = {p["ParameterKey"]: p.get("ParameterValue", "") for p in data.get("ParameterOverrides", [])}
    return attrs.evolve(i, overrides=overrides)


def _with_overrides(
    cfn: CloudFormationClient, name: str, call_as: str, instances: tuple[ObservedInstance, ...]
) -> tuple[ObservedInstance, ...]:
    """The instances with their ParameterOverrides (one DescribeStackInstance per instance)."""
    return tuple(_described(cfn, name, call_as, i) for i in instances)


#: How DescribeStacks shows a NoEcho parameter's value.
NO_ECHO = "****"


def _desired_overrides(desired: DesiredStackSet, i: ObservedInstance) -> dict[str, str] | None:
    """The overrides configured for the observed instance (matched as the planner matches: its
    account, or its OU under SERVICE_MANAGED, in its Region); None when none is configured."""
    for want in desired.instances:
        if want.region == i.region and want.account in (i.account, i.organizational_unit):
            return dict(want.overrides)
    return None


def read_overrides(
    cfn: CloudFormationClient, desired: DesiredStackSet, observed: ObservedStackSet, stacks: InstanceStacks
) -> ObservedStackSet:
    """``observed`` with each instance's parameter overrides, without a DescribeStackInstance
    (administration account) per instance when nothing about overrides changed.

    The instance's own stack (DescribeStacks in its account and Region, ``stacks.workers`` at a
    time) reports the parameters it runs with: the stack set's, overlaid with the instance's
    overrides. When they equal the observed stack set's parameters overlaid with the overrides
    configured for that instance, those are taken as its overrides. Everything else gets a
    DescribeStackInstance (also run ``stacks.workers`` at a time): an instance that is not CURRENT
    (its stack may not run the stack set's parameters yet), that no configured instance matches,
    whose stack cannot be read (no stack, the role cannot be assumed, DescribeStacks denied) or
    shows a NoEcho value, whose parameters differ (an override changed outside the deployer, or
    one to add or remove), and every instance when the stack set's parameters are to change or
    the endpoint does not report the stack's parameters as AWS does
    (:attr:`~stacksets.compat.Compat.reports_instance_parameters`).

    What the stack cannot show: an override whose value equals the stack set's value of that
    parameter (the stack runs the same value either way), e.g. one set by hand, or left behind
    when it was removed from the configuration. The instance runs what the configuration asks, so
    nothing is planned. At the next change of that parameter in the stack set every instance's
    overrides are read with DescribeStackInstance (see above), the leftover override is seen, and
    the instance is updated with the configured overrides, as it would have been today.
    """
    unchanged = dict(observed.parameters) == dict(desired.parameters)
    use_stacks = stacks.compat.reports_instance_parameters and unchanged

    def one(i: ObservedInstance) -> ObservedInstance:
        want = _desired_overrides(desired, i)
        if use_stacks and want is not None and i.status == "CURRENT":
            try:
                running = stacks.parameters(desired.name, i)
            except ClientError:
                running = None
            if (
                running is not None
                and NO_ECHO not in running.values()
                and running == {**observed.parameters, **want}
            ):
                return attrs.evolve(i, overrides=want)
        return _described(cfn, observed.name, desired.call_as, i)

    return attrs.evolve(
        observed, instances=tuple(parallel_map(one, observed.instances, workers=stacks.workers))
    )


def observe_stack_set(
    cfn: CloudFormationClient, name: str, call_as: str = "SELF", *, with_overrides: bool = False
) -> ObservedStackSet | None:
    """The stack set ``name`` with its instances and running operations; None if it does not exist.

    ``with_overrides``: also read each instance's parameter overrides (DescribeStackInstance per
    instance); planning always asks for them (see :func:`stacksets.rollout.plan_rollout`).
    """
    try:
        stack_set = cfn.describe_stack_set(StackSetName=name, CallAs=call_as)  # type: ignore[arg-type]
    except ClientError as exc:
        if error_code(exc) == "StackSetNotFoundException":
            return None
        raise
    data = stack_set["StackSet"]
    if data.get("Status") == "DELETED":
        return None
    instances = _instances(cfn, name, call_as)
    if with_overrides:
        instances = _with_overrides(cfn, name, call_as, instances)
    auto = data.get("AutoDeployment")
    return ObservedStackSet(
        name=data.get("StackSetName", name),
        status=data.get("Status", ""),
        template_body=data.get("TemplateBody", ""),
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in data.get("Parameters", [])},
        instances=instances,
        running_operation_ids=running_operations(cfn, name, call_as),
        permission_model=data.get("PermissionModel", "SELF_MANAGED"),
        managed_execution=bool(data.get("ManagedExecution", {}).get("Active", False)),
        stack_set_arn=data.get("StackSetARN", ""),
        auto_deployment=(
            (bool(auto.get("Enabled", False)), bool(auto.get("RetainStacksOnAccountRemoval", False)))
            if auto
            else None
        ),
        # Not reported: not compared (see plan_stack_set). AWS reports Tags (possibly empty), and
        # for SELF_MANAGED stack sets ExecutionRoleName and AdministrationRoleARN (the default role's
        # ARN when none was given); moto reports all three, also for SERVICE_MANAGED stack sets.
        tags=({t["Key"]: t.get("Value", "") for t in data.get("Tags", [])} if "Tags" in data else None),
        execution_role_name=data.get("ExecutionRoleName"),
        administration_role_arn=data.get("AdministrationRoleARN"),
    )
