"""The emulator as a whole (stacksets.emulator): :func:`register_models` makes moto's parser use its
models and its GetBucketReplication, and the bundled prod primary template goes through all of them
on moto's real HTTP server. Each model's own tests: tests/test_emulator_global_table.py,
tests/test_emulator_alarm.py, tests/test_emulator_bucket.py."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from stacksets.emulator import Bucket, GlobalTable, MetricAlarm, register_models
from stacksets.emulator.s3_replication import get_bucket_replication
from tests.emulator_stacks import (
    HERE,
    PRIMARY,
    REPLICA,
    SIMPLE,
    SOURCE,
    STACK,
    alarm_stack_call,
    alarm_template,
    bucket_stack_call,
    bucket_template,
    create_table_stack,
    table_replica,
    table_template,
)
from tests.helpers import reported_replication_rule

# ------------------------------------------------------------------ registration


def test_register_models_is_idempotent_and_the_emulators_models_win(moto_endpoint: str) -> None:
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    parsing.get_model_map()
    register_models()
    # A map moto built before is dropped, and none is left built ahead of moto's first parse.
    assert parsing.get_model_map.cache_info().currsize == 0
    register_models()
    listed = CloudFormationModel.__subclasses__()
    for model in (GlobalTable, MetricAlarm):
        kind = model.cloudformation_type()
        assert [m for m in listed if m.cloudformation_type() == kind] == [model]
        assert parsing.get_model_map()[kind] is model
    # moto's own bucket model stays listed (a class cannot be unlisted); moto's map takes the last
    # class listed for a type, and the list is in creation order: the emulator's, defined after.
    assert [m for m in listed if m.cloudformation_type() == "AWS::S3::Bucket"] == [FakeBucket, Bucket]
    assert parsing.resource_class_from_type("AWS::S3::Bucket") is Bucket
    assert parsing.resource_name_property_from_type("AWS::S3::Bucket") == "BucketName"
    assert S3Response.get_bucket_replication is get_bucket_replication
    assert create_table_stack(moto_endpoint, table_template(table_replica(HERE)))["StackStatus"] == "CREATE_COMPLETE"
    assert alarm_stack_call(moto_endpoint, "create", alarm_template(Alarm=SIMPLE))["StackStatus"] == "CREATE_COMPLETE"
    assert bucket_stack_call(moto_endpoint, "create", bucket_template(Bucket={"BucketName": SOURCE}))["StackStatus"] == "CREATE_COMPLETE"


def test_register_models_refuses_a_map_that_does_not_take_the_emulators_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    """If moto ever resolved a type to another class, the emulator stops rather than run moto's
    bucket model unnoticed."""
    from moto.cloudformation import parsing
    from moto.s3.models import FakeBucket

    reversed_list = cache(lambda: [Bucket, FakeBucket, GlobalTable, MetricAlarm])
    monkeypatch.setattr(parsing, "get_model_list", reversed_list)
    with pytest.raises(RuntimeError) as raised:
        register_models()
    assert str(raised.value) == "moto maps AWS::S3::Bucket to <class 'moto.s3.models.FakeBucket'>, not to the emulator's Bucket"
    monkeypatch.undo()
    register_models()
    assert parsing.get_model_map()["AWS::S3::Bucket"] is Bucket


# ------------------------------------------------------------------ the real primary template


@cache
def _prod_template(kind: str) -> dict[str, Any]:
    from appstorage.config import load_config
    from appstorage.render import to_json
    from appstorage.templates import build_environment

    template: dict[str, Any] = json.loads(to_json(getattr(build_environment(load_config(), "prod"), kind)))
    return template


def _prod_primary() -> dict[str, Any]:
    return _prod_template("primary")


@pytest.mark.skipif(
    _prod_primary()["Resources"]["Table"]["Type"] == "AWS::DynamoDB::Table",
    reason="the primary template still declares AWS::DynamoDB::Table",
)
# moto's CloudFormation has no AWS::S3::BucketPolicy model: it warns and skips the policies.
@pytest.mark.filterwarnings("ignore:Tried to parse AWS..S3..BucketPolicy:UserWarning")
def test_the_prod_primary_template_creates_the_table_in_both_regions(moto_endpoint: str) -> None:
    """The bundled example's prod primary template, in the prod account, seeded as --local seeds
    it (KMS keys, SSM parameters, log buckets), after the replica template (its backup buckets are
    the replication destinations, as the deployer's replica phase comes first)."""
    from appstorage.config import load_config
    from stacksets.local import local_session, seed
    from stacksets.session import ClientFactory

    config = load_config()
    env = config.environment("prod")
    assert (env.primary_region, env.replica_region) == (PRIMARY, REPLICA)
    factory = ClientFactory(local_session(), endpoint_url=moto_endpoint)
    seed(factory, config, [env])
    account, role = env.deployment.accounts[0], env.deployment.execution_role_name
    ssm = factory.ssm(PRIMARY, account, role)
    keys = {
        region: ssm.get_parameter(Name=env.parameters[parameter].value)["Parameter"]["Value"]
        for region, parameter in ((PRIMARY, "KmsKeyArn"), (REPLICA, "ReplicaKmsKeyArn"))
    }
    assert keys[PRIMARY] != keys[REPLICA]

    replica_cfn = factory.cloudformation(REPLICA, account, role)
    replica_cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(_prod_template("replica")))
    assert replica_cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    cfn = factory.cloudformation(PRIMARY, account, role)
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(_prod_primary()))
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    name = outputs["TableName"]
    tables = {region: factory.dynamodb(region, account, role).describe_table(TableName=name)["Table"] for region in keys}
    for region, other in ((PRIMARY, REPLICA), (REPLICA, PRIMARY)):
        assert tables[region]["SSEDescription"]["KMSMasterKeyArn"] == keys[region]
        assert tables[region]["DeletionProtectionEnabled"] is True
        assert tables[region]["Replicas"] == [{"RegionName": other, "ReplicaStatus": "ACTIVE", "KMSMasterKeyId": keys[other]}]
    assert outputs["TableArn"] == tables[PRIMARY]["TableArn"]
    assert outputs["ReplicaTableArn"] == tables[REPLICA]["TableArn"] == f"arn:aws:dynamodb:{REPLICA}:{account}:table/{name}"

    # Every alarm the template declares exists, notifying the topic the SSM input resolves to.
    declared = {k for k, r in _prod_primary()["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=STACK)["StackResources"]
        if r.get("ResourceType") == "AWS::CloudWatch::Alarm"
    }
    assert set(resources) == declared
    described = factory.client("cloudwatch", PRIMARY, account, role).describe_alarms()["MetricAlarms"]
    alarms = {a["AlarmName"]: a for a in described}
    assert set(alarms) == set(resources.values())
    topic = ssm.get_parameter(Name=env.parameters["AlarmTopicArn"].value)["Parameter"]["Value"]
    assert {(tuple(a["AlarmActions"]), tuple(a["OKActions"])) for a in alarms.values()} == {((topic,), (topic,))}
    throttling = alarms[resources["TableThrottlingAlarm"]]["Metrics"]
    assert [q["Id"] for q in throttling if q["ReturnData"]] == ["total"]
    assert {d["Value"] for q in throttling if "MetricStat" in q for d in q["MetricStat"]["Metric"]["Dimensions"] if d["Name"] == "TableName"} == {name}
    failed = alarms[resources["ImagesBucketReplicationFailedAlarm"]]
    assert {d["Name"]: d["Value"] for d in failed["Dimensions"]}["SourceBucket"] == f"{name}-images-{account}-{PRIMARY}"

    # Both primary buckets are versioned and replicate to their backup bucket as declared: RTC
    # and its metrics, delete markers, SSE-KMS objects, the replica region's key (what dr-check
    # reads); moto's own bucket model would leave both unset.
    def buckets(stack_cfn: Any) -> dict[str, str]:
        listed = stack_cfn.describe_stack_resources(StackName=STACK)["StackResources"]
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in listed if r.get("ResourceType") == "AWS::S3::Bucket"}

    backups = buckets(replica_cfn)
    primaries = buckets(cfn)
    assert set(primaries) == {"FrontendBucket", "ImagesBucket"}
    assert set(backups) == {"FrontendBackupBucket", "ImagesBackupBucket"}
    for name in backups.values():
        assert factory.s3(REPLICA, account, role).get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    role_name = next(
        r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=STACK)["StackResources"]
        if r.get("LogicalResourceId") == "ReplicationRole"
    )
    s3 = factory.s3(PRIMARY, account, role)
    for logical, name in primaries.items():
        purpose = logical.removesuffix("Bucket").lower()
        declared = _prod_primary()["Resources"][logical]["Properties"]["ReplicationConfiguration"]["Rules"][0]["Destination"]
        storage = {"StorageClass": declared["StorageClass"]} if "StorageClass" in declared else {}
        assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
        replication = s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"]
        assert replication["Role"] == f"arn:aws:iam::{account}:role/{role_name}"
        assert replication["Rules"] == [
            reported_replication_rule(
                f"replicate-{purpose}-to-{REPLICA}",
                f"arn:aws:s3:::{backups[logical.replace('Bucket', 'BackupBucket')]}",
                keys[REPLICA],
                **storage,
            )
        ]
