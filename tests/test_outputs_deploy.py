"""Outputs off a deploy's critical path: a deploy reads them only after a rollout that changed
something, never with --no-outputs, and reads them in parallel (bounded) when it does.

End to end on moto's server (the ``deployed`` fixture: dev on three accounts, outputs at
tmp_path/o.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appstorage.config import load_config
from stacksets.compat import EMULATOR
from stacksets.local import local_session
from stacksets.outputs import collect_outputs
from stacksets.session import CallLog, ClientFactory
from stacksets.stacks import InstanceStacks
from stacksets.toolkit import environment_tools
from tests.faults import deploy, run_cli
from tests.helpers import write_config


def test_a_deploy_without_changes_reads_no_outputs_and_leaves_the_file(
    moto_endpoint: str, deployed: Path, tmp_path: Path
) -> None:
    outputs = tmp_path / "o.json"
    before = json.loads(outputs.read_text())
    assert before["stack_sets"]  # the first deploy wrote them
    outputs.write_text('{"kept": true}\n')
    log = CallLog()
    code, out, err = run_cli(
        moto_endpoint,
        "deploy",
        "--config",
        str(deployed),
        "--env",
        "dev",
        "--yes",
        "--json",
        log=log,
        outputs=outputs,
    )
    assert code == 0, err
    assert log.mutating() == {}
    assert log.count("DescribeStacks") == 0 and log.count("AssumeRole") == 0
    assert json.loads(out)["dev"]["outputs"] is None
    assert f"dev: outputs not read (no changes): {outputs} left as it is" in err
    assert outputs.read_text() == '{"kept": true}\n'


def test_no_outputs_skips_them_after_a_change(moto_endpoint: str, deployed: Path, tmp_path: Path) -> None:
    endpoint = moto_endpoint
    outputs = tmp_path / "o.json"
    outputs.unlink()
    changed = write_config(tmp_path, dev__tags={"owner": "storage-team"})
    log = CallLog()
    code, _, err = deploy(endpoint, changed, "--no-outputs", outputs=outputs, log=log)
    assert code == 0, err
    assert log.count("UpdateStackSet") == 2  # it did change something
    assert "dev: outputs not read (--no-outputs)" in err and not outputs.exists()
    code, _, err = run_cli(endpoint, "outputs", "--config", str(changed), "--env", "dev", outputs=outputs)
    assert code == 0, err
    assert json.loads(outputs.read_text())["stack_sets"]


def test_no_outputs_is_an_option_of_deploy_only() -> None:
    code, _, err = run_cli(None, "plan", "--no-outputs", "--env", "dev")
    assert code == 2 and "--no-outputs is an option of deploy, not plan" in err


@pytest.mark.parametrize("workers", [1, 4])
def test_outputs_read_in_parallel_come_back_in_order(
    moto_endpoint: str, deployed: Path, workers: int
) -> None:
    config = load_config(deployed)
    factory = ClientFactory(local_session(), endpoint_url=moto_endpoint)
    tools = environment_tools(factory, config, config.environment("dev"), compat=EMULATOR)
    stacks = InstanceStacks(factory, tools.stacks.role_name, EMULATOR, workers=workers)
    found = collect_outputs(tools.cfn, tools.desired, stacks)
    assert [(o.kind, o.account, o.region) for o in found] == [
        (kind, account, region)
        for kind, region in (("replica", "us-west-2"), ("primary", "us-east-1"))
        for account in sorted({o.account for o in found})
    ]
    assert all(o.outputs and not o.error for o in found)
