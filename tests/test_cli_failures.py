"""No traceback from any input or endpoint: every failure ends with one line that says what
happened and what to do, and the exit code of its class (stacksets/cli/failures.py).

Endpoints that answer HTML or garbage are real HTTP servers on loopback; faults in the middle of a
deploy are injected over moto's real server (tests/faults.py); the drift call of an endpoint
without drift detection is moto itself, and botocore's Stubber answers it the way other emulators
do (501). Network and credential errors are botocore's own exceptions, raised where botocore
raises them or injected in place of a call.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
    SSLError,
)
from botocore.stub import Stubber

from stacksets.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, main
from stacksets.cli.failures import DEBUG_VARIABLE, FAILURES, failure
from stacksets.drift import DriftUnavailable, detect_drift
from stacksets.operations import OperationRunner
from stacksets.session import CallLog
from tests.faults import FakeClock, Faults, VirtualBotocoreTime, deploy, run_cli
from tests.helpers import closed_port, seeded, write_config

REPLICA = "tattoo-directory-dev-app-storage-replica"
PRIMARY = "tattoo-directory-dev-app-storage-primary"
COMMANDS = ("plan", "deploy", "status", "outputs", "drift", "destroy", "dr-check")
HTML = b"<!doctype html><html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>"
ERROR_PAGE = b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>"


@pytest.fixture(autouse=True)
def _virtual_botocore_time(botocore_time: VirtualBotocoreTime) -> VirtualBotocoreTime:
    return botocore_time


@contextmanager
def http_endpoint(status: int, body: bytes) -> Iterator[str]:
    """A web server on loopback answering every request with ``status`` and ``body``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = answer

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def assert_one_clear_line(err: str, out: str = "") -> str:
    """No traceback, and the first line of stderr is the error; returns it."""
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def cli(endpoint: str | None, command: str, *extra: str, **kw: object) -> tuple[int, str, str]:
    args = [command, "--env", "dev", "--max-attempts", "1", *extra]
    if command in ("deploy", "destroy"):
        args.append("--yes")
    return run_cli(endpoint, *args, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- endpoints answering HTML or garbage


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (200, HTML, "with an HTML page (HTTP 200: '<!doctype html><html><head><title>Welcome"),
        (200, b"\x00\x01 not xml {{", "with an answer (HTTP 200: '?? not xml {{')"),
        (404, HTML, "with an HTML page (HTTP 404"),
        (500, ERROR_PAGE, "with an HTML page (HTTP 500"),
    ],
    ids=["html-200", "garbage-200", "html-404", "error-page-500"],
)
def test_an_endpoint_that_is_not_aws_ends_every_command_with_one_line(
    command: str, status: int, body: bytes, says: str, tmp_path: Path
) -> None:
    with http_endpoint(status, body) as url:
        code, out, err = cli(url, command, outputs=tmp_path / "o.json")
    assert code == EXIT_FAILED
    if command == "dr-check" and not err:
        # dr-check reports every read that fails as a NOT READY row with the reason, and goes on
        assert "Traceback" not in out and "not read: the endpoint's answer could not be parsed" in out
        return
    line = assert_one_clear_line(err, out)
    assert line.startswith(f"error: {url} answered ") and says in line, line
    assert "that is not an AWS API response" in line
    if status >= 500:
        assert "appstorage-deploy local seed --endpoint-url URL" in line
    else:
        assert "check that --endpoint-url is an AWS-compatible endpoint" in line


def test_the_message_names_the_call_that_got_the_page() -> None:
    with http_endpoint(200, HTML) as url:
        _, _, err = cli(url, "plan")
    assert "answered cloudformation DescribeStackSet in us-east-1 with an HTML page" in err


# --------------------------------------------------------------------------- a deploy stopped half-way


