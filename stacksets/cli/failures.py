"""How a command that stopped on an exception ends: one table, exception type -> (exit code,
what to print).

:func:`failure` finds the most specific entry for an exception (through its class hierarchy) and
returns the exit code and the lines for stderr: the first says what happened and what to do. The
lines end with what the run had done, read from the exception's stop context
(:func:`~stacksets.errors.stop_context`): the rollout phases already applied, the one that did not
complete, and the operation still running.

The last row (:class:`Exception`) ends everything else with one line naming the exception, exit 1:
a bug to report. Set ``APPSTORAGE_DEBUG=1`` for the traceback (:data:`DEBUG_VARIABLE`). An
exception botocore raises while parsing a response (not only its ``ResponseParserError``: a
``KeyError`` from an HTML page with status 200 too) or loading credentials is not a bug of ours:
it ends as those rows say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType

import attrs
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigParseError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSLError,
    SSOError,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError

from appstorage.config import ConfigError

from ..awserrors import CREDENTIAL_ERRORS, error_code
from ..errors import DeployBlocked, DeployError, OperationFailed, PreflightError, stop_context
from .context import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, BadInput
from .lastcall import LastCall

__all__ = ["DEBUG_VARIABLE", "FAILURES", "REPORT_TO", "Failure", "Render", "Stop", "failure"]

#: The environment variable that adds the traceback to every failure's message.
DEBUG_VARIABLE = "APPSTORAGE_DEBUG"
#: Where an unexpected exception (a bug) is reported.
REPORT_TO = "the appstorage issue tracker"


@attrs.frozen
class Stop:
    """What the message of a failure can name besides the exception."""

    command: str
    #: the last API call made (None: none, or not tracked)
    call: LastCall | None = None


#: (the exception, where it stopped) -> the lines to print on stderr.
Render = Callable[[BaseException, Stop], list[str]]


@attrs.frozen
class Failure:
    """One row of the table: the exit code, the message, and what the row is about in words (the
    README's exit code table lists every row by its ``summary``)."""

    code: int
    render: Render
    summary: str


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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _error(exc: BaseException, stop: Stop) -> list[str]:
    return [f"error: {exc}"]


def _error_and_context(exc: BaseException, stop: Stop) -> list[str]:
    return [f"error: {exc}", *_still_running(exc)]


def _interrupted(exc: BaseException, stop: Stop) -> list[str]:
    running = stop_context(exc).running_operation
    lines = []
    if running is not None:
        lines.append(f"still running: operation {running.operation_id} on stack set {running.stack_set}")
    lines.append(
        "interrupted: operations already started keep running in CloudFormation (not cancelled); "
        f"run {stop.command} again to pick them up and finish"
    )
    return lines


def _operation_failed(exc: BaseException, stop: Stop) -> list[str]:
    if stop.command == "deploy":
        return [f"error: {exc}", *_phases(exc), "the rollout stopped; later phases were not started"]
    return [f"error: {exc}", f"{stop.command} stopped; nothing after this operation was started"]


def _preflight(exc: BaseException, stop: Stop) -> list[str]:
    if not isinstance(exc, PreflightError):
        return _error(exc, stop)
    return [
        f"error: {exc.source}: cannot deploy as configured (no API call made):",
        *(f"  {line}" for line in exc.errors),
    ]


def _unreachable(exc: BaseException, stop: Stop) -> list[str]:
    return [
        f"error: cannot reach the AWS endpoint ({_one_line(exc)}); check --endpoint-url and the network",
        *_still_running(exc),
    ]


def _network(exc: BaseException, stop: Stop) -> list[str]:
    what = (
        "the AWS endpoint did not answer in time"
        if isinstance(exc, ReadTimeoutError | ConnectTimeoutError)
        else "the AWS endpoint closed the connection without an answer"
    )
    return [
        f"error: {what} ({_one_line(exc)}); check --endpoint-url, the network and any proxy "
        "(HTTPS_PROXY), then run the command again",
        *_still_running(exc),
    ]


def _tls(exc: BaseException, stop: Stop) -> list[str]:
    return [
        f"error: the TLS connection to the AWS endpoint failed ({_one_line(exc)}); an http:// endpoint "
        "given as https://, a proxy that intercepts TLS, or a certificate bundle (AWS_CA_BUNDLE) that "
        "does not trust it: check --endpoint-url and the network",
        *_still_running(exc),
    ]


def _unparsable(exc: BaseException, stop: Stop) -> list[str]:
    call = stop.call
    if call is None or call.status is None:
        first, failed = "error: the endpoint sent an answer that is not an AWS API response", False
    else:
        kind = "an HTML page" if b"<html" in call.body.lower() else "an answer"
        first = (
            f"error: {call.endpoint or 'the endpoint'} answered {call.name} with {kind} (HTTP "
            f"{call.status}{': ' + repr(call.preview) if call.body else ''}) that is not an AWS API response"
        )
        failed = call.status >= 500
    if failed:
        fix = (
            "the endpoint failed inside: an emulator does when it lacks what the templates read (seed it: "
            "appstorage-deploy local seed --endpoint-url URL) or does not implement the call"
        )
    else:
        fix = (
            "check that --endpoint-url is an AWS-compatible endpoint (not a web server, a proxy's page or "
            "an emulator without CloudFormation StackSets)"
        )
    return [f"{first}; {fix}, then run the command again", *_still_running(exc)]


def _no_credentials(exc: BaseException, stop: Stop) -> list[str]:
    return ["error: no AWS credentials found: configure a profile or environment credentials"]


def _credentials_unavailable(exc: BaseException, stop: Stop) -> list[str]:
    return [
        f"error: the AWS credentials could not be loaded ({_one_line(exc)}); check AWS_PROFILE and that "
        "profile's settings (run 'aws sso login' for an SSO profile), or set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY",
        *_still_running(exc),
    ]


def _profile_not_found(exc: BaseException, stop: Stop) -> list[str]:
    return [
        f"error: {_one_line(exc)}: set AWS_PROFILE to a profile of ~/.aws/config (aws configure "
        "list-profiles lists them), or unset it"
    ]


def _no_region(exc: BaseException, stop: Stop) -> list[str]:
    return ["error: no AWS region configured"]


def _invalid_region(exc: BaseException, stop: Stop) -> list[str]:
    return [
        f"error: {_one_line(exc)}: set AWS_REGION (or AWS_DEFAULT_REGION, or the profile's region) to a "
        "region code such as us-east-1"
    ]


def _refused(exc: BaseException, stop: Stop) -> list[str]:
    if not isinstance(exc, ClientError):
        return _error_and_context(exc, stop)
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


def _broken_pipe(exc: BaseException, stop: Stop) -> list[str]:
    return ["error: the output was closed before the command finished (broken pipe)"]


def _os_error(exc: BaseException, stop: Stop) -> list[str]:
    if not isinstance(exc, OSError) or not exc.filename:
        return [f"error: {_one_line(exc)}", *_still_running(exc)]
    return [
        f"error: cannot use {exc.filename}: {exc.strerror}; check the path (--outputs-file, --config) "
        "and its permissions",
        *_still_running(exc),
    ]


def _unexpected(exc: BaseException, stop: Stop) -> list[str]:
    return [
        f"error: unexpected {type(exc).__name__} in {stop.command}: {_one_line(exc)}. This is a bug in "
        f"appstorage-deploy: please report it to {REPORT_TO} with the command line, and the traceback "
        f"{DEBUG_VARIABLE}=1 prints",
        *_still_running(exc),
    ]


_NETWORK = "the endpoint could not be reached, timed out, closed the connection or failed TLS"
_CREDENTIALS = "the AWS credentials are missing, cannot be loaded or were rejected"

#: exception type -> what ends the command; the most specific type of an exception wins.
FAILURES: Mapping[type[BaseException], Failure] = MappingProxyType(
    {
        ConfigError: Failure(EXIT_BAD_INPUT, _error, "the configuration file is invalid"),
        BadInput: Failure(EXIT_BAD_INPUT, _error, "an option is wrong or missing (deploy without --yes)"),
        PreflightError: Failure(EXIT_BAD_INPUT, _preflight, "the configuration cannot be deployed as is"),
        ProfileNotFound: Failure(EXIT_BAD_INPUT, _profile_not_found, "AWS_PROFILE names no profile"),
        InvalidRegionError: Failure(EXIT_BAD_INPUT, _invalid_region, "the AWS region setting is not valid"),
        KeyboardInterrupt: Failure(EXIT_INTERRUPTED, _interrupted, "interrupted (Ctrl-C)"),
        OperationFailed: Failure(EXIT_FAILED, _operation_failed, "a StackSet operation failed"),
        # the plan was printed with BLOCKED lines
        DeployBlocked: Failure(EXIT_FAILED, _error, "the plan is refused (BLOCKED, data loss)"),
        DeployError: Failure(EXIT_FAILED, _error_and_context, "the deployer stopped, saying why"),
        EndpointConnectionError: Failure(EXIT_FAILED, _unreachable, _NETWORK),
        ConnectionClosedError: Failure(EXIT_FAILED, _network, _NETWORK),
        ReadTimeoutError: Failure(EXIT_FAILED, _network, _NETWORK),
        ConnectTimeoutError: Failure(EXIT_FAILED, _network, _NETWORK),
        SSLError: Failure(EXIT_FAILED, _tls, _NETWORK),
        ResponseParserError: Failure(
            EXIT_FAILED, _unparsable, "the endpoint answered something that is not an AWS API response"
        ),
        NoCredentialsError: Failure(EXIT_FAILED, _no_credentials, _CREDENTIALS),
        PartialCredentialsError: Failure(EXIT_FAILED, _credentials_unavailable, _CREDENTIALS),
        CredentialRetrievalError: Failure(EXIT_FAILED, _credentials_unavailable, _CREDENTIALS),
        ConfigParseError: Failure(EXIT_FAILED, _credentials_unavailable, _CREDENTIALS),
        SSOError: Failure(EXIT_FAILED, _credentials_unavailable, _CREDENTIALS),
        TokenRetrievalError: Failure(EXIT_FAILED, _credentials_unavailable, _CREDENTIALS),
        NoRegionError: Failure(EXIT_FAILED, _no_region, "no AWS region is configured"),
        ClientError: Failure(EXIT_FAILED, _refused, "AWS refused a call"),
        BotoCoreError: Failure(EXIT_FAILED, _error_and_context, "botocore stopped the call"),
        BrokenPipeError: Failure(EXIT_FAILED, _broken_pipe, "the output was closed (broken pipe)"),
        OSError: Failure(EXIT_FAILED, _os_error, "a file could not be read or written"),
        Exception: Failure(EXIT_FAILED, _unexpected, "anything else: a bug to report"),
    }
)

#: botocore modules whose exceptions of any type mean: what the row of this type says.
_RAISED_IN = (("botocore.parsers", ResponseParserError), ("botocore.credentials", CredentialRetrievalError))


def _raised_in(traceback: TracebackType | None) -> type[BaseException] | None:
    """The row for an exception raised inside botocore's response parser or credential providers."""
    found = None
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        for prefix, row in _RAISED_IN:
            if module == prefix:
                found = row
        traceback = traceback.tb_next
    return found


def _row(exc: BaseException) -> Failure | None:
    for cls in type(exc).__mro__:
        entry = FAILURES.get(cls)
        if entry is not None:
            if cls is Exception and (inside := _raised_in(exc.__traceback__)) is not None:
                return FAILURES[inside]
            return entry
    return None


def failure(exc: BaseException, command: str, call: LastCall | None = None) -> tuple[int, list[str]] | None:
    """The exit code and stderr lines for ``exc`` stopping ``command`` (``call``: the last API call
    made, which the message of an unparsable answer names); None for an exception that is not an
    :class:`Exception` (``SystemExit``, ``GeneratorExit``: let it go on)."""
    entry = _row(exc)
    if entry is None:
        return None
    return entry.code, entry.render(exc, Stop(command, call))
