"""The one way every command changes a stack set: start an operation idempotently, wait for it.

:meth:`OperationRunner.run` starts a StackSet operation (UpdateStackSet, Create/Update/Delete
StackInstances, DetectStackSetDrift) with an ``OperationId`` of its own, reused across retries, so
a retried call never starts the operation twice. An operation already in progress on the stack
set (OperationInProgressException) is waited for, then the call is retried, backing off each
time, until the deadline. The operation is then polled with capped exponential backoff and
jitter until it ends: SUCCEEDED returns an :class:`OperationResult` (with the instances that
failed within the failure tolerance), FAILED or STOPPED raises
:class:`~stacksets.errors.OperationFailed` listing the failed instances.

Waiting uses an injected :class:`Runtime` (``sleep``, ``clock``, ``random``, ``new_id``), so tests
never wait. An exception that stops a wait (a network error that persists, the deadline, Ctrl-C)
carries the operation it was waiting for (:func:`~stacksets.errors.stop_context`): it keeps running
in CloudFormation and the next run picks it up.
"""

from __future__ import annotations

import random as _random
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from .awserrors import NETWORK_ERRORS, error_code
from .errors import (
    FailedInstance,
    LostContact,
    OperationFailed,
    OperationTimeout,
    RunningOperation,
    StaleState,
    StillInProgress,
    add_stop_context,
    stop_context,
)
from .model import CallAs
from .observe import running_operations
from .progress import NullReporter, Reporter

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = [
    "OPERATION_METHODS",
    "WAIT_NETWORK_RETRIES",
    "Backoff",
    "Detached",
    "OperationResult",
    "OperationRunner",
    "Runtime",
]

#: Consecutive network failures tolerated while polling an operation (on top of botocore's retries).
WAIT_NETWORK_RETRIES = 5

#: The StackSet operations, by API name, with the client method that starts each.
OPERATION_METHODS: Mapping[str, str] = {
    "UpdateStackSet": "update_stack_set",
    "CreateStackInstances": "create_stack_instances",
    "UpdateStackInstances": "update_stack_instances",
    "DeleteStackInstances": "delete_stack_instances",
    "DetectStackSetDrift": "detect_stack_set_drift",
}

_FINISHED_INSTANCE = ("SUCCEEDED", "FAILED", "CANCELLED")


class Detached(Exception):
    """``deploy --detach``: the runner started ``operation`` (with ``api``) and did not wait for it."""

    def __init__(self, operation: RunningOperation, api: str) -> None:
        self.operation = operation
        self.api = api
        super().__init__(
            f"operation {operation.operation_id} ({api}) on stack set {operation.stack_set} started"
        )


@attrs.frozen
class Backoff:
    """Capped exponential backoff with jitter: ``min(cap, initial * factor**attempt)``, of which
    the ``jitter`` fraction is randomised."""

    initial: float = 5.0
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.5

    def delay(self, attempt: int, rand: float) -> float:
        base = min(self.cap, self.initial * self.factor**attempt)
        return base * (1 - self.jitter) + base * self.jitter * rand


