"""The README's Quick start, run as written by a newcomer: a fresh clone of the repository, a fresh
virtual environment, the commands taken from the README's ``sh`` blocks (the README is the source,
nothing here repeats them), then the emulator's round trip: `local start`, `deploy --local` twice
(the second changes nothing), `status --local`, `outputs --local` (not empty), `local stop`.

It installs from the package index and takes a few minutes, so it runs once, in its own step of
``.ci/run`` (``APPSTORAGE_README_SMOKE=1 python -m pytest -m readme_smoke``), which fails when it
fails; the plain ``python -m pytest`` skips it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
GATE = "APPSTORAGE_README_SMOKE"

#: The slow tests: selected by ``-m readme_smoke``, run only when the gate is set.
smoke = pytest.mark.skipif(
    os.environ.get(GATE) != "1",
    reason=f"the README smoke test runs in .ci/run's own step ({GATE}=1 python -m pytest -m readme_smoke)",
)


def quick_start(readme: Path = README) -> str:
    text = readme.read_text(encoding="utf-8")
    return text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]


def sh_blocks(section: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", section, flags=re.S | re.M)


def commands(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def the_command(prefix: str, readme: Path = README) -> str:
    """The Quick start's one command starting with ``prefix``."""
    (found,) = [c for c in commands(sh_blocks(quick_start(readme))[0]) if c.startswith(prefix)]
    return found


@pytest.mark.readme_smoke
def test_the_readme_blocks_are_what_this_test_runs() -> None:
    """Runs everywhere (quick): the extraction keeps finding the README's commands."""
    first, second = sh_blocks(quick_start())
    assert commands(first)[0].startswith(
        "python3 -m venv .venv && . .venv/bin/activate && pip install '.[local]'"
    )
    assert the_command("appstorage-deploy local start") and the_command("appstorage-deploy local stop")
    assert commands(second) == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && python -m pytest"
    ]


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A fresh clone and the environment of a shell outside any virtual environment; the
    emulator's record in a temporary directory. Ends an emulator a failed step left running."""
    base = tmp_path_factory.mktemp("newcomer")
    clone = base / "appstorage"
    cloned = subprocess.run(
        ["git", "clone", "--quiet", str(ROOT), str(clone)], capture_output=True, text=True
    )
    assert cloned.returncode == 0, cloned.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTEST_ADDOPTS")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not p.startswith(sys.prefix))
    env["APPSTORAGE_STATE_DIR"] = str(base / "state")
    env["APPSTORAGE_CACHE_DIR"] = str(base / "cache")
    env["COLUMNS"] = "100"
    try:
        yield clone, env
    finally:
        record = base / "state" / "emulator.json"
        if record.exists():
            pid = int(json.loads(record.read_text())["pid"])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def shell(script: str, clone: Path, env: dict[str, str], **extra: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=clone,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    print(f"$ {script}\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    return result


@pytest.mark.readme_smoke
@smoke
def test_the_quick_start_as_written(newcomer: tuple[Path, dict[str, str]]) -> None:
    clone, env = newcomer
    first, second = sh_blocks(quick_start(clone / "README.md"))
    result = shell(first, clone, env)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "stopped the local emulator at http://127.0.0.1:" in result.stdout
    assert "dev: retained by DeletionPolicy Retain" in result.stdout
    for env_name in ("dev", "staging", "prod"):
        assert (clone / "build" / env_name / "primary.template.json").is_file()
        assert json.loads((clone / "build" / env_name / "outputs.json").read_text())["stack_sets"]
    assert not (clone / "build" / "lib").exists()  # pip install . built elsewhere

    # The test command's install line, as written; pytest only collects here (the suite itself
    # is .ci/run's other step).
    result = shell(second, clone, env, PYTEST_ADDOPTS="--collect-only -q")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert re.search(r"^\d+ tests collected", result.stdout, flags=re.M), result.stdout[-2000:]


@pytest.mark.readme_smoke
@smoke
def test_the_emulator_keeps_state_between_commands(newcomer: tuple[Path, dict[str, str]]) -> None:
    clone, env = newcomer
    activate = ". .venv/bin/activate && "

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return shell(activate + command, clone, env)

    def readme_command(prefix: str) -> str:
        return the_command(prefix, clone / "README.md")

    started = run(readme_command("appstorage-deploy local start"))
    assert started.returncode == 0, started.stderr
    assert re.search(r"^endpoint: http://127\.0\.0\.1:\d+$", started.stdout, flags=re.M)

    deploy = readme_command("appstorage-deploy deploy --local")
    first = run(deploy)
    assert first.returncode == 0, first.stderr[-4000:]
    assert first.stdout.count("Plan: 2 to create, 0 to update, 0 unchanged.") == 3
    second = run(deploy)
    assert second.returncode == 0, second.stderr[-4000:]
    for env_name in ("dev", "staging", "prod"):
        assert f"{env_name}: no changes" in second.stdout
    assert second.stdout.count("Plan: 0 to create, 0 to update, 2 unchanged.") == 3

    status = run(readme_command("appstorage-deploy status --local"))
    assert status.returncode == 0, status.stderr
    assert status.stdout.count("CURRENT") == 6 and "NOT DEPLOYED" not in status.stdout

    outputs = run(readme_command("appstorage-deploy outputs --local"))
    assert outputs.returncode == 0, outputs.stderr
    data = json.loads((clone / "build" / "dev" / "outputs.json").read_text())
    primary = next(s for s in data["stack_sets"] if s["kind"] == "primary")
    assert primary["instances"][0]["outputs"]["TableName"] == "tattoo-directory-dev"

    stopped = run(readme_command("appstorage-deploy local stop"))
    assert stopped.returncode == 0 and "stopped the local emulator" in stopped.stdout
    assert run("appstorage-deploy local status").returncode == 1
