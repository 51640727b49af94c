"""The GitHub Actions workflows (.github/workflows): valid for GitHub (the workflow schema, and
actionlint where it is installed), every `appstorage-deploy` they run is a real command with real
options, and their shell steps do what the comments promise: the plan job fails only on an
error and comments the plan, deploy runs dev, staging, prod in order with an OIDC role, the
scheduled drift job fails on drift."""

from __future__ import annotations

import os
import platform
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacksets.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))


def load(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def run_scripts() -> list[tuple[str, str]]:
    return [(path.name, step["run"]) for path in FILES for step in steps(load(path.name)) if "run" in step]


def step_named(workflow: str, name: str) -> dict[str, Any]:
    (found,) = [s for s in steps(load(workflow)) if s.get("name") == name]
    return found


# --------------------------------------------------------------------------- valid for GitHub


def test_the_workflows_are_there() -> None:
    assert [p.name for p in FILES] == ["deploy-environment.yml", "deploy.yml", "drift.yml", "plan.yml"]


def schema_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_workflows_match_githubs_workflow_schema(tmp_path: Path) -> None:
    result = schema_check(*FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    # The gate fails on a workflow GitHub would refuse (a misspelt key).
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "drift.yml").read_text().replace("runs-on:", "run-on:"))
    assert schema_check(broken).returncode == 1


def actionlint() -> str | None:
    return shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))


#: Where the test extra installs actionlint (pyproject.toml: a wheel with the binary exists only for
#: Linux x86-64). There the tests must run, not skip: a missing binary fails them.
ACTIONLINT_INSTALLED_BY_TEST_EXTRA = sys.platform == "linux" and platform.machine() == "x86_64"


def actionlint_or_skip() -> str:
    binary = actionlint()
    if binary is None:
        if ACTIONLINT_INSTALLED_BY_TEST_EXTRA:
            pytest.fail("actionlint is missing: pip install -e '.[test]' installs it on Linux x86-64")
        pytest.skip(
            "actionlint is not installed: pip install 'appstorage[actionlint]' (its build downloads "
            "the actionlint binary from GitHub)"
        )
    return binary