@pytest.fixture
def config(moto_endpoint: str, tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    seeded(moto_endpoint, path)
    return path


def test_an_error_page_in_the_middle_of_a_deploy_keeps_the_phases_applied(
    moto_endpoint: str, config: Path
) -> None:
    faults = Faults()
    faults.answer("CreateStackInstances", 500, ERROR_PAGE, match={"StackSetName": PRIMARY}, times=None)
    code, out, err = deploy(moto_endpoint, config, "--max-attempts", "1", faults=faults)
    assert code == EXIT_FAILED
    line = assert_one_clear_line(err, out)
    assert "answered cloudformation CreateStackInstances in us-east-1 with an HTML page (HTTP 500" in line
    lines = err.splitlines()
    assert lines[lines.index(line) + 1 :] == [
        f"dev: the replica phase (stack set {REPLICA}) was already applied and stays applied",
        f"dev: the primary phase (stack set {PRIMARY}) did not complete; fix the error and run deploy "
        "again to finish it",
    ]
    assert faults.deletes() == []


def test_an_error_page_while_waiting_names_the_operation_still_running(
    moto_endpoint: str, config: Path
) -> None:
    faults = Faults()
    faults.answer("DescribeStackSetOperation", 502, ERROR_PAGE, match={"StackSetName": PRIMARY}, times=None)
    code, _, err = deploy(moto_endpoint, config, "--max-attempts", "1", faults=faults)
    assert code == EXIT_FAILED
    assert_one_clear_line(err)
    running = [line for line in err.splitlines() if line.startswith("still running (not cancelled)")]
    assert len(running) == 1 and f"on stack set {PRIMARY}" in running[0]
    assert f"the replica phase (stack set {REPLICA}) was already applied" in err


@pytest.mark.parametrize(
    ("raised", "says"),
    [
        (lambda: ReadTimeoutError(endpoint_url="http://x"), "the AWS endpoint did not answer in time"),
        (lambda: ConnectTimeoutError(endpoint_url="http://x"), "the AWS endpoint did not answer in time"),
        (
            lambda: ConnectionClosedError(endpoint_url="http://x"),
            "the AWS endpoint closed the connection without an answer",
        ),
        (lambda: EndpointConnectionError(endpoint_url="http://x"), "cannot reach the AWS endpoint"),
        (lambda: SSLError(endpoint_url="http://x", error="CERTIFICATE_VERIFY_FAILED"), "the TLS connection"),
    ],
    ids=["read-timeout", "connect-timeout", "connection-closed", "unreachable", "tls"],
)
def test_network_errors_in_the_middle_of_a_deploy(
    moto_endpoint: str, config: Path, raised: Callable[[], Exception], says: str
) -> None:
    faults = Faults()
    faults.fail("CreateStackSet", raised, match={"StackSetName": PRIMARY}, times=None)
    code, out, err = deploy(moto_endpoint, config, "--max-attempts", "1", faults=faults)
    assert code == EXIT_FAILED
    line = assert_one_clear_line(err, out)
    assert line.startswith(f"error: {says}"), line
    assert f"the replica phase (stack set {REPLICA}) was already applied and stays applied" in err


# --------------------------------------------------------------------------- drift without drift detection


def test_drift_against_an_emulator_without_drift_detection(moto_endpoint: str, deployed: Path) -> None:
    """moto answers DetectStackSetDrift with a 500 HTML page (NotImplementedError)."""
    code, out, err = run_cli(moto_endpoint, "drift", "--config", str(deployed), "--env", "dev")
    assert code == EXIT_FAILED
    line = assert_one_clear_line(err, out)
    assert line == (
        f"error: drift detection is not available at this endpoint: DetectStackSetDrift on stack set {REPLICA} "
        "failed on the server side (its answer is not an AWS API response). Emulators such as moto (--local, "
        "--endpoint-url) do not implement it: run drift against AWS"
    )


def test_drift_unavailable_when_the_endpoint_says_not_implemented(bundled_config: object) -> None:
    """Other emulators answer 501 NotImplemented (botocore's Stubber plays one)."""
    from stacksets.local import local_session
    from stacksets.session import ClientFactory
    from stacksets.toolkit import environment_tools

    factory = ClientFactory(local_session(), caller_account="111111111111")
    config = bundled_config
    tools = environment_tools(factory, config, config.environment("dev"))  # type: ignore[attr-defined]
    cfn = tools.cfn
    replica = tools.desired[0]
    with Stubber(cfn) as stub:
        stub.add_response(
            "describe_stack_set",
            {"StackSet": {"StackSetName": replica.name, "Status": "ACTIVE", "TemplateBody": "{}"}},
        )
        stub.add_response(
            "list_stack_instances",
            {"Summaries": [{"Account": "111111111111", "Region": "us-west-2", "Status": "CURRENT"}]},
        )
        stub.add_response("list_stack_set_operations", {"Summaries": []})  # observe: running operations
        stub.add_response("list_stack_set_operations", {"Summaries": []})  # a drift detection running?
        stub.add_client_error(
            "detect_stack_set_drift",
            service_error_code="NotImplemented",
            service_message="API action 'DetectStackSetDrift' not yet implemented",
            http_status_code=501,
        )
        runner = OperationRunner(cfn, runtime=FakeClock().runtime())
        with pytest.raises(DriftUnavailable) as raised:
            detect_drift([replica], cfn=cfn, runner=runner)
    assert "(NotImplemented: API action 'DetectStackSetDrift' not yet implemented)" in str(raised.value)


# --------------------------------------------------------------------------- input: options, environment


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("localhost:4566", "is not an http:// or https:// URL"),
        ("127.0.0.1:5000", "is not an http:// or https:// URL"),
        ("ftp://127.0.0.1:21", "is not an http:// or https:// URL"),
        ("", "is not an http:// or https:// URL"),
        ("http://", "is not an http:// or https:// URL"),
        ("http://127.0.0.1:99999", "is not a URL (Port out of range 0-65535)"),
        ("http://127.0.0.1:port", "is not a URL"),
        ("http://[::1", "is not a URL (Invalid IPv6 URL)"),
        ("http://127.0.0.1:0", "has port 0"),
        ("http://local host:5000", "is not an http:// or https:// URL"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "deploy", "dr-check"])
