"""``dr-check``: the pure checks (table-driven, plain dicts, no boto3) and the command end to end
against moto's server.

moto deviations met here (dr-check is written for AWS; the tests say where they bend):

* moto's own CloudFormation model of ``AWS::S3::Bucket`` drops VersioningConfiguration and
  ReplicationConfiguration, and its GetBucketReplication answers every rule with
  ``DeleteMarkerReplication`` Disabled and ``Filter`` ``{"Prefix": ""}`` and without
  ``SourceSelectionCriteria``. The emulator corrects both: its bucket model
  (stacksets/emulator/bucket.py) applies the templates' settings, and GetBucketReplication
  (stacksets/emulator/s3_replication.py) answers what was put, so a deployed prod reads READY on
  moto as on AWS.
* moto has no model for ``AWS::DynamoDB::GlobalTable``: the emulator's
  (stacksets/emulator/global_table.py) creates the table in every replica region with each
  replica's PITR, and DescribeTable lists the other region's replica, always ACTIVE.
* moto has no IAM enforcement, never reports a replica other than ACTIVE, and never refuses a
  read: those answers are Stubber tests.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from appstorage.config import Config, Environment, load_config
from appstorage.naming import Purpose, bucket_name_for_region, table_name
from stacksets.drcheck.checks import (
    NOT_READY,
    OFF,
    READY,
    AccountState,
    Check,
    EnvironmentReport,
    Read,
    account_checks,
    pitr_status,
    replicas_status,
    replication_status,
    table_status,
    versioning_status,
)
from stacksets.drcheck.render import render_dr_check, summary_line
from stacksets.local import local_session
from stacksets.session import ClientFactory
from tests.faults import Faults, run_cli
from tests.helpers import ACCOUNTS, reported_replication_rule, seeded, write_config

ROLE = "AWSCloudFormationStackSetExecutionRole"
PRIMARY, REPLICA = "us-east-1", "us-west-2"
DEST = "arn:aws:s3:::tattoo-directory-prod-frontend-backup-111111111111-us-west-2"

# --------------------------------------------------------------------------- pure checks


def rule(**changes: Any) -> dict[str, Any]:
    """A rule as AWS's GetBucketReplication reports the template's rule; ``changes`` override
    top-level keys, ``Destination__X`` keys of the destination (None removes the key)."""
    data = reported_replication_rule(
        "replicate-frontend-to-us-west-2", DEST, "arn:aws:kms:us-west-2:111111111111:key/k"
    )
    for key, value in changes.items():
        target, name = (data["Destination"], key.split("__", 1)[1]) if "__" in key else (data, key)
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return data


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        pytest.param(Read({"TableStatus": "ACTIVE"}), (READY, "ACTIVE"), id="active"),
        pytest.param(Read({"TableStatus": "UPDATING"}), (NOT_READY, "UPDATING"), id="updating"),
        pytest.param(
            Read({"TableStatus": "INACCESSIBLE_ENCRYPTION_CREDENTIALS"}),
            (NOT_READY, "INACCESSIBLE_ENCRYPTION_CREDENTIALS"),
            id="key inaccessible",
        ),
        pytest.param(Read({}), (NOT_READY, "no TableStatus reported"), id="no status"),
        pytest.param(
            Read(error="table tattoo-directory-prod not found"),
            (NOT_READY, "table tattoo-directory-prod not found"),
            id="not found",
        ),
    ],
)
def test_table_status(read: Read, expected: tuple[str, str]) -> None:
    assert table_status(read) == expected


@pytest.mark.parametrize(
    ("replicas", "expected"),
    [
        pytest.param(
            [{"RegionName": REPLICA, "ReplicaStatus": "ACTIVE"}],
            (READY, "us-west-2 ACTIVE"),
            id="other region listed (what AWS lists)",
        ),
        pytest.param(
            [
                {"RegionName": PRIMARY, "ReplicaStatus": "ACTIVE"},
                {"RegionName": REPLICA, "ReplicaStatus": "ACTIVE"},
            ],
            (READY, "us-east-1 ACTIVE, us-west-2 ACTIVE"),
            id="own region listed too",
        ),
        pytest.param(
            [
                {
                    "RegionName": REPLICA,
                    "ReplicaStatus": "CREATING",
                    "ReplicaStatusPercentProgress": "40",
                }
            ],
            (NOT_READY, "us-west-2 CREATING (40%)"),
            id="creating",
        ),
        pytest.param(
            [
                {
                    "RegionName": REPLICA,
                    "ReplicaStatus": "INACCESSIBLE_ENCRYPTION_CREDENTIALS",
                    "ReplicaStatusDescription": "KMS key disabled",
                }
            ],
            (NOT_READY, "us-west-2 INACCESSIBLE_ENCRYPTION_CREDENTIALS (KMS key disabled)"),
            id="replica key inaccessible",
        ),
        pytest.param(
            [
                {"RegionName": PRIMARY, "ReplicaStatus": "UPDATING"},
                {"RegionName": REPLICA, "ReplicaStatus": "ACTIVE"},
            ],
            (NOT_READY, "us-east-1 UPDATING"),
            id="own region listed and not active",
        ),
        pytest.param([], (NOT_READY, "no replica in us-west-2 (Replicas: none)"), id="no replicas"),
        pytest.param(
            [{"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"}],
            (NOT_READY, "no replica in us-west-2 (Replicas: eu-west-1 ACTIVE)"),
            id="replica elsewhere",
        ),
    ],
)
def test_replicas_status(replicas: list[dict[str, Any]], expected: tuple[str, str]) -> None:
    read = Read({"TableStatus": "ACTIVE", "Replicas": replicas})
    assert replicas_status(read, PRIMARY, REPLICA) == expected


def test_replicas_status_of_an_unread_table_says_why() -> None:
    assert replicas_status(Read(error="not read: x"), PRIMARY, REPLICA) == (NOT_READY, "not read: x")


def pitr(status: str | None, period: int | None = None, backups: str = "ENABLED") -> Read:
    description: dict[str, Any] = {}
    if status is not None:
        description["PointInTimeRecoveryStatus"] = status
    if period is not None:
        description["RecoveryPeriodInDays"] = period
    return Read({"ContinuousBackupsStatus": backups, "PointInTimeRecoveryDescription": description})


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        pytest.param(pitr("ENABLED", 35), (READY, "ENABLED, 35 days"), id="enabled"),
        pytest.param(
            pitr("ENABLED"), (READY, "ENABLED (recovery period not reported)"), id="period not reported"
        ),
        pytest.param(
            pitr("ENABLED", 7), (NOT_READY, "ENABLED, recovery period 7 days, configured 35"), id="shorter"
        ),
        pytest.param(
            pitr("DISABLED"), (NOT_READY, "DISABLED (configured: ENABLED, 35 days)"), id="disabled"
        ),
        pytest.param(
            pitr("ENABLING"), (NOT_READY, "ENABLING (configured: ENABLED, 35 days)"), id="enabling"
        ),
        pytest.param(
            pitr(None, backups="DISABLED"),
            (NOT_READY, "not reported, continuous backups DISABLED (configured: ENABLED, 35 days)"),
            id="continuous backups off",
        ),
    ],
)
def test_pitr_status(read: Read, expected: tuple[str, str]) -> None:
    assert pitr_status(read, 35) == expected


READY_RULE = "RTC 15 min, metrics, delete markers, SSE-KMS (rule replicate-frontend-to-us-west-2)"


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param([rule()], (READY, READY_RULE), id="the template's rule"),
        pytest.param(
            [rule(Destination__ReplicationTime={"Status": "Disabled", "Time": {"Minutes": 15}})],
            (NOT_READY, "rule replicate-frontend-to-us-west-2: RTC off (ReplicationTime not Enabled)"),
            id="RTC off",
        ),
        pytest.param(
            [rule(Destination__ReplicationTime=None, Destination__Metrics=None)],
            (
                NOT_READY,
                "rule replicate-frontend-to-us-west-2: RTC off (ReplicationTime not Enabled); "
                "replication metrics off",
            ),
            id="no RTC, no metrics",
        ),
        pytest.param(
            [rule(DeleteMarkerReplication={"Status": "Disabled"}, SourceSelectionCriteria=None)],
            (
                NOT_READY,
                "rule replicate-frontend-to-us-west-2: delete markers not replicated; "
                "SSE-KMS objects not replicated",
            ),
            id="delete markers and SSE-KMS off",
        ),
        pytest.param(
            [rule(Filter={"Prefix": "portfolio/"})],
            (NOT_READY, "rule replicate-frontend-to-us-west-2: only objects matching prefix 'portfolio/' replicate"),
            id="prefix only",
        ),
        pytest.param(
            [rule(Status="Disabled")],
            (
                NOT_READY,
                "rule replicate-frontend-to-us-west-2 to "
                "tattoo-directory-prod-frontend-backup-111111111111-us-west-2 is not Enabled",
            ),
            id="rule disabled",
        ),
        pytest.param(
            [rule(Destination__Bucket="arn:aws:s3:::somewhere-else")],
            (
                NOT_READY,
                "no rule replicates to tattoo-directory-prod-frontend-backup-111111111111-us-west-2 "
                "(rules go to arn:aws:s3:::somewhere-else)",
            ),
            id="other destination",
        ),
        pytest.param(
            [],
            (
                NOT_READY,
                "no rule replicates to tattoo-directory-prod-frontend-backup-111111111111-us-west-2 (no rules)",
            ),
            id="no rules",
        ),
        pytest.param(
            [rule(ID="old", Status="Disabled"), rule(ID="partial", DeleteMarkerReplication=None), rule()],
            (READY, READY_RULE),
            id="one good rule among others",
        ),
    ],
)
def test_replication_status(rules: list[dict[str, Any]], expected: tuple[str, str]) -> None:
    assert replication_status(Read({"Role": "arn:aws:iam::1:role/r", "Rules": rules}), DEST) == expected


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        pytest.param(Read({"Status": "Enabled"}), (READY, "Enabled"), id="enabled"),
        pytest.param(Read({"Status": "Suspended"}), (NOT_READY, "Suspended"), id="suspended"),
        pytest.param(Read({}), (NOT_READY, "never enabled"), id="never enabled"),
        pytest.param(
            Read(error="bucket b not found"), (NOT_READY, "bucket b not found"), id="bucket not found"
        ),
    ],
)
def test_versioning_status(read: Read, expected: tuple[str, str]) -> None:
    assert versioning_status(read) == expected


@pytest.mark.parametrize("module", ["stacksets.drcheck", "stacksets.drcheck.checks", "stacksets.drcheck.render"])
def test_the_checks_and_rendering_load_neither_boto3_nor_the_cli(module: str) -> None:
    """The pure half stays usable without boto3: only the reader (and the command, when it runs)
    loads it."""
    code = f"import sys, {module}; print(sorted(m for m in ('boto3', 'botocore', 'stacksets.cli') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_the_reader_does_not_import_the_cli() -> None:
    """No import cycle: the CLI imports dr-check, dr-check does not import the CLI."""
    code = "import sys, stacksets.drcheck.reader; print('stacksets.cli' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "False"


# --------------------------------------------------------------------------- one account


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


def bucket(env: Environment, purpose: Purpose, account: str) -> str:
    region = env.replica_region if purpose.is_backup else env.primary_region
    return bucket_name_for_region("tattoo-directory", env.name, purpose, account, region)


def ready_state(env: Environment, account: str) -> AccountState:
    """Everything as the templates declare it, as AWS reports it."""
    regions = [env.primary_region, env.replica_region] if env.replication else [env.primary_region]
    period = env.table.pitr_recovery_period_days
    backups = ["frontend-backup", "images-backup"] if env.replication else []
    replication = {}
    for purpose in (Purpose.FRONTEND, Purpose.IMAGES):
        dest = f"arn:aws:s3:::{bucket(env, purpose.backup, account)}"
        replication[bucket(env, purpose, account)] = Read(
            {"Rules": [rule(ID=f"replicate-{purpose.value}", Destination__Bucket=dest)]}
        )
    tables = {
        r: Read({"TableStatus": "ACTIVE", "Replicas": [{"RegionName": o, "ReplicaStatus": "ACTIVE"}]})
        for r, o in zip(regions, reversed(regions), strict=True)
        if o != r
    } or {env.primary_region: Read({"TableStatus": "ACTIVE"})}
    return AccountState(
        account,
        tables=tables,
        backups={r: pitr("ENABLED", period) for r in regions},
        replication=replication if env.replication else {},
        versioning={
            bucket(env, p, account): Read({"Status": "Enabled"})
            for p in Purpose
            if not p.is_backup or p.value in backups
        },
    )


def test_prod_account_all_ready(config: Config) -> None:
    env = config.environment("prod")
    rows = account_checks(config, env, ready_state(env, "333333333333"))
    assert [(c.region, c.check, c.status) for c in rows] == [
        ("us-east-1", "table", READY),
        ("us-east-1", "PITR", READY),
        ("us-east-1", "replication frontend", READY),
        ("us-east-1", "replication images", READY),
        ("us-east-1", "versioning frontend", READY),
        ("us-east-1", "versioning images", READY),
        ("us-west-2", "table", READY),
        ("us-west-2", "table replica", READY),
        ("us-west-2", "PITR", READY),
        ("us-west-2", "versioning frontend-backup", READY),
        ("us-west-2", "versioning images-backup", READY),
    ]
    assert {c.account for c in rows} == {"333333333333"}
    resources = {c.check: c.resource for c in rows if c.region == "us-west-2"}
    assert resources["versioning images-backup"] == bucket(env, Purpose.IMAGES_BACKUP, "333333333333")
    assert resources["table"] == table_name("tattoo-directory", "prod")


def test_replication_off_is_one_off_row_and_primary_checks(config: Config) -> None:
    env = config.environment("dev")  # replication: false, PITR 7 days
    rows = account_checks(config, env, ready_state(env, "111111111111"))
    assert [(c.region, c.check, c.status) for c in rows] == [
        ("us-east-1", "table", READY),
        ("us-east-1", "PITR", READY),
        ("us-east-1", "versioning frontend", READY),
        ("us-east-1", "versioning images", READY),
        ("us-west-2", "regional DR copy", OFF),
    ]
    assert rows[1].detail == "ENABLED, 7 days"
    assert "replication: false in the configuration" in rows[-1].detail and "us-west-2" in rows[-1].detail


def test_a_missing_read_is_not_ready_never_ready(config: Config) -> None:
    """A read the reader did not make (or that failed) can never make a check pass."""
    env = config.environment("prod")
    rows = account_checks(config, env, AccountState("333333333333"))
    assert len(rows) == 11 and {c.status for c in rows} == {NOT_READY}


def test_role_not_assumable_is_one_row(config: Config) -> None:
    env = config.environment("prod")
    state = AccountState("222222222222", error="AssumeRole refused (AccessDenied: not authorized)")
    assert account_checks(config, env, state) == [
        Check(
            "222222222222",
            "",
            "execution role",
            NOT_READY,
            "not checked: AssumeRole refused (AccessDenied: not authorized)",
        )
    ]


def report(*checks: Check, replication: bool = True) -> EnvironmentReport:
    return EnvironmentReport("prod", replication, PRIMARY, REPLICA, ("111111111111", "222222222222"), checks)


def test_summary_lines() -> None:
    ok = Check("111111111111", PRIMARY, "table", READY, "ACTIVE")
    bad = Check("222222222222", REPLICA, "versioning images-backup", NOT_READY, "Suspended")
    off = Check("111111111111", REPLICA, "regional DR copy", OFF, "replication: false")
    assert summary_line(report(ok, ok)) == "prod: READY (2 checks in 2 account(s) ready)"
    assert summary_line(report(ok, bad)) == "prod: NOT READY: 1 of 2 checks in 1 of 2 account(s) (222222222222)"
    assert summary_line(report(ok, off, replication=False)) == (
        "prod: READY (1 checks in 2 account(s) ready; no regional DR copy: replication is off, "
        "nothing in us-west-2)"
    )


def test_table_is_readable_at_100_columns(config: Config) -> None:
    env = config.environment("prod")
    state = ready_state(env, "333333333333")
    versioning = dict(state.versioning)
    versioning[bucket(env, Purpose.IMAGES_BACKUP, "333333333333")] = Read({"Status": "Suspended"})
    rows = account_checks(config, env, AccountState(**{**vars_of(state), "versioning": versioning}))
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None).print(render_dr_check([report(*rows)]))
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 100
    assert any(line.split()[:2] == ["env", "account"] for line in lines)
    suspended = next(line for line in lines if "images-backup" in line)
    assert suspended.split() == ["prod", "333333333333", "us-west-2", "versioning", "images-backup",
                                 "NOT", "READY", "Suspended"]  # fmt: skip


def vars_of(state: AccountState) -> dict[str, Any]:
    return {
        "account": state.account,
        "tables": state.tables,
        "backups": state.backups,
        "replication": state.replication,
        "versioning": state.versioning,
    }


# --------------------------------------------------------------------------- end to end (moto)


def deploy_env(endpoint: str, tmp_path: Path, env: str) -> Path:
    """``deploy --env <env>`` to the three accounts. The table is the template's
    AWS::DynamoDB::GlobalTable, created in every replica region by the emulator's model, and the
    buckets get their versioning and replication from the emulator's AWS::S3::Bucket model
    (stacksets/emulator/, registered by the moto_server fixture)."""
    config = write_config(tmp_path)
    seeded(endpoint, config)
    code, _, err = run_cli(
        endpoint, "deploy", "--config", str(config), "--env", env, "--yes", outputs=tmp_path / "o.json"
    )
    assert code == 0, err
    return config


def dr_check_json(endpoint: str, config: Path, env: str, faults: Faults | None = None) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli(endpoint, "dr-check", "--config", str(config), "--env", env, "--json", faults=faults)
    assert "Traceback" not in out + err
    data: dict[str, Any] = json.loads(out)[env]
    return code, data


def words(out: str, env: str) -> list[list[str]]:
    """The printed table's rows of ``env``, split into words (column widths vary)."""
    return [line.split() for line in out.splitlines() if line.startswith(f"{env} ")]


