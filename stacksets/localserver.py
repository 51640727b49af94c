"""The background emulator of ``appstorage-deploy local start``: moto's server with the
emulator's models (:func:`stacksets.emulator.register_models`) on a free loopback port, in a
detached process that outlives the command, so that ``deploy --local`` and then ``status
--local``, ``outputs --local`` or ``destroy --local`` see the same resources.

* :func:`start`: spawns ``python -m stacksets.localserver serve READY_FILE`` through a short-lived
  intermediate process (so the server is nobody's child: it survives the command and, once
  stopped, is reaped by the system), waits until the server wrote its endpoint and pid to the
  ready file, checks that the endpoint answers as that process, and records it
  (:mod:`stacksets.localstate`);
* :func:`serve`: the server process itself; it ends on SIGTERM or SIGINT;
* :func:`stop`: SIGTERM to the recorded process (after checking that it is still that server),
  then forgets the record.

Its log is ``emulator.log`` in the state directory.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import DeployError
from .localstate import EmulatorState, check, process_alive, remove_state, state_dir, write_state

__all__ = ["EmulatorFailed", "serve", "start", "stop"]

#: Seconds ``start`` waits for the server to answer (moto's import takes a few).
START_TIMEOUT = 60.0
#: Seconds ``stop`` waits after SIGTERM before SIGKILL.
STOP_TIMEOUT = 10.0

#: The intermediate process: start the server in a new session, and exit at once.
_DETACH = "import subprocess, sys; subprocess.Popen(sys.argv[1:], start_new_session=True)"


class EmulatorFailed(DeployError):
    """The background emulator did not start or stop (``str()`` says why and where its log is)."""


def _package_root() -> str:
    """The directory this copy of ``stacksets`` is imported from: the server imports the same one."""
    return str(Path(__file__).resolve().parent.parent)


def _log_tail(log: Path, lines: int = 5) -> str:
    try:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return " | ".join(line.strip() for line in tail if line.strip())


def _read_ready(ready: Path) -> dict[str, Any] | None:
    import json

    try:
        data: dict[str, Any] = json.loads(ready.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def start(*, timeout: float = START_TIMEOUT, clock: Callable[[], float] = time.monotonic) -> EmulatorState:
    """Start the background emulator and record it. The caller checked that none runs."""
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    ready = directory / "emulator.ready"
    log = directory / "emulator.log"
    ready.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_package_root(), env.get("PYTHONPATH")]))
    command = [
        sys.executable,
        "-c",
        _DETACH,
        sys.executable,
        "-m",
        "stacksets.localserver",
        "serve",
        str(ready),
    ]
    with log.open("ab") as out:
        # cwd: the state directory, so that no ./stacksets of the caller's shadows the package.
        subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=directory, env=env, check=True
        )
    deadline = clock() + timeout
    data = _read_ready(ready)
    while data is None:
        if clock() > deadline:
            raise EmulatorFailed(
                f"the local emulator did not start within {timeout:.0f} s (log: {log}: {_log_tail(log)})"
            )
        time.sleep(0.1)
        data = _read_ready(ready)
    ready.unlink(missing_ok=True)
    if "error" in data:
        raise EmulatorFailed(f"the local emulator did not start: {data['error']} (log: {log})")
    state = EmulatorState(
        endpoint=str(data["endpoint"]),
        pid=int(data["pid"]),
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        log=str(log),
    )
    stale = check(state)
    if stale is not None:
        raise EmulatorFailed(f"the local emulator started but {stale} (log: {log})")
    write_state(state)
    return state


def stop(state: EmulatorState, *, timeout: float = STOP_TIMEOUT) -> bool:
    """End the recorded emulator and forget the record. Returns False when the record was stale
    (nothing was signalled: the pid may belong to another process by now)."""
    if check(state) is not None:
        remove_state()
        return False
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while process_alive(state.pid):
        if time.monotonic() > deadline:
            os.kill(state.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    remove_state()
    return True


def _write_ready(ready: Path, data: dict[str, Any]) -> None:
    import json

    partial = ready.with_name(ready.name + ".partial")
    partial.write_text(json.dumps(data), encoding="utf-8")
    os.replace(partial, ready)


def serve(ready: Path) -> int:
    """The server process: moto with the emulator's models on 127.0.0.1 (a port the OS picks);
    writes ``{"endpoint", "pid"}`` (or ``{"error"}``) to ``ready``; serves until SIGTERM/SIGINT."""
    try:
        from moto.server import ThreadedMotoServer

        from .emulator import register_models

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logging.getLogger("moto").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", module="moto")
        register_models()  # before the server answers its first request
        server: Any = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
    except Exception as exc:
        _write_ready(ready, {"error": f"{type(exc).__name__}: {exc}"})
        return 1
    done = threading.Event()

    def _end(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _end)
    signal.signal(signal.SIGINT, _end)
    _write_ready(ready, {"endpoint": f"http://{host}:{port}", "pid": os.getpid()})
    print(f"{datetime.now(UTC).isoformat(timespec='seconds')} serving http://{host}:{port}", flush=True)
    while not done.wait(1.0):
        pass
    server.stop()
    print(f"{datetime.now(UTC).isoformat(timespec='seconds')} stopped", flush=True)
    return 0


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2 or argv[0] != "serve":
        print("usage: python -m stacksets.localserver serve READY_FILE", file=sys.stderr)
        return 2
    return serve(Path(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
