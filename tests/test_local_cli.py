"""The emulator from a newcomer's side: `local seed --endpoint-url` on any emulator, a plain moto
server told apart (and what fails there), --local without the [local] extra, and `outputs` that
never replaces an outputs file with an empty result."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.parsers import ResponseParserError

from stacksets.local import local_session
from stacksets.localstate import probe
from stacksets.session import CallLog
from tests.faults import run_cli
from tests.helpers import closed_port, rendered, seeded, write_config

ROOT = Path(__file__).resolve().parent.parent

#: A moto server in its own process, without the emulator's models (what `moto_server` is).
PLAIN_MOTO = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the test closes stdin
server.stop()
"""


@pytest.fixture(scope="module")
def plain_moto() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", PLAIN_MOTO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        yield f"http://127.0.0.1:{int(process.stdout.readline())}"
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def only_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --------------------------------------------------------------------------- which endpoint


def test_probe_tells_the_emulator_a_plain_moto_server_and_others_apart(
    moto_server: str, plain_moto: str
) -> None:
    assert probe(moto_server).kind == "appstorage"  # the tests' server registered the models
    assert probe(plain_moto).kind == "moto"
    assert probe(f"http://127.0.0.1:{closed_port()}").kind == "unreachable"
    assert probe("file:///etc/passwd").kind == "other"


def test_seed_any_emulator_then_deploy_there(moto_endpoint: str, tmp_path: Path) -> None:
    """The README's --endpoint-url path: seed the endpoint, deploy, seed again: nothing to change."""
    config = write_config(tmp_path)
    code, out, err = run_cli(
        None, "local", "seed", "--endpoint-url", moto_endpoint, "--config", str(config), "--env", "dev"
    )
    assert (code, err) == (0, "")
    assert out.strip() == (
        f"seeded {moto_endpoint} from {config.resolve()}: dev (6 KMS keys, 12 SSM parameters, 6 log buckets, 6 alarm topics)"
    )
    code, _, err = run_cli(
        moto_endpoint, "deploy", "--config", str(config), "--env", "dev", "--yes", outputs=tmp_path / "o.json"
    )
    assert code == 0, err
    assert (
        run_cli(
            None, "local", "seed", "--endpoint-url", moto_endpoint, "--config", str(config), "--env", "dev"
        )[0]
        == 0
    )
    code, out, err = run_cli(moto_endpoint, "plan", "--config", str(config), "--env", "dev")
    assert code == 0, err
    assert "Plan: 0 to create, 0 to update, 2 unchanged." in out


def test_seed_needs_an_endpoint_when_none_runs() -> None:
    code, _, err = run_cli(None, "local", "seed")
    assert code == 2
    assert only_line(err) == (
        "error: local seed needs --endpoint-url URL (or a running emulator: 'appstorage-deploy local start')"
    )


def test_a_plain_moto_server_is_seeded_with_a_warning_and_deploy_there_stops_in_one_line(
    plain_moto: str, tmp_path: Path
) -> None:
    code, out, err = run_cli(None, "local", "seed", "--endpoint-url", plain_moto, "--env", "dev")
    assert code == 0 and out.startswith(f"seeded {plain_moto} from the bundled example: dev")
    assert only_line(err).startswith(
        f"warning: {plain_moto} is a moto server without appstorage's CloudFormation models"
    )

    log = CallLog()
    code, out, err = run_cli(plain_moto, "deploy", "--env", "dev", "--yes", log=log)
    assert code == 2 and log.calls == {}
    assert only_line(err) == (
        f"error: {plain_moto} is a moto server without appstorage's CloudFormation models "
        "(AWS::DynamoDB::GlobalTable, AWS::CloudWatch::Alarm): a deploy there fails with HTTP 500 on "
        "CreateStackInstances; start the emulator with 'appstorage-deploy local start' and use --local "
        "(or the endpoint it prints)"
    )
    # Reading works there: only deploy is stopped.
    code, out, err = run_cli(plain_moto, "plan", "--env", "dev")
    assert code == 0, err


def test_what_the_message_says_fails_on_a_plain_moto_server(plain_moto: str) -> None:
    """CreateStackInstances of the primary template (a GlobalTable and alarms) answers HTTP 500."""
    from appstorage.config import load_config

    config = load_config()
    run_cli(None, "local", "seed", "--endpoint-url", plain_moto, "--env", "dev")
    cfn = local_session().client("cloudformation", endpoint_url=plain_moto)
    cfn.create_stack_set(
        StackSetName="plain-primary",
        TemplateBody=json.dumps(rendered(config, "dev", "primary")),
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v.value}
            for k, v in config.environment("dev").parameters.items()
            if k in rendered(config, "dev", "primary")["Parameters"]
        ],
    )
    env = config.environment("dev")
    with pytest.raises(ResponseParserError) as raised:
        cfn.create_stack_instances(
            StackSetName="plain-primary", Accounts=list(env.deployment.accounts), Regions=[env.primary_region]
        )
    assert "500 Internal Server Error" in str(raised.value)  # moto's HTML page, not an AWS answer


# --------------------------------------------------------------------------- the [local] extra


BLOCK_MOTO = (
    "import sys; sys.modules['moto'] = None; from stacksets.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.parametrize("argv", [["plan", "--local"], ["deploy", "--local", "--yes"], ["local", "start"]])
def test_local_without_the_extra_is_one_line_and_exit_2(argv: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_MOTO, *argv], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    line = only_line(result.stderr)
    assert line.startswith("error: the local emulator is not installed (")
    assert line.endswith("pip install 'appstorage[local]', then run the command again")


# --------------------------------------------------------------------------- outputs


def test_outputs_never_replaces_a_file_with_an_empty_result(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    target = tmp_path / "outputs.json"
    target.write_text('{"earlier": true}\n')
    code, out, err = run_cli(
        moto_endpoint, "outputs", "--config", str(config), "--env", "dev", outputs=target
    )
    assert code == 1
    assert only_line(err) == (
        f"error: dev: nothing is deployed (no stack instance): {target} keeps the outputs written before"
    )
    assert target.read_text() == '{"earlier": true}\n' and "outputs written" not in out

    missing = tmp_path / "new.json"
    code, _, err = run_cli(moto_endpoint, "outputs", "--config", str(config), "--env", "dev", outputs=missing)
    assert (
        code == 1
        and only_line(err)
        == f"error: dev: nothing is deployed (no stack instance): {missing} was not written"
    )
    assert not missing.exists()


def test_outputs_of_a_throwaway_emulator_leave_the_deployed_outputs_alone(tmp_path: Path) -> None:
    """The issue's case: `outputs --local` with no `local start` used to write an empty list over
    the outputs `deploy --local` wrote."""
    target = tmp_path / "outputs.json"
    target.write_text('{"deployed": true}\n')
    code, _, err = run_cli(None, "outputs", "--local", "--env", "dev", outputs=target)
    assert code == 1
    first, second = err.strip().splitlines()
    assert first.startswith("no local emulator is running: using a throwaway one at http://127.0.0.1:")
    assert (
        second
        == f"error: dev: nothing is deployed (no stack instance): {target} keeps the outputs written before"
    )
    assert target.read_text() == '{"deployed": true}\n'


def test_readme_quick_start_names_the_local_extra() -> None:
    """The install line the [local] message points to is the Quick start's."""
    assert "pip install '.[local]'" in (ROOT / "README.md").read_text(encoding="utf-8")