def rows(data: dict[str, Any]) -> dict[tuple[str, str, str], tuple[str, str]]:
    return {(c["account"], c["region"], c["check"]): (c["status"], c["detail"]) for c in data["checks"]}


def test_prod_on_moto_then_broken_buckets_and_pitr(moto_endpoint: str, tmp_path: Path) -> None:
    config = deploy_env(moto_endpoint, tmp_path, "prod")

    code, data = dr_check_json(moto_endpoint, config, "prod")
    assert code == 0
    assert data["accounts"] == ACCOUNTS and data["replication"] is True
    found = rows(data)
    assert len(found) == 33
    for account in ACCOUNTS:
        assert found[account, PRIMARY, "table"] == (READY, "ACTIVE")
        assert found[account, REPLICA, "table"] == (READY, "ACTIVE")
        assert found[account, REPLICA, "table replica"] == (READY, "us-west-2 ACTIVE")
        for region in (PRIMARY, REPLICA):
            assert found[account, region, "PITR"] == (READY, "ENABLED, 35 days")
        for purpose in ("frontend", "images"):
            assert found[account, PRIMARY, f"versioning {purpose}"] == (READY, "Enabled")
            assert found[account, REPLICA, f"versioning {purpose}-backup"] == (READY, "Enabled")
            assert found[account, PRIMARY, f"replication {purpose}"] == (
                READY,
                f"RTC 15 min, metrics, delete markers, SSE-KMS (rule replicate-{purpose}-to-us-west-2)",
            )
    assert data["not_ready"] == 0 and data["ready"] is True

    # Break three things in moto, in three accounts.
    factory = ClientFactory(local_session(), endpoint_url=moto_endpoint)
    env = load_config(config).environment("prod")
    factory.s3(REPLICA, "222222222222", ROLE).put_bucket_versioning(
        Bucket=bucket(env, Purpose.IMAGES_BACKUP, "222222222222"),
        VersioningConfiguration={"Status": "Suspended"},
    )
    factory.s3(PRIMARY, "333333333333", ROLE).delete_bucket_replication(
        Bucket=bucket(env, Purpose.FRONTEND, "333333333333")
    )
    factory.client("dynamodb", REPLICA, "111111111111", ROLE).update_continuous_backups(
        TableName="tattoo-directory-prod",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    factory.client("dynamodb", PRIMARY, "222222222222", ROLE).update_continuous_backups(
        TableName="tattoo-directory-prod",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7},
    )

    code, data = dr_check_json(moto_endpoint, config, "prod")
    assert code == 1
    broken = rows(data)
    changed = {key: value for key, value in broken.items() if found[key] != value}
    assert changed == {
        ("222222222222", REPLICA, "versioning images-backup"): (NOT_READY, "Suspended"),
        ("333333333333", PRIMARY, "replication frontend"): (NOT_READY, "no replication configuration"),
        ("111111111111", REPLICA, "PITR"): (NOT_READY, "DISABLED (configured: ENABLED, 35 days)"),
        ("222222222222", PRIMARY, "PITR"): (NOT_READY, "ENABLED, recovery period 7 days, configured 35"),
    }
    resources = {(c["account"], c["check"], c["region"]): c["resource"] for c in data["checks"]}
    assert resources["222222222222", "versioning images-backup", REPLICA] == (
        "tattoo-directory-prod-images-backup-222222222222-us-west-2"
    )

    code, out, err = run_cli(moto_endpoint, "dr-check", "--config", str(config), "--env", "prod")
    assert code == 1
    printed = [" ".join(r) for r in words(out, "prod")]
    assert len(printed) == 33
    assert "prod 222222222222 us-west-2 versioning images-backup NOT READY Suspended" in printed
    assert "prod 333333333333 us-east-1 replication frontend NOT READY no replication configuration" in printed
    assert out.rstrip().splitlines()[-1] == (
        "prod: NOT READY: 4 of 33 checks in 3 of 3 account(s) (111111111111, 222222222222, 333333333333)"
    )
    assert err == ""


