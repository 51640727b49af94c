"""What ``appstorage-deploy local start`` records about the background emulator, and how a later
command tells whether that record is still true.

The record is one JSON file, ``emulator.json``, in the per-user state directory
(:func:`state_dir`: ``$APPSTORAGE_STATE_DIR``, else ``$XDG_STATE_HOME/appstorage``, else
``~/.local/state/appstorage``): the endpoint, the server's process id, when it started, its log
file and what was seeded into it (:class:`Seeded`: which configuration file, with which content,
for which environments). A record is trusted only when that process is alive and the endpoint
answers ``GET /moto-api/appstorage`` with the same process id (:func:`check`); otherwise it is
stale, and says why.

This module imports neither moto nor boto3: it is what every command reads before it knows
whether an emulator is needed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

__all__ = [
    "MARKER_PATH",
    "STATE_DIR_ENV",
    "EmulatorState",
    "Probe",
    "Seeded",
    "StateError",
    "check",
    "config_digest",
    "probe",
    "process_alive",
    "read_state",
    "remove_state",
    "state_dir",
    "state_file",
    "write_state",
]

#: Overrides the state directory (tests isolate themselves with it).
STATE_DIR_ENV = "APPSTORAGE_STATE_DIR"
#: The path an emulator with appstorage's models answers (:mod:`stacksets.emulator.marker`).
MARKER_PATH = "/moto-api/appstorage"


class StateError(Exception):
    """The state file cannot be read as a record (``str()`` says which file and why)."""


def state_dir() -> Path:
    """The per-user directory of the emulator's state file and log."""
    explicit = os.environ.get(STATE_DIR_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "appstorage"


def state_file() -> Path:
    return state_dir() / "emulator.json"


def config_digest(path: Path) -> str:
    """The configuration's content, as the record compares it (a changed file is seeded again)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@attrs.frozen
class Seeded:
    """One seeding of the emulator: a configuration file (its path and content digest), the
    environments seeded from it and what was created (``stacksets.local.seed``'s counts)."""

    config: str
    digest: str
    environments: tuple[str, ...]
    counts: Mapping[str, int] = attrs.field(factory=dict)

    def covers(self, config: str, digest: str, environment: str) -> bool:
        return (self.config, self.digest) == (config, digest) and environment in self.environments


@attrs.frozen
class EmulatorState:
    """The record of a background emulator."""

    endpoint: str
    pid: int
    started: str
    log: str
    seeded: tuple[Seeded, ...] = ()

    def missing(self, config: str, digest: str, environments: Iterable[str]) -> list[str]:
        """The environments of that configuration not seeded yet."""
        return [e for e in environments if not any(s.covers(config, digest, e) for s in self.seeded)]

    def with_seeded(self, seeded: Seeded) -> EmulatorState:
        return attrs.evolve(self, seeded=(*self.seeded, seeded))

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["seeded"] = [{**attrs.asdict(s), "environments": list(s.environments)} for s in self.seeded]
        return data


def _from_json(data: Any) -> EmulatorState:
    seeded = tuple(
        Seeded(
            config=str(s["config"]),
            digest=str(s["digest"]),
            environments=tuple(str(e) for e in s["environments"]),
            counts={str(k): int(v) for k, v in dict(s.get("counts", {})).items()},
        )
        for s in data.get("seeded", [])
    )
    return EmulatorState(
        endpoint=str(data["endpoint"]),
        pid=int(data["pid"]),
        started=str(data["started"]),
        log=str(data["log"]),
        seeded=seeded,
    )


def read_state() -> EmulatorState | None:
    """The record, or None when there is none. A file that is not a record is a
    :class:`StateError`."""
    path = state_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"{path} cannot be read: {exc.strerror}") from exc
    try:
        return _from_json(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateError(f"{path} is not an emulator record ({type(exc).__name__}: {exc})") from exc


def write_state(state: EmulatorState) -> Path:
    """Write the record atomically (a reader never sees half of it)."""
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def remove_state() -> None:
    with contextlib.suppress(FileNotFoundError):
        state_file().unlink()


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie, killed but not yet reaped, is not)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours (the probe tells)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True  # no /proc (macOS): kill(0) is all there is
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


@attrs.frozen
class Probe:
    """What an endpoint is: ``appstorage`` (a moto server with the emulator's models, and its
    pid), ``moto`` (a plain moto server), ``other`` (answers, but not as moto) or
    ``unreachable``."""

    kind: Literal["appstorage", "moto", "other", "unreachable"]
    pid: int | None = None
    detail: str = ""


#: No proxy: the emulator is on loopback, and a proxy in the environment must not answer for it.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def probe(endpoint: str, *, timeout: float = 5.0) -> Probe:
    """Ask ``endpoint`` whether it is an emulator with appstorage's models (two GETs at most)."""
    base = endpoint.rstrip("/")
    if not base.startswith(("http://", "https://")):
        return Probe("other", detail="not an http(s) URL")
    try:
        status, body = _get(base + MARKER_PATH, timeout)
        if status == 200:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                data = json.loads(body)
                if data.get("emulator") == "appstorage":
                    return Probe("appstorage", pid=int(data["pid"]))
        # moto's own configuration route: every moto server answers it with JSON.
        status, body = _get(base + "/moto-api/config", timeout)
    except (urllib.error.URLError, OSError) as exc:
        return Probe("unreachable", detail=str(getattr(exc, "reason", exc)))
    if status in (200, 201):
        with contextlib.suppress(ValueError):
            if isinstance(json.loads(body), dict):
                return Probe("moto")
    return Probe("other", detail=f"HTTP {status}")


def check(state: EmulatorState, *, timeout: float = 5.0) -> str | None:
    """None when the record is true (the process runs and its endpoint answers as that
    process); else why it is stale."""
    if not process_alive(state.pid):
        return f"process {state.pid} is not running"
    found = probe(state.endpoint, timeout=timeout)
    if found.kind == "appstorage" and found.pid == state.pid:
        return None
    if found.kind == "appstorage":
        return f"{state.endpoint} is now served by process {found.pid}, not {state.pid}"
    if found.kind == "unreachable":
        return f"process {state.pid} runs but {state.endpoint} does not answer ({found.detail})"
    return f"{state.endpoint} is not the emulator of process {state.pid} (it answers as {found.kind})"
