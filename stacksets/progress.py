"""Progress for the user while a command runs: phases, operations, waiting, notes.

Actions report through a :class:`Reporter`; :class:`NullReporter` says nothing (the default for
library use and tests), :class:`RichReporter` draws on the terminal (stderr) and
:class:`LogReporter` writes plain lines for logs (stderr that is not a TTY: CI): one when an
operation starts and one when it ends, with the stack set, the operation id, its status and how
long it took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from rich.console import Console
from rich.status import Status

__all__ = ["CliReporter", "LogReporter", "NullReporter", "Reporter", "RichReporter"]


class Reporter(Protocol):
    """Progress for the user. The CLI's implementation draws on a TTY and stays quiet otherwise."""

    def phase(self, kind: str, stack_set: str, what: str) -> None: ...

    def operation(self, stack_set: str, operation_id: str, action: str) -> None: ...

    def waiting(
        self, stack_set: str, operation_id: str, status: str, elapsed: float, done: int, total: int
    ) -> None: ...

    def done(self, stack_set: str, operation_id: str, status: str) -> None: ...

    def info(self, text: str) -> None: ...


class NullReporter:
    def phase(self, kind: str, stack_set: str, what: str) -> None:
        pass

    def operation(self, stack_set: str, operation_id: str, action: str) -> None:
        pass

    def waiting(
        self, stack_set: str, operation_id: str, status: str, elapsed: float, done: int, total: int
    ) -> None:
        pass

    def done(self, stack_set: str, operation_id: str, status: str) -> None:
        pass

    def info(self, text: str) -> None:
        pass


class RichReporter:
    """Progress on stderr: phases, operations and a spinner while waiting. Silent when off."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.console = console
        self.enabled = enabled
        self._status: Status | None = None

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def phase(self, kind: str, stack_set: str, what: str) -> None:
        if self.enabled:
            self._stop()
            self.console.print(f"[bold]{kind} phase[/bold] {stack_set}: {what}")

    def operation(self, stack_set: str, operation_id: str, action: str) -> None:
        if self.enabled:
            self.console.print(f"  {action} started: operation {operation_id}")

    def waiting(
        self, stack_set: str, operation_id: str, status: str, elapsed: float, done: int, total: int
    ) -> None:
        if not self.enabled:
            return
        counts = f", {done}/{total} instances done" if total else ""
        text = f"  {stack_set}: operation {operation_id} {status} ({elapsed:.0f}s{counts})"
        if self._status is None:
            self._status = self.console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def done(self, stack_set: str, operation_id: str, status: str) -> None:
        if self.enabled:
            self._stop()
            self.console.print(f"  operation {operation_id}: {status}")

    def info(self, text: str) -> None:
        if self.enabled:
            self._stop()
            self.console.print(f"  {text}")

    def close(self) -> None:
        self._stop()


class LogReporter:
    """Progress as plain lines for a log: each phase, each operation's start and end (stack set,
    operation id, API, status, duration on ``clock``), notes, and a line every
    :attr:`heartbeat` seconds while an operation runs. ``enabled`` is False: nothing is drawn, and
    the runner counts no instances for it."""

    enabled = False

    def __init__(
        self, console: Console, clock: Callable[[], float] = time.monotonic, heartbeat: float = 300.0
    ):
        self.console = console
        self.clock = clock
        self.heartbeat = heartbeat
        self._started: dict[str, tuple[float, str]] = {}
        self._beats: dict[str, int] = {}

    def _line(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def phase(self, kind: str, stack_set: str, what: str) -> None:
        self._line(f"{kind} phase: stack set {stack_set}: {what}")

    def operation(self, stack_set: str, operation_id: str, action: str) -> None:
        self._started[operation_id] = (self.clock(), action)
        self._line(f"operation {operation_id} ({action}) on stack set {stack_set}: started")

    def waiting(
        self, stack_set: str, operation_id: str, status: str, elapsed: float, done: int, total: int
    ) -> None:
        self._started.setdefault(operation_id, (self.clock() - elapsed, "operation"))
        beat = int(elapsed // self.heartbeat) if self.heartbeat > 0 else 0
        if beat > self._beats.get(operation_id, 0):
            self._beats[operation_id] = beat
            self._line(f"operation {operation_id} on stack set {stack_set}: {status} after {elapsed:.0f}s")

    def done(self, stack_set: str, operation_id: str, status: str) -> None:
        started, action = self._started.pop(operation_id, (None, "operation"))
        took = f" after {self.clock() - started:.0f}s" if started is not None else ""
        self._line(f"operation {operation_id} ({action}) on stack set {stack_set}: {status}{took}")

    def info(self, text: str) -> None:
        self._line(text)

    def close(self) -> None:
        pass


#: What the CLI reports progress with: drawn on a terminal, plain lines in a log.
CliReporter = RichReporter | LogReporter