def test_a_malformed_endpoint_url_is_bad_input(command: str, url: str, says: str) -> None:
    log = CallLog()
    code, out, err = cli(url, command, log=log)
    assert code == EXIT_BAD_INPUT
    line = assert_one_clear_line(err, out)
    assert line.startswith(f"error: --endpoint-url {url!r} {says}"), line
    assert log.calls == {}


@pytest.fixture
def aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS config file of profiles, and no credentials in the environment."""
    path = tmp_path / "aws-config"
    path.write_text(
        "[profile failing]\ncredential_process = /bin/false\nregion = us-east-1\n"
        "[profile garbled]\ncredential_process = /bin/echo not-json\nregion = us-east-1\n"
        "[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n"
        "sso_account_id = 111111111111\nsso_role_name = Deployer\nregion = us-east-1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no SSO token cache
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return path


def main_with_environment(*argv: str) -> tuple[int, str, str]:
    """The CLI with the session the environment configures (no injected credentials)."""
    import io

    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, runtime=FakeClock().runtime())
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("profile", "code", "says"),
    [
        ("failing", EXIT_FAILED, "error: the AWS credentials could not be loaded (Error when retrieving"),
        # botocore's process provider lets json's error through: still the credentials' row
        ("garbled", EXIT_FAILED, "error: the AWS credentials could not be loaded (Expecting value"),
        ("sso", EXIT_FAILED, "error: the AWS credentials could not be loaded (Error loading SSO Token"),
        (
            "missing",
            EXIT_BAD_INPUT,
            "error: The config profile (missing) could not be found: set AWS_PROFILE",
        ),
    ],
)
def test_credential_provider_errors(
    aws_config: Path, monkeypatch: pytest.MonkeyPatch, profile: str, code: int, says: str
) -> None:
    monkeypatch.setenv("AWS_PROFILE", profile)
    url = f"http://127.0.0.1:{closed_port()}"
    ended, out, err = main_with_environment("plan", "--env", "dev", "--endpoint-url", url)
    assert ended == code
    line = assert_one_clear_line(err, out)
    assert line.startswith(says), line


def test_no_credentials_at_all(aws_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    url = f"http://127.0.0.1:{closed_port()}"
    code, out, err = main_with_environment("plan", "--env", "dev", "--endpoint-url", url)
    assert code == EXIT_FAILED
    assert assert_one_clear_line(err, out) == (
        "error: no AWS credentials found: configure a profile or environment credentials"
    )


def test_an_invalid_region_setting_is_bad_input(moto_endpoint: str, deployed: Path, tmp_path: Path) -> None:
    """The session's region names the caller's STS endpoint (reading outputs in the accounts)."""
    import io

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="not a region"
    )
    out, err = io.StringIO(), io.StringIO()
    argv = ["outputs", "--config", str(deployed), "--env", "dev", "--endpoint-url", moto_endpoint]
    code = main([*argv, "--outputs-file", str(tmp_path / "o.json")], session=session, stdout=out, stderr=err)
    assert code == EXIT_BAD_INPUT
    line = assert_one_clear_line(err.getvalue(), out.getvalue())
    assert line == (
        "error: Provided region_name 'not a region' doesn't match a supported format.: set AWS_REGION "
        "(or AWS_DEFAULT_REGION, or the profile's region) to a region code such as us-east-1"
    )


# --------------------------------------------------------------------------- the last row: a bug


def test_an_unexpected_exception_is_one_line_to_report(monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(*_: object, **__: object) -> None:
        raise RuntimeError("the planner tripped")

    monkeypatch.setattr("stacksets.cli.commands.plan_rollout", bug)
    monkeypatch.delenv(DEBUG_VARIABLE, raising=False)
    url = f"http://127.0.0.1:{closed_port()}"
    code, _, err = cli(url, "plan")
    assert code == EXIT_FAILED
    assert err.splitlines() == [
        "error: unexpected RuntimeError in plan: the planner tripped. This is a bug in appstorage-deploy: "
        "please report it to the appstorage issue tracker with the command line, and the traceback "
        "APPSTORAGE_DEBUG=1 prints"
    ]

    monkeypatch.setenv(DEBUG_VARIABLE, "1")
    code, _, err = cli(url, "plan")
    assert code == EXIT_FAILED
    assert err.startswith("Traceback (most recent call last):")
    assert "RuntimeError: the planner tripped" in err
    assert err.splitlines()[-1].startswith("error: unexpected RuntimeError in plan")


@pytest.mark.parametrize(
    ("exc", "code", "first"),
    [
        (
            PermissionError(13, "Permission denied", "/ro/outputs.json"),
            EXIT_FAILED,
            "error: cannot use /ro/outputs.json: Permission denied; check the path (--outputs-file, --config) "
            "and its permissions",
        ),
        (
            BrokenPipeError(32, "Broken pipe"),
            EXIT_FAILED,
            "error: the output was closed before the command finished (broken pipe)",
        ),
        (KeyboardInterrupt(), EXIT_INTERRUPTED, "interrupted: operations already started keep running"),
        (ValueError("x"), EXIT_FAILED, "error: unexpected ValueError in status: x. This is a bug"),
    ],
)
def test_rows(exc: BaseException, code: int, first: str) -> None:
    ended = failure(exc, "status")
    assert ended is not None
    assert ended[0] == code and ended[1][0].startswith(first)


def test_system_exit_is_not_a_failure() -> None:
    assert failure(SystemExit(3), "plan") is None


def test_every_row_has_a_summary_and_an_exit_code_class() -> None:
    assert set(FAILURES) >= {Exception, KeyboardInterrupt}
    assert {row.code for row in FAILURES.values()} == {EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED}
    assert all(row.summary for row in FAILURES.values())
