"""``drift``: detect drift on both stack sets of an environment and report it per property.

DetectStackSetDrift starts one operation per stack set; an operation of that kind already
running (an interrupted ``drift``, or one started in the console) is waited for instead of
starting a second one. Detecting drift changes nothing, so it does not use the deployment's
``operation_preferences`` (made for changes: by default one account at a time, stopping at the
first failure, which at a thousand accounts takes hours and leaves the rest unchecked after one
failure): :data:`DRIFT_PREFERENCES` checks every Region and account at once (CloudFormation
throttles below that as it needs) and lets an instance whose detection fails fail alone; it is
reported as such and the others are still checked.

After the operation ends, ListStackInstances gives each instance's drift status and, for every
DRIFTED instance, ListStackInstanceResourceDrifts (in the administration account, with that
operation's id and the configured CallAs, all pages) gives its MODIFIED and DELETED resources
with their expected and actual property values. Nothing is read in member accounts: no role is
assumed there (a SERVICE_MANAGED stack set's execution role cannot be assumed by the caller
anyway), and the calls grow with the drifted instances, not with the accounts. There is no
member-account fallback because nothing needs one: the operation's id is always known (this run
started the operation, or found the running one and waited for it, and reads its results right
after it ended); an instance whose detection failed in it has no results of it to read (it is
reported with the failure instead); anything else that cannot be read from the administration
account cannot be read better from the member account.

Exit code (documented for CI): 0 when every instance is IN_SYNC, 1 when an instance drifted or its
drift could not be checked, and when a stack set does not exist (or, SELF_MANAGED, has no
instances): then there is nothing to compare, which must not read as "in sync", so a scheduled
``drift`` job fails after someone deleted the stack sets too. An instance whose drifted resources
cannot be read (ListStackInstanceResourceDrifts denied, or the instance or the operation no
longer found) is reported "not checked: <reason>" and the others are still reported. An endpoint
without drift detection (moto, ``--local``) stops the command with :class:`DriftUnavailable`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from .awserrors import error_code, unreadable_reason
from .errors import DeployError, FailedInstance
from .model import CallAs, DesiredStackSet, ObservedInstance
from .observe import observe_stack_set
from .operations import OperationRunner
from .parallel import parallel_map

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = [
    "DRIFT_PREFERENCES",
    "RESOURCE_DRIFTS_HINT",
    "DriftUnavailable",
    "InstanceDrift",
    "PropertyDrift",
    "ResourceDrift",
    "StackSetDrift",
    "detect_drift",
    "drift_detection_request",
    "drift_to_json",
    "instance_drift",
    "render_drift",
    "resource_drifts",
    "running_drift_detection",
]

#: Resource drift statuses worth reporting (IN_SYNC and NOT_CHECKED are not).
RESOURCE_DRIFT_FILTERS = ("MODIFIED", "DELETED")
#: ListStackInstanceResourceDrifts' largest page (MaxResults, 1-100 in botocore's service model).
RESOURCE_DRIFTS_PAGE = 100
#: The OperationPreferences of DetectStackSetDrift: every Region at once, every account at once
#: (CloudFormation lowers the actual concurrency when it throttles), and an instance whose
#: detection fails does not stop or cancel the others (SOFT: the concurrency stays; 100%: no
#: failure count stops the operation). Read-only, so nothing is gained by going one by one.
DRIFT_PREFERENCES: dict[str, Any] = {
    "RegionConcurrencyType": "PARALLEL",
    "MaxConcurrentPercentage": 100,
    "FailureTolerancePercentage": 100,
    "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
}
#: Error codes of ListStackInstanceResourceDrifts when what it reads is gone: the instance was
#: deleted, the stack set too, or the operation is no longer found (replaced or expired).
_GONE = frozenset(
    {"StackInstanceNotFoundException", "StackSetNotFoundException", "OperationNotFoundException"}
)
#: What to do about instances whose drifted resources could not be read.
RESOURCE_DRIFTS_HINT = (
    "the caller needs cloudformation:ListStackInstanceResourceDrifts on the stack set in the "
    "administration account (with deployment.call_as as configured; no role in the member accounts); "
    "an instance or operation not found was deleted or replaced during the check: run drift again"
)
_ACTIVE = frozenset({"RUNNING", "QUEUED"})
#: Error codes of an endpoint that does not implement a call (emulators).
_NOT_IMPLEMENTED = frozenset({"NotImplemented", "NotImplementedException", "InternalFailure"})


class DriftUnavailable(DeployError):
    """The endpoint cannot detect drift: DetectStackSetDrift is not implemented there (an emulator)
    or failed on the server side."""

    def __init__(self, stack_set: str, cause: BaseException) -> None:
        self.stack_set = stack_set
        if isinstance(cause, ClientError):
            message = cause.response.get("Error", {}).get("Message", "")
            reason = f"{error_code(cause) or 'HTTP error'}: {message}"
        else:
            reason = "its answer is not an AWS API response"
        super().__init__(
            f"drift detection is not available at this endpoint: DetectStackSetDrift on stack set "
            f"{stack_set} failed on the server side ({reason.strip(': ')}). Emulators such as moto "
            "(--local, --endpoint-url) do not implement it: run drift against AWS"
        )


def _unavailable(exc: Exception) -> bool:
    """Whether ``exc`` from DetectStackSetDrift means the endpoint does not do drift detection."""
    if isinstance(exc, ResponseParserError):
        return True
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return status >= 500 or error_code(exc) in _NOT_IMPLEMENTED
    return False


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
    """The drift of one stack set; ``deployed`` False when it does not exist. ``problem``: why
    there was nothing to check (it does not exist, or it has no instances although the
    configuration targets accounts); then it is not in sync either."""

    stack_set: str
    kind: str
    deployed: bool
    operation_id: str = ""
    instances: tuple[InstanceDrift, ...] = ()
    failed: tuple[FailedInstance, ...] = ()  # instances whose drift detection failed
    problem: str = ""

    @property
    def drifted(self) -> tuple[InstanceDrift, ...]:
        return tuple(i for i in self.instances if i.drift_status == "DRIFTED")

    @property
    def unchecked(self) -> tuple[InstanceDrift, ...]:
        """Instances whose drift is unknown, or whose drifted resources could not be read."""
        return tuple(i for i in self.instances if i.drift_status not in ("DRIFTED", "IN_SYNC") or i.error)

    @property
    def clean(self) -> bool:
        return not (self.drifted or self.unchecked or self.failed or self.problem)


def running_drift_detection(cfn: CloudFormationClient, name: str, call_as: CallAs) -> str | None:
    """The id of a DETECT_DRIFT operation already running or queued on the stack set."""
    paginator = cfn.get_paginator("list_stack_set_operations")
    for page in paginator.paginate(StackSetName=name, CallAs=call_as):
        for summary in page.get("Summaries", []):
            if summary.get("Action") == "DETECT_DRIFT" and summary.get("Status") in _ACTIVE:
                return str(summary["OperationId"])
    return None


def _value(raw: Any) -> str:
    return "" if raw is None else str(raw)


def drift_detection_request(desired: DesiredStackSet) -> dict[str, Any]:
    """DetectStackSetDrift over all of the stack set's instances, with :data:`DRIFT_PREFERENCES`
    (the operation runner adds the idempotent OperationId)."""
    return {
        "StackSetName": desired.name,
        "OperationPreferences": dict(DRIFT_PREFERENCES),
        "CallAs": desired.call_as,
    }


def resource_drifts(
    cfn: CloudFormationClient,
    stack_set: str,
    operation_id: str,
    instance: ObservedInstance,
    call_as: CallAs = "SELF",
) -> tuple[ResourceDrift, ...]:
    """The MODIFIED and DELETED resources of one stack instance as the drift detection operation
    ``operation_id`` found them: ListStackInstanceResourceDrifts in the administration account
    (``cfn``), every page (botocore has no paginator for it: NextToken by hand)."""
    out: list[ResourceDrift] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "StackSetName": stack_set,
            "StackInstanceAccount": instance.account,
            "StackInstanceRegion": instance.region,
            "OperationId": operation_id,
            "StackInstanceResourceDriftStatuses": list(RESOURCE_DRIFT_FILTERS),
            "MaxResults": RESOURCE_DRIFTS_PAGE,
            "CallAs": call_as,
        }
        if token:
            kwargs["NextToken"] = token
        page = cfn.list_stack_instance_resource_drifts(**kwargs)
        for d in page.get("Summaries", []):
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


def _not_checked(exc: ClientError) -> str | None:
    """Why an instance's drifted resources could not be read, when that is about the instance (the
    call denied, or what it reads gone); None for other errors (they stop the command)."""
    reason = unreadable_reason(exc)
    if reason is None and error_code(exc) in _GONE:
        message = str(exc.response.get("Error", {}).get("Message", ""))
        reason = f"{exc.operation_name} found nothing ({error_code(exc)}{': ' + message if message else ''})"
    return reason


def instance_drift(
    cfn: CloudFormationClient,
    desired: DesiredStackSet,
    operation_id: str,
    instance: ObservedInstance,
) -> InstanceDrift:
    """One instance's drift; a DRIFTED one with its drifted resources as the operation
    ``operation_id`` found them, read in the administration account (``cfn``). An instance whose
    resources cannot be read (denied, or gone) is "not checked: <reason>"; other errors stop the
    command."""
    resources: tuple[ResourceDrift, ...] = ()
    if instance.drift_status == "DRIFTED":
        try:
            resources = resource_drifts(cfn, desired.name, operation_id, instance, desired.call_as)
        except ClientError as exc:
            reason = _not_checked(exc)
            if reason is None:
                raise
            return InstanceDrift(
                instance.account,
                instance.region,
                instance.drift_status,
                instance.stack_id,
                error=f"not checked: {reason}",
            )
    return InstanceDrift(
        instance.account, instance.region, instance.drift_status, instance.stack_id, resources
    )


def _as_is(instance: ObservedInstance) -> InstanceDrift:
    return InstanceDrift(instance.account, instance.region, instance.drift_status, instance.stack_id)


def _instance_or_failure(
    cfn: CloudFormationClient,
    desired: DesiredStackSet,
    operation_id: str,
    failed: set[tuple[str, str]],
    instance: ObservedInstance,
) -> InstanceDrift:
    """The instance's drift as the detection ``operation_id`` found it; as it stands when its
    detection failed in that operation (``failed``: nothing of it to read)."""
    if (instance.account, instance.region) in failed:
        return _as_is(instance)
    return instance_drift(cfn, desired, operation_id, instance)


def detect_drift(
    desired: Sequence[DesiredStackSet],
    *,
    cfn: CloudFormationClient,
    runner: OperationRunner,
    workers: int = 1,
) -> list[StackSetDrift]:
    """Detect, wait, report: one :class:`StackSetDrift` per stack set of ``desired``, in order
    (``cfn``: their administration Region's client; every call goes to it, none to a member
    account). The drifted instances' resources are read ``workers`` instances at a time
    (``deployment.read_concurrency``; botocore's adaptive retry slows down on throttling)."""
    reports: list[StackSetDrift] = []
    for d in desired:
        observed = observe_stack_set(cfn, d.name, d.call_as)
        if observed is None:
            problem = (
                "the stack set does not exist: deploy it, or check --config, --env and name_prefix "
                "(a drift check of a stack set that is not there cannot pass)"
            )
            reports.append(StackSetDrift(d.name, d.kind, deployed=False, problem=problem))
            continue
        if not observed.instances:
            # SERVICE_MANAGED: target OUs without accounts have no instances, legitimately.
            targets = len(d.instances) if d.permission_model == "SELF_MANAGED" else 0
            problem = (
                f"the stack set has no stack instances, but the configuration targets {targets}: "
                "run deploy to create them"
                if targets
                else ""
            )
            reports.append(StackSetDrift(d.name, d.kind, deployed=True, problem=problem))
            continue
        total = len(observed.instances)
        running = running_drift_detection(cfn, d.name, d.call_as)
        if running is not None:
            runner.reporter.info(f"{d.name}: drift detection {running} already running; waiting for it")
            result = runner.wait(d.name, running, total)
        else:
            # The runner waits for any other operation in progress and uses an idempotent OperationId.
            request = drift_detection_request(d)
            try:
                result = runner.run(d.name, "DetectStackSetDrift", request, total=total)
            except (ClientError, ResponseParserError) as exc:
                if not _unavailable(exc):
                    raise
                raise DriftUnavailable(d.name, exc) from exc
        after = observe_stack_set(cfn, d.name, d.call_as)
        # An instance whose detection failed in this operation has no results of it to read: it is
        # reported with the failure (a DRIFTED status it shows is from an earlier detection).
        failed = {(f.account, f.region) for f in result.failed}
        read = functools.partial(_instance_or_failure, cfn, d, result.id, failed)
        instances = parallel_map(read, after.instances if after is not None else (), workers=workers)
        reports.append(
            StackSetDrift(
                d.name,
                d.kind,
                deployed=True,
                operation_id=result.id,
                instances=tuple(instances),
                failed=result.failed,
            )
        )
    return reports


# --------------------------------------------------------------------------- rendering


def render_drift(env: str, reports: Sequence[StackSetDrift]) -> str:
    lines: list[str] = []
    for r in reports:
        if r.problem:
            state = "NOT DEPLOYED" if not r.deployed else "NO INSTANCES"
            lines.append(f"{r.stack_set} ({r.kind}): {state}: {r.problem}")
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
    # An instance whose detection failed may also show an unknown status: count it once.
    unchecked = sum(
        len({(i.account, i.region) for i in r.unchecked} | {(f.account, f.region) for f in r.failed})
        for r in reports
    )
    missing = [r for r in reports if r.problem]
    if any(i.error for r in reports for i in r.instances):
        lines.append(f"to check them: {RESOURCE_DRIFTS_HINT}")
    if drifted or unchecked:
        tail = f"{env}: DRIFT: {drifted} drifted instance(s)"
        if unchecked:
            tail += f", {unchecked} instance(s) whose drift could not be checked"
        if missing:
            tail += f", {len(missing)} stack set(s) not checked (listed above)"
        lines.append(tail)
    elif missing:
        lines.append(
            f"{env}: NOT CHECKED: {len(missing)} of {len(reports)} stack set(s) missing or without "
            "instances (listed above); this is not in sync"
        )
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
