"""How a command that stopped on an exception ends: one table, exception type -> (exit code,
what to print).

:func:`failure` finds the most specific entry for an exception (through its class hierarchy) and
returns the exit code and the lines for stderr. The lines end with what the run had done, read
from the exception's stop context (:func:`~stacksets.errors.stop_context`): the rollout phases
already applied, the one that did not complete, and the operation still running.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from appstorage.config import ConfigError

from ..awserrors import CREDENTIAL_ERRORS, error_code
from ..errors import DeployBlocked, DeployError, OperationFailed, PreflightError, stop_context
from .context import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, BadInput

__all__ = ["FAILURES", "Render", "failure"]

#: (the exception, the command) -> the lines to print on stderr.
Render = Callable[[BaseException, str], list[str]]


def _phases(exc: BaseException) -> list[str]:
    """Which phases of a deploy were already applied and which one stopped."""
    context = stop_context(exc)
    lines = [
        f"{p.environment}: the {p.kind} phase (stack set {p.stack_set}) was already applied and stays applied"
        for p in context.applied_phases
    ]
    stopped = context.stopped_phase
    if stopped is not None:
        lines.append(
            f"{stopped.environment}: the {stopped.kind} phase (stack set {stopped.stack_set}) did not "
            "complete; fix the error and run deploy again to finish it"
        )
    return lines


def _still_running(exc: BaseException) -> list[str]:
    """The phases, and the operation that was being waited for: it is not cancelled."""
    lines = _phases(exc)
    running = stop_context(exc).running_operation
    if running is not None:
        lines.append(
            f"still running (not cancelled): operation {running.operation_id} on stack set "
            f"{running.stack_set}; run the command again to pick it up"
        )
    return lines


def _error(exc: BaseException, command: str) -> list[str]:
    return [f"error: {exc}"]


def _error_and_context(exc: BaseException, command: str) -> list[str]:
    return [f"error: {exc}", *_still_running(exc)]


def _interrupted(exc: BaseException, command: str) -> list[str]:
    running = stop_context(exc).running_operation
    lines = []
    if running is not None:
        lines.append(f"still running: operation {running.operation_id} on stack set {running.stack_set}")
    lines.append(
        "interrupted: operations already started keep running in CloudFormation (not cancelled); "
        f"run {command} again to pick them up and finish"
    )
    return lines


def _operation_failed(exc: BaseException, command: str) -> list[str]:
    if command == "deploy":
        return [f"error: {exc}", *_phases(exc), "the rollout stopped; later phases were not started"]
    return [f"error: {exc}", f"{command} stopped; nothing after this operation was started"]


def _preflight(exc: BaseException, command: str) -> list[str]:
    if not isinstance(exc, PreflightError):
        return _error(exc, command)
    return [
        f"error: {exc.source}: cannot deploy as configured (no API call made):",
        *(f"  {line}" for line in exc.errors),
    ]


def _unreachable(exc: BaseException, command: str) -> list[str]:
    return [
        f"error: cannot reach the AWS endpoint ({exc}); check --endpoint-url and the network",
        *_still_running(exc),
    ]


def _no_credentials(exc: BaseException, command: str) -> list[str]:
    return ["error: no AWS credentials found: configure a profile or environment credentials"]


def _no_region(exc: BaseException, command: str) -> list[str]:
    return ["error: no AWS region configured"]


def _refused(exc: BaseException, command: str) -> list[str]:
    if not isinstance(exc, ClientError):
        return _error_and_context(exc, command)
    code = error_code(exc)
    if code in CREDENTIAL_ERRORS:
        message = exc.response.get("Error", {}).get("Message", "")
        first = (
            f"error: the AWS credentials were rejected ({code}: {message}); refresh them (for example "
            "'aws sso login' or a new session token) and run the command again"
        )
    else:
        first = f"error: AWS refused a call: {exc}"
    return [first, *_still_running(exc)]


#: exception type -> (exit code, render); the most specific type of an exception wins.
FAILURES: Mapping[type[BaseException], tuple[int, Render]] = MappingProxyType(
    {
        ConfigError: (EXIT_BAD_INPUT, _error),
        BadInput: (EXIT_BAD_INPUT, _error),
        KeyboardInterrupt: (EXIT_INTERRUPTED, _interrupted),
        PreflightError: (EXIT_BAD_INPUT, _preflight),
        OperationFailed: (EXIT_FAILED, _operation_failed),
        DeployBlocked: (EXIT_FAILED, _error),  # the plan was printed with BLOCKED lines
        DeployError: (EXIT_FAILED, _error_and_context),
        EndpointConnectionError: (EXIT_FAILED, _unreachable),
        NoCredentialsError: (EXIT_FAILED, _no_credentials),
        NoRegionError: (EXIT_FAILED, _no_region),
        ClientError: (EXIT_FAILED, _refused),
        BotoCoreError: (EXIT_FAILED, _error_and_context),
    }
)


def failure(exc: BaseException, command: str) -> tuple[int, list[str]] | None:
    """The exit code and stderr lines for ``exc`` stopping ``command``; None when the table has
    no entry for it (a bug: let it raise)."""
    for cls in type(exc).__mro__:
        entry = FAILURES.get(cls)
        if entry is not None:
            code, render = entry
            return code, render(exc, command)
    return None
