"""The package as pip builds and installs it: the wheel builds without a license deprecation
warning, `pip install .` leaves build/ (the templates' directory) alone, and after a non-editable
install the console scripts `appstorage-build` and `appstorage-deploy` read the same (installed)
copy of the bundled example, while `python -m appstorage.build` run in the checkout says that it
runs another copy.

The wheel is built as `pip install .` builds it (build isolation: setuptools comes from the
package index). The installed copy gets a fresh virtual environment whose dependencies are those
of the running one (a path file), so nothing but setuptools is downloaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=600)


def source_files() -> list[str]:
    """The repository's files as a clone has them (tracked, plus new files not ignored)."""
    listed = run("git", "ls-files", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    return [name for name in listed.stdout.splitlines() if (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A copy of the repository with templates already in build/, and the wheel pip built from
    it: (source, wheel, pip's verbose output)."""
    source = tmp_path_factory.mktemp("source")
    for name in source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    (source / "build" / "dev").mkdir(parents=True)
    (source / "build" / "dev" / "primary.template.json").write_text("{}\n")
    dist = tmp_path_factory.mktemp("dist")
    result = run(sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", dist, source)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = dist.glob("appstorage-*.whl")
    return source, wheel, result.stdout + result.stderr


def test_the_wheel_builds_without_a_license_deprecation_warning(built: tuple[Path, Path, str]) -> None:
    _, wheel, output = built
    warnings = [
        line for line in output.splitlines() if "license" in line.lower() and "deprecat" in line.lower()
    ]
    assert warnings == []
    assert "Warning" not in "\n".join(line for line in output.splitlines() if "license" in line.lower())
    assert wheel.name.startswith("appstorage-0.1.0-py3-none-any")


def test_pip_builds_outside_the_templates_directory(built: tuple[Path, Path, str]) -> None:
    source, _, _ = built
    assert sorted(p.relative_to(source).as_posix() for p in (source / "build").rglob("*")) == [
        "build/dev",
        "build/dev/primary.template.json",
    ]
    assert (source / ".setuptools-build" / "lib" / "appstorage" / "build.py").is_file()
    assert ".setuptools-build/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_console_scripts_read_the_installed_example_and_python_m_says_it_does_not(
    built: tuple[Path, Path, str], tmp_path: Path
) -> None:
    source, wheel, _ = built
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", "--without-pip", venv).returncode == 0
    python = venv / "bin" / "python"
    installed = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet", wheel)
    assert installed.returncode == 0, installed.stderr
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    # The checkout's own copy of the example now differs from the installed one.
    example = source / "appstorage" / "examples" / "tattoo-directory.yaml"
    data = yaml.safe_load(example.read_text())
    data["name_prefix"] = "checkout-copy"
    example.write_text(yaml.safe_dump(data, sort_keys=False))

    build = run(
        venv / "bin" / "appstorage-build",
        "--out",
        tmp_path / "a",
        "--env",
        "dev",
        "--format",
        "json",
        cwd=source,
    )
    assert build.returncode == 0 and build.stderr == "", build.stderr
    assert "tattoo-directory-dev" in (tmp_path / "a" / "dev" / "primary.template.json").read_text()

    plan = run(venv / "bin" / "appstorage-deploy", "plan", "--local", "--env", "dev", "--json", cwd=source)
    assert plan.returncode == 0, plan.stderr
    assert "tattoo-directory-dev-app-storage-primary" in json.dumps(json.loads(plan.stdout))
    assert "checkout-copy" not in plan.stdout

    shadowed = run(
        python,
        "-m",
        "appstorage.build",
        "--out",
        tmp_path / "b",
        "--env",
        "dev",
        "--format",
        "json",
        cwd=source,
    )
    assert shadowed.returncode == 0
    assert "checkout-copy-dev" in (tmp_path / "b" / "dev" / "primary.template.json").read_text()
    assert shadowed.stderr.splitlines() == [
        f"note: this build runs {source / 'appstorage'}, not the installed package that appstorage-deploy "
        f"runs ({site / 'appstorage'}): use appstorage-build, or pip install -e ."
    ]
