"""``dr-check`` with botocore's Stubber (requests and responses validated against the service
models): the answers moto never gives.

moto never reports a replica other than ACTIVE (the emulator's GlobalTable model), enforces no
IAM (no AccessDenied, every role assumable), reports every replication rule with delete markers
Disabled and no SourceSelectionCriteria (so a correct rule is never "ready" there), and never
throttles. Here the clients the ClientFactory hands out are stubbed as they are made (a factory
hook), so the reader runs exactly as against AWS.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from appstorage.config import Config, Environment, load_config
from appstorage.naming import Purpose, bucket_name_for_region
from stacksets.drcheck.checks import NOT_READY, READY, account_checks
from stacksets.drcheck.reader import AccountReader, dr_check, target_accounts
from stacksets.drcheck.render import summary_line
from stacksets.local import local_session
from stacksets.session import ClientFactory
from tests import faults
from tests.helpers import config_from, example_data, reported_replication_rule

ACCOUNT = "333333333333"  # the bundled example's prod account
ROLE = "AWSCloudFormationStackSetExecutionRole"
TABLE = "tattoo-directory-prod"
EAST, WEST = "us-east-1", "us-west-2"


@attrs.frozen
class Err:
    code: str
    message: str
    status: int = 400


@attrs.define
class Stubs:
    """Responses for the clients a :class:`ClientFactory` makes, by (service, region), in each
    client's call order. As a factory hook it puts a Stubber with them on each new client."""

    queued: dict[tuple[str, str], list[tuple[str, Any, dict[str, Any]]]] = attrs.field(
        factory=lambda: defaultdict(list)
    )
    stubbers: list[Stubber] = attrs.field(factory=list)

    def add(self, service: str, region: str, method: str, response: Any, params: dict[str, Any]) -> None:
        self.queued[service, region].append((method, response, params))

    def attach(self, client: Any) -> None:
        key = (client.meta.service_model.service_name, client.meta.region_name)
        stubber = Stubber(client)
        for method, response, params in self.queued.pop(key, []):
            if isinstance(response, Err):
                stubber.add_client_error(method, response.code, response.message, response.status, expected_params=params)
            else:
                stubber.add_response(method, response, params)
        stubber.activate()
        self.stubbers.append(stubber)

    def assert_done(self) -> None:
        assert not self.queued, f"clients never made: {sorted(self.queued)}"
        for stubber in self.stubbers:
            stubber.assert_no_pending_responses()


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    stubs = Stubs()
    yield stubs
    stubs.assert_done()


def factory_for(stubs: Stubs, caller: str = ACCOUNT) -> ClientFactory:
    # the checked account is the caller's: no AssumeRole
    return ClientFactory(local_session(), max_attempts=1, hooks=(stubs.attach,), caller_account=caller)


def bucket(purpose: Purpose, account: str = ACCOUNT, env: str = "prod") -> str:
    region = WEST if purpose.is_backup else EAST
    return bucket_name_for_region("tattoo-directory", env, purpose, account, region)


def rule(purpose: Purpose, **changes: Any) -> dict[str, Any]:
    data = reported_replication_rule(
        f"replicate-{purpose.value}-to-us-west-2",
        f"arn:aws:s3:::{bucket(purpose.backup)}",
        f"arn:aws:kms:us-west-2:{ACCOUNT}:key/replica",
        **changes.pop("Destination", {}),
    )
    data.update(changes)
    return data


def table(status: str = "ACTIVE", **replica: Any) -> dict[str, Any]:
    return {
        "Table": {
            "TableName": TABLE,
            "TableStatus": status,
            "GlobalTableVersion": "2019.11.21",
            "Replicas": [{"RegionName": WEST, "ReplicaStatus": "ACTIVE", **replica}],
        }
    }


def backups(status: str = "ENABLED", period: int | None = 35) -> dict[str, Any]:
    description: dict[str, Any] = {"PointInTimeRecoveryStatus": status}
    if period is not None:
        description["RecoveryPeriodInDays"] = period
    return {
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": description,
        }
    }


def replication(purpose: Purpose, **changes: Any) -> dict[str, Any]:
    return {
        "ReplicationConfiguration": {
            "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
            "Rules": [rule(purpose, **changes)],
        }
    }


