"""Observed state: a stack set as CloudFormation reports it, read with an injected client.

Read-only calls: DescribeStackSet, ListStackInstances and ListStackSetOperations (both
paginated).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .model import ObservedInstance, ObservedStackSet

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = ["ACTIVE_OPERATION_STATUSES", "observe_stack_set", "running_operations"]

#: Operation statuses that block a new operation on the same stack set.
ACTIVE_OPERATION_STATUSES = frozenset({"RUNNING", "QUEUED", "STOPPING"})


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


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


def observe_stack_set(cfn: CloudFormationClient, name: str, call_as: str = "SELF") -> ObservedStackSet | None:
    """The stack set ``name`` with its instances and running operations; None if it does not exist."""
    try:
        stack_set = cfn.describe_stack_set(StackSetName=name, CallAs=call_as)  # type: ignore[arg-type]
    except ClientError as exc:
        if _error_code(exc) == "StackSetNotFoundException":
            return None
        raise
    data = stack_set["StackSet"]
    if data.get("Status") == "DELETED":
        return None
    return ObservedStackSet(
        name=data.get("StackSetName", name),
        status=data.get("Status", ""),
        template_body=data.get("TemplateBody", ""),
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in data.get("Parameters", [])},
        instances=_instances(cfn, name, call_as),
        running_operation_ids=running_operations(cfn, name, call_as),
        permission_model=data.get("PermissionModel", "SELF_MANAGED"),
        managed_execution=bool(data.get("ManagedExecution", {}).get("Active", False)),
        stack_set_arn=data.get("StackSetARN", ""),
    )
