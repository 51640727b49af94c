"""Fault injection for the deployer's CLI: moto's server holds the state, botocore ``before-send``
hooks replace chosen responses (AWS behaviours moto never shows) or raise network errors.

A :class:`Faults` is a client hook (``main(hooks=(faults.attach,))``). Each rule matches an
operation name and, optionally, request parameters, and answers a fixed number of times
(``times``; None: always) with an error, a fake response body, or an exception; everything
else goes to moto. Every request is recorded (operation and parameters) in order.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import attrs
import botocore.endpoint
import botocore.retries.bucket
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from stacksets.cli import main
from stacksets.local import local_session
from stacksets.operations import Backoff, Runtime
from stacksets.preflight import TEMPLATE_BODY_LIMIT
from stacksets.session import CallLog

DELETES = ("DeleteStackInstances", "DeleteStackSet", "DeleteStack", "StopStackSetOperation")


class RawBody:
    """The raw body of a fake HTTP response (what ``AWSResponse`` reads)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def fake_response(url: str, status: int, body: bytes) -> AWSResponse:
    """A fake HTTP response, as a ``before-send`` hook returns it instead of sending the request."""
    return AWSResponse(url, status, HTTPHeaders(), RawBody(body))


def error_body(code: str, message: str) -> bytes:
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
        "</Error><RequestId>fault</RequestId></ErrorResponse>"
    ).encode()


def result_body(operation: str, inner: str) -> bytes:
    return (
        f"<{operation}Response><{operation}Result>{inner}</{operation}Result></{operation}Response>".encode()
    )


def members(rows: list[dict[str, Any]]) -> str:
    """An XML list of structures (query protocol)."""

    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "".join(f"<{k}>{value(x)}</{k}>" for k, x in v.items())
        return str(v)

    return "".join(f"<member>{value(row)}</member>" for row in rows)


@attrs.define
class Rule:
    operation: str
    when: Callable[[dict[str, str]], bool]
    times: int | None
    status: int = 200
    body: bytes = b""
    raises: Callable[[], Exception] | None = None
    hits: int = 0


@attrs.define
class Faults:
    rules: list[Rule] = attrs.field(factory=list)
    requests: list[tuple[str, dict[str, str]]] = attrs.field(factory=list)

    # ------------------------------------------------------------------ rules

    def _add(self, operation: str, match: dict[str, str] | None, times: int | None, **kw: Any) -> Rule:
        wanted = match or {}

        def when(params: dict[str, str]) -> bool:
            return all(value in params.get(key, "") for key, value in wanted.items())

        rule = Rule(operation, when, times, **kw)
        self.rules.append(rule)
        return rule

    def error(
        self,
        operation: str,
        code: str,
        message: str = "injected",
        *,
        match: dict[str, str] | None = None,
        times: int | None = 1,
        status: int = 400,
    ) -> Rule:
        return self._add(operation, match, times, status=status, body=error_body(code, message))

    def respond(
        self, operation: str, inner: str, *, match: dict[str, str] | None = None, times: int | None = 1
    ) -> Rule:
        return self._add(operation, match, times, body=result_body(operation, inner))

    def answer(
        self,
        operation: str,
        status: int,
        body: bytes,
        *,
        match: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> Rule:
        """Any HTTP answer, e.g. an HTML error page with status 500 (not an AWS response)."""
        return self._add(operation, match, times, status=status, body=body)

    def fail(
        self,
        operation: str,
        exc: Callable[[], Exception],
        *,
        match: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> Rule:
        return self._add(operation, match, times, raises=exc)

    # ------------------------------------------------------------------ hook

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send", self._send)

    def _send(self, request: Any, **_: Any) -> AWSResponse | None:
        body = request.body or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        params = {k: v[0] for k, v in parse_qs(text).items()}
        operation = params.get("Action", "")
        if not operation:  # REST services (S3, ...): not injected here
            return None
        self.requests.append((operation, params))
        for rule in self.rules:
            if rule.operation != operation or not rule.when(params):
                continue
            if rule.times is not None and rule.hits >= rule.times:
                continue
            rule.hits += 1
            if rule.raises is not None:
                raise rule.raises()
            return fake_response(request.url, rule.status, rule.body)
        return None

    # ------------------------------------------------------------------ queries

    def calls(self, operation: str, **match: str) -> list[dict[str, str]]:
        return [
            p
            for op, p in self.requests
            if op == operation and all(value in p.get(k, "") for k, value in match.items())
        ]

    def deletes(self) -> list[str]:
        return [op for op, _ in self.requests if op in DELETES]


class VirtualBotocoreTime:
    """botocore's own retry waits on a virtual clock, so that no test waits for them while
    botocore's retry logic runs unchanged: the backoff sleep between attempts
    (``botocore.endpoint``) and the adaptive retry mode's client-side rate limiter
    (``botocore.retries.bucket``: its clock, and the token bucket's wait for capacity) advance
    :attr:`now` instead of waiting. :attr:`backoffs` and :attr:`rate_limits` record the waits.

    Only clients created after :meth:`install` get the virtual rate limiter (botocore makes it
    with each client)."""

    def __init__(self) -> None:
        self.now = 0.0
        #: botocore's backoff between the attempts of a call
        self.backoffs: list[float] = []
        #: the adaptive mode's waits for sending capacity after throttling
        self.rate_limits: list[float] = []

    def backoff_sleep(self, seconds: float) -> None:
        self.backoffs.append(seconds)
        self.now += seconds

    def rate_limit_wait(self, seconds: float) -> None:
        self.rate_limits.append(seconds)
        self.now += seconds

    def install(self, monkeypatch: pytest.MonkeyPatch) -> VirtualBotocoreTime:
        virtual = self

        class Clock:  # botocore.retries.bucket.Clock
            def sleep(self, amount: float) -> None:
                virtual.rate_limit_wait(amount)

            def current_time(self) -> float:
                return virtual.now

        class Condition(threading.Condition):  # the token bucket waits on one for new capacity
            def wait(self, timeout: float | None = None) -> bool:
                # At least a millisecond passes, as on a real clock: a wait too short to move the
                # clock (float rounding) would leave the bucket short of capacity for ever.
                virtual.rate_limit_wait(max(timeout or 0.0, 0.001))
                return True

        monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=self.backoff_sleep))
        monkeypatch.setattr(botocore.retries.bucket, "Clock", Clock)
        monkeypatch.setattr(
            botocore.retries.bucket, "threading", SimpleNamespace(Lock=threading.Lock, Condition=Condition)
        )
        return self


