"""Progress for the user while a command runs: phases, operations, waiting, notes.

Actions report through a :class:`Reporter`; :class:`NullReporter` says nothing (the default for
library use and tests), :class:`RichReporter` draws on the terminal (stderr) and stays quiet when
it is not a TTY.
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.status import Status

__all__ = ["NullReporter", "Reporter", "RichReporter"]


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
