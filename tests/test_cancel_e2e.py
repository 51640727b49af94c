"""cancel and deploy --detach end to end on moto's server, and the README's commands as written.

moto deviations (the deployer is written for AWS): every StackSet operation ends SUCCEEDED at once,
so nothing is ever running by itself; StopStackSetOperation marks any operation STOPPED, even one
that already ended (AWS answers InvalidOperationException: the Stubber tests in
tests/test_cancel_stubber.py show that path). Where a test needs an operation in flight, Faults
make ListStackSetOperations and DescribeStackSetOperation report it RUNNING, as AWS would while
it runs; moto's own StopStackSetOperation then stops it.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.faults import Faults, deploy, members, run_cli
from tests.helpers import seeded, write_config
from tests.test_subset_e2e import readme_commands

PRIMARY = "tattoo-directory-dev-app-storage-primary"
REPLICA = "tattoo-directory-dev-app-storage-replica"


def an_operation(endpoint: str, stack_set: str) -> str:
    """The id of an operation moto holds for ``stack_set`` (all of them ended)."""
    from stacksets.local import local_session
    from stacksets.session import ClientFactory

    cfn = ClientFactory(local_session(), endpoint_url=endpoint).cloudformation("us-east-1")
    return str(cfn.list_stack_set_operations(StackSetName=stack_set)["Summaries"][0]["OperationId"])


def reported_running(faults: Faults, stack_set: str, op: str, *, polls: int = 1) -> None:
    """ListStackSetOperations lists ``op`` as RUNNING once, and DescribeStackSetOperation reports it
    RUNNING ``polls`` times (then moto answers: STOPPED once stopped)."""
    summary = members([{"OperationId": op, "Action": "UPDATE", "Status": "RUNNING"}])
    faults.respond(
        "ListStackSetOperations", f"<Summaries>{summary}</Summaries>", match={"StackSetName": stack_set}
    )
    faults.respond(
        "DescribeStackSetOperation",
        f"<StackSetOperation><OperationId>{op}</OperationId><Status>RUNNING</Status></StackSetOperation>",
        match={"OperationId": op},
        times=polls,
    )


def test_cancel_with_nothing_running_says_so_in_one_line(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    assert deploy(moto_endpoint, config)[0] == 0
    faults = Faults()
    code, out, err = run_cli(moto_endpoint, "cancel", "--config", str(config), "--env", "dev", faults=faults)
    assert code == 0, err
    assert out == "dev: no operation is running on its stack sets: nothing to cancel\n"
    assert not faults.calls("StopStackSetOperation")


def test_cancel_stops_a_running_operation_and_waits_until_it_stopped(
    moto_endpoint: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    assert deploy(moto_endpoint, config)[0] == 0
    op = an_operation(moto_endpoint, PRIMARY)
    faults = Faults()
    reported_running(faults, PRIMARY, op, polls=2)
    code, out, err = run_cli(moto_endpoint, "cancel", "--config", str(config), "--env", "dev", faults=faults)
    assert code == 0, err
    assert f"dev: operation {op} on stack set {PRIMARY}: STOPPED" in out
    assert "'appstorage-deploy deploy --env dev' finishes the rollout" in out
    (stop,) = faults.calls("StopStackSetOperation")
    assert stop["OperationId"] == op and stop["StackSetName"] == PRIMARY
    # Polled until it ended: twice RUNNING (injected), then moto's STOPPED.
    assert len(faults.calls("DescribeStackSetOperation", OperationId=op)) == 3
    code, out, _ = run_cli(moto_endpoint, "cancel", "--config", str(config), "--env", "dev", "--json")
    assert code == 0 and json.loads(out) == {"dev": []}


def test_cancel_needs_an_environment(tmp_path: Path) -> None:
    code, _, err = run_cli(None, "cancel", "--config", str(write_config(tmp_path)))
    assert code == 2 and "cancel needs --env" in err


def test_detached_deploys_start_one_operation_each(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    starts = []
    for _ in range(2):
        faults = Faults()
        code, out, err = deploy(moto_endpoint, config, "--detach", faults=faults)
        assert code == 0, err
        assert "did not wait for it (--detach)" in out and "'appstorage-deploy status --env dev'" in out
        (create,) = faults.calls("CreateStackInstances")
        starts.append(create["StackSetName"])
        # Started, not waited for: the operation was never polled.
        assert not faults.calls("DescribeStackSetOperation")
    assert starts == [REPLICA, PRIMARY]  # the replica phase first, then the primary's
    code, out, _ = deploy(moto_endpoint, config, "--detach")
    assert code == 0 and "dev: no changes" in out


def test_detached_deploy_starts_nothing_while_an_operation_runs(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    assert deploy(moto_endpoint, config)[0] == 0
    changed = write_config(tmp_path, dev__cors_allowed_origins=["https://new.tattoo.example.com"])
    op = an_operation(moto_endpoint, REPLICA)
    faults = Faults()
    reported_running(faults, REPLICA, op)
    code, out, err = deploy(moto_endpoint, changed, "--detach", faults=faults)
    assert code == 0, err
    assert f"dev: operation {op} on stack set {REPLICA} is still running: nothing started (--detach)" in out
    assert not faults.calls("UpdateStackSet")


def test_detach_is_an_option_of_deploy(tmp_path: Path) -> None:
    code, _, err = run_cli(None, "plan", "--config", str(write_config(tmp_path)), "--detach")
    assert code == 2 and "--detach is an option of deploy, not plan" in err


def test_readme_cancel_and_detach_commands_run_as_written(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    commands = [c for c in readme_commands() if "--detach" in c or c[1] in ("status", "cancel")]
    assert [c[1] for c in commands] == ["deploy", "status", "cancel"]
    faults = Faults()
    for command in commands:
        code, out, err = run_cli(
            moto_endpoint, *command[1:], "--config", str(config), outputs=tmp_path / "o.json", faults=faults
        )
        assert code == 0, (command, err[-3000:])
    assert len(faults.calls("CreateStackInstances")) == 1
    assert out == "dev: no operation is running on its stack sets: nothing to cancel\n"