class FakeClock:
    """Injected sleep and clock: tests never wait. ``interrupt_after`` sleeps raises Ctrl-C."""

    def __init__(self, interrupt_after: int | None = None) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.interrupt_after = interrupt_after

    def sleep(self, seconds: float) -> None:
        if self.interrupt_after is not None and len(self.sleeps) >= self.interrupt_after:
            raise KeyboardInterrupt
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    def runtime(self, timeout: float = 3600.0) -> Runtime:
        ids = iter(f"op-{n}" for n in range(1000))
        return Runtime(
            sleep=self.sleep,
            clock=self.clock,
            random=lambda: 0.5,
            new_id=lambda: next(ids),
            backoff=Backoff(initial=5.0, factor=2.0, cap=60.0, jitter=0.5),
            timeout=timeout,
        )


def run_cli(
    endpoint: str | None,
    *args: str,
    faults: Faults | None = None,
    clock: FakeClock | None = None,
    log: CallLog | None = None,
    hooks: tuple[Any, ...] = (),
    confirm_input: Callable[[str], str] = input,
    outputs: Path | str | None = None,
    template_limit: int = TEMPLATE_BODY_LIMIT,
) -> tuple[int, str, str]:
    """The deployer's CLI (``main``) with ``args`` against ``endpoint`` (None: none, e.g. for
    bad input or ``--local``): dummy credentials, an injected clock (:class:`FakeClock`), the
    ``faults`` and ``log`` attached to every client. Returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    extra = ["--endpoint-url", endpoint] if endpoint is not None else []
    if outputs is not None:
        extra += ["--outputs-file", str(outputs)]
    attached = (*hooks, *((faults.attach,) if faults else ()), *((log.attach,) if log else ()))
    code = main(
        [*args, *extra],
        session=local_session(),
        runtime=(clock or FakeClock()).runtime(),
        hooks=attached,
        stdout=out,
        stderr=err,
        confirm_input=confirm_input,
        template_limit=template_limit,
    )
    return code, out.getvalue(), err.getvalue()


def deploy(
    endpoint: str,
    config: Path,
    *extra: str,
    faults: Faults | None = None,
    clock: FakeClock | None = None,
    log: CallLog | None = None,
    hooks: tuple[Any, ...] = (),
    outputs: Path | str | None = None,
) -> tuple[int, str, str]:
    """``deploy --env dev --yes`` of ``config`` (``extra``: more options, e.g. ``--env prod``),
    outputs next to it unless ``outputs`` says where."""
    return run_cli(
        endpoint,
        "deploy",
        "--config",
        str(config),
        "--env",
        "dev",
        "--yes",
        *extra,
        faults=faults,
        clock=clock,
        log=log,
        hooks=hooks,
        outputs=outputs if outputs is not None else config.parent / "outputs.json",
    )
