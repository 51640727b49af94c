"""Why a command stopped, and what the run had done by then.

Every error the deployer raises on purpose is a :class:`DeployError`; ``str()`` says why and what
to do. An error also carries its *stop context* (:class:`StopContext`): the rollout phases already
applied, the phase that did not complete, and the StackSet operation that was being waited for
and keeps running in CloudFormation. The code that knows each fact records it on the exception
as it propagates (:func:`add_stop_context`: the operation runner records the operation, the
rollout records the phases), so the CLI reads what happened from the error itself.

Errors the deployer does not raise itself stop a run too (a botocore error, Ctrl-C), so the stop
context can be recorded on any exception, the way PEP 678 notes are, but typed:
:func:`stop_context` reads it back (empty when none was recorded). Pure: no boto3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

__all__ = [
    "DataLossRefused",
    "Declined",
    "DeployBlocked",
    "DeployError",
    "FailedInstance",
    "LostContact",
    "OperationFailed",
    "OperationTimeout",
    "Phase",
    "PreflightError",
    "ReplicaMismatch",
    "RunningOperation",
    "StaleState",
    "StillInProgress",
    "StopContext",
    "add_stop_context",
    "stop_context",
]


# --------------------------------------------------------------------------- stop context


@attrs.frozen
class Phase:
    """One phase of a rollout: the stack set of one template kind of one environment."""

    environment: str
    kind: str
    stack_set: str


@attrs.frozen
class RunningOperation:
    """A StackSet operation that was being waited for: it keeps running in CloudFormation."""

    stack_set: str
    operation_id: str


@attrs.frozen
class StopContext:
    """What a run had done when an exception stopped it."""

    #: phases whose changes were applied (rollout order); they stay applied
    applied_phases: tuple[Phase, ...] = ()
    #: the phase that was being applied and did not complete
    stopped_phase: Phase | None = None
    #: the operation being waited for (not cancelled)
    running_operation: RunningOperation | None = None


_ATTRIBUTE = "stacksets_stop_context"
_UNSET: Any = object()


def stop_context(exc: BaseException) -> StopContext:
    """The stop context recorded on ``exc`` (empty when none was)."""
    found = getattr(exc, _ATTRIBUTE, None)
    return found if isinstance(found, StopContext) else StopContext()


def add_stop_context(
    exc: BaseException,
    *,
    applied_phases: tuple[Phase, ...] = _UNSET,
    stopped_phase: Phase | None = _UNSET,
    running_operation: RunningOperation | None = _UNSET,
) -> None:
    """Record on ``exc`` (as it propagates) the given facts of its stop context; the others keep
    what was recorded before."""
    given: dict[str, Any] = {
        "applied_phases": applied_phases,
        "stopped_phase": stopped_phase,
        "running_operation": running_operation,
    }
    changes = {key: value for key, value in given.items() if value is not _UNSET}
    setattr(exc, _ATTRIBUTE, attrs.evolve(stop_context(exc), **changes))


# --------------------------------------------------------------------------- errors


class DeployError(Exception):
    """The command stopped; ``str()`` says why and what to do."""

    @property
    def applied_phases(self) -> tuple[Phase, ...]:
        """The rollout phases already applied when this error stopped the run."""
        return stop_context(self).applied_phases

    @property
    def stopped_phase(self) -> Phase | None:
        """The rollout phase this error stopped (None: none was being applied)."""
        return stop_context(self).stopped_phase

    @property
    def running_operation(self) -> RunningOperation | None:
        """The operation that was being waited for and keeps running (None: none)."""
        return stop_context(self).running_operation


@attrs.frozen
class FailedInstance:
    account: str
    region: str
    status: str
    reason: str


class OperationFailed(DeployError):
    """A StackSet operation ended FAILED or STOPPED."""

    def __init__(
        self, stack_set: str, operation_id: str, status: str, failures: Sequence[FailedInstance]
    ) -> None:
        self.stack_set = stack_set
        self.operation_id = operation_id
        self.status = status
        self.failures = tuple(failures)
        lines = [f"operation {operation_id} on stack set {stack_set} ended {status}"]
        lines += [f"  {f.account} {f.region} {f.status}: {f.reason or '(no reason given)'}" for f in failures]
        super().__init__("\n".join(lines))


class OperationTimeout(DeployError):
    def __init__(self, stack_set: str, operation_ids: Sequence[str], timeout: float) -> None:
        self.stack_set = stack_set
        self.operation_ids = tuple(operation_ids)
        super().__init__(
            f"gave up waiting after {timeout:.0f}s for operation(s) {', '.join(operation_ids)} on "
            f"stack set {stack_set}; they keep running in CloudFormation: run 'deploy' again to resume"
        )


class StillInProgress(DeployError):
    """A call kept being refused with OperationInProgressException until the deadline."""

    def __init__(self, stack_set: str, api: str, running: Sequence[str], timeout: float) -> None:
        self.stack_set = stack_set
        self.operation_ids = tuple(running)
        listed = (
            f"; ListStackSetOperations still lists {', '.join(running)} as running"
            if running
            else "; no operation is listed as running"
        )
        super().__init__(
            f"gave up after {timeout:.0f}s: CloudFormation kept refusing {api} on stack set {stack_set} "
            f"with OperationInProgressException{listed}. This run's {api} was never started; "
            "check the stack set's operations in the console, then run the command again"
        )


class DataLossRefused(DeployError):
    def __init__(self, changes: Sequence[Any]) -> None:
        self.changes = tuple(changes)
        lines = ["refusing to deploy: the plan replaces or removes stateful resources (DATA LOSS):"]
        for c in changes:
            lines.append(f"  {c.logical_id} ({c.resource_type}): {c.reason or c.action}")
        lines.append("re-run with --allow-replacement if this is really what you want")
        super().__init__("\n".join(lines))


class DeployBlocked(DeployError):
    """The plan cannot be applied as is (not a data-loss question: ``--allow-replacement`` does
    not lift it); ``str()`` says why and what to do."""


class ReplicaMismatch(DeployError):
    pass


class PreflightError(DeployError):
    """The configuration (in the file ``source``) cannot be deployed as is (checked before any API
    call): exit 2."""

    def __init__(self, errors: Sequence[str], source: str = "") -> None:
        self.errors = tuple(errors)
        self.source = source
        super().__init__("\n".join(self.errors))


class Declined(DeployError):
    pass


class StaleState(DeployError):
    """StaleRequestException: another operation ran on the stack set after the state this run
    planned from was read. Nothing was started by the refused call; re-plan before going on."""

    def __init__(self, stack_set: str, api: str) -> None:
        self.stack_set = stack_set
        super().__init__(
            f"{api} on stack set {stack_set} was refused as stale (StaleRequestException): another "
            "operation changed the stack set after this run read it. Nothing was started by this call; "
            "run 'plan' to see the current state, then 'deploy' again"
        )


class LostContact(DeployError):
    """Polling an operation kept failing at the network level; the operation itself keeps running."""

    def __init__(self, stack_set: str, operation_id: str, error: Exception) -> None:
        self.stack_set = stack_set
        self.operation_id = operation_id
        super().__init__(
            f"lost contact with CloudFormation while waiting for operation {operation_id} on stack set "
            f"{stack_set} ({error}); the operation was not cancelled and may still be running: run the "
            "command again to pick it up"
        )