def test_dev_replication_off_on_moto_ready_then_versioning_suspended(moto_endpoint: str, tmp_path: Path) -> None:
    config = deploy_env(moto_endpoint, tmp_path, "dev")

    code, out, err = run_cli(moto_endpoint, "dr-check", "--config", str(config), "--env", "dev")
    assert code == 0, out + err
    assert out.rstrip().splitlines()[-1] == (
        "dev: READY (12 checks in 3 account(s) ready; no regional DR copy: replication is off, nothing in "
        "us-west-2)"
    )
    code, data = dr_check_json(moto_endpoint, config, "dev")
    assert code == 0 and data["ready"] is True and data["not_ready"] == 0
    found = rows(data)
    for account in ACCOUNTS:
        assert found[account, PRIMARY, "table"] == (READY, "ACTIVE")
        assert found[account, PRIMARY, "PITR"] == (READY, "ENABLED, 7 days")
        status, detail = found[account, REPLICA, "regional DR copy"]
        assert status == OFF and detail.startswith("replication: false in the configuration")
    assert {region for _, region, _ in found} == {PRIMARY, REPLICA}
    assert not [key for key in found if key[1] == REPLICA and key[2] != "regional DR copy"]

    env = load_config(config).environment("dev")
    factory = ClientFactory(local_session(), endpoint_url=moto_endpoint)
    factory.s3(PRIMARY, "222222222222", ROLE).put_bucket_versioning(
        Bucket=bucket(env, Purpose.IMAGES, "222222222222"), VersioningConfiguration={"Status": "Suspended"}
    )
    code, data = dr_check_json(moto_endpoint, config, "dev")
    assert code == 1
    assert [(c["account"], c["check"], c["detail"]) for c in data["checks"] if c["status"] == NOT_READY] == [
        ("222222222222", "versioning images", "Suspended")
    ]
    assert data["summary"] == "dev: NOT READY: 1 of 12 checks in 1 of 3 account(s) (222222222222)"


