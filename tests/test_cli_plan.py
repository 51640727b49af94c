"""A plan CI can act on: ``plan --detailed-exitcode`` (0 no changes, 2 changes, 1 any error, bad
input included: Terraform's convention) and ``--format markdown`` for pull-request comments and
step summaries (plan, status, outputs, drift, dr-check), against moto's real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacksets.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from stacksets.cli.context import EXIT_CHANGES
from stacksets.cli.markdown import Code, cell, table
from stacksets.session import CallLog
from tests.faults import Faults, members, run_cli
from tests.helpers import ACCOUNTS, closed_port, write_config

REPLICA = "tattoo-directory-dev-app-storage-replica"
PRIMARY = "tattoo-directory-dev-app-storage-primary"


# --------------------------------------------------------------------------- --detailed-exitcode


def test_detailed_exitcode_says_whether_there_are_changes(moto_endpoint: str, deployed: Path) -> None:
    code, out, err = run_cli(
        moto_endpoint, "plan", "--config", str(deployed), "--env", "dev", "--detailed-exitcode"
    )
    assert code == EXIT_OK, err
    assert "Plan: 0 to create, 0 to update, 2 unchanged." in out

    code, out, _ = run_cli(
        moto_endpoint, "plan", "--config", str(deployed), "--env", "prod", "--detailed-exitcode"
    )
    assert code == EXIT_CHANGES == 2
    assert "Plan: 2 to create, 0 to update, 0 unchanged." in out

    # without the flag a plan with changes is a success like any other
    code, _, _ = run_cli(moto_endpoint, "plan", "--config", str(deployed), "--env", "prod")
    assert code == EXIT_OK


def test_a_blocked_or_data_losing_plan_is_a_plan_with_changes(
    moto_endpoint: str, deployed: Path, tmp_path: Path
) -> None:
    renamed = write_config(tmp_path, name_prefix="acme")
    code, out, _ = run_cli(
        moto_endpoint, "plan", "--config", str(renamed), "--env", "dev", "--detailed-exitcode"
    )
    assert code == EXIT_CHANGES
    assert "would lose or orphan data" in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["plan", "--env", "qa"], "there is no environment 'qa'"),
        (["plan", "--env", "dev", "--format", "xml"], "invalid choice: 'xml'"),
        (
            ["plan", "--env", "dev", "--json", "--format", "markdown"],
            "--json and --format markdown contradict",
        ),
        (["deploy", "--env", "dev", "--yes"], "--detailed-exitcode is an option of plan"),
    ],
    ids=["unknown-environment", "argparse", "contradicting-formats", "not-plan"],
)
def test_with_the_flag_bad_input_exits_1_not_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    log = CallLog()
    url = f"http://127.0.0.1:{closed_port()}"
    code, _, err = run_cli(url, *argv, "--detailed-exitcode", log=log)
    err += capsys.readouterr().err  # argparse writes its own errors to sys.stderr
    assert code == EXIT_FAILED and says in err
    assert log.calls == {}
    code, _, _ = run_cli(url, *[a for a in argv if a != "--detailed-exitcode"], log=log)
    if "--detailed-exitcode is an option" not in says:
        assert code == EXIT_BAD_INPUT  # the usual class without the flag


def test_with_the_flag_an_unreachable_endpoint_exits_1() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, _, err = run_cli(url, "plan", "--env", "dev", "--max-attempts", "1", "--detailed-exitcode")
    assert code == EXIT_FAILED and "cannot reach the AWS endpoint" in err


# --------------------------------------------------------------------------- --format markdown


def test_plan_markdown_for_a_pull_request_comment(moto_endpoint: str, deployed: Path) -> None:
    code, out, err = run_cli(
        moto_endpoint,
        "plan",
        "--config",
        str(deployed),
        "--env",
        "dev",
        "--env",
        "prod",
        "--format",
        "markdown",
    )
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert lines[:5] == [
        "## appstorage plan",
        "",
        "### dev",
        "",
        "**Plan: 0 to create, 0 to update, 2 unchanged.** No changes.",
    ]
    assert "| stack set | kind | deploys to | action | changes |" in lines
    assert f"| `{REPLICA}` | replica | us-west-2 | no change | - |" in lines
    prod = lines[lines.index("### prod") :]
    assert prod[2] == "**Plan: 2 to create, 0 to update, 0 unchanged.**"
    assert (
        "| `tattoo-directory-prod-app-storage-primary` | primary | us-east-1 | create | "
        "26 resource(s), 6 parameter(s), instances +3 |"
    ) in prod
    assert "<details><summary>the plan in full</summary>" in prod and "```" in prod
    assert "Traceback" not in out + err and err == ""


def test_plan_markdown_shows_what_deploy_refuses_outside_the_details(
    moto_endpoint: str, deployed: Path, tmp_path: Path
) -> None:
    renamed = write_config(tmp_path, name_prefix="acme")
    code, out, _ = run_cli(
        moto_endpoint, "plan", "--config", str(renamed), "--env", "dev", "--format", "markdown"
    )
    assert code == EXIT_OK
    before_details = out.split("<details>")[0]
    assert "Needs attention:" in before_details
    assert (
        "- **DATA LOSS** `Table` (AWS::DynamoDB::GlobalTable): changing Properties.TableName"
        in before_details
    )


def test_status_outputs_drift_dr_check_markdown(moto_endpoint: str, deployed: Path, tmp_path: Path) -> None:
    config = str(deployed)
    code, out, _ = run_cli(
        moto_endpoint, "status", "--config", config, "--env", "dev", "--format", "markdown"
    )
    assert code == EXIT_OK
    assert out.splitlines()[:4] == ["## appstorage status", "", "### dev", ""]
    assert "| stack set | deploys to | account | region | status | detailed status | drift | reason |" in out
    assert f"| `{REPLICA}` | us-west-2 | 111111111111 | us-west-2 | CURRENT | SUCCEEDED | - | - |" in out

    code, out, err = run_cli(
        moto_endpoint,
        "outputs",
        "--config",
        config,
        "--env",
        "dev",
        "--format",
        "markdown",
        outputs=tmp_path / "o.json",
    )
    assert code == EXIT_OK
    assert "| primary | 111111111111 | us-east-1 | TableName | `tattoo-directory-dev` |" in out
    assert (
        "outputs written to" in err and json.loads((tmp_path / "o.json").read_text())["environment"] == "dev"
    )

    faults = Faults()
    for kind, region in (("replica", "us-west-2"), ("primary", "us-east-1")):
        detect = faults.respond(
            "DetectStackSetDrift", f"<OperationId>d-{kind}</OperationId>", match={"StackSetName": kind}
        )
        faults.respond(
            "DescribeStackSetOperation",
            "<StackSetOperation><OperationId>x</OperationId><Status>SUCCEEDED</Status></StackSetOperation>",
            match={"OperationId": f"d-{kind}"},
        )
        rows = [
            {"Account": a, "Region": region, "Status": "CURRENT", "DriftStatus": "IN_SYNC"} for a in ACCOUNTS
        ]
        listing = faults.respond(
            "ListStackInstances", f"<Summaries>{members(rows)}</Summaries>", match={"StackSetName": kind}
        )
        listing.when = lambda p, d=detect, k=kind: d.hits > 0 and k in p.get("StackSetName", "")
    code, out, _ = run_cli(
        moto_endpoint, "drift", "--config", config, "--env", "dev", "--format", "markdown", faults=faults
    )
    assert code == EXIT_OK
    assert "**dev: in sync (0 drifted instances)**" in out
    assert f"| `{PRIMARY}` | primary | 3 | in sync |" in out

    code, out, _ = run_cli(
        moto_endpoint, "dr-check", "--config", config, "--env", "dev", "--format", "markdown"
    )
    assert out.splitlines()[:3] == ["## appstorage dr-check", "", "### dev"]
    assert "<details><summary>every check</summary>" in out
    assert "| 111111111111 | us-east-1 | versioning frontend | ready | Enabled |" in out


def test_markdown_only_where_there_is_some() -> None:
    code, _, err = run_cli(None, "deploy", "--env", "dev", "--yes", "--format", "markdown")
    assert code == EXIT_BAD_INPUT
    assert "--format markdown is for plan, status, outputs, drift, dr-check, not deploy" in err


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a|b", "a\\|b"),
        ("two\nlines", "two<br>lines"),
        ("", "-"),
        (Code("arn:aws:s3:::b"), "`arn:aws:s3:::b`"),
        (Code("x|y"), "`x\\|y`"),
        (Code("a`b"), "``a`b``"),
    ],
)
def test_cells(value: object, expected: str) -> None:
    assert cell(value) == expected


def test_table() -> None:
    assert table(("a", "b"), [("1", Code("2"))]) == ["| a | b |", "|---|---|", "| 1 | `2` |"]