#: What the reader asks for in a prod account, in each client's call order, and AWS's answer when
#: everything is as the templates declare it. Keys: (service, region, method, table or bucket).
def prod_answers() -> dict[tuple[str, str, str, str], Any]:
    west_table = table()
    west_table["Table"]["Replicas"] = [{"RegionName": EAST, "ReplicaStatus": "ACTIVE"}]
    return {
        ("dynamodb", EAST, "describe_table", TABLE): table(),
        ("dynamodb", EAST, "describe_continuous_backups", TABLE): backups(),
        ("dynamodb", WEST, "describe_table", TABLE): west_table,
        ("dynamodb", WEST, "describe_continuous_backups", TABLE): backups(),
        ("s3", EAST, "get_bucket_replication", bucket(Purpose.FRONTEND)): replication(Purpose.FRONTEND),
        ("s3", EAST, "get_bucket_replication", bucket(Purpose.IMAGES)): replication(Purpose.IMAGES),
        ("s3", EAST, "get_bucket_versioning", bucket(Purpose.FRONTEND)): {"Status": "Enabled"},
        ("s3", EAST, "get_bucket_versioning", bucket(Purpose.IMAGES)): {"Status": "Enabled"},
        ("s3", WEST, "get_bucket_versioning", bucket(Purpose.FRONTEND_BACKUP)): {"Status": "Enabled"},
        ("s3", WEST, "get_bucket_versioning", bucket(Purpose.IMAGES_BACKUP)): {"Status": "Enabled"},
    }


def queue(stubs: Stubs, answers: dict[tuple[str, str, str, str], Any]) -> None:
    for (service, region, method, resource), response in answers.items():
        params = {"TableName": resource} if service == "dynamodb" else {"Bucket": resource}
        stubs.add(service, region, method, response, params)


ALL_READY = {
    (EAST, "table"): "ACTIVE",
    (EAST, "PITR"): "ENABLED, 35 days",
    (EAST, "replication frontend"): "RTC 15 min, metrics, delete markers, SSE-KMS (rule replicate-frontend-to-us-west-2)",
    (EAST, "replication images"): "RTC 15 min, metrics, delete markers, SSE-KMS (rule replicate-images-to-us-west-2)",
    (EAST, "versioning frontend"): "Enabled",
    (EAST, "versioning images"): "Enabled",
    (WEST, "table"): "ACTIVE",
    (WEST, "table replica"): "us-west-2 ACTIVE",
    (WEST, "PITR"): "ENABLED, 35 days",
    (WEST, "versioning frontend-backup"): "Enabled",
    (WEST, "versioning images-backup"): "Enabled",
}

DENIED = Err("AccessDenied", "Access Denied", 403)