def test_role_not_assumable_in_one_account_on_moto(moto_endpoint: str, tmp_path: Path) -> None:
    """AssumeRole refused in 222222222222 (injected: moto assumes any role): that account is one
    NOT READY row with the reason and the fix; the other accounts are still read."""
    config = deploy_env(moto_endpoint, tmp_path, "dev")
    faults = Faults()
    faults.error("AssumeRole", "AccessDenied", "not authorized to assume", match={"RoleArn": "222222222222"},
                 times=None)  # fmt: skip
    code, out, err = run_cli(moto_endpoint, "dr-check", "--config", str(config), "--env", "dev", faults=faults)
    assert code == 1
    row = next(r for r in words(out, "dev") if r[1] == "222222222222")
    assert " ".join(row) == (
        "dev 222222222222 - execution role NOT READY not checked: AssumeRole refused (AccessDenied: not "
        "authorized to assume)"
    )
    assert "set deployment.execution_role_name" in err and "s3:GetReplicationConfiguration" in err
    assert len(faults.calls("AssumeRole", RoleArn="222222222222")) == 1  # not once per read
    code, data = dr_check_json(moto_endpoint, config, "dev", faults=faults)
    by_account: dict[str, list[str]] = {}
    for c in data["checks"]:
        by_account.setdefault(c["account"], []).append(c["status"])
    assert by_account["222222222222"] == [NOT_READY]
    assert by_account["111111111111"] == by_account["333333333333"] == [READY] * 4 + [OFF]


