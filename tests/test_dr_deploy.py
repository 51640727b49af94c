"""Disaster recovery, deployed: prod (replication on) rolled out to three accounts on moto's
server, then the live state read back the way an operator would.

What moto proves here: the templates deploy; the global table (through our moto model,
stacksets/emulator/global_table.py) exists in both regions of every account with each region's
key and PITR; the alarms (through our moto model too) exist in both regions and notify the monitoring topic the
SSM input resolves to; the buckets are versioned and replicate as declared (our moto bucket model),
so dr-check reports every check ready; the buckets' stacks ask for request metrics (moto has no S3 metrics
configuration to read back). What it cannot prove (it evaluates no IAM or KMS policy, replicates
no object and no item, computes no metric and evaluates no alarm): see "What only a real AWS
account can prove" in docs/disaster-recovery.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacksets.drcheck.checks import READY
from stacksets.local import alarm_topic_name, local_session
from stacksets.session import ClientFactory
from tests.faults import run_cli
from tests.helpers import ACCOUNTS, seeded, write_config

# moto's CloudFormation has no AWS::S3::BucketPolicy support: it warns and skips the policies
# (the only resource type of the templates it warns about; the emulator models the rest).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS..S3..BucketPolicy:UserWarning")

ROLE = "AWSCloudFormationStackSetExecutionRole"
PRIMARY, REPLICA = "us-east-1", "us-west-2"
TABLE = "tattoo-directory-prod"


@pytest.fixture(scope="module")
def prod(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ClientFactory, Path]:
    """prod deployed once for the module (every test here only reads)."""
    from tests.conftest import reset_moto

    reset_moto(moto_server)
    tmp = tmp_path_factory.mktemp("prod")
    config = write_config(tmp)
    seeded(moto_server, config)
    code, _, err = run_cli(
        moto_server, "deploy", "--config", str(config), "--env", "prod", "--yes", outputs=tmp / "outputs.json"
    )
    assert code == 0, err
    return moto_server, ClientFactory(local_session(), endpoint_url=moto_server), tmp / "outputs.json"


def _client(factory: ClientFactory, service: str, region: str, account: str) -> Any:
    return factory.client(service, region, account, ROLE)


@pytest.mark.parametrize("account", ACCOUNTS)
def test_the_table_exists_in_both_regions_of_every_account(
    prod: tuple[str, ClientFactory, Path], account: str
) -> None:
    _, factory, _ = prod
    keys = {}
    for region in (PRIMARY, REPLICA):
        ddb = _client(factory, "dynamodb", region, account)
        table = ddb.describe_table(TableName=TABLE)["Table"]
        assert table["TableStatus"] == "ACTIVE"
        assert table["TableArn"] == f"arn:aws:dynamodb:{region}:{account}:table/{TABLE}"
        # DescribeTable lists the other regions' replicas (as AWS does for version 2019.11.21)
        other = REPLICA if region == PRIMARY else PRIMARY
        assert {r["RegionName"]: r["ReplicaStatus"] for r in table["Replicas"]} == {other: "ACTIVE"}
        assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}
        keys[region] = table["SSEDescription"]["KMSMasterKeyArn"]
        backups = ddb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    # each replica is encrypted with its own region's key (the SSM inputs resolve per region)
    assert keys[PRIMARY].split(":")[3] == PRIMARY and keys[REPLICA].split(":")[3] == REPLICA


def test_outputs_name_the_replica_table(prod: tuple[str, ClientFactory, Path]) -> None:
    _, _, outputs_file = prod
    data = json.loads(outputs_file.read_text())
    text = json.dumps(data)
    for account in ACCOUNTS:
        assert f"arn:aws:dynamodb:{REPLICA}:{account}:table/{TABLE}" in text


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (
            PRIMARY,
            {
                "table-throttling", "table-system-errors", "table-replication-latency",
                "frontend-replication-failed", "frontend-replication-latency",
                "images-replication-failed", "images-replication-latency",
            },
        ),
        (REPLICA, {"table-throttling", "table-system-errors", "table-replication-latency"}),
    ],
)  # fmt: skip
def test_alarms_exist_in_both_regions_and_notify_the_monitoring_topic(
    prod: tuple[str, ClientFactory, Path], region: str, expected: set[str]
) -> None:
    _, factory, _ = prod
    account = ACCOUNTS[0]
    alarms = _client(factory, "cloudwatch", region, account).describe_alarms()["MetricAlarms"]
    prefix, suffix = "tattoo-directory-prod-app-storage-", f"-{region}"
    names = {a["AlarmName"].removeprefix(prefix).removesuffix(suffix): a for a in alarms}
    assert set(names) == expected
    topic = f"arn:aws:sns:{region}:{account}:{alarm_topic_name('tattoo-directory', 'prod')}"
    for alarm in names.values():
        assert alarm["AlarmActions"] == [topic]
        assert alarm["OKActions"] == [topic]


@pytest.mark.parametrize(
    ("region", "stack", "buckets"),
    [
        (PRIMARY, "primary", {"FrontendBucket": "frontend", "ImagesBucket": "images"}),
        (REPLICA, "replica", {"FrontendBackupBucket": "frontend-backup", "ImagesBackupBucket": "images-backup"}),
    ],
)
def test_the_buckets_request_metrics(
    prod: tuple[str, ClientFactory, Path], region: str, stack: str, buckets: dict[str, str]
) -> None:
    """moto 5.2.5 has no S3 metrics-configuration API: GetBucketMetricsConfiguration answers 200
    with an empty configuration for any bucket and id (PutBucketMetricsConfiguration is accepted
    and dropped), and its CloudFormation ignores a bucket's MetricsConfigurations. So the live
    configuration cannot be read here (on AWS: ``aws s3api get-bucket-metrics-configuration
    --bucket B --id EntireBucket``); what can be: the deployed stack asked CloudFormation for
    request metrics (filter-less ``EntireBucket``) on exactly these buckets."""
    _, factory, _ = prod
    account = ACCOUNTS[1]
    cfn = _client(factory, "cloudformation", region, account)
    name = f"StackSet:tattoo-directory-prod-app-storage-{stack}"  # moto's name for a stack set's instance
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
        if r.get("ResourceType") == "AWS::S3::Bucket"
    }
    assert resources == {
        logical: f"tattoo-directory-prod-{purpose}-{account}-{region}" for logical, purpose in buckets.items()
    }
    template = cfn.get_template(StackName=name)["TemplateBody"]
    for logical, bucket in resources.items():
        _client(factory, "s3", region, account).head_bucket(Bucket=bucket)
        assert template["Resources"][logical]["Properties"]["MetricsConfigurations"] == [{"Id": "EntireBucket"}]


def test_dr_check_reports_every_row_ready(prod: tuple[str, ClientFactory, Path]) -> None:
    """``dr-check --env prod`` after the deploy: every check ready in every account, exit 0. On
    moto this needs the emulator's bucket model (versioning and replication as the templates
    declare them) and its GetBucketReplication (delete markers, filter and SSE-KMS criteria as
    put); moto alone reports neither."""
    endpoint, _, outputs_file = prod
    config = outputs_file.with_name("config-0.yaml")  # write_config's first file in the fixture's directory
    assert config.is_file()
    code, out, err = run_cli(endpoint, "dr-check", "--config", str(config), "--env", "prod", "--json")
    assert code == 0, out + err
    data = json.loads(out)["prod"]
    assert (data["ready"], data["not_ready"], data["accounts"]) == (True, 0, ACCOUNTS)
    checks = {(c["account"], c["region"], c["check"]): c["status"] for c in data["checks"]}
    assert len(checks) == 33 and set(checks.values()) == {READY}
    assert {check for _, _, check in checks} >= {"replication frontend", "replication images", "versioning images-backup"}
    code, out, err = run_cli(endpoint, "dr-check", "--config", str(config), "--env", "prod")
    assert (code, err) == (0, "")
    assert out.rstrip().splitlines()[-1] == "prod: READY (33 checks in 3 account(s) ready)"
