"""What the commands print, and the same rules for every endpoint: non-TTY deploy logs name each
operation and its result; tables stay readable at 100 columns (no value split in the middle); the
replica stack set is labelled with the region it deploys to; SSM inputs read ``ssm:/path``;
``status`` lists a stack set without instances; deploy and destroy need ``--yes`` without a
terminal (exit 2, before any call) and ask on one, ``--local`` included."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import boto3
import pytest
from rich.console import Console

from stacksets.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from stacksets.cli.output import fitted_table, outputs_table
from stacksets.outputs import StackOutputs
from stacksets.progress import LogReporter
from stacksets.session import CallLog
from tests.faults import FakeClock, run_cli
from tests.helpers import ACCOUNTS, write_config

REPLICA = "tattoo-directory-dev-app-storage-replica"
PRIMARY = "tattoo-directory-dev-app-storage-primary"
STREAM = (
    "arn:aws:dynamodb:us-east-1:111111111111:table/tattoo-directory-dev/stream/2026-11-26T03:11:09.738524"
)


# --------------------------------------------------------------------------- CI logs


def test_a_deploy_logs_every_operation_with_its_result(moto_endpoint: str, tmp_path: Path) -> None:
    from tests.helpers import seeded

    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    code, _, err = run_cli(
        moto_endpoint, "deploy", "--config", str(config), "--env", "dev", "--yes", outputs=tmp_path / "o.json"
    )
    assert code == EXIT_OK, err
    lines = re.sub(r"operation [0-9a-f-]{36} ", "operation <id> ", err).splitlines()
    assert lines[:6] == [
        f"replica phase: stack set {REPLICA}: create",
        f"operation <id> (CreateStackInstances) on stack set {REPLICA}: started",
        f"operation <id> (CreateStackInstances) on stack set {REPLICA}: SUCCEEDED after 0s",
        f"primary phase: stack set {PRIMARY}: create",
        f"operation <id> (CreateStackInstances) on stack set {PRIMARY}: started",
        f"operation <id> (CreateStackInstances) on stack set {PRIMARY}: SUCCEEDED after 0s",
    ]
    started = re.findall(r"operation ([0-9a-f-]{36}) \(CreateStackInstances\) on stack set \S+: started", err)
    ended = re.findall(r"operation ([0-9a-f-]{36}) \(CreateStackInstances\) on stack set \S+: SUCCEEDED", err)
    assert len(started) == 2 and started == ended  # each one named, start and end


def test_log_lines_say_how_long_an_operation_took_and_that_it_still_runs() -> None:
    clock = FakeClock()
    out = io.StringIO()
    log = LogReporter(Console(file=out, width=300), clock=clock.clock, heartbeat=300)
    log.operation("s", "op-9", "UpdateStackSet")
    for elapsed in (100, 250, 310, 600, 650):
        clock.now = elapsed
        log.waiting("s", "op-9", "RUNNING", elapsed, 0, 3)
    clock.now = 725
    log.done("s", "op-9", "FAILED")
    log.done("s", "op-other", "SUCCEEDED")  # waited for, not started here: no duration
    assert out.getvalue().splitlines() == [
        "operation op-9 (UpdateStackSet) on stack set s: started",
        "operation op-9 on stack set s: RUNNING after 310s",
        "operation op-9 on stack set s: RUNNING after 600s",
        "operation op-9 (UpdateStackSet) on stack set s: FAILED after 725s",
        "operation op-other (operation) on stack set s: SUCCEEDED",
    ]


# --------------------------------------------------------------------------- 100 columns


def rendered(renderable: object, width: int = 100) -> list[str]:
    console = Console(file=io.StringIO(), width=width, highlight=False, soft_wrap=True)
    console.print(renderable)
    return console.file.getvalue().splitlines()  # type: ignore[attr-defined]


def assert_whole(values: list[str], lines: list[str]) -> None:
    """Every word of every value is on one line: no cell split it."""
    for value in values:
        for word in value.split():
            assert any(word in line for line in lines), (word, "\n".join(lines))


def outputs() -> list[StackOutputs]:
    values = {
        "TableArn": "arn:aws:dynamodb:us-east-1:111111111111:table/tattoo-directory-dev",
        "TableStreamArn": STREAM,
        "FrontendBucketRegionalDomainName": "tattoo-directory-dev-frontend-111111111111-us-east-1.s3.us-east-1.amazonaws.com",
        "TableName": "tattoo-directory-dev",
    }
    return [StackOutputs(PRIMARY, "primary", "111111111111", "us-east-1", "stack", "CREATE_COMPLETE", values)]


def test_the_outputs_table_at_100_columns_splits_no_value() -> None:
    data = outputs()
    lines = rendered(outputs_table(data, "dev outputs", 100))
    assert all(len(line) <= 100 for line in lines if line.startswith(("│", "┃", "┏", "└")))
    assert_whole([*data[0].outputs.values(), *data[0].outputs], lines)
    # too narrow for one table: a table per instance, long values whole below it, numbered in order
    assert lines[0] == "dev outputs: primary 111111111111 us-east-1"
    notes = [line for line in lines if re.match(r"\[\d+\] ", line)]
    assert notes == [
        "[1] tattoo-directory-dev-frontend-111111111111-us-east-1.s3.us-east-1.amazonaws.com",
        "[2] arn:aws:dynamodb:us-east-1:111111111111:table/tattoo-directory-dev",
        f"[3] {STREAM}",
    ]
    assert any("│ TableName " in line and "tattoo-directory-dev" in line for line in lines)  # short ones stay


def test_a_wide_console_needs_no_notes() -> None:
    lines = rendered(outputs_table(outputs(), "dev outputs", 200), width=200)
    assert not any(re.match(r"\[\d+\] ", line) for line in lines)
    assert any(STREAM in line for line in lines)


@pytest.mark.parametrize("width", [60, 80, 100, 120])
def test_fitted_tables_at_any_width(width: int) -> None:
    rows = [
        (
            PRIMARY,
            "111111111111",
            "us-east-1",
            "CURRENT",
            "FAILED",
            "DRIFTED",
            f"Resource handler returned: {STREAM}",
        ),
        (REPLICA, "222222222222", "us-west-2", "OUTDATED", "RUNNING", "", "waiting for the primary phase"),
    ]
    columns = ("stack set", "account", "region", "status", "detailed", "drift", "reason")
    lines = rendered(fitted_table("status", columns, rows, width), width)
    assert_whole([c for row in rows for c in row], lines)


def test_status_fits_100_columns_through_the_cli(
    moto_endpoint: str, deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``status`` on a 100-column terminal (the console's width decides)."""
    from stacksets.cli import main
    from stacksets.local import local_session

    out = io.StringIO()
    out.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setenv("COLUMNS", "100")
    code = main(
        ["status", "--config", str(deployed), "--env", "dev", "--endpoint-url", moto_endpoint],
        session=local_session(),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == EXIT_OK
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines if line.startswith("│")) <= 100
    assert_whole([REPLICA, PRIMARY, *ACCOUNTS], lines)


