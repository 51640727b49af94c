"""`appstorage-deploy local start|stop|status` and `--local` on a real background emulator: the
state directory is this test's (``APPSTORAGE_STATE_DIR`` in ``tmp_path``), the servers are real
detached processes, started and stopped by the tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stacksets.localstate import (
    STATE_DIR_ENV,
    EmulatorState,
    Seeded,
    check,
    probe,
    process_alive,
    read_state,
    state_dir,
    state_file,
    write_state,
)
from tests.faults import run_cli
from tests.helpers import closed_port, write_config


def local(*argv: str) -> tuple[int, str, str]:
    return run_cli(None, *argv)


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "state"
    monkeypatch.setenv(STATE_DIR_ENV, str(home))
    return home


@pytest.fixture
def running(state_home: Path) -> Iterator[EmulatorState]:
    """A background emulator started by `local start` (stopped after the test, whatever happened)."""
    code, _, err = local("local", "start")
    assert code == 0, err
    state = read_state()
    assert state is not None
    try:
        yield state
    finally:
        if process_alive(state.pid) and check(state) is None:
            os.kill(state.pid, signal.SIGTERM)


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(child.stdout)


# --------------------------------------------------------------------------- the state directory


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({STATE_DIR_ENV: "/x/state", "XDG_STATE_HOME": "/xdg"}, "/x/state"),
        ({"XDG_STATE_HOME": "/xdg"}, "/xdg/appstorage"),
        ({"HOME": "/home/u"}, "/home/u/.local/state/appstorage"),
    ],
)
def test_state_directory(variables: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (STATE_DIR_ENV, "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert state_dir() == Path(expected)


def test_a_record_remembers_what_was_seeded_by_file_content_and_environment() -> None:
    state = EmulatorState("http://127.0.0.1:1", 1, "now", "log").with_seeded(
        Seeded("/c.yaml", "d1", ("dev",), {"kms_keys": 2})
    )
    assert state.missing("/c.yaml", "d1", ["dev", "prod"]) == ["prod"]
    assert state.missing("/c.yaml", "d2", ["dev"]) == ["dev"]  # the file changed: seed it again
    assert state.missing("/other.yaml", "d1", ["dev"]) == ["dev"]


# --------------------------------------------------------------------------- the lifecycle


def test_start_status_deploy_twice_status_outputs_stop(running: EmulatorState, tmp_path: Path) -> None:
    """The Quick start's sequence on one background emulator: state is kept between commands."""
    # The server is nobody's child here: its own session, outliving `local start`.
    assert process_alive(running.pid) and os.getsid(running.pid) != os.getsid(0)
    assert probe(running.endpoint).pid == running.pid
    assert running.endpoint.startswith("http://127.0.0.1:")

    code, out, _ = local("local", "status")
    assert code == 0
    assert f"local emulator: up at {running.endpoint}" in out and f"pid {running.pid}" in out
    assert "seeded from the bundled example: dev, staging, prod (6 KMS keys," in out

    outputs = tmp_path / "{env}.json"
    code, out, err = local("deploy", "--local", "--yes", "--env", "dev", "--outputs-file", str(outputs))
    assert code == 0, err
    assert err.splitlines()[0] == (
        f"local emulator at {running.endpoint} (pid {running.pid}, from 'appstorage-deploy local start')"
    )
    code, out, err = local("deploy", "--local", "--yes", "--env", "dev", "--outputs-file", str(outputs))
    assert code == 0, err
    assert "dev: no changes" in out and "Plan: 0 to create, 0 to update, 2 unchanged." in out

    code, out, _ = local("status", "--local", "--env", "dev", "--json")
    assert code == 0
    rows = json.loads(out)["dev"]
    assert [r["status"] for r in rows] == ["ACTIVE", "ACTIVE"]
    assert all(i["status"] == "CURRENT" for r in rows for i in r["instances"])

    (tmp_path / "dev.json").unlink()
    code, out, err = local("outputs", "--local", "--env", "dev", "--outputs-file", str(outputs))
    assert code == 0, err
    data = json.loads((tmp_path / "dev.json").read_text())
    primary = next(s for s in data["stack_sets"] if s["kind"] == "primary")
    assert primary["instances"][0]["outputs"]["TableName"] == "tattoo-directory-dev"

    code, out, _ = local("local", "stop")
    assert (
        code == 0 and out.strip() == f"stopped the local emulator at {running.endpoint} (pid {running.pid})"
    )
    assert not process_alive(running.pid) and not state_file().exists()
    code, out, _ = local("local", "status")
    assert code == 1 and "local emulator: not running" in out