def run_actionlint(*files: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint_or_skip(), "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_actionlint_finds_nothing() -> None:
    result = run_actionlint(*FILES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        # an input the action does not have
        (("python-version:", "python-versoin:"), 'input "python-versoin" is not defined'),
        # a context property that does not exist
        (
            ("github.event.pull_request.number", "github.event_pull_request.number"),
            'property "event_pull_request"',
        ),
    ],
)
def test_actionlint_gate_can_fail(change: tuple[str, str], finding: str, tmp_path: Path) -> None:
    # The same gate fails on a workflow with a mistake the workflow schema cannot see.
    source = next(f for f in FILES if change[0] in f.read_text(encoding="utf-8"))
    (tmp_path / ".git").mkdir()  # actionlint looks for the repository root
    broken = tmp_path / ".github" / "workflows" / source.name
    broken.parent.mkdir(parents=True)
    broken.write_text(source.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    result = run_actionlint(broken, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert finding in result.stdout


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize(("workflow", "script"), run_scripts())
def test_the_run_steps_pass_shellcheck(workflow: str, script: str, tmp_path: Path) -> None:
    # As GitHub runs them (bash -e); ${{ }} expressions are replaced before the shell sees them.
    body = re.sub(r"\$\{\{[^}]*\}\}", "x", script)
    (tmp_path / "step.sh").write_text("#!/bin/bash\nset -eo pipefail\n" + body)
    result = subprocess.run(
        ["shellcheck", str(tmp_path / "step.sh")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout


# --------------------------------------------------------------------------- real commands


def invocations(script: str) -> list[list[str]]:
    """Every `appstorage-deploy ...` command line of a script, up to its redirections."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] != ["appstorage-deploy"]:
            continue
        end = next(
            (i for i, w in enumerate(words) if w in ("|", "&&", "||", ";") or w.startswith((">", "2>"))), None
        )
        found.append(words[1:end])
    return found


def test_every_command_the_workflows_run_is_a_real_command_with_real_options() -> None:
    parser = build_parser()
    seen = []
    for workflow, script in run_scripts():
        for argv in invocations(script):
            concrete = [re.sub(r"\$\{?APPSTORAGE_ENV\}?", "dev", word) for word in argv]
            try:
                parser.parse_args(concrete)
            except SystemExit as exc:  # argparse: an unknown command or option
                pytest.fail(f"{workflow}: appstorage-deploy {shlex.join(argv)} does not parse ({exc})")
            seen.append(" ".join(concrete[:1] + [w for w in concrete[1:] if w.startswith("--")]))
    assert sorted(seen) == [
        "deploy --env --yes",
        "drift --env --format",
        "outputs --env --format",
        "plan --format --detailed-exitcode",
    ]


def test_the_parser_check_fails_on_an_option_that_does_not_exist() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["plan", "--detailed-exit-code"])


# --------------------------------------------------------------------------- what the jobs do


def fake_cli(tmp_path: Path, code: int, output: str) -> dict[str, str]:
    """An `appstorage-deploy` on PATH that prints ``output`` and exits ``code``; the files GitHub
    gives a step."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "appstorage-deploy"
    fake.write_text(f'#!/bin/sh\necho {shlex.quote(output)}\necho "$@" >> {tmp_path / "argv"}\nexit {code}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    for name in ("output", "summary"):
        (tmp_path / name).write_text("")
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "APPSTORAGE_ENV": "prod",
    }


def run_step(script: str, env: dict[str, str], cwd: Path) -> int:
    """The step's script as GitHub runs it (bash --noprofile --norc -eo pipefail)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env=env, cwd=cwd, timeout=60
    ).returncode


@pytest.mark.parametrize(("plan_exit", "step_exit"), [(0, 0), (2, 0), (1, 1)])
def test_the_plan_step_fails_only_when_the_plan_fails(plan_exit: int, step_exit: int, tmp_path: Path) -> None:
    env = fake_cli(tmp_path, plan_exit, "| stack set | change |")
    assert run_step(step_named("plan.yml", "Plan")["run"], env, tmp_path) == step_exit
    assert (tmp_path / "output").read_text() == f"exitcode={plan_exit}\n"
    assert (tmp_path / "plan.md").read_text() == "| stack set | change |\n"
    assert "| stack set | change |" in (tmp_path / "summary").read_text()


def test_the_plan_is_commented_on_the_pull_request() -> None:
    plan = load("plan.yml")
    assert list(plan["on"]) == ["pull_request"]
    assert plan["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    comment = step_named("plan.yml", "Comment the plan on the pull request")
    assert comment["uses"].startswith("actions/github-script@")
    script = comment["with"]["script"]
    assert 'fs.readFileSync("plan.md"' in script and "updateComment" in script and "createComment" in script
    assert comment["env"]["PLAN_EXITCODE"] == "${{ steps.plan.outputs.exitcode }}"


@pytest.mark.parametrize(("drift_exit", "step_exit"), [(0, 0), (1, 1)])
def test_the_scheduled_drift_job_fails_on_drift(drift_exit: int, step_exit: int, tmp_path: Path) -> None:
    drift = load("drift.yml")
    assert list(drift["on"]) == ["schedule", "workflow_dispatch"]
    assert re.fullmatch(r"(\S+ ){4}\S+", drift["on"]["schedule"][0]["cron"])
    job = drift["jobs"]["drift"]
    assert job["strategy"] == {"fail-fast": False, "matrix": {"environment": ["dev", "staging", "prod"]}}
    assert "continue-on-error" not in job
    env = fake_cli(tmp_path, drift_exit, "prod: DRIFT: 1 drifted instance(s)")
    assert run_step(step_named("drift.yml", "Drift")["run"], env, tmp_path) == step_exit
    assert (tmp_path / "argv").read_text() == "drift --env prod --format markdown\n"
    assert "prod: DRIFT" in (tmp_path / "summary").read_text()


def test_deploy_on_main_with_an_oidc_role_one_environment_after_the_other() -> None:
    deploy = load("deploy.yml")
    assert deploy["on"]["push"] == {"branches": ["main"]}
    assert deploy["permissions"]["id-token"] == "write"
    assert deploy["concurrency"] == {"group": "deploy", "cancel-in-progress": False}
    jobs = deploy["jobs"]
    assert [(name, job.get("needs"), job["with"]["environment"]) for name, job in jobs.items()] == [
        ("dev", None, "dev"),
        ("staging", "dev", "staging"),
        ("prod", "staging", "prod"),
    ]
    assert {job["uses"] for job in jobs.values()} == {"./.github/workflows/deploy-environment.yml"}

    called = load("deploy-environment.yml")
    assert list(called["on"]) == ["workflow_call"]
    job = called["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment }}"
    credentials = next(
        s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    )
    assert credentials["with"]["role-to-assume"] == "${{ vars.APPSTORAGE_DEPLOY_ROLE_ARN }}"
    assert called["permissions"]["id-token"] == "write"
    assert (
        step_named("deploy-environment.yml", "Deploy")["run"]
        == 'appstorage-deploy deploy --env "$APPSTORAGE_ENV" --yes'
    )


def test_no_workflow_puts_an_untrusted_expression_into_a_shell() -> None:
    """Pull-request titles, branch names and the like reach a script only through env."""
    for workflow, script in run_scripts():
        assert "github.event" not in script and "github.head_ref" not in script, workflow