@pytest.mark.parametrize(
    ("answers", "not_ready"),
    [
        pytest.param({}, {}, id="all ready"),
        pytest.param(
            {
                ("dynamodb", EAST, "describe_table", TABLE): table(ReplicaStatus="CREATING", ReplicaStatusPercentProgress="40"),
                ("dynamodb", WEST, "describe_table", TABLE): table(status="CREATING"),
            },
            {(WEST, "table replica"): "us-west-2 CREATING (40%)", (WEST, "table"): "CREATING"},
            id="replica being created",
        ),
        pytest.param(
            {
                ("dynamodb", EAST, "describe_table", TABLE): table(
                    ReplicaStatus="INACCESSIBLE_ENCRYPTION_CREDENTIALS",
                    ReplicaStatusDescription="The replica's KMS key is disabled",
                ),
                ("dynamodb", WEST, "describe_table", TABLE): table(status="INACCESSIBLE_ENCRYPTION_CREDENTIALS"),
            },
            {
                (WEST, "table replica"): "us-west-2 INACCESSIBLE_ENCRYPTION_CREDENTIALS (The replica's KMS key is disabled)",
                (WEST, "table"): "INACCESSIBLE_ENCRYPTION_CREDENTIALS",
            },
            id="replica key inaccessible",
        ),
        pytest.param(
            {("dynamodb", WEST, "describe_continuous_backups", TABLE): backups("DISABLED", None)},
            {(WEST, "PITR"): "DISABLED (configured: ENABLED, 35 days)"},
            id="PITR disabled in the replica region",
        ),
        pytest.param(
            {("dynamodb", EAST, "describe_continuous_backups", TABLE): backups("ENABLED", 14)},
            {(EAST, "PITR"): "ENABLED, recovery period 14 days, configured 35"},
            id="PITR period differs",
        ),
        pytest.param(
            {
                ("s3", EAST, "get_bucket_replication", bucket(Purpose.IMAGES)): replication(
                    Purpose.IMAGES,
                    Destination={"ReplicationTime": {"Status": "Disabled", "Time": {"Minutes": 15}}},
                )
            },
            {(EAST, "replication images"): "rule replicate-images-to-us-west-2: RTC off (ReplicationTime not Enabled)"},
            id="RTC off",
        ),
        pytest.param(
            {("s3", EAST, "get_bucket_replication", bucket(Purpose.FRONTEND)): DENIED},
            {(EAST, "replication frontend"): "not read: GetBucketReplication refused (AccessDenied: Access Denied)"},
            id="GetBucketReplication denied",
        ),
        pytest.param(
            {
                ("dynamodb", EAST, "describe_table", TABLE): Err(
                    "AccessDeniedException", "not authorized to perform: dynamodb:DescribeTable"
                )
            },
            {
                (EAST, "table"): "not read: DescribeTable refused (AccessDeniedException: not authorized to "
                "perform: dynamodb:DescribeTable)",
                (WEST, "table replica"): "not read: DescribeTable refused (AccessDeniedException: not "
                "authorized to perform: dynamodb:DescribeTable)",
            },
            id="DescribeTable denied",
        ),
        pytest.param(
            {("s3", EAST, "get_bucket_replication", bucket(Purpose.IMAGES)): Err(
                "ReplicationConfigurationNotFoundError", "The replication configuration was not found", 404
            )},
            {(EAST, "replication images"): "no replication configuration"},
            id="no replication configuration",
        ),
        pytest.param(
            {("s3", WEST, "get_bucket_versioning", bucket(Purpose.IMAGES_BACKUP)): Err(
                "NoSuchBucket", "The specified bucket does not exist", 404
            )},
            {(WEST, "versioning images-backup"): f"bucket {bucket(Purpose.IMAGES_BACKUP)} not found"},
            id="backup bucket missing",
        ),
        pytest.param(
            {("dynamodb", WEST, "describe_table", TABLE): Err("ResourceNotFoundException", "Requested resource not found")},
            {(WEST, "table"): "table tattoo-directory-prod not found"},
            id="replica table missing",
        ),
        pytest.param(
            {("dynamodb", WEST, "describe_continuous_backups", TABLE): Err("ThrottlingException", "Rate exceeded")},
            {(WEST, "PITR"): "not read: DescribeContinuousBackups failed (ThrottlingException: Rate exceeded)"},
            id="throttled past the retries",
        ),
    ],
)
def test_prod_account_answers(
    stubs: Stubs, config: Config, answers: dict[tuple[str, str, str, str], Any], not_ready: dict[tuple[str, str], str]
) -> None:
    queue(stubs, {**prod_answers(), **answers})
    env = config.environment("prod")
    state = AccountReader(factory_for(stubs), ROLE).read(config, env, ACCOUNT)
    rows = {(c.region, c.check): (c.status, c.detail) for c in account_checks(config, env, state)}
    expected = {key: (READY, detail) for key, detail in ALL_READY.items()}
    expected.update({key: (NOT_READY, detail) for key, detail in not_ready.items()})
    assert rows == expected


def test_caller_credentials_rejected_stop_the_command(stubs: Stubs, config: Config) -> None:
    """The caller's own token is expired: every read would fail the same way, so the command
    stops and the CLI says to refresh the credentials (not one NOT READY row per check)."""
    stubs.add("dynamodb", EAST, "describe_table", Err("ExpiredTokenException", "The security token expired"),
              {"TableName": TABLE})  # fmt: skip
    with pytest.raises(ClientError, match="ExpiredTokenException"):
        AccountReader(factory_for(stubs), ROLE).read(config, config.environment("prod"), ACCOUNT)