def test_local_seeds_another_configuration_once(running: EmulatorState, tmp_path: Path) -> None:
    config = write_config(tmp_path, name_prefix="other")
    code, _, err = local("plan", "--local", "--config", str(config), "--env", "prod")
    assert code == 0, err
    assert err.splitlines()[0].endswith("; seeded prod")
    code, _, err = local("plan", "--local", "--config", str(config), "--env", "prod")
    assert code == 0, err
    assert "seeded" not in err.splitlines()[0]
    state = read_state()
    assert state is not None
    assert [s.environments for s in state.seeded] == [("dev", "staging", "prod"), ("prod",)]
    assert state.seeded[1].config == str(config.resolve())


def test_start_when_one_runs_keeps_it(running: EmulatorState) -> None:
    code, out, err = local("local", "start")
    assert code == 0
    assert f"the local emulator is already running at {running.endpoint}" in err
    assert f"endpoint: {running.endpoint}" in out
    state = read_state()
    assert state is not None and state.pid == running.pid and len(state.seeded) == 1


def test_seed_the_recorded_emulator_adds_to_its_record(running: EmulatorState, tmp_path: Path) -> None:
    config = write_config(tmp_path, name_prefix="seeded")
    code, out, err = local("local", "seed", "--config", str(config), "--env", "dev")
    assert code == 0, err
    assert out.strip() == (
        f"seeded {running.endpoint} from {config.resolve()}: dev "
        "(6 KMS keys, 12 SSM parameters, 6 log buckets, 6 alarm topics)"  # three accounts, two regions
    )
    state = read_state()
    assert state is not None and state.seeded[-1].environments == ("dev",)


# --------------------------------------------------------------------------- stale records


def test_a_record_of_a_dead_process_is_reported_and_never_trusted(state_home: Path, tmp_path: Path) -> None:
    pid = dead_pid()
    endpoint = f"http://127.0.0.1:{closed_port()}"
    write_state(EmulatorState(endpoint, pid, "then", "log"))

    code, out, _ = local("local", "status")
    assert code == 1
    assert f"is stale: process {pid} is not running" in out

    code, _, err = local("plan", "--local", "--env", "dev")
    assert code == 0, err
    first = err.splitlines()[0]
    assert (
        f"records {endpoint} (pid {pid}), but process {pid} is not running; using a throwaway one at" in first
    )
    assert endpoint not in first.split("using a throwaway one at")[1]

    code, out, _ = local("local", "stop")
    assert code == 0 and "was stale" in out and "nothing was stopped" in out
    assert not state_file().exists()


def test_a_record_naming_a_live_process_that_is_not_the_emulator_is_not_signalled(state_home: Path) -> None:
    """pid reuse: the recorded pid runs, but its endpoint does not answer as that process."""
    write_state(EmulatorState(f"http://127.0.0.1:{closed_port()}", os.getpid(), "then", "log"))
    code, out, _ = local("local", "status")
    assert code == 1 and f"process {os.getpid()} runs but" in out
    code, out, _ = local("local", "stop")  # must not SIGTERM the test process
    assert code == 0 and "nothing was stopped" in out and not state_file().exists()


def test_a_state_file_that_is_not_a_record(state_home: Path) -> None:
    state_home.mkdir(parents=True)
    state_file().write_text("{not json")
    code, out, _ = local("local", "status")
    assert code == 1 and "is not an emulator record" in out
    code, _, err = local("local", "stop")
    assert code == 0 and "removed it" in err and not state_file().exists()


def test_stop_and_status_with_nothing_recorded(state_home: Path) -> None:
    assert local("local", "stop")[:2] == (0, "no local emulator is running\n")
    code, out, _ = local("local", "status", "--json")
    assert code == 1 and json.loads(out) == {"running": False, "state_file": str(state_file())}
