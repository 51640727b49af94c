"""The deployer's command line: bad input exits 2 with a clear message and no API call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacksets.cli import EXIT_INTERRUPTED
from stacksets.cli.failures import failure
from stacksets.errors import RunningOperation, add_stop_context
from stacksets.local import local_session
from stacksets.session import CallLog
from tests.faults import run_cli
from tests.helpers import closed_port, write_dev_config


def run(*argv: str, log: CallLog | None = None) -> tuple[int, str, str]:
    """The CLI without an endpoint (bad input, ``--local``)."""
    return run_cli(None, *argv, log=log)


@pytest.mark.parametrize("command", ["plan", "deploy", "status", "outputs"])
def test_unknown_environment(command: str) -> None:
    log = CallLog()
    code, out, err = run(command, "--env", "qa", "--yes", "--endpoint-url", "http://127.0.0.1:9", log=log)
    assert code == 2
    assert "there is no environment 'qa'" in err and "dev, staging, prod" in err
    assert "Traceback" not in err + out
    assert log.calls == {}


def test_missing_accounts(tmp_path: Path) -> None:
    log = CallLog()
    code, _, err = run(
        "deploy",
        "--config",
        str(write_dev_config(tmp_path, {"accounts": None}, replace=False)),
        "--env",
        "dev",
        log=log,
    )
    assert code == 2
    assert "deployment.accounts" in err and "SELF_MANAGED stack sets need target accounts" in err
    assert "Traceback" not in err and log.calls == {}


def test_invalid_account_id(tmp_path: Path) -> None:
    log = CallLog()
    code, _, err = run(
        "plan",
        "--config",
        str(write_dev_config(tmp_path, {"accounts": ["12345"]}, replace=False)),
        "--env",
        "dev",
        log=log,
    )
    assert code == 2
    assert "accounts[0]" in err and "12345" in err
    assert "Traceback" not in err and log.calls == {}


def test_missing_config_file(tmp_path: Path) -> None:
    code, _, err = run("plan", "--config", str(tmp_path / "nope.yaml"))
    assert code == 2 and "cannot be read" in err


def test_deploy_to_aws_needs_an_environment() -> None:
    log = CallLog()
    code, _, err = run("deploy", "--yes", log=log)
    assert code == 2 and "deploy needs --env" in err and log.calls == {}


def test_unknown_command() -> None:
    code, _, _ = run("launch")
    assert code == 2


def test_unreachable_endpoint() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, out, err = run("plan", "--env", "dev", "--endpoint-url", url, "--max-attempts", "1")
    assert code == 1
    assert "cannot reach the AWS endpoint" in err and url in err
    assert "Traceback" not in err + out


def test_local_deploy_writes_outputs(tmp_path: Path) -> None:
    outputs = tmp_path / "{env}.json"
    code, out, err = run("deploy", "--local", "--yes", "--env", "dev", "--outputs-file", str(outputs))
    assert code == 0, err
    data = json.loads((tmp_path / "dev.json").read_text())
    kinds = {s["kind"]: s for s in data["stack_sets"]}
    assert set(kinds) == {"replica", "primary"}
    table = kinds["primary"]["instances"][0]["outputs"]["TableName"]
    assert table == "tattoo-directory-dev"
    assert "tattoo-directory-dev" in out  # the outputs table


def test_local_deploy_of_prod_creates_the_table_in_both_regions_of_every_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`deploy --local --env prod`: the embedded emulator (with our GlobalTable model) ends up with
    the table in the primary and the replica region of every target account. The emulator stops
    with the command, so its state is read just before it stops."""
    from collections.abc import Iterator
    from contextlib import contextmanager

    from appstorage.config import load_config
    from stacksets import local
    from stacksets.session import ClientFactory

    env = load_config().environment("prod")
    found: dict[tuple[str, str], Any] = {}
    real = local.run_local_server

    @contextmanager
    def reading_before_stop() -> Iterator[str]:
        with real() as url:
            yield url
            factory = ClientFactory(local_session(), endpoint_url=url)
            for account in env.deployment.accounts:
                for region in (env.primary_region, env.replica_region):
                    ddb = factory.client("dynamodb", region, account, env.deployment.execution_role_name)
                    found[account, region] = ddb.describe_table(TableName="tattoo-directory-prod")["Table"]

    monkeypatch.setattr(local, "run_local_server", reading_before_stop)
    code, _, err = run("deploy", "--local", "--yes", "--env", "prod", "--outputs-file", str(tmp_path / "o.json"))
    assert code == 0, err
    expected = {(a, r) for a in env.deployment.accounts for r in (env.primary_region, env.replica_region)}
    assert set(found) == expected
    for (account, region), table in found.items():
        assert table["TableStatus"] == "ACTIVE"
        assert table["TableArn"] == f"arn:aws:dynamodb:{region}:{account}:table/tattoo-directory-prod"
        other = env.replica_region if region == env.primary_region else env.primary_region
        assert [r["RegionName"] for r in table["Replicas"]] == [other]


def test_interrupt_names_the_operation_still_running_and_exits_130() -> None:
    """Ctrl-C while an operation is waited for (end to end: tests/test_faults.py)."""
    interrupt = KeyboardInterrupt()
    add_stop_context(
        interrupt, running_operation=RunningOperation("tattoo-directory-dev-app-storage-replica", "op-123")
    )
    ended = failure(interrupt, "deploy")
    assert ended is not None
    code, lines = ended
    assert code == EXIT_INTERRUPTED == 130
    assert lines[0] == "still running: operation op-123 on stack set tattoo-directory-dev-app-storage-replica"
    assert "not cancelled" in lines[1] and "run deploy again" in lines[1]


def test_seeding_the_emulator_twice_is_idempotent(moto_endpoint: str) -> None:
    """--local seeds moto's in-process state, which outlives one emulator: a second seeding of the
    same accounts (the log buckets exist already) must not fail."""
    from appstorage.config import load_config
    from stacksets.local import seed
    from stacksets.session import ClientFactory

    config = load_config()
    factory = ClientFactory(local_session(), endpoint_url=moto_endpoint)
    envs = [config.environment("prod")]
    first = seed(factory, config, envs)
    assert first["buckets"] == 2 * len(envs[0].deployment.accounts)
    assert seed(factory, config, envs) == first