def test_role_not_assumable_is_one_not_ready_row_after_one_attempt(stubs: Stubs, config: Config) -> None:
    stubs.add(
        "sts",
        EAST,
        "assume_role",
        Err("AccessDenied", f"User is not authorized to perform: sts:AssumeRole on {ROLE}", 403),
        {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{ROLE}", "RoleSessionName": "appstorage-deploy"},
    )
    env = config.environment("prod")
    state = AccountReader(factory_for(stubs, caller="999999999999"), ROLE).read(config, env, ACCOUNT)
    assert state.error == f"AssumeRole refused (AccessDenied: User is not authorized to perform: sts:AssumeRole on {ROLE})"
    [row] = account_checks(config, env, state)
    assert (row.account, row.check, row.status) == (ACCOUNT, "execution role", NOT_READY)
    # stubs.assert_done: exactly one AssumeRole, no read attempted after it


# --------------------------------------------------------------------------- SERVICE_MANAGED


def service_managed() -> tuple[Config, Environment]:
    data = example_data()
    data["environments"]["prod"]["deployment"] = {
        "permission_model": "SERVICE_MANAGED",
        "organizational_units": ["ou-ab12-cd34ef56"],
    }
    config = config_from(data)
    return config, config.environment("prod")


def observe_answers(stubs: Stubs, instances: list[dict[str, Any]] | None) -> None:
    name = "tattoo-directory-prod-app-storage-primary"
    params = {"StackSetName": name, "CallAs": "SELF"}
    if instances is None:
        stubs.add("cloudformation", EAST, "describe_stack_set", Err("StackSetNotFoundException", "not found"), params)
        return
    stack_set = {"StackSetName": name, "Status": "ACTIVE", "PermissionModel": "SERVICE_MANAGED"}
    stubs.add("cloudformation", EAST, "describe_stack_set", {"StackSet": stack_set}, params)
    stubs.add("cloudformation", EAST, "list_stack_instances", {"Summaries": instances}, params)
    stubs.add("cloudformation", EAST, "list_stack_set_operations", {"Summaries": []}, params)


def instance(account: str, status: str = "CURRENT") -> dict[str, Any]:
    return {"Account": account, "Region": EAST, "Status": status, "OrganizationalUnitId": "ou-ab12-cd34ef56"}


def test_service_managed_accounts_are_the_primary_instances(stubs: Stubs) -> None:
    config, env = service_managed()
    observe_answers(stubs, [instance("555555555555"), instance("444444444444", "OUTDATED")])
    assert target_accounts(factory_for(stubs), config, env) == (["444444444444", "555555555555"], "")


@pytest.mark.parametrize(
    ("instances", "reason"),
    [
        pytest.param(
            None,
            "stack set tattoo-directory-prod-app-storage-primary not found: nothing is deployed to check",
            id="not deployed",
        ),
        pytest.param(
            [], "stack set tattoo-directory-prod-app-storage-primary has no instances in the target OUs", id="empty"
        ),
    ],
)
def test_service_managed_without_instances_is_not_ready(
    stubs: Stubs, instances: list[dict[str, Any]] | None, reason: str
) -> None:
    config, env = service_managed()
    observe_answers(stubs, instances)
    report = dr_check(factory_for(stubs), config, env)
    assert not report.ready and report.accounts == ()
    assert [(c.check, c.status, c.detail) for c in report.checks] == [("stack instances", NOT_READY, reason)]
    assert summary_line(report) == f"prod: NOT READY: no account to check ({reason})"


# --------------------------------------------------------------------------- through the CLI


def run_cli(stubs: Stubs, *argv: str) -> tuple[int, str, str]:
    """The CLI with every client stubbed (no endpoint: the stubs answer)."""
    return faults.run_cli(None, *argv, hooks=(stubs.attach,))


def caller_identity(stubs: Stubs) -> None:
    identity = {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "UserId": "AIDA"}
    stubs.add("sts", EAST, "get_caller_identity", identity, {})


def test_cli_all_ready_exits_0_with_table_and_json(stubs: Stubs) -> None:
    caller_identity(stubs)
    queue(stubs, prod_answers())
    code, out, err = run_cli(stubs, "dr-check", "--env", "prod")
    assert code == 0, err
    lines = out.rstrip().splitlines()
    printed = [line.split() for line in lines if line.startswith("prod ")]
    assert len(printed) == 11 and all("ready" in row and "NOT" not in row for row in printed)
    assert lines[-1] == "prod: READY (11 checks in 1 account(s) ready)"
    assert err == ""

    stubs.assert_done()
    caller_identity(stubs)
    queue(stubs, prod_answers())
    code, out, err = run_cli(stubs, "dr-check", "--env", "prod", "--json")
    assert code == 0, err
    data = json.loads(out)["prod"]
    assert data["ready"] is True and data["not_ready"] == 0 and data["accounts"] == [ACCOUNT]
    assert {(c["region"], c["check"]): c["detail"] for c in data["checks"]} == ALL_READY
    assert data["summary"] == "prod: READY (11 checks in 1 account(s) ready)"


def test_cli_exits_1_naming_what_is_not_ready(stubs: Stubs) -> None:
    caller_identity(stubs)
    queue(stubs, {**prod_answers(), ("s3", EAST, "get_bucket_replication", bucket(Purpose.FRONTEND)): DENIED})
    code, out, err = run_cli(stubs, "dr-check", "--env", "prod")
    assert code == 1
    row = next(line.split() for line in out.splitlines() if "replication frontend" in line)
    assert row[:7] == ["prod", ACCOUNT, EAST, "replication", "frontend", "NOT", "READY"]
    assert out.rstrip().splitlines()[-1] == f"prod: NOT READY: 1 of 11 checks in 1 of 1 account(s) ({ACCOUNT})"
    assert "reads were refused in some accounts" in err and "s3:GetReplicationConfiguration" in err


def test_cli_expired_caller_credentials_say_refresh(stubs: Stubs) -> None:
    caller_identity(stubs)
    stubs.add("dynamodb", EAST, "describe_table", Err("ExpiredTokenException", "The security token expired"),
              {"TableName": TABLE})  # fmt: skip
    code, out, err = run_cli(stubs, "dr-check", "--env", "prod")
    assert code == 1 and out == ""
    assert "the AWS credentials were rejected (ExpiredTokenException" in err and "Traceback" not in err


HTML = b"<!doctype html>\n<title>500 Internal Server Error</title>\n"


def test_an_html_error_page_is_a_not_ready_row(stubs: Stubs, config: Config) -> None:
    """A proxy or broken endpoint answering one read with an HTML error page: that row says so,
    the other reads go on."""
    answers = {key: value for key, value in prod_answers().items() if key[:2] != ("s3", WEST)}
    queue(stubs, answers)
    enabled = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"

    def send(request: Any, **_: Any) -> AWSResponse:
        if bucket(Purpose.IMAGES_BACKUP) in request.url:
            return faults.fake_response(request.url, 500, HTML)
        return faults.fake_response(request.url, 200, enabled)

    def hook(client: Any) -> None:
        if (client.meta.service_model.service_name, client.meta.region_name) == ("s3", WEST):
            client.meta.events.register("before-send.s3.GetBucketVersioning", send)
        else:
            stubs.attach(client)

    factory = ClientFactory(local_session(), max_attempts=1, hooks=(hook,), caller_account=ACCOUNT)
    env = config.environment("prod")
    state = AccountReader(factory, ROLE).read(config, env, ACCOUNT)
    rows = {(c.region, c.check): (c.status, c.detail) for c in account_checks(config, env, state)}
    assert rows[WEST, "versioning images-backup"] == (
        NOT_READY,
        "not read: GetBucketVersioning failed (500: Internal Server Error)",
    )
    assert rows[WEST, "versioning frontend-backup"] == (READY, "Enabled")
    assert sum(row[0] == READY for row in rows.values()) == 10


def test_an_unparsable_answer_is_a_not_ready_row_not_a_traceback(config: Config) -> None:
    """An HTML page with status 200 to a query-protocol call (STS GetCallerIdentity, made before
    the first client of a member account): botocore raises ResponseParserError, which is not a
    BotoCoreError. Every read of the account is a NOT READY row saying so."""

    def send(request: Any, **_: Any) -> AWSResponse:
        return faults.fake_response(request.url, 200, HTML)

    def hook(client: Any) -> None:
        assert client.meta.service_model.service_name == "sts"  # no other client gets made
        client.meta.events.register("before-send.sts.GetCallerIdentity", send)

    factory = ClientFactory(local_session(), max_attempts=1, hooks=(hook,))
    env = config.environment("prod")
    rows = account_checks(config, env, AccountReader(factory, ROLE).read(config, env, ACCOUNT))
    assert len(rows) == 11
    assert {(c.status, c.detail.split(" (")[0]) for c in rows} == {
        (NOT_READY, "not read: the endpoint's answer could not be parsed")
    }
    assert "invalid XML received" in rows[0].detail
