"""deploy --accounts/--regions end to end on moto's server, and the README's staged-rollout commands
as written.

moto deviations (the deployer is written for AWS): UpdateStackSet with Accounts/Regions only
rewrites those instances' parameters and never marks the others OUTDATED, and no instance is ever
reported OUTDATED; so these tests check the requests the deployer sends (the subset's Accounts and
Regions) and what the plan says, while what AWS does with the instances left out (OUTDATED, then
updated by the next full run) is shown on AWS's behaviour in tests/test_subset_plan.py.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.faults import Faults, deploy, run_cli
from tests.helpers import ACCOUNTS, seeded, write_config

A, B, C = ACCOUNTS
ROOT = Path(__file__).resolve().parent.parent
PRIMARY = "tattoo-directory-dev-app-storage-primary"


def members(params: dict[str, str], key: str) -> list[str]:
    """``Key.member.N`` values of a query-protocol request, in order."""
    found = sorted(
        (int(k.rsplit(".", 1)[1]), v) for k, v in params.items() if re.fullmatch(rf"{key}\.member\.\d+", k)
    )
    return [v for _, v in found]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("deploy", "--accounts", "999999999999"), "--accounts: 999999999999 is not a target account"),
        (("plan", "--regions", "eu-west-3"), "--regions: eu-west-3 is not a region of environment dev"),
        (("plan", "--accounts", ","), "--accounts names nothing"),
        (("status", "--accounts", A), "--accounts is an option of deploy and plan, not status"),
    ],
)
def test_a_subset_outside_the_targets_is_bad_input_before_any_call(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    config = write_config(tmp_path)
    # No endpoint at all: any call would fail differently (exit 1).
    code, _, err = run_cli(None, args[0], "--config", str(config), "--env", "dev", "--yes", *args[1:])
    assert code == 2, err
    assert said in err and "\n" not in err.strip()


def test_first_deploy_of_a_subset_creates_only_its_instances_then_the_rest(
    moto_endpoint: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    faults = Faults()
    code, out, err = deploy(moto_endpoint, config, "--accounts", B, faults=faults)
    assert code == 0, err
    creates = faults.calls("CreateStackInstances")
    assert len(creates) == 2 and all(members(p, "Accounts") == [B] for p in creates)
    assert f"Left to create (2): {A} us-east-1, {C} us-east-1" in out
    # The rest: only A and C are created now.
    faults = Faults()
    code, out, err = deploy(moto_endpoint, config, faults=faults)
    assert code == 0, err
    assert [members(p, "Accounts") for p in faults.calls("CreateStackInstances")] == [[A, C], [A, C]]


def test_a_change_deployed_to_a_subset_names_its_instances(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    assert deploy(moto_endpoint, config)[0] == 0
    changed = write_config(tmp_path, dev__cors_allowed_origins=["https://new.tattoo.example.com"])

    code, out, err = run_cli(
        moto_endpoint,
        "plan",
        "--config",
        str(changed),
        "--env",
        "dev",
        "--accounts",
        A,
        "--regions",
        "us-east-1",
    )
    assert code == 0, err
    assert "This run: --accounts 111111111111 --regions us-east-1" in out
    assert f"Left OUTDATED after this run (2): {B} us-east-1, {C} us-east-1" in out
    # The replica deploys to us-west-2: outside the subset, left as it is.
    assert "none of its instances is in this run" in out

    code, out, err = run_cli(
        moto_endpoint, "plan", "--config", str(changed), "--env", "dev", "--accounts", A, "--json"
    )
    assert code == 0, err
    primary = json.loads(out)["dev"]["stack_sets"][1]
    assert primary["scope"] == {"accounts": [A], "regions": []}
    assert primary["left_outdated"] == [f"{B} us-east-1", f"{C} us-east-1"]

    faults = Faults()
    code, out, err = deploy(moto_endpoint, changed, "--accounts", A, "--regions", "us-east-1", faults=faults)
    assert code == 0, err
    (update,) = faults.calls("UpdateStackSet")  # the primary only
    assert update["StackSetName"] == PRIMARY
    assert members(update, "Accounts") == [A] and members(update, "Regions") == ["us-east-1"]
    assert not faults.calls("UpdateStackInstances") and not faults.calls("CreateStackInstances")


def readme_commands() -> list[list[str]]:
    """The commands of the README's "Staged rollouts" sh blocks, as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### Staged rollouts", 1)[1].split("\n#### ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [
        shlex.split(line, comments=True)
        for block in blocks
        for line in block.splitlines()
        if line.startswith("appstorage-deploy ")
    ]


def test_readme_subset_commands_run_as_written(moto_endpoint: str, tmp_path: Path) -> None:
    """Deployed everywhere, then a change rolled out as the README shows: the subset first, then
    the rest; the plan has no changes after that."""
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    assert deploy(moto_endpoint, config)[0] == 0
    changed = write_config(tmp_path, dev__cors_allowed_origins=["https://new.tattoo.example.com"])
    commands = [c for c in readme_commands() if c[1] in ("plan", "deploy")][:3]
    assert [c[1] for c in commands] == ["plan", "deploy", "deploy"] and "--accounts" in commands[1]
    faults = Faults()
    for command in commands:
        code, out, err = run_cli(
            moto_endpoint, *command[1:], "--config", str(changed), outputs=tmp_path / "o.json", faults=faults
        )
        assert code == 0, (command, err[-3000:])
    first, *_ = faults.calls("UpdateStackSet")
    assert members(first, "Accounts") == [A]
    code, out, _ = run_cli(moto_endpoint, "plan", "--config", str(changed), "--env", "dev")
    assert code == 0 and "no changes" in out