@attrs.frozen
class Runtime:
    """The injectable effects of waiting, and the deadline of a run (``timeout`` seconds)."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    random: Callable[[], float] = _random.random
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())
    backoff: Backoff = Backoff()
    timeout: float = 3600.0


@attrs.frozen
class OperationResult:
    """A StackSet operation that ended SUCCEEDED."""

    stack_set: str
    id: str
    status: str
    #: instances that FAILED (or were CANCELLED) within the operation's failure tolerance
    failed: tuple[FailedInstance, ...] = ()
    #: other operations on the stack set this one waited for before its call was accepted
    waited: tuple[OperationResult, ...] = ()


class OperationRunner:
    """Starts and waits for the operations on an environment's stack sets, which all live in one
    (administration) Region: ``cfn`` is that Region's client, ``call_as`` the CallAs of every call.

    ``count_progress``: count the finished instances while waiting (one more read per poll; the
    CLI asks for it only on a TTY). The run's deadline starts at the first wait (or
    :meth:`restart_deadline`) and covers every operation after it.
    """

    def __init__(
        self,
        cfn: CloudFormationClient,
        *,
        call_as: CallAs = "SELF",
        runtime: Runtime | None = None,
        reporter: Reporter | None = None,
        count_progress: bool = False,
        detach: bool = False,
    ) -> None:
        self.cfn = cfn
        #: start an operation and raise :class:`Detached` instead of waiting for it (``deploy --detach``)
        self.detach = detach
        self.call_as = call_as
        self.runtime = runtime or Runtime()
        self.reporter: Reporter = reporter or NullReporter()
        self.count_progress = count_progress
        self._deadline: float | None = None

    # ------------------------------------------------------------------ deadline

    def restart_deadline(self) -> None:
        """The deadline is ``timeout`` seconds from now (a rollout restarts it when it begins)."""
        self._deadline = self.runtime.clock() + self.runtime.timeout

    def _deadline_passed(self) -> bool:
        if self._deadline is None:
            self.restart_deadline()
        return self.runtime.clock() > (self._deadline or 0.0)

    def _pause(self, attempt: int) -> None:
        self.runtime.sleep(self.runtime.backoff.delay(attempt, self.runtime.random()))

    # ------------------------------------------------------------------ start

    def create_stack_set(self, stack_set: str, request: Mapping[str, Any]) -> None:
        """CreateStackSet with an idempotent ClientRequestToken; a stack set of that name created
        meanwhile (a concurrent run) counts as created."""
        try:
            self.cfn.create_stack_set(**request, ClientRequestToken=self.runtime.new_id())
        except ClientError as exc:
            if error_code(exc) != "NameAlreadyExistsException":
                raise
            self.reporter.info(f"{stack_set}: already exists (created by a concurrent run)")

    def run(self, stack_set: str, api: str, request: Mapping[str, Any], *, total: int = 0) -> OperationResult:
        """Start the operation ``api`` (a key of :data:`OPERATION_METHODS`) with ``request`` and
        wait for it (``total``: the instances it covers, for the progress display).

        Another operation in progress on the stack set is waited for first, and the call retried
        with the same OperationId (raises :class:`~stacksets.errors.StillInProgress` when it is
        still refused at the deadline). StaleRequestException raises
        :class:`~stacksets.errors.StaleState`. Returns when the operation SUCCEEDED; raises
        :class:`~stacksets.errors.OperationFailed` when it ended FAILED or STOPPED."""
        operation_id, waited = self._start(stack_set, api, request)
        if self.detach:
            raise Detached(RunningOperation(stack_set, operation_id), api)
        return attrs.evolve(self.wait(stack_set, operation_id, total), waited=waited)

    def _start(
        self, stack_set: str, api: str, request: Mapping[str, Any]
    ) -> tuple[str, tuple[OperationResult, ...]]:
        """Start the operation (see :meth:`run`): its id, and the operations waited for first."""
        body = {**request, "OperationId": self.runtime.new_id()}
        method = getattr(self.cfn, OPERATION_METHODS[api])
        waited: list[OperationResult] = []
        attempt = 0
        while True:
            try:
                response = method(**body)
            except ClientError as exc:
                code = error_code(exc)
                if code == "OperationIdAlreadyExistsException":
                    response = {"OperationId": body["OperationId"]}
                elif code == "OperationInProgressException":
                    running = running_operations(self.cfn, stack_set, self.call_as)
                    self.reporter.info(f"{stack_set}: another operation is in progress; waiting for it")
                    waited.extend(self.wait(stack_set, op) for op in running)
                    # Always back off before retrying, and stop at the deadline: ListStackSetOperations
                    # may still list an operation as running that DescribeStackSetOperation already
                    # reports finished (or none at all), and the call keeps being refused meanwhile.
                    if self._deadline_passed():
                        raise StillInProgress(stack_set, api, running, self.runtime.timeout) from exc
                    self._pause(attempt)
                    attempt += 1
                    continue
                elif code == "StaleRequestException":
                    raise StaleState(stack_set, api) from exc
                else:
                    raise
            operation_id = str(response.get("OperationId") or body["OperationId"])
            self.reporter.operation(stack_set, operation_id, api)
            return operation_id, tuple(waited)

    def stop(self, stack_set: str, operation_id: str) -> str:
        """StopStackSetOperation, then wait (polling like :meth:`wait`) until the operation ended;
        returns how it ended: STOPPED, or SUCCEEDED/FAILED when it ended before it could be stopped
        (InvalidOperationException: it is no longer running). Instances already being deployed
        finish their stack operation; the others are not started (CloudFormation's StopStackSetOperation)."""
        try:
            self.cfn.stop_stack_set_operation(
                StackSetName=stack_set, OperationId=operation_id, CallAs=self.call_as
            )
        except ClientError as exc:
            if error_code(exc) != "InvalidOperationException":
                raise
        try:
            return self.wait(stack_set, operation_id).status
        except OperationFailed as exc:
            return exc.status

    def delete_stack_set(self, stack_set: str) -> None:
        """DeleteStackSet (not an operation: nothing to wait for)."""
        self.cfn.delete_stack_set(StackSetName=stack_set, CallAs=self.call_as)

    # ------------------------------------------------------------------ wait

    def wait(self, stack_set: str, operation_id: str, total: int = 0) -> OperationResult:
        """Poll the operation with capped exponential backoff until it ends (an operation this run
        did not start, too: one already in flight). See :meth:`run` for what it returns or raises."""
        start = self.runtime.clock()
        attempt = 0
        lost = 0  # consecutive polls that failed at the network level
        finished = False
        try:
            while True:
                try:
                    op = self.cfn.describe_stack_set_operation(
                        StackSetName=stack_set,
                        OperationId=operation_id,
                        CallAs=self.call_as,
                    )["StackSetOperation"]
                except NETWORK_ERRORS as exc:
                    # botocore already retried this call; the operation runs on regardless, so keep
                    # polling a few more times before giving up.
                    lost += 1
                    if lost > WAIT_NETWORK_RETRIES:
                        raise LostContact(stack_set, operation_id, exc) from exc
                    self.reporter.info(f"{stack_set}: cannot reach CloudFormation ({exc}); retrying")
                    self._check_deadline(stack_set, operation_id)
                    self._pause(attempt)
                    attempt += 1
                    continue
                lost = 0
                status = op.get("Status", "")
                if status in ("SUCCEEDED", "FAILED", "STOPPED"):
                    finished = True
                    self.reporter.done(stack_set, operation_id, status)
                    if status != "SUCCEEDED":
                        raise OperationFailed(
                            stack_set, operation_id, status, self._failed_instances(stack_set, operation_id)
                        )
                    # Within the failure tolerance, but not everywhere: say where.
                    partial = op.get("StatusDetails", {}).get("FailedStackInstancesCount", 0)
                    failed = self._failed_instances(stack_set, operation_id) if partial else ()
                    return OperationResult(stack_set, operation_id, status, failed)
                self._check_deadline(stack_set, operation_id)
                done = self._finished_instances(stack_set, operation_id) if self.count_progress else 0
                self.reporter.waiting(
                    stack_set, operation_id, status, self.runtime.clock() - start, done, total
                )
                self._pause(attempt)
                attempt += 1
        except BaseException as exc:
            # Whatever stopped the wait before the operation ended leaves it running: say which.
            if not finished and stop_context(exc).running_operation is None:
                add_stop_context(exc, running_operation=RunningOperation(stack_set, operation_id))
            raise

    def _check_deadline(self, stack_set: str, operation_id: str) -> None:
        if self._deadline_passed():
            raise OperationTimeout(stack_set, [operation_id], self.runtime.timeout)

    def _results(self, stack_set: str, operation_id: str) -> list[Any]:
        paginator = self.cfn.get_paginator("list_stack_set_operation_results")
        pages = paginator.paginate(
            StackSetName=stack_set,
            OperationId=operation_id,
            CallAs=self.call_as,
        )
        return [s for page in pages for s in page.get("Summaries", [])]

    def _finished_instances(self, stack_set: str, operation_id: str) -> int:
        """How many instances of the operation are done (for the progress display only)."""
        return sum(1 for s in self._results(stack_set, operation_id) if s.get("Status") in _FINISHED_INSTANCE)

    def _failed_instances(self, stack_set: str, operation_id: str) -> tuple[FailedInstance, ...]:
        return tuple(
            FailedInstance(
                account=s.get("Account", ""),
                region=s.get("Region", ""),
                status=s.get("Status", ""),
                reason=s.get("StatusReason", ""),
            )
            for s in self._results(stack_set, operation_id)
            if s.get("Status") != "SUCCEEDED"
        )
