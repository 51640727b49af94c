"""deployment.waves end to end on moto's server: a first deploy and a change rolled out wave by
wave (both phases per wave), the stop between waves when instances failed within the failure
tolerance, the plan listing the waves, and the README's waves example as written.

moto deviations (the deployer is written for AWS): UpdateStackSet with Accounts never marks the
other instances OUTDATED and every operation ends at once; so the tests check the requests each
wave sends, in order. Instances failing within the tolerance are injected with Faults (moto never
fails one). Continuing after a stop relies on AWS reporting the instances not reached as OUTDATED,
which moto does not: that part is shown on AWS's behaviour in tests/test_waves_config.py and
tests/test_subset_plan.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.faults import Faults, deploy, members, run_cli
from tests.helpers import ACCOUNTS, example_data, seeded, write_yaml
from tests.test_subset_e2e import members as request_members

A, B, C = ACCOUNTS
ROOT = Path(__file__).resolve().parent.parent
PRIMARY = "tattoo-directory-dev-app-storage-primary"
REPLICA = "tattoo-directory-dev-app-storage-replica"
WAVES = [{"accounts": [C]}, {"percent": 50}, {"rest": True}]  # C, then A (half of A and B), then B


def waves_config(tmp_path: Path, name: str = "waves.yaml", **dev: Any) -> Path:
    data = example_data()
    data["environments"]["dev"]["deployment"]["accounts"] = list(ACCOUNTS)
    data["environments"]["dev"]["deployment"]["waves"] = WAVES
    data["environments"]["dev"].update(dev)
    return write_yaml(tmp_path / name, data)


def sent(faults: Faults, *apis: str) -> list[tuple[str, str, list[str]]]:
    """(api, stack set, accounts) of every request of ``apis``, in the order sent."""
    return [
        (op, params["StackSetName"], request_members(params, "Accounts"))
        for op, params in faults.requests
        if op in apis
    ]


def test_first_deploy_and_a_change_go_wave_by_wave(moto_endpoint: str, tmp_path: Path) -> None:
    config = waves_config(tmp_path)
    seeded(moto_endpoint, config)
    faults = Faults()
    code, out, err = deploy(moto_endpoint, config, faults=faults)
    assert code == 0, err
    assert (
        f"Waves (deployment.waves; deploy stops between waves when anything failed):\n    1. {C}\n    2. {A}\n    3. {B}"
        in out
    )
    assert sent(faults, "CreateStackInstances") == [
        ("CreateStackInstances", REPLICA, [C]),
        ("CreateStackInstances", PRIMARY, [C]),
        ("CreateStackInstances", REPLICA, [A]),
        ("CreateStackInstances", PRIMARY, [A]),
        ("CreateStackInstances", REPLICA, [B]),
        ("CreateStackInstances", PRIMARY, [B]),
    ]
    assert [p["StackSetName"] for _, p in faults.requests if _ == "CreateStackSet"] == [REPLICA, PRIMARY]

    changed = waves_config(tmp_path, "changed.yaml", cors_allowed_origins=["https://new.tattoo.example.com"])
    faults = Faults()
    code, out, err = deploy(moto_endpoint, changed, faults=faults)
    assert code == 0, err
    assert sent(faults, "UpdateStackSet", "UpdateStackInstances") == [
        ("UpdateStackSet", REPLICA, [C]),
        ("UpdateStackSet", PRIMARY, [C]),
        ("UpdateStackInstances", REPLICA, [A]),
        ("UpdateStackInstances", PRIMARY, [A]),
        ("UpdateStackInstances", REPLICA, [B]),
        ("UpdateStackInstances", PRIMARY, [B]),
    ]
    assert "wave 1 of 3: --accounts 333333333333" in err and "wave 3 of 3: --accounts 222222222222" in err


def failed_within_tolerance(faults: Faults, stack_set: str, account: str) -> None:
    """The next operation polled on ``stack_set`` ends SUCCEEDED with one instance FAILED (within
    the failure tolerance), as AWS reports it."""
    faults.respond(
        "DescribeStackSetOperation",
        "<StackSetOperation><Status>SUCCEEDED</Status>"
        "<StatusDetails><FailedStackInstancesCount>1</FailedStackInstancesCount></StatusDetails>"
        "</StackSetOperation>",
        match={"StackSetName": stack_set},
    )
    rows = [
        {"Account": account, "Region": "us-east-1", "Status": "FAILED", "StatusReason": "injected failure"}
    ]
    faults.respond(
        "ListStackSetOperationResults",
        f"<Summaries>{members(rows)}</Summaries>",
        match={"StackSetName": stack_set},
    )


def test_a_wave_with_failed_instances_stops_the_rollout_before_the_next(
    moto_endpoint: str, tmp_path: Path
) -> None:
    config = waves_config(tmp_path)
    seeded(moto_endpoint, config)
    assert deploy(moto_endpoint, config)[0] == 0
    changed = waves_config(tmp_path, "changed.yaml", cors_allowed_origins=["https://new.tattoo.example.com"])
    faults = Faults()
    failed_within_tolerance(faults, PRIMARY, C)
    code, _, err = deploy(moto_endpoint, changed, faults=faults)
    assert code == 1, err
    # Wave 1 ran both phases; nothing of wave 2 was started.
    assert sent(faults, "UpdateStackSet", "UpdateStackInstances") == [
        ("UpdateStackSet", REPLICA, [C]),
        ("UpdateStackSet", PRIMARY, [C]),
    ]
    assert (
        f"wave 1 of 3 (--accounts {C}) ended with instances that failed within the failure tolerance; "
        f"deploy stopped before wave 2 (--accounts {A}):" in err
    )
    assert f"{PRIMARY}: {C} us-east-1 FAILED: injected failure" in err
    assert "wave 1 ran; fix the failed instances, then run deploy again" in err


def test_a_subset_replaces_the_waves(moto_endpoint: str, tmp_path: Path) -> None:
    config = waves_config(tmp_path)
    seeded(moto_endpoint, config)
    faults = Faults()
    code, out, err = deploy(moto_endpoint, config, "--accounts", B, faults=faults)
    assert code == 0, err
    assert "Waves (" not in out and "wave 1 of" not in err
    assert {tuple(a) for _, _, a in sent(faults, "CreateStackInstances")} == {(B,)}


def test_readme_waves_example_loads_and_plans_as_written(moto_endpoint: str, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Waves.**", 1)[1]
    (block,) = re.findall(r"```yaml\n(.*?)```", section, re.S)[:1]
    data = example_data()
    data["environments"]["dev"]["deployment"].update(yaml.safe_load(block)["deployment"])
    config = write_yaml(tmp_path / "readme.yaml", data)
    seeded(moto_endpoint, config)
    code, out, err = run_cli(moto_endpoint, "plan", "--config", str(config), "--env", "dev", "--json")
    assert code == 0, err
    import json

    waves = json.loads(out)["dev"]["stack_sets"][0]["waves"]
    assert waves == [["333333333333"], ["111111111111"], ["222222222222"]]


def reported_instances(faults: Faults, statuses: dict[str, str]) -> None:
    """ListStackInstances reports each account's instance of both stack sets with ``statuses`` (as
    AWS does after an UpdateStackSet that named only some accounts: the others OUTDATED)."""
    for stack_set, region in ((REPLICA, "us-west-2"), (PRIMARY, "us-east-1")):
        rows = [
            {
                "StackSetId": f"{stack_set}:1",
                "Region": region,
                "Account": account,
                "StackId": f"arn:aws:cloudformation:{region}:{account}:stack/StackSet-{stack_set}/1",
                "Status": status,
                "StackInstanceStatus": {"DetailedStatus": "SUCCEEDED" if status == "CURRENT" else "FAILED"},
            }
            for account, status in statuses.items()
        ]
        faults.respond(
            "ListStackInstances",
            f"<Summaries>{members(rows)}</Summaries>",
            match={"StackSetName": stack_set},
            times=None,
        )


def test_deploy_after_a_stopped_wave_goes_on_wave_by_wave(moto_endpoint: str, tmp_path: Path) -> None:
    """After the stop, AWS holds the new template with every instance OUTDATED but the ones wave 1
    updated (C failed: OUTDATED too). The next deploy changes no stack set and updates the OUTDATED
    instances wave by wave (moto does not mark them: ListStackInstances reports them as AWS would)."""
    config = waves_config(tmp_path)
    seeded(moto_endpoint, config)
    assert deploy(moto_endpoint, config)[0] == 0
    changed = waves_config(tmp_path, "changed.yaml", cors_allowed_origins=["https://new.tattoo.example.com"])
    faults = Faults()
    failed_within_tolerance(faults, PRIMARY, C)
    assert deploy(moto_endpoint, changed, faults=faults)[0] == 1

    faults = Faults()
    reported_instances(faults, {A: "OUTDATED", B: "OUTDATED", C: "OUTDATED"})
    code, _, err = deploy(moto_endpoint, changed, faults=faults)
    assert code == 0, err
    assert sent(faults, "UpdateStackSet", "UpdateStackInstances") == [
        ("UpdateStackInstances", REPLICA, [C]),
        ("UpdateStackInstances", PRIMARY, [C]),
        ("UpdateStackInstances", REPLICA, [A]),
        ("UpdateStackInstances", PRIMARY, [A]),
        ("UpdateStackInstances", REPLICA, [B]),
        ("UpdateStackInstances", PRIMARY, [B]),
    ]
