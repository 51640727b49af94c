"""Fault injection for the deployer's CLI: moto's server holds the state, botocore ``before-send``
hooks replace chosen responses (AWS behaviours moto never shows) or raise network errors.

A :class:`Faults` is a client hook (``main(hooks=(faults.attach,))``). Each rule matches an
operation name and, optionally, request parameters, and answers a fixed number of times
(``times``; None: always) with an error, a fake response body, or an exception; everything
else goes to moto. Every request is recorded (operation and parameters) in order.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import attrs
from botocore.awsrequest import AWSResponse, HTTPHeaders

from stacksets.cli import main
from stacksets.execute import Backoff, Runtime
from stacksets.local import local_session

DELETES = ("DeleteStackInstances", "DeleteStackSet", "DeleteStack", "StopStackSetOperation")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


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
            return AWSResponse(request.url, rule.status, HTTPHeaders(), _Raw(rule.body))
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
    endpoint: str,
    *args: str,
    faults: Faults | None = None,
    clock: FakeClock | None = None,
    hooks: tuple[Any, ...] = (),
    confirm_input: Callable[[str], str] = input,
    outputs: Path | None = None,
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    extra = ["--outputs-file", str(outputs)] if outputs is not None else []
    code = main(
        [*args, "--endpoint-url", endpoint, *extra],
        session=local_session(),
        runtime=(clock or FakeClock()).runtime(),
        hooks=(*hooks, *((faults.attach,) if faults else ())),
        stdout=out,
        stderr=err,
        confirm_input=confirm_input,
    )
    return code, out.getvalue(), err.getvalue()


def deploy(
    endpoint: str, config: Path, faults: Faults | None = None, clock: FakeClock | None = None, *extra: str
) -> tuple[int, str, str]:
    """``deploy --env dev --yes`` of ``config``, outputs next to it, with injected faults."""
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
        outputs=config.parent / "outputs.json",
    )
