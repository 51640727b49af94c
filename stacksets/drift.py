"""``drift``: detect drift on both stack sets of an environment and report it per property.

DetectStackSetDrift starts one operation per stack set (with the configured
OperationPreferences); an operation of that kind already running (an interrupted ``drift``) is
waited for instead of starting a second one. After it ends, ListStackInstances gives each
instance's drift status; for every DRIFTED instance, DescribeStackResourceDrifts in the target
account and region (the role the outputs collection assumes) gives the MODIFIED and DELETED
resources with their expected and actual property values.

Exit code (documented for CI): 0 when every instance is IN_SYNC (or nothing is deployed), 1 when
an instance drifted or its drift could not be checked, so a scheduled ``drift`` job fails on drift.
An instance whose drifted resources cannot be read in its account (the execution role cannot be
assumed there, or the call is denied) is reported "not checked: <reason>" and the others are still
reported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from .execute import UNREADABLE_HINT, Executor, FailedInstance, unreadable_reason
from .model import DesiredStackSet, ObservedInstance

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

    from .cli import Context

__all__ = [
    "InstanceDrift",
    "PropertyDrift",
    "ResourceDrift",
    "StackSetDrift",
    "cmd_drift",
    "detect_drift",
    "drift_to_json",
    "render_drift",
]

#: Resource drift statuses worth reporting (IN_SYNC and NOT_CHECKED are not).
RESOURCE_DRIFT_FILTERS = ("MODIFIED", "DELETED")
_ACTIVE = frozenset({"RUNNING", "QUEUED"})


@attrs.frozen
class PropertyDrift:
    path: str  # e.g. /VersioningConfiguration/Status
    expected: str
    actual: str
    difference: str  # ADD | REMOVE | NOT_EQUAL


@attrs.frozen
class ResourceDrift:
    logical_id: str
    resource_type: str
    physical_id: str
    status: str  # MODIFIED | DELETED
    properties: tuple[PropertyDrift, ...] = ()


@attrs.frozen
class InstanceDrift:
    account: str
    region: str
    drift_status: str  # DRIFTED | IN_SYNC | UNKNOWN | NOT_CHECKED
    stack_id: str = ""
    resources: tuple[ResourceDrift, ...] = ()
    #: "not checked: <reason>" when its resources could not be read in the target account.
    error: str = ""


@attrs.frozen
class StackSetDrift:
    """The drift of one stack set; ``deployed`` False when it does not exist."""

    stack_set: str
    kind: str
    deployed: bool
    operation_id: str = ""
    instances: tuple[InstanceDrift, ...] = ()
    failed: tuple[FailedInstance, ...] = ()  # instances whose drift detection failed

    @property
    def drifted(self) -> tuple[InstanceDrift, ...]:
        return tuple(i for i in self.instances if i.drift_status == "DRIFTED")

    @property
    def unchecked(self) -> tuple[InstanceDrift, ...]:
        """Instances whose drift is unknown, or whose drifted resources could not be read."""
        return tuple(i for i in self.instances if i.drift_status not in ("DRIFTED", "IN_SYNC") or i.error)

    @property
    def clean(self) -> bool:
        return not (self.drifted or self.unchecked or self.failed)


def _running_drift_detection(executor: Executor, name: str) -> str | None:
    """The id of a DETECT_DRIFT operation already running or queued on the stack set."""
    paginator = executor.cfn().get_paginator("list_stack_set_operations")
    for page in paginator.paginate(StackSetName=name, CallAs=executor.call_as):
        for summary in page.get("Summaries", []):
            if summary.get("Action") == "DETECT_DRIFT" and summary.get("Status") in _ACTIVE:
                return str(summary["OperationId"])
    return None


def _value(raw: Any) -> str:
    return "" if raw is None else str(raw)


def resource_drifts(cfn: CloudFormationClient, stack_id: str) -> tuple[ResourceDrift, ...]:
    """The MODIFIED and DELETED resources of one stack (DescribeStackResourceDrifts, all pages)."""
    out: list[ResourceDrift] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "StackName": stack_id,
            "StackResourceDriftStatusFilters": list(RESOURCE_DRIFT_FILTERS),
        }
        if token:
            kwargs["NextToken"] = token
        page = cfn.describe_stack_resource_drifts(**kwargs)
        for d in page.get("StackResourceDrifts", []):
            out.append(
                ResourceDrift(
                    logical_id=d.get("LogicalResourceId", ""),
                    resource_type=d.get("ResourceType", ""),
                    physical_id=d.get("PhysicalResourceId", ""),
                    status=d.get("StackResourceDriftStatus", ""),
                    properties=tuple(
                        PropertyDrift(
                            path=p.get("PropertyPath", ""),
                            expected=_value(p.get("ExpectedValue")),
                            actual=_value(p.get("ActualValue")),
                            difference=p.get("DifferenceType", ""),
                        )
                        for p in d.get("PropertyDifferences", [])
                    ),
                )
            )
        token = page.get("NextToken")
        if not token:
            break
    out.sort(key=lambda r: r.logical_id)
    return tuple(out)


def _instance_drift(
    executor: Executor, desired: DesiredStackSet, instance: ObservedInstance
) -> InstanceDrift:
    resources: tuple[ResourceDrift, ...] = ()
    stack_id = instance.stack_id
    if instance.drift_status == "DRIFTED":
        # The execution role may not be assumable (or may lack the permission) in the member
        # account: that instance is reported "not checked", the others still are.
        try:
            if not stack_id:
                stack_id = str((executor._stack(desired.name, instance) or {}).get("StackId", ""))
            if stack_id:
                cfn = executor._target_cfn(instance.account, instance.region)
                resources = resource_drifts(cfn, stack_id)
        except ClientError as exc:
            reason = unreadable_reason(exc)
            if reason is None:
                raise
            return InstanceDrift(
                instance.account,
                instance.region,
                instance.drift_status,
                stack_id,
                error=f"not checked: {reason}",
            )
    return InstanceDrift(instance.account, instance.region, instance.drift_status, stack_id, resources)


def detect_drift(executor: Executor) -> list[StackSetDrift]:
    """Detect, wait, report: one :class:`StackSetDrift` per stack set, in rollout order."""
    reports: list[StackSetDrift] = []
    for desired in executor.desired:
        observed = executor.observe(desired, for_plan=False)
        if observed is None:
            executor.reporter.info(f"{desired.name}: not deployed")
            reports.append(StackSetDrift(desired.name, desired.kind, deployed=False))
            continue
        if not observed.instances:
            reports.append(StackSetDrift(desired.name, desired.kind, deployed=True))
            continue
        op = _running_drift_detection(executor, desired.name)
        if op is not None:
            executor.reporter.info(f"{desired.name}: drift detection {op} already running; waiting for it")
        else:
            request = {
                "StackSetName": desired.name,
                "OperationPreferences": executor._preferences(sorted({i.region for i in observed.instances})),
                "CallAs": executor.call_as,
            }
            # _mutate waits for any other operation in progress and uses an idempotent OperationId.
            op = executor._mutate(desired.name, "DetectStackSetDrift", request)
        before = len(executor.partial_failures)
        executor.wait(desired.name, op, len(observed.instances))
        failed = [f for _, _, fs in executor.partial_failures[before:] for f in fs]
        after = executor.observe(desired, for_plan=False)
        instances = after.instances if after is not None else ()
        reports.append(
            StackSetDrift(
                desired.name,
                desired.kind,
                deployed=True,
                operation_id=op,
                instances=tuple(_instance_drift(executor, desired, i) for i in instances),
                failed=tuple(failed),
            )
        )
    return reports


# --------------------------------------------------------------------------- rendering


def render_drift(env: str, reports: Sequence[StackSetDrift]) -> str:
    lines: list[str] = []
    for r in reports:
        if not r.deployed:
            lines.append(f"{r.stack_set} ({r.kind}): not deployed")
            continue
        if not r.instances and not r.failed:
            lines.append(f"{r.stack_set} ({r.kind}): no instances")
            continue
        summary = f"{len(r.drifted)} of {len(r.instances)} instance(s) drifted"
        if r.unchecked:
            summary += f", {len(r.unchecked)} not checked"
        lines.append(f"{r.stack_set} ({r.kind}): {summary} (operation {r.operation_id})")
        for i in r.instances:
            if i.drift_status == "IN_SYNC":
                continue
            lines.append(f"  {i.account} {i.region}: {i.drift_status}")
            if i.error:
                lines.append(f"    drifted resources {i.error}")
            for res in i.resources:
                lines.append(
                    f"    {res.logical_id} ({res.resource_type}) {res.status} {res.physical_id}".rstrip()
                )
                for p in res.properties:
                    lines.append(
                        f"      {p.path}: expected {p.expected or '(none)'}, "
                        f"actual {p.actual or '(none)'} [{p.difference}]"
                    )
        for f in r.failed:
            lines.append(
                f"  {f.account} {f.region}: drift detection {f.status}: {f.reason or '(no reason given)'}"
            )
    drifted = sum(len(r.drifted) for r in reports)
    unchecked = sum(len(r.unchecked) + len(r.failed) for r in reports)
    if any(i.error for r in reports for i in r.instances):
        lines.append(f"to check them: {UNREADABLE_HINT}")
    if drifted or unchecked:
        tail = f"{env}: DRIFT: {drifted} drifted instance(s)"
        if unchecked:
            tail += f", {unchecked} instance(s) whose drift could not be checked"
        lines.append(tail)
    else:
        lines.append(f"{env}: in sync (0 drifted instances)")
    return "\n".join(lines)


def drift_to_json(reports: Sequence[StackSetDrift]) -> dict[str, Any]:
    stack_sets = []
    for r in reports:
        data = attrs.asdict(r)
        data["drifted"] = len(r.drifted)
        data["in_sync"] = r.clean
        stack_sets.append(data)
    return {
        "drifted": sum(len(r.drifted) for r in reports),
        "in_sync": all(r.clean for r in reports),
        "stack_sets": stack_sets,
    }


# --------------------------------------------------------------------------- command


def cmd_drift(ctx: Context) -> int:
    """Exit 0 in sync, 1 drift found or not checkable (see the module docstring)."""
    result: dict[str, Any] = {}
    clean = True
    for env in ctx.environments:
        reports = detect_drift(ctx.executor(env))
        clean = clean and all(r.clean for r in reports)
        if ctx.args.json:
            result[env.name] = drift_to_json(reports)
        else:
            ctx.out.print(f"[bold]{env.name}[/bold]")
            ctx.out.print(render_drift(env.name, reports), markup=False, highlight=False)
    if ctx.args.json:
        ctx.out.file.write(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    return 0 if clean else 1