# --------------------------------------------------------------------------- labels


def test_the_replica_is_labelled_with_the_region_it_deploys_to(moto_endpoint: str, deployed: Path) -> None:
    code, out, _ = run_cli(moto_endpoint, "plan", "--config", str(deployed), "--env", "dev")
    assert code == EXIT_OK
    assert f"Stack set {REPLICA} (replica, us-west-2): no change" in out
    assert f"Stack set {PRIMARY} (primary, us-east-1): no change" in out
    code, out, _ = run_cli(moto_endpoint, "plan", "--config", str(deployed), "--env", "dev", "--json")
    sets = json.loads(out)["dev"]["stack_sets"]
    assert [(s["kind"], s["region"], s["deploys_to"]) for s in sets] == [
        ("replica", "us-east-1", "us-west-2"),  # region: where the stack set lives (administration)
        ("primary", "us-east-1", "us-east-1"),
    ]
    code, out, _ = run_cli(moto_endpoint, "status", "--config", str(deployed), "--env", "dev", "--json")
    assert [r["deploys_to"] for r in json.loads(out)["dev"]] == ["us-west-2", "us-east-1"]


def test_ssm_inputs_read_as_ssm_paths(moto_endpoint: str, deployed: Path, tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(deployed.read_text())
    data["environments"]["dev"]["parameters"]["KmsKeyArn"] = "ssm:/platform/dev/kms-key-arn"
    moved = tmp_path / "moved.yaml"
    moved.write_text(yaml.safe_dump(data))
    code, out, _ = run_cli(moto_endpoint, "plan", "--config", str(moved), "--env", "dev")
    assert code == EXIT_OK
    assert (
        "    ~ KmsKeyArn: 'ssm:/tattoo-directory/dev/foundation/kms-key-arn' -> 'ssm:/platform/dev/kms-key-arn'"
    ) in out.splitlines()
    assert "    ~ CloudFrontDistributionArn" not in out  # literals (here empty) are shown as they are


def test_status_lists_a_stack_set_without_instances(moto_endpoint: str, deployed: Path) -> None:
    cfn = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=moto_endpoint)
    cfn.delete_stack_instances(
        StackSetName=REPLICA, Accounts=ACCOUNTS, Regions=["us-west-2"], RetainStacks=False
    )
    code, out, _ = run_cli(moto_endpoint, "status", "--config", str(deployed), "--env", "dev")
    assert code == EXIT_OK
    row = next(line for line in out.splitlines() if REPLICA in line)
    assert [cell.strip() for cell in row.split("│")[1:-1]] == [
        REPLICA,
        "us-west-2",
        "-",
        "-",
        "NO INSTANCES",
        "",
        "",
        "",
    ]
    code, out, _ = run_cli(moto_endpoint, "status", "--config", str(deployed), "--env", "dev", "--json")
    rows = json.loads(out)["dev"]
    assert rows[0] == {
        "stack_set": REPLICA,
        "deploys_to": "us-west-2",
        "status": "ACTIVE, NO INSTANCES",
        "running_operations": [],
        "instances": [],
    }


# --------------------------------------------------------------------------- --yes, and --local asks


@pytest.mark.parametrize("command", ["deploy", "destroy"])
@pytest.mark.parametrize("local", [False, True], ids=["endpoint", "local"])
def test_deploy_and_destroy_need_yes_without_a_terminal(command: str, local: bool) -> None:
    log = CallLog()
    target = ["--local"] if local else ["--endpoint-url", "http://127.0.0.1:9"]
    code, out, err = run_cli(None, command, "--env", "dev", *target, log=log)
    assert code == EXIT_BAD_INPUT
    assert err.startswith(f"error: {command} ") and "pass --yes to run it without a prompt" in err
    assert "local emulator" not in err  # refused before any emulator was started
    assert log.calls == {} and out == ""


def test_local_asks_before_it_deploys(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """(``moto_endpoint``: moto's state, which a throwaway emulator in this process shares, is reset.)"""
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "n"

    log = CallLog()
    code, _, err = run_cli(
        None, "deploy", "--local", "--env", "dev", confirm_input=answer, log=log, outputs=tmp_path / "o.json"
    )
    assert asked == ["Deploy these changes? [y/N] "]
    assert code == EXIT_FAILED and "deploy cancelled: nothing was changed" in err
    assert log.mutating() == {}