def test_nothing_deployed_is_not_ready_with_reasons(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code, data = dr_check_json(moto_endpoint, config, "prod")
    assert code == 1 and data["ready"] is False
    found = rows(data)
    assert len(found) == 33 and {status for status, _ in found.values()} == {NOT_READY}
    account = "111111111111"
    assert found[account, PRIMARY, "table"] == (NOT_READY, "table tattoo-directory-prod not found")
    assert found[account, REPLICA, "PITR"] == (NOT_READY, "table tattoo-directory-prod not found")
    assert found[account, PRIMARY, "replication images"] == (
        NOT_READY,
        "bucket tattoo-directory-prod-images-111111111111-us-east-1 not found",
    )


def test_unreachable_endpoint_is_not_ready_rows_not_a_traceback(tmp_path: Path) -> None:
    from tests.helpers import closed_port

    config = write_config(tmp_path)
    code, out, err = run_cli(
        f"http://127.0.0.1:{closed_port()}", "dr-check", "--config", str(config), "--env", "dev", "--max-attempts", "1"
    )
    assert code == 1 and "Traceback" not in out + err
    printed = words(out, "dev")
    assert len(printed) == 15 and all(r[-2:] != ["ready"] for r in printed)
    assert "endpoint not reachable" in out
    assert out.rstrip().splitlines()[-1].startswith("dev: NOT READY: 12 of 12 checks in 3 of 3 account(s)")


@pytest.mark.parametrize("argv", [["--env", "qa"], ["--env", "prod", "--timeout", "0"]])
def test_bad_input_exits_2_before_any_call(argv: list[str]) -> None:
    from stacksets.session import CallLog

    log = CallLog()
    code, out, err = run_cli("http://127.0.0.1:9", "dr-check", *argv, log=log)
    assert code == 2 and log.calls == {}
    assert err.startswith("error: ") and "Traceback" not in out + err
