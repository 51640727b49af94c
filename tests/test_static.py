"""The typed-library gates: mypy --strict and ruff over the packages, as part of the test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "mypy"],
        [sys.executable, "-m", "ruff", "check", "appstorage", "stacksets", "scripts", "tests", "benchmarks"],
        [sys.executable, "-m", "ruff", "format", "--check", "appstorage", "stacksets"],
    ],
    ids=["mypy", "ruff-check", "ruff-format"],
)
def test_static_checks_pass(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
