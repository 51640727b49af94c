"""Observed state: a stack set as CloudFormation reports it, read with an injected client.

Read-only calls: DescribeStackSet, ListStackInstances and ListStackSetOperations (both
paginated), and DescribeStackInstance per instance when overrides are to be compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from .awserrors import error_code
from .model import ObservedInstance, ObservedStackSet

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = [
    "ACTIVE_OPERATION_STATUSES",
    "observe_stack_set",
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


def _with_overrides(
    cfn: CloudFormationClient, name: str, call_as: str, instances: tuple[ObservedInstance, ...]
) -> tuple[ObservedInstance, ...]:
    """The instances with their ParameterOverrides: ListStackInstances does not report them,
    DescribeStackInstance does (one read per instance)."""
    out = []
    for i in instances:
        data = cfn.describe_stack_instance(
            StackSetName=name,
            StackInstanceAccount=i.account,
            StackInstanceRegion=i.region,
            CallAs=call_as,  # type: ignore[arg-type]
        )["StackInstance"]
        overrides = {
            p["ParameterKey"]: p.get("ParameterValue", "") for p in data.get("ParameterOverrides", [])
        }
        out.append(attrs.evolve(i, overrides=overrides))
    return tuple(out)


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
