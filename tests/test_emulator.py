"""The emulator's ``AWS::DynamoDB::GlobalTable``, ``AWS::CloudWatch::Alarm`` and ``AWS::S3::Bucket``
models (stacksets.emulator), through CloudFormation CreateStack/UpdateStack/DeleteStack on moto's real
HTTP server, read back with DynamoDB's, CloudWatch's and S3's APIs; and its GetBucketReplication."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from stacksets.emulator import GLOBAL_TABLE_VERSION, Bucket, GlobalTable, MetricAlarm, register_models
from stacksets.emulator.s3_replication import get_bucket_replication

STACK = "global-table"
TABLE = "gt"
PRIMARY = "us-east-1"  # the stack's region
REPLICA = "us-west-2"
HERE = {"Ref": "AWS::Region"}  # how the primary template names the stack's region
KEYS = {PRIMARY: f"arn:aws:kms:{PRIMARY}:123456789012:key/primary", REPLICA: f"arn:aws:kms:{REPLICA}:123456789012:key/replica"}
PK_SK = [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]
ATTRIBUTES = [{"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")]


def _gsi(name: str) -> dict[str, Any]:
    keys = [{"AttributeName": f"{name}PK", "KeyType": "HASH"}, {"AttributeName": f"{name}SK", "KeyType": "RANGE"}]
    return {"IndexName": name, "KeySchema": keys, "Projection": {"ProjectionType": "ALL"}}


def _replica(region: Any, *, protected: bool = False, pitr_days: int | None = 7, key: str | None = None) -> dict[str, Any]:
    """One replica; ``region`` HERE is the stack's region. ``pitr_days`` None: no PITR given."""
    name = PRIMARY if region == HERE else region
    replica: dict[str, Any] = {
        "Region": region,
        "SSESpecification": {"KMSMasterKeyId": key or KEYS[name]},
        "DeletionProtectionEnabled": protected,
        "ContributorInsightsSpecification": {"Enabled": True},
        "Tags": [{"Key": "project", "Value": "demo"}, {"Key": "replica", "Value": name}],
    }
    if pitr_days is not None:
        replica["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": pitr_days}
    return replica


def _template(*replicas: dict[str, Any], name: str = TABLE, policy: str = "Delete", **props: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": ATTRIBUTES,
        "KeySchema": PK_SK,
        "GlobalSecondaryIndexes": [_gsi("GSI1"), _gsi("GSI2")],
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
        "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
        "Replicas": list(replicas),
        **props,
    }
    table = {"Type": "AWS::DynamoDB::GlobalTable", "DeletionPolicy": policy, "UpdateReplacePolicy": policy}
    return {
        "Resources": {"Table": {**table, "Properties": properties}},
        "Outputs": {
            "Name": {"Value": {"Ref": "Table"}},
            **{attr: {"Value": {"Fn::GetAtt": ["Table", attr]}} for attr in ("Arn", "StreamArn", "TableId")},
        },
    }


# A template without the table (CloudFormation needs one resource).
NO_TABLE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "other"}}}}


def _client(service: str, endpoint: str, region: str = PRIMARY) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def _create(endpoint: str, template: dict[str, Any]) -> dict[str, Any]:
    cfn = _client("cloudformation", endpoint)
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    stack: dict[str, Any] = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    return stack


def _update(endpoint: str, template: dict[str, Any]) -> None:
    cfn = _client("cloudformation", endpoint)
    cfn.update_stack(StackName=STACK, TemplateBody=json.dumps(template))
    assert cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"


def _describe(endpoint: str, region: str, name: str = TABLE) -> dict[str, Any] | None:
    """DescribeTable in ``region``, or None when there is no such table."""
    try:
        table: dict[str, Any] = _client("dynamodb", endpoint, region).describe_table(TableName=name)["Table"]
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        return None
    return table


def _plain_table(endpoint: str, region: str) -> None:
    """A table named like the global table, made outside CloudFormation."""
    _client("dynamodb", endpoint, region).create_table(
        TableName=TABLE, KeySchema=PK_SK[:1], AttributeDefinitions=ATTRIBUTES[:1], BillingMode="PAY_PER_REQUEST"
    )


# ------------------------------------------------------------------ create


@pytest.mark.parametrize(("region", "protected", "pitr_days"), [(PRIMARY, False, 7), (REPLICA, True, 35)])
def test_create_makes_the_table_in_every_replica_region(
    moto_endpoint: str, region: str, protected: bool, pitr_days: int
) -> None:
    stack = _create(
        moto_endpoint, _template(_replica(HERE, pitr_days=7), _replica(REPLICA, protected=True, pitr_days=35))
    )
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    table = _describe(moto_endpoint, region)
    assert table is not None
    assert table["TableArn"] == f"arn:aws:dynamodb:{region}:123456789012:table/{TABLE}"
    assert table["KeySchema"] == PK_SK
    assert table["AttributeDefinitions"] == ATTRIBUTES
    assert [(i["IndexName"], i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]] == [
        (g["IndexName"], g["KeySchema"], g["Projection"]) for g in (_gsi("GSI1"), _gsi("GSI2"))
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"].startswith(f"{table['TableArn']}/stream/")
    # Each region's table is encrypted with that replica's key.
    assert table["SSEDescription"] == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEYS[region]}
    assert table["DeletionProtectionEnabled"] is protected

    ddb = _client("dynamodb", moto_endpoint, region)
    pitr = ddb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == pitr_days
    ttl = ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert tags == [{"Key": "project", "Value": "demo"}, {"Key": "replica", "Value": region}]
    # Contributor insights are accepted but not emulated: moto has no DescribeContributorInsights.


@pytest.mark.parametrize(("region", "other"), [(PRIMARY, REPLICA), (REPLICA, PRIMARY)])
def test_describe_table_reports_the_other_replicas(moto_endpoint: str, region: str, other: str) -> None:
    """As AWS does for version 2019.11.21 ("Determining the global table version" in the
    DynamoDB developer guide): GlobalTableVersion, and the table's *other* replicas."""
    _create(moto_endpoint, _template(_replica(HERE), _replica(REPLICA)))
    table = _describe(moto_endpoint, region)
    assert table is not None
    assert table["GlobalTableVersion"] == GLOBAL_TABLE_VERSION
    assert table["Replicas"] == [{"RegionName": other, "ReplicaStatus": "ACTIVE", "KMSMasterKeyId": KEYS[other]}]


def test_a_lone_replica_reports_no_replicas(moto_endpoint: str) -> None:
    _create(moto_endpoint, _template(_replica(HERE)))
    table = _describe(moto_endpoint, PRIMARY)
    assert table is not None
    assert "Replicas" not in table
    assert "GlobalTableVersion" not in table
    assert _describe(moto_endpoint, REPLICA) is None


def test_ref_and_getatt_resolve_to_the_stack_regions_table(moto_endpoint: str) -> None:
    stack = _create(moto_endpoint, _template(_replica(HERE), _replica(REPLICA)))
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    table = _describe(moto_endpoint, PRIMARY)
    assert table is not None
    assert outputs == {
        "Name": TABLE,
        "Arn": table["TableArn"],
        "StreamArn": table["LatestStreamArn"],
        "TableId": table["TableId"],
    }
    replica = _describe(moto_endpoint, REPLICA)
    assert replica is not None
    assert replica["TableId"] != table["TableId"]


def test_a_failed_creation_rolls_the_stack_back(moto_endpoint: str) -> None:
    """A table that already exists in a replica region fails the resource and rolls the stack
    back, as on AWS (with its failure reason as the resource's event); the table is untouched and
    nothing is created in the other region."""
    _plain_table(moto_endpoint, REPLICA)
    stack = _create(moto_endpoint, _template(_replica(HERE), _replica(REPLICA)))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = _client("cloudformation", moto_endpoint).describe_stack_events(StackName=STACK)["StackEvents"]
    failed = [(e["LogicalResourceId"], e.get("ResourceStatusReason")) for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed == [("Table", f"Resource handler returned message: 'Table already exists: {TABLE} (in {REPLICA})'")]
    assert _describe(moto_endpoint, PRIMARY) is None
    existing = _describe(moto_endpoint, REPLICA)
    assert existing is not None
    assert (existing["KeySchema"], existing.get("Replicas")) == (PK_SK[:1], None)
    # AWS also deletes the stack's other resources on rollback and shows no outputs; moto keeps
    # them (and the outputs that need no attribute of the failed table, e.g. Ref).


@pytest.mark.parametrize(
    ("existing", "replicas", "props", "reason"),
    [
        (PRIMARY, [_replica(HERE), _replica(REPLICA)], {}, f"Table already exists: {TABLE} (in {PRIMARY})"),
        (None, [_replica(REPLICA)], {}, f"Replicas must include the stack's region {PRIMARY}"),
        (None, [_replica(HERE), _replica(REPLICA)], {"StreamSpecification": None}, "StreamSpecification is required with more than one replica"),
    ],
    ids=["exists-in-stack-region", "stack-region-not-a-replica", "two-replicas-without-a-stream"],
)
def test_other_creation_failures(
    moto_endpoint: str, existing: str | None, replicas: list[dict[str, Any]], props: dict[str, Any], reason: str
) -> None:
    if existing:
        _plain_table(moto_endpoint, existing)
    template = _template(*replicas)
    template["Resources"]["Table"]["Properties"].update(props)
    stack = _create(moto_endpoint, {"Resources": template["Resources"]})
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = _client("cloudformation", moto_endpoint).describe_stack_events(StackName=STACK)["StackEvents"]
    assert [e.get("ResourceStatusReason") for e in events if e["ResourceStatus"] == "CREATE_FAILED"] == [
        f"Resource handler returned message: {reason!r}"
    ]
    made = {region for region in (PRIMARY, REPLICA) if _describe(moto_endpoint, region) is not None}
    assert made == ({existing} if existing else set())


# ------------------------------------------------------------------ update


def test_update_adds_a_replica_in_place_and_removes_it(moto_endpoint: str) -> None:
    _create(moto_endpoint, _template(_replica(HERE)))
    ddb = _client("dynamodb", moto_endpoint)
    ddb.put_item(TableName=TABLE, Item={"PK": {"S": "a"}, "SK": {"S": "b"}})

    _update(moto_endpoint, _template(_replica(HERE), _replica(REPLICA, protected=True)))
    added = _describe(moto_endpoint, REPLICA)
    assert added is not None
    assert added["SSEDescription"]["KMSMasterKeyArn"] == KEYS[REPLICA]
    assert added["DeletionProtectionEnabled"] is True
    primary = _describe(moto_endpoint, PRIMARY)
    assert primary is not None
    assert [r["RegionName"] for r in primary["Replicas"]] == [REPLICA]
    # An in-place update: the stack region's table (and its items) stayed. AWS would also copy
    # the existing items into the new replica; the emulator does not replicate items.
    assert ddb.get_item(TableName=TABLE, Key={"PK": {"S": "a"}, "SK": {"S": "b"}})["Item"]["PK"] == {"S": "a"}

    # Removing a replica deletes that region's table; a protected one first loses its protection
    # (the model refuses to remove a protected replica, see test_refused_updates_change_nothing).
    _update(moto_endpoint, _template(_replica(HERE), _replica(REPLICA, protected=False)))
    _update(moto_endpoint, _template(_replica(HERE)))
    assert _describe(moto_endpoint, REPLICA) is None
    primary = _describe(moto_endpoint, PRIMARY)
    assert primary is not None
    assert "Replicas" not in primary
    assert ddb.get_item(TableName=TABLE, Key={"PK": {"S": "a"}, "SK": {"S": "b"}})["Item"]["SK"] == {"S": "b"}


@pytest.mark.parametrize("region", [PRIMARY, REPLICA])
def test_update_applies_other_changes_in_place(moto_endpoint: str, region: str) -> None:
    _create(moto_endpoint, _template(_replica(HERE, pitr_days=7), _replica(REPLICA, pitr_days=7)))
    new_key = f"arn:aws:kms:{region}:123456789012:key/rotated"
    replicas = {
        PRIMARY: _replica(HERE, pitr_days=None, protected=True, key=new_key if region == PRIMARY else None),
        REPLICA: _replica(REPLICA, pitr_days=None, protected=True, key=new_key if region == REPLICA else None),
    }
    replicas[region]["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 30}
    replicas[region]["Tags"] = [{"Key": "project", "Value": "renamed"}]
    _update(
        moto_endpoint,
        _template(*replicas.values(), GlobalSecondaryIndexes=[_gsi("GSI1")], TimeToLiveSpecification={"Enabled": False}),
    )
    table = _describe(moto_endpoint, region)
    assert table is not None
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["GSI1"]
    assert table["SSEDescription"]["KMSMasterKeyArn"] == new_key
    assert table["DeletionProtectionEnabled"] is True
    ddb = _client("dynamodb", moto_endpoint, region)
    pitr = ddb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 30
    assert ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    assert ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == [{"Key": "project", "Value": "renamed"}]
    other = _describe(moto_endpoint, REPLICA if region == PRIMARY else PRIMARY)
    assert other is not None
    assert [r["KMSMasterKeyId"] for r in other["Replicas"]] == [new_key]


@pytest.mark.parametrize(
    ("before", "after", "prepare", "message"),
    [
        ([_replica(HERE)], [_replica(HERE), _replica(REPLICA)], "foreign-table", f"Table already exists: {TABLE} (in {REPLICA})"),
        ([_replica(HERE), _replica(REPLICA, protected=True)], [_replica(HERE)], None, "can't be deleted while DeletionProtectionEnabled"),
        ([_replica(HERE)], [_replica(HERE)], "new-key-schema", "Rename gt and update the stack again"),
    ],
    ids=["adds-a-region-with-a-table", "removes-a-protected-replica", "changes-the-key-schema"],
)
def test_refused_updates_change_nothing(
    moto_endpoint: str, before: list[dict[str, Any]], after: list[dict[str, Any]], prepare: str | None, message: str
) -> None:
    """On AWS these updates fail and the stack rolls back (UPDATE_ROLLBACK_COMPLETE); moto's
    CloudFormation fails the UpdateStack call itself. Either way nothing changes."""
    _create(moto_endpoint, _template(*before))
    if prepare == "foreign-table":
        _plain_table(moto_endpoint, REPLICA)
    props = {"KeySchema": PK_SK[:1]} if prepare == "new-key-schema" else {}
    with pytest.raises(ClientError) as raised:
        _client("cloudformation", moto_endpoint).update_stack(StackName=STACK, TemplateBody=json.dumps(_template(*after, **props)))
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert message in raised.value.response["Error"]["Message"]
    primary = _describe(moto_endpoint, PRIMARY)
    assert primary is not None
    assert primary["KeySchema"] == PK_SK
    replica = _describe(moto_endpoint, REPLICA)
    if prepare == "foreign-table":
        assert replica is not None
        assert (replica["KeySchema"], replica.get("Replicas"), primary.get("Replicas")) == (PK_SK[:1], None, None)
    else:
        assert (replica is not None) == (len(before) == 2)


@pytest.mark.parametrize(("policy", "protected", "old_kept"), [("Retain", False, True), ("Delete", False, False), ("Delete", True, True)])
def test_a_new_table_name_replaces_the_table(moto_endpoint: str, policy: str, protected: bool, old_kept: bool) -> None:
    """A TableName change is a replacement: new tables; the old ones are deleted unless the
    UpdateReplacePolicy is Retain (or, as on AWS, the clean-up fails: deletion protection)."""
    _create(moto_endpoint, _template(_replica(HERE, protected=protected), _replica(REPLICA), policy=policy))
    _update(moto_endpoint, _template(_replica(HERE), _replica(REPLICA), name="gt-new", policy=policy))
    for region in (PRIMARY, REPLICA):
        assert _describe(moto_endpoint, region, "gt-new") is not None
        assert (_describe(moto_endpoint, region) is not None) == old_kept
    outputs = _client("cloudformation", moto_endpoint).describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    assert {o["OutputKey"]: o["OutputValue"] for o in outputs}["Name"] == "gt-new"


def test_a_table_without_a_name_keeps_its_generated_name(moto_endpoint: str) -> None:
    """CloudFormation names it ``{stack}-{logical id}-{random}`` and keeps the name across updates
    (moto's parser makes up a new one on every update, which would replace the tables each time;
    the model keeps the first, as for alarms and buckets)."""

    def unnamed(*replicas: dict[str, Any]) -> dict[str, Any]:
        template = _template(*replicas)
        del template["Resources"]["Table"]["Properties"]["TableName"]
        return template

    stack = _create(moto_endpoint, unnamed(_replica(HERE), _replica(REPLICA)))
    name = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Name"]
    assert re.fullmatch(rf"{STACK}-Table-[0-9A-Z]{{12}}", name), name
    ids = {region: (_describe(moto_endpoint, region, name) or {}).get("TableId") for region in (PRIMARY, REPLICA)}

    _update(moto_endpoint, unnamed(_replica(HERE, pitr_days=35), _replica(REPLICA)))
    outputs = _client("cloudformation", moto_endpoint).describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    assert {o["OutputKey"]: o["OutputValue"] for o in outputs}["Name"] == name
    for region in (PRIMARY, REPLICA):
        assert (_describe(moto_endpoint, region, name) or {}).get("TableId") == ids[region]
        assert _client("dynamodb", moto_endpoint, region).list_tables()["TableNames"] == [name]
    backups = _client("dynamodb", moto_endpoint).describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 35


def test_a_refused_update_keeps_the_deletion_policy(moto_endpoint: str) -> None:
    """A refused update changes nothing, the resource's DeletionPolicy included (as AWS's rollback
    restores the template): the stack deletion afterwards still retains the tables."""
    _create(moto_endpoint, _template(_replica(HERE), _replica(REPLICA), policy="Retain"))
    refused = _template(_replica(HERE), _replica(REPLICA), policy="Delete", KeySchema=PK_SK[:1])
    with pytest.raises(ClientError) as raised:
        _client("cloudformation", moto_endpoint).update_stack(StackName=STACK, TemplateBody=json.dumps(refused))
    assert "Rename gt and update the stack again" in raised.value.response["Error"]["Message"]
    _client("cloudformation", moto_endpoint).delete_stack(StackName=STACK)
    assert [_describe(moto_endpoint, region) is not None for region in (PRIMARY, REPLICA)] == [True, True]


# ------------------------------------------------------------------ delete


@pytest.mark.parametrize(("policy", "kept"), [("Retain", True), ("Delete", False)])
def test_stack_deletion_honours_the_deletion_policy(moto_endpoint: str, policy: str, kept: bool) -> None:
    _create(moto_endpoint, _template(_replica(HERE), _replica(REPLICA), policy=policy))
    _client("cloudformation", moto_endpoint).delete_stack(StackName=STACK)
    assert [_describe(moto_endpoint, region) is not None for region in (PRIMARY, REPLICA)] == [kept, kept]


@pytest.mark.parametrize(("policy", "kept"), [("Retain", True), ("Delete", False)])
def test_removing_the_table_from_the_template_honours_the_deletion_policy(moto_endpoint: str, policy: str, kept: bool) -> None:
    """moto's CloudFormation ignores DeletionPolicy when an update removes a resource; the model
    honours it, as AWS does."""
    _create(moto_endpoint, _template(_replica(HERE), _replica(REPLICA), policy=policy))
    _update(moto_endpoint, NO_TABLE)
    assert [_describe(moto_endpoint, region) is not None for region in (PRIMARY, REPLICA)] == [kept, kept]


def test_deletion_protection_refuses_the_stack_deletion(moto_endpoint: str) -> None:
    """DynamoDB refuses to delete a protected table, so the stack deletion fails and no replica
    is deleted. On AWS DeleteStack is accepted and the stack ends DELETE_FAILED (and stays);
    moto fails the DeleteStack call itself, after dropping the stack from its list."""
    _create(moto_endpoint, _template(_replica(HERE), _replica(REPLICA, protected=True)))
    with pytest.raises(ClientError) as raised:
        _client("cloudformation", moto_endpoint).delete_stack(StackName=STACK)
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert f"Table '{TABLE}' can't be deleted while DeletionProtectionEnabled" in raised.value.response["Error"]["Message"]
    assert [_describe(moto_endpoint, region) is not None for region in (PRIMARY, REPLICA)] == [True, True]


# ------------------------------------------------------------------ CloudWatch alarms

ALARMS = "alarms"  # the alarm tests' stack
TOPIC = f"arn:aws:sns:{PRIMARY}:123456789012:alarms"
PAGER = f"arn:aws:sns:{PRIMARY}:123456789012:pager"
ALARM_TAGS = [{"Key": "project", "Value": "demo"}, {"Key": "environment", "Value": "prod"}]
# Actions as the templates give them (appstorage.alarms): the topic parameter, or none at all.
ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}

SIMPLE: dict[str, Any] = {
    "AlarmName": "replication-failed",
    "AlarmDescription": "Objects failed to replicate",
    "Namespace": "AWS/S3",
    "MetricName": "OperationsFailedReplication",
    "Dimensions": [{"Name": "SourceBucket", "Value": "src"}, {"Name": "RuleId", "Value": "to-us-west-2"}],
    "Statistic": "Sum",
    "Period": 300,
    "Unit": "Count",
    "EvaluationPeriods": 3,
    "DatapointsToAlarm": 2,
    "Threshold": 0,
    "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "ignore",
    "AlarmActions": [TOPIC],
    "OKActions": [TOPIC],
    "InsufficientDataActions": [PAGER],
    "ActionsEnabled": False,
    "Tags": ALARM_TAGS,
}


def _stat(query_id: str, metric: str) -> dict[str, Any]:
    dimensions = [{"Name": "TableName", "Value": TABLE}]
    stat = {"Metric": {"Namespace": "AWS/DynamoDB", "MetricName": metric, "Dimensions": dimensions}, "Period": 60, "Stat": "Sum", "Unit": "Count"}
    return {"Id": query_id, "MetricStat": stat, "ReturnData": False}


MATH_METRICS = [
    _stat("read", "ReadThrottleEvents"),
    _stat("write", "WriteThrottleEvents"),
    {"Id": "total", "Expression": "FILL(read, 0)+FILL(write, 0)", "Label": "throttle events", "ReturnData": True},
]
MATH: dict[str, Any] = {
    "AlarmName": "table-throttling",
    "AlarmDescription": "Requests were throttled",
    "Metrics": MATH_METRICS,
    "EvaluationPeriods": 1,
    "Threshold": 10,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "notBreaching",
    "AlarmActions": ACTIONS,
    "OKActions": ACTIONS,
    "Tags": ALARM_TAGS,
}


def _alarms(policy: str = "Delete", depends: dict[str, str] | None = None, **alarms: dict[str, Any]) -> dict[str, Any]:
    """A template with ``alarms`` (logical id -> properties), each with Ref and GetAtt Arn outputs;
    the optional ``AlarmTopicArn`` parameter and its condition as in the primary template."""
    resources = {
        logical: {"Type": "AWS::CloudWatch::Alarm", "DeletionPolicy": policy, "UpdateReplacePolicy": policy, "Properties": props}
        | ({"DependsOn": (depends or {})[logical]} if logical in (depends or {}) else {})
        for logical, props in alarms.items()
    }
    outputs = {f"{logical}Name": {"Value": {"Ref": logical}} for logical in alarms} | {
        f"{logical}Arn": {"Value": {"Fn::GetAtt": [logical, "Arn"]}} for logical in alarms
    }
    return {
        "Parameters": {"AlarmTopicArn": {"Type": "String", "Default": ""}},
        "Conditions": {"HasAlarmTopic": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}},
        "Resources": resources or NO_TABLE["Resources"],
        "Outputs": outputs,
    }


def _stack_call(endpoint: str, action: str, template: dict[str, Any], topic: str | None = TOPIC) -> dict[str, Any]:
    """CreateStack or UpdateStack of the alarm stack; returns the stack."""
    cfn = _client("cloudformation", endpoint)
    parameters = [{"ParameterKey": "AlarmTopicArn", "ParameterValue": topic or ""}]
    getattr(cfn, f"{action}_stack")(StackName=ALARMS, TemplateBody=json.dumps(template), Parameters=parameters)
    stack: dict[str, Any] = cfn.describe_stacks(StackName=ALARMS)["Stacks"][0]
    return stack


def _alarm(endpoint: str, name: str) -> dict[str, Any] | None:
    """DescribeAlarms of ``name``, or None when there is no such alarm."""
    found = _client("cloudwatch", endpoint).describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert len(found) <= 1
    return found[0] if found else None


def _alarm_tags(endpoint: str, name: str) -> list[dict[str, str]]:
    arn = f"arn:aws:cloudwatch:{PRIMARY}:123456789012:alarm:{name}"
    tags: list[dict[str, str]] = _client("cloudwatch", endpoint).list_tags_for_resource(ResourceARN=arn)["Tags"]
    return tags


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _failures(endpoint: str, stack: str = ALARMS) -> list[tuple[str, str]]:
    events = _client("cloudformation", endpoint).describe_stack_events(StackName=stack)["StackEvents"]
    return [(e["LogicalResourceId"], e.get("ResourceStatusReason", "")) for e in events if e["ResourceStatus"] == "CREATE_FAILED"]


SIMPLE_READ_BACK = {
    "AlarmName": "replication-failed",
    "AlarmArn": f"arn:aws:cloudwatch:{PRIMARY}:123456789012:alarm:replication-failed",
    "AlarmDescription": "Objects failed to replicate",
    "Namespace": "AWS/S3",
    "MetricName": "OperationsFailedReplication",
    "Dimensions": [{"Name": "SourceBucket", "Value": "src"}, {"Name": "RuleId", "Value": "to-us-west-2"}],
    "Statistic": "Sum",
    "Period": 300,
    "Unit": "Count",
    "EvaluationPeriods": 3,
    "DatapointsToAlarm": 2,
    "Threshold": 0.0,
    "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "ignore",
    "AlarmActions": [TOPIC],
    "OKActions": [TOPIC],
    "InsufficientDataActions": [PAGER],
    "ActionsEnabled": False,
    # As on AWS ("When this operation creates an alarm, the alarm state is immediately set to
    # INSUFFICIENT_DATA", PutMetricAlarm); moto's own PutMetricAlarm starts an alarm OK.
    "StateValue": "INSUFFICIENT_DATA",
}
PERCENTILE = {k: v for k, v in SIMPLE.items() if k != "Statistic"} | {"ExtendedStatistic": "p99"}
PERCENTILE_READ_BACK = {k: v for k, v in SIMPLE_READ_BACK.items() if k != "Statistic"} | {"ExtendedStatistic": "p99"}
MATH_READ_BACK = {
    "AlarmName": "table-throttling",
    "AlarmArn": f"arn:aws:cloudwatch:{PRIMARY}:123456789012:alarm:table-throttling",
    "AlarmDescription": "Requests were throttled",
    "Metrics": MATH_METRICS,  # read back as written
    "EvaluationPeriods": 1,
    "Threshold": 10.0,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "notBreaching",
    "AlarmActions": [TOPIC],
    "OKActions": [TOPIC],
    "InsufficientDataActions": [],
    "ActionsEnabled": True,
    "StateValue": "INSUFFICIENT_DATA",
}


@pytest.mark.parametrize(
    ("props", "expected", "absent"),
    [
        (SIMPLE, SIMPLE_READ_BACK, {"ExtendedStatistic"}),
        (PERCENTILE, PERCENTILE_READ_BACK, {"Statistic"}),
        (MATH, MATH_READ_BACK, {"Namespace", "MetricName", "Statistic", "ExtendedStatistic", "Period", "Unit", "DatapointsToAlarm"}),
    ],
    ids=["metric", "percentile", "metric-math"],
)
def test_an_alarm_is_created_with_its_properties(
    moto_endpoint: str, props: dict[str, Any], expected: dict[str, Any], absent: set[str]
) -> None:
    stack = _stack_call(moto_endpoint, "create", _alarms(Alarm=props))
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    alarm = _alarm(moto_endpoint, props["AlarmName"])
    assert alarm is not None
    assert {key: alarm.get(key) for key in expected} == expected
    assert absent & alarm.keys() == set()
    assert _alarm_tags(moto_endpoint, props["AlarmName"]) == ALARM_TAGS
    # Ref is the alarm's name, GetAtt Arn its ARN.
    assert _outputs(stack) == {"AlarmName": alarm["AlarmName"], "AlarmArn": alarm["AlarmArn"]}
    resources = _client("cloudformation", moto_endpoint).describe_stack_resources(StackName=ALARMS)["StackResources"]
    assert [(r["ResourceType"], r["PhysicalResourceId"]) for r in resources] == [("AWS::CloudWatch::Alarm", props["AlarmName"])]


@pytest.mark.parametrize(("topic", "actions"), [(TOPIC, [TOPIC]), (None, [])], ids=["topic", "no-topic"])
def test_actions_follow_the_topic_condition(moto_endpoint: str, topic: str | None, actions: list[str]) -> None:
    """Without a topic the template's Fn::If gives AWS::NoValue: the alarm has no actions."""
    assert _stack_call(moto_endpoint, "create", _alarms(Alarm=MATH), topic=topic)["StackStatus"] == "CREATE_COMPLETE"
    alarm = _alarm(moto_endpoint, MATH["AlarmName"])
    assert alarm is not None
    assert (alarm["AlarmActions"], alarm["OKActions"]) == (actions, actions)


def test_update_changes_an_alarm_in_place(moto_endpoint: str) -> None:
    """Every property but the name changes in place: the alarm stays (with its state, as
    PutMetricAlarm keeps an existing alarm's state on AWS; moto's own resets it to OK) and its tags
    become exactly the template's."""
    _stack_call(moto_endpoint, "create", _alarms(Alarm=SIMPLE))
    cloudwatch = _client("cloudwatch", moto_endpoint)
    cloudwatch.set_alarm_state(AlarmName=SIMPLE["AlarmName"], StateValue="ALARM", StateReason="test")
    changed = SIMPLE | {
        "AlarmDescription": "changed",
        "Dimensions": [{"Name": "SourceBucket", "Value": "other"}],
        "Statistic": "Maximum",
        "Threshold": 5,
        "EvaluationPeriods": 1,
        "TreatMissingData": "breaching",
        "AlarmActions": [PAGER],
        "OKActions": [],
        "ActionsEnabled": True,
        "Tags": [{"Key": "project", "Value": "renamed"}, {"Key": "owner", "Value": "team"}],
    }
    del changed["DatapointsToAlarm"], changed["Unit"]
    stack = _stack_call(moto_endpoint, "update", _alarms(Alarm=changed))
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    alarm = _alarm(moto_endpoint, SIMPLE["AlarmName"])
    assert alarm is not None
    assert {k: alarm.get(k) for k in ("AlarmDescription", "Dimensions", "Statistic", "Threshold", "EvaluationPeriods")} == {
        "AlarmDescription": "changed",
        "Dimensions": [{"Name": "SourceBucket", "Value": "other"}],
        "Statistic": "Maximum",
        "Threshold": 5.0,
        "EvaluationPeriods": 1,
    }
    assert (alarm["TreatMissingData"], alarm["AlarmActions"], alarm["OKActions"], alarm["ActionsEnabled"]) == ("breaching", [PAGER], [], True)
    assert {"DatapointsToAlarm", "Unit"} & alarm.keys() == set()
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "test")
    assert _alarm_tags(moto_endpoint, SIMPLE["AlarmName"]) == [{"Key": "project", "Value": "renamed"}, {"Key": "owner", "Value": "team"}]
    assert [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]] == [SIMPLE["AlarmName"]]


@pytest.mark.parametrize(("policy", "old_kept"), [("Delete", False), ("Retain", True)])
def test_a_new_alarm_name_replaces_the_alarm(moto_endpoint: str, policy: str, old_kept: bool) -> None:
    _stack_call(moto_endpoint, "create", _alarms(policy, Alarm=SIMPLE))
    stack = _stack_call(moto_endpoint, "update", _alarms(policy, Alarm=SIMPLE | {"AlarmName": "renamed"}))
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    new = _alarm(moto_endpoint, "renamed")
    assert new is not None
    assert new["StateValue"] == "INSUFFICIENT_DATA"
    assert _alarm_tags(moto_endpoint, "renamed") == ALARM_TAGS
    assert (_alarm(moto_endpoint, SIMPLE["AlarmName"]) is not None) == old_kept
    assert (_alarm_tags(moto_endpoint, SIMPLE["AlarmName"]) == ALARM_TAGS) == old_kept
    assert _outputs(stack) == {"AlarmName": "renamed", "AlarmArn": new["AlarmArn"]}


def test_an_alarm_without_a_name_gets_one_and_keeps_it(moto_endpoint: str) -> None:
    """CloudFormation names it ``{stack}-{logical id}-{random}`` and keeps the name across updates
    (moto's parser makes up a new one on every update; the model keeps the first). Giving it a
    name later is a replacement."""
    unnamed = {k: v for k, v in MATH.items() if k != "AlarmName"}
    stack = _stack_call(moto_endpoint, "create", _alarms(Throttling=unnamed))
    name = _outputs(stack)["ThrottlingName"]
    assert re.fullmatch(rf"{ALARMS}-Throttling-[0-9A-Z]{{12}}", name), name
    assert _alarm(moto_endpoint, name) is not None

    stack = _stack_call(moto_endpoint, "update", _alarms(Throttling=unnamed | {"Threshold": 20}))
    assert _outputs(stack)["ThrottlingName"] == name
    alarm = _alarm(moto_endpoint, name)
    assert alarm is not None
    assert alarm["Threshold"] == 20.0
    assert len(_client("cloudwatch", moto_endpoint).describe_alarms()["MetricAlarms"]) == 1

    _stack_call(moto_endpoint, "update", _alarms(Throttling=MATH))
    alarms = _client("cloudwatch", moto_endpoint).describe_alarms()["MetricAlarms"]
    assert [a["AlarmName"] for a in alarms] == [MATH["AlarmName"]]


@pytest.mark.parametrize(("how", "policy", "kept"), [
    ("delete-stack", "Delete", False),
    ("delete-stack", "Retain", True),
    ("leave-the-template", "Delete", False),
    ("leave-the-template", "Retain", True),
])  # fmt: skip
def test_deletion_honours_the_deletion_policy(moto_endpoint: str, how: str, policy: str, kept: bool) -> None:
    """The alarm and its tags go (moto's DeleteAlarms would keep the tags, and hand them to a later
    alarm of that name); moto's CloudFormation ignores DeletionPolicy when an update removes a
    resource, the model honours it as AWS does."""
    _stack_call(moto_endpoint, "create", _alarms(policy, Alarm=SIMPLE, Other=MATH))
    if how == "delete-stack":
        _client("cloudformation", moto_endpoint).delete_stack(StackName=ALARMS)
    else:
        _stack_call(moto_endpoint, "update", _alarms(policy, Other=MATH))
    assert (_alarm(moto_endpoint, SIMPLE["AlarmName"]) is not None) == kept
    assert (_alarm_tags(moto_endpoint, SIMPLE["AlarmName"]) == ALARM_TAGS) == kept
    assert (_alarm(moto_endpoint, MATH["AlarmName"]) is not None) == (kept or how == "leave-the-template")


def _without(props: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in keys}


@pytest.mark.parametrize(
    ("props", "reason"),
    [
        (_without(SIMPLE, "ComparisonOperator"), "Properties validation failed: required key [ComparisonOperator] not found"),
        (_without(SIMPLE, "EvaluationPeriods"), "Properties validation failed: required key [EvaluationPeriods] not found"),
        (_without(SIMPLE, "Threshold"), "Properties validation failed: Threshold or ThresholdMetricId is required"),
        (_without(SIMPLE, "MetricName"), "Properties validation failed: MetricName (or Metrics) is required"),
        (SIMPLE | {"ExtendedStatistic": "p99"}, "Exactly one of Statistic and ExtendedStatistic must be given"),
        (_without(SIMPLE, "Statistic"), "Exactly one of Statistic and ExtendedStatistic must be given"),
        (PERCENTILE | {"ExtendedStatistic": "median"}, "The value median for parameter ExtendedStatistic is not supported."),
        (MATH | {"Namespace": "AWS/DynamoDB", "Period": 60}, "Metrics cannot be combined with Namespace, Period: give them in Metrics"),
        (MATH | {"Metrics": [_stat("read", "ReadThrottleEvents") | {"ReturnData": True}, MATH_METRICS[2]]}, "Exactly one element of the metrics list should return data."),
        (MATH | {"Metrics": [_stat("read", "ReadThrottleEvents")]}, "Exactly one element of the metrics list should return data."),
        (MATH | {"Metrics": [{"Id": "x", "Expression": "1", "MetricStat": MATH_METRICS[0]["MetricStat"]}]}, "Metrics x: exactly one of Expression and MetricStat must be given"),
        (MATH | {"Metrics": [{"Expression": "1"}]}, "Properties validation failed: required key [Id] not found in Metrics"),
        (SIMPLE | {"Period": "five minutes"}, "Properties validation failed: ValueError invalid literal for int() with base 10: 'five minutes'"),
    ],
    ids=[
        "no-operator", "no-periods", "no-threshold", "no-metric", "both-statistics", "no-statistic", "bad-percentile",
        "metrics-and-single-metric", "two-return-data", "none-returns-data", "expression-and-stat", "no-id", "bad-number",
    ],
)
def test_a_refused_alarm_rolls_the_stack_back(moto_endpoint: str, props: dict[str, Any], reason: str) -> None:
    """What CloudWatch refuses fails the resource and rolls the stack back, as on AWS (the messages
    are the emulator's; AWS's name the same problem)."""
    stack = _stack_call(moto_endpoint, "create", _alarms(Alarm=props))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert _failures(moto_endpoint) == [("Alarm", f"Resource handler returned message: {reason!r}")]
    assert _client("cloudwatch", moto_endpoint).describe_alarms()["MetricAlarms"] == []


def test_an_existing_alarm_of_that_name_rolls_the_stack_back(moto_endpoint: str) -> None:
    """An alarm made outside the stack is not taken over: the resource fails, the stack rolls back,
    the alarm stays as it was, and the resources after it are not created (AWS deletes what it made
    when it rolls back; moto keeps what it made before)."""
    cloudwatch = _client("cloudwatch", moto_endpoint)
    cloudwatch.put_metric_alarm(
        AlarmName=SIMPLE["AlarmName"], AlarmDescription="someone else's", Namespace="Other", MetricName="m",
        Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="LessThanThreshold",
    )  # fmt: skip
    stack = _stack_call(moto_endpoint, "create", _alarms(Alarm=SIMPLE, Other=MATH, depends={"Other": "Alarm"}))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    message = f"Resource of type 'AWS::CloudWatch::Alarm' with identifier '{SIMPLE['AlarmName']}' already exists."
    assert _failures(moto_endpoint) == [("Alarm", f"Resource handler returned message: {message!r}")]
    alarms = cloudwatch.describe_alarms()["MetricAlarms"]
    assert [(a["AlarmName"], a["AlarmDescription"]) for a in alarms] == [(SIMPLE["AlarmName"], "someone else's")]
    # Deleting the rolled-back stack leaves the other alarm alone.
    _client("cloudformation", moto_endpoint).delete_stack(StackName=ALARMS)
    assert _alarm(moto_endpoint, SIMPLE["AlarmName"]) is not None


def test_a_global_table_after_a_failed_alarm_is_not_created(moto_endpoint: str) -> None:
    """Once a resource failed the stack creation, the models create nothing more (AWS would delete it)."""
    template = _alarms(Alarm=_without(SIMPLE, "Threshold"))
    template["Resources"]["Table"] = _template(_replica(HERE), _replica(REPLICA))["Resources"]["Table"] | {"DependsOn": "Alarm"}
    stack = _stack_call(moto_endpoint, "create", template)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert [logical for logical, _ in _failures(moto_endpoint)] == ["Alarm"]
    assert [_describe(moto_endpoint, region) for region in (PRIMARY, REPLICA)] == [None, None]


@pytest.mark.parametrize(
    ("after", "message"),
    [
        (SIMPLE | {"AlarmName": "taken"}, "Resource of type 'AWS::CloudWatch::Alarm' with identifier 'taken' already exists."),
        (_without(SIMPLE, "Statistic"), "Exactly one of Statistic and ExtendedStatistic must be given"),
    ],
    ids=["renamed-to-an-existing-alarm", "invalid-properties"],
)
def test_a_refused_alarm_update_changes_nothing(moto_endpoint: str, after: dict[str, Any], message: str) -> None:
    """On AWS the update fails and rolls back (UPDATE_ROLLBACK_COMPLETE); moto's CloudFormation
    fails the UpdateStack call itself. Either way the alarms stay as they were."""
    _stack_call(moto_endpoint, "create", _alarms(Alarm=SIMPLE))
    _client("cloudwatch", moto_endpoint).put_metric_alarm(
        AlarmName="taken", Namespace="Other", MetricName="m", Statistic="Average", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="LessThanThreshold",
    )  # fmt: skip
    with pytest.raises(ClientError) as raised:
        _stack_call(moto_endpoint, "update", _alarms(Alarm=after | {"AlarmDescription": "changed"}))
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert message in raised.value.response["Error"]["Message"]
    alarm = _alarm(moto_endpoint, SIMPLE["AlarmName"])
    assert alarm is not None
    assert (alarm["AlarmDescription"], alarm["Statistic"]) == (SIMPLE["AlarmDescription"], "Sum")
    taken = _alarm(moto_endpoint, "taken")
    assert taken is not None
    assert "AlarmDescription" not in taken


# ------------------------------------------------------------------ S3 buckets

BUCKETS = "buckets"  # the bucket tests' stack
SOURCE, DESTINATION, LOGS = "app-images", "app-images-backup", "app-access-logs"
REPLICATION_ROLE = "arn:aws:iam::123456789012:role/replication"
ORIGINS = ["https://app.example.com", "https://www.app.example.com"]
TIERS = [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}, {"StorageClass": "GLACIER_IR", "TransitionInDays": 90}]
RTC = {"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}, "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}
# The primary template's replication rule: RTC and its metrics, delete markers, SSE-KMS objects, the
# replica region's key, a storage class.
REPLICATION_RULE: dict[str, Any] = {
    "Id": "replicate-images",
    "Priority": 1,
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "DeleteMarkerReplication": {"Status": "Enabled"},
    "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
    "Destination": {
        "Bucket": f"arn:aws:s3:::{DESTINATION}",
        "StorageClass": "STANDARD_IA",
        "EncryptionConfiguration": {"ReplicaKmsKeyID": KEYS[REPLICA]},
        **RTC,
    },
}
# Every bucket property the templates use (tests/golden/prod/primary.template.json, ImagesBucket),
# but MetricsConfigurations (not emulated: moto has no metrics-configuration API).
BUCKET: dict[str, Any] = {
    "BucketName": SOURCE,
    "BucketEncryption": {
        "ServerSideEncryptionConfiguration": [
            {"BucketKeyEnabled": True, "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEYS[PRIMARY]}}
        ]
    },
    "VersioningConfiguration": {"Status": "Enabled"},
    "LifecycleConfiguration": {
        "Rules": [
            {"Id": "tier-images", "Status": "Enabled", "Transitions": TIERS, "NoncurrentVersionTransitions": TIERS, "NoncurrentVersionExpiration": {"NoncurrentDays": 365}},
            {"Id": "abort-incomplete-multipart-uploads", "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        ]
    },
    "CorsConfiguration": {
        "CorsRules": [
            {"Id": "images-cors", "AllowedHeaders": ["Content-Type", "x-amz-*"], "AllowedMethods": ["GET", "HEAD", "PUT"], "AllowedOrigins": ORIGINS, "ExposedHeaders": ["ETag"], "MaxAge": 3000}
        ]
    },
    "LoggingConfiguration": {"DestinationBucketName": LOGS, "LogFilePrefix": f"s3/{SOURCE}/"},
    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
    "ReplicationConfiguration": {"Role": REPLICATION_ROLE, "Rules": [REPLICATION_RULE]},
    "Tags": [{"Key": "project", "Value": "demo"}, {"Key": "environment", "Value": "prod"}],
}


def _api_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A replication rule as the S3 API spells it (``ID``; CloudFormation says ``Id``)."""
    return {("ID" if key == "Id" else key): value for key, value in rule.items()}


#: Each S3 read of the bucket: (operation, the answer's key). An error answers its code.
READS = {
    "versioning": ("get_bucket_versioning", "Status"),
    "replication": ("get_bucket_replication", "ReplicationConfiguration"),
    "lifecycle": ("get_bucket_lifecycle_configuration", "Rules"),
    "cors": ("get_bucket_cors", "CORSRules"),
    "logging": ("get_bucket_logging", "LoggingEnabled"),
    "ownership": ("get_bucket_ownership_controls", "OwnershipControls"),
    "public access block": ("get_public_access_block", "PublicAccessBlockConfiguration"),
    "encryption": ("get_bucket_encryption", "ServerSideEncryptionConfiguration"),
    "tags": ("get_bucket_tagging", "TagSet"),
}
READ_BACK: dict[str, Any] = {
    "versioning": "Enabled",
    "replication": {"Role": REPLICATION_ROLE, "Rules": [_api_rule(REPLICATION_RULE)]},
    "lifecycle": [
        {
            "ID": "tier-images",
            "Filter": {"Prefix": ""},  # no Prefix, no TagFilters: every object
            "Status": "Enabled",
            "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER_IR"}],
            "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"}, {"NoncurrentDays": 90, "StorageClass": "GLACIER_IR"}],
            "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
        },
        {"ID": "abort-incomplete-multipart-uploads", "Filter": {"Prefix": ""}, "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
    ],
    "cors": [
        {"ID": "images-cors", "AllowedHeaders": ["Content-Type", "x-amz-*"], "AllowedMethods": ["GET", "HEAD", "PUT"], "AllowedOrigins": ORIGINS, "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}
    ],
    "logging": {"TargetBucket": LOGS, "TargetPrefix": f"s3/{SOURCE}/"},
    "ownership": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    "public access block": {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    "encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEYS[PRIMARY]}, "BucketKeyEnabled": True}]},
    "tags": BUCKET["Tags"],
}
CHANGED_RULE = REPLICATION_RULE | {
    "Priority": 2,
    "DeleteMarkerReplication": {"Status": "Disabled"},
    "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}", "StorageClass": "GLACIER_IR"},
}
CHANGED: dict[str, Any] = BUCKET | {
    "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    "LifecycleConfiguration": {"Rules": [{"Id": "expire", "Status": "Disabled", "Prefix": "tmp/", "ExpirationInDays": 1}]},
    "CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]},
    "LoggingConfiguration": {"LogFilePrefix": "self/"},  # no DestinationBucketName: the bucket itself
    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
    "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": True},
    "ReplicationConfiguration": {"Role": REPLICATION_ROLE, "Rules": [CHANGED_RULE]},
    "Tags": [{"Key": "project", "Value": "renamed"}],
}
CHANGED_READ_BACK = READ_BACK | {
    "replication": {"Role": REPLICATION_ROLE, "Rules": [_api_rule(CHANGED_RULE)]},
    "lifecycle": [{"ID": "expire", "Filter": {"Prefix": "tmp/"}, "Status": "Disabled", "Expiration": {"Days": 1}}],
    "cors": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}],
    "logging": {"TargetBucket": SOURCE, "TargetPrefix": "self/"},
    "ownership": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
    "public access block": {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False},
    "encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]},
    "tags": [{"Key": "project", "Value": "renamed"}],
}
# What a bucket reads after the template stopped declaring everything but its name.
REMOVED_READ_BACK = {
    "versioning": "Suspended",  # a bucket cannot go back to unversioned
    "replication": "ReplicationConfigurationNotFoundError",
    "lifecycle": "NoSuchLifecycleConfiguration",
    "cors": "NoSuchCORSConfiguration",
    "logging": None,  # GetBucketLogging answers no LoggingEnabled
    "ownership": "OwnershipControlsNotFoundError",
    "public access block": "NoSuchPublicAccessBlockConfiguration",
    # moto's answer for a bucket without encryption configuration; AWS reports its default
    # encryption (SSE-S3, AES256) instead.
    "encryption": "ServerSideEncryptionConfigurationNotFoundError",
    "tags": "NoSuchTagSet",
}


def _bucket_template(policy: str = "Delete", **buckets: dict[str, Any]) -> dict[str, Any]:
    """A template with ``buckets`` (logical id -> properties), each with Ref and GetAtt Arn outputs."""
    resources = {
        logical: {"Type": "AWS::S3::Bucket", "DeletionPolicy": policy, "UpdateReplacePolicy": policy, "Properties": props}
        for logical, props in buckets.items()
    }
    outputs = {f"{logical}Name": {"Value": {"Ref": logical}} for logical in buckets} | {
        f"{logical}Arn": {"Value": {"Fn::GetAtt": [logical, "Arn"]}} for logical in buckets
    }
    return {"Resources": resources or NO_TABLE["Resources"], "Outputs": outputs}


def _bucket_call(endpoint: str, action: str, template: dict[str, Any]) -> dict[str, Any]:
    """CreateStack or UpdateStack of the bucket stack; returns the stack."""
    cfn = _client("cloudformation", endpoint)
    getattr(cfn, f"{action}_stack")(StackName=BUCKETS, TemplateBody=json.dumps(template))
    stack: dict[str, Any] = cfn.describe_stacks(StackName=BUCKETS)["Stacks"][0]
    return stack


def _targets(endpoint: str, destination: str | None = "versioned") -> None:
    """The buckets BUCKET names, made outside the stack: the access-log bucket (the stack's region)
    and, unless ``destination`` is None, the replication destination in the replica region,
    versioned unless ``destination`` is "unversioned"."""
    _client("s3", endpoint).create_bucket(Bucket=LOGS)
    if destination is None:
        return
    west = _client("s3", endpoint, REPLICA)
    west.create_bucket(Bucket=DESTINATION, CreateBucketConfiguration={"LocationConstraint": REPLICA})
    if destination == "versioned":
        west.put_bucket_versioning(Bucket=DESTINATION, VersioningConfiguration={"Status": "Enabled"})


def _reads(endpoint: str, bucket: str = SOURCE) -> dict[str, Any]:
    """Every read of READS on ``bucket``: the answer's key, or the error's code."""
    s3 = _client("s3", endpoint)
    found: dict[str, Any] = {}
    for what, (operation, key) in READS.items():
        try:
            found[what] = getattr(s3, operation)(Bucket=bucket).get(key)
        except ClientError as error:
            found[what] = error.response["Error"]["Code"]
    return found


def _exists(endpoint: str, bucket: str) -> bool:
    try:
        _client("s3", endpoint).head_bucket(Bucket=bucket)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "404"
        return False
    return True


def test_a_bucket_is_created_with_every_property(moto_endpoint: str) -> None:
    """moto's own model would leave versioning, replication, lifecycle, CORS, logging, ownership
    controls and the public access block unset (and BucketKeyEnabled false)."""
    _targets(moto_endpoint)
    stack = _bucket_call(moto_endpoint, "create", _bucket_template(Bucket=BUCKET))
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert _reads(moto_endpoint) == READ_BACK
    assert _outputs(stack) == {"BucketName": SOURCE, "BucketArn": f"arn:aws:s3:::{SOURCE}"}
    resources = _client("cloudformation", moto_endpoint).describe_stack_resources(StackName=BUCKETS)["StackResources"]
    assert [(r["ResourceType"], r["PhysicalResourceId"]) for r in resources] == [("AWS::S3::Bucket", SOURCE)]


@pytest.mark.parametrize(("after", "expected"), [(CHANGED, CHANGED_READ_BACK), ({"BucketName": SOURCE}, REMOVED_READ_BACK)], ids=["changed", "removed"])
def test_an_update_changes_the_bucket_in_place(moto_endpoint: str, after: dict[str, Any], expected: dict[str, Any]) -> None:
    """Changed properties are applied, those the template no longer declares are removed; the
    bucket (and its objects) stays."""
    _targets(moto_endpoint)
    _bucket_call(moto_endpoint, "create", _bucket_template(Bucket=BUCKET))
    s3 = _client("s3", moto_endpoint)
    s3.put_object(Bucket=SOURCE, Key="kept", Body=b"x")
    stack = _bucket_call(moto_endpoint, "update", _bucket_template(Bucket=after))
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert _reads(moto_endpoint) == expected
    assert s3.get_object(Bucket=SOURCE, Key="kept")["Body"].read() == b"x"


CORS_PATCH = {"CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]}}


@pytest.mark.parametrize(
    ("props", "prepare", "reason"),
    [
        (BUCKET | {"LoggingConfiguration": {"DestinationBucketName": "no-such-logs"}}, "versioned", "The target bucket for logging does not exist: no-such-logs"),
        (BUCKET | {"LoggingConfiguration": {"DestinationBucketName": DESTINATION}}, "versioned", "Cross S3 location logging not allowed."),
        (_without(BUCKET, "VersioningConfiguration"), "versioned", "Versioning must be 'Enabled' on the bucket to apply a replication configuration"),
        (BUCKET | {"VersioningConfiguration": {"Status": "Suspended"}}, "versioned", "Versioning must be 'Enabled' on the bucket to apply a replication configuration"),
        (BUCKET, "unversioned", f"Destination bucket must have versioning enabled: {DESTINATION}"),
        (BUCKET, None, f"Destination bucket must exist: {DESTINATION}"),
        (BUCKET | CORS_PATCH, "versioned", "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
        (BUCKET | {"LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "ExpiredObjectDeleteMarker": True, "ExpirationInDays": 1}]}}, "versioned",
         "The XML you provided was not well-formed or did not validate against our published schema"),
        (BUCKET | {"ReplicationConfiguration": {"Role": REPLICATION_ROLE}}, "versioned", "Properties validation failed: KeyError 'Rules'"),
    ],
    ids=[
        "no-logging-target", "logging-target-elsewhere", "replication-unversioned", "replication-suspended",
        "destination-unversioned", "no-destination", "cors-method", "lifecycle-malformed", "replication-malformed",
    ],
)  # fmt: skip
def test_a_refused_bucket_rolls_the_stack_back(moto_endpoint: str, props: dict[str, Any], prepare: str | None, reason: str) -> None:
    """What S3 refuses fails the resource and rolls the stack back, as on AWS; the bucket the
    model made is deleted. (The messages for a missing target or destination are the emulator's.)"""
    _targets(moto_endpoint, prepare)
    stack = _bucket_call(moto_endpoint, "create", _bucket_template(Bucket=props))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert _failures(moto_endpoint, BUCKETS) == [("Bucket", f"Resource handler returned message: {reason!r}")]
    assert not _exists(moto_endpoint, SOURCE)


def test_a_bucket_name_taken_rolls_the_stack_back_and_leaves_the_bucket(moto_endpoint: str) -> None:
    _targets(moto_endpoint)
    _client("s3", moto_endpoint).create_bucket(Bucket=SOURCE)
    stack = _bucket_call(moto_endpoint, "create", _bucket_template(Bucket=BUCKET))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    [(logical, reason)] = _failures(moto_endpoint, BUCKETS)
    assert logical == "Bucket" and "The requested bucket name is not available" in reason
    _client("cloudformation", moto_endpoint).delete_stack(StackName=BUCKETS)
    assert _exists(moto_endpoint, SOURCE)
    assert _reads(moto_endpoint)["versioning"] is None and _reads(moto_endpoint)["tags"] == "NoSuchTagSet"


@pytest.mark.parametrize(
    ("after", "message"),
    [
        (CHANGED | CORS_PATCH, "Unsupported method is PATCH"),
        (CHANGED | {"LoggingConfiguration": {"DestinationBucketName": "no-such-logs"}}, "The target bucket for logging does not exist: no-such-logs"),
    ],
    ids=["refused-by-moto-after-other-changes", "refused-before-any-change"],
)
def test_a_refused_bucket_update_changes_nothing(moto_endpoint: str, after: dict[str, Any], message: str) -> None:
    """On AWS the update fails and rolls back; moto's CloudFormation fails the UpdateStack call.
    Either way the bucket is as it was, also what was applied before the refused property
    (encryption, tags, versioning and lifecycle come before CORS)."""
    _targets(moto_endpoint)
    _bucket_call(moto_endpoint, "create", _bucket_template(Bucket=BUCKET))
    with pytest.raises(ClientError) as raised:
        _bucket_call(moto_endpoint, "update", _bucket_template(Bucket=after))
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert message in raised.value.response["Error"]["Message"]
    assert _reads(moto_endpoint) == READ_BACK


@pytest.mark.parametrize(("how", "policy", "kept"), [
    ("delete-stack", "Delete", False),
    ("delete-stack", "Retain", True),
    ("leave-the-template", "Delete", False),
    ("leave-the-template", "Retain", True),
])  # fmt: skip
def test_bucket_deletion_honours_the_deletion_policy(moto_endpoint: str, how: str, policy: str, kept: bool) -> None:
    """The bucket and its tags go (moto's DeleteBucket would keep the tags and hand them to a later
    bucket of that name); moto's CloudFormation ignores DeletionPolicy when an update removes a
    resource, the model honours it as AWS does."""
    _targets(moto_endpoint)
    other = {"BucketName": "app-other"}
    _bucket_call(moto_endpoint, "create", _bucket_template(policy, Bucket=BUCKET, Other=other))
    if how == "delete-stack":
        _client("cloudformation", moto_endpoint).delete_stack(StackName=BUCKETS)
    else:
        _bucket_call(moto_endpoint, "update", _bucket_template(policy, Other=other))
    assert _exists(moto_endpoint, SOURCE) == kept
    if kept:
        assert _reads(moto_endpoint) == READ_BACK
    else:
        _client("s3", moto_endpoint).create_bucket(Bucket=SOURCE)
        assert _reads(moto_endpoint)["tags"] == "NoSuchTagSet"
    assert _exists(moto_endpoint, "app-other") == (kept or how == "leave-the-template")


def test_a_bucket_with_objects_is_kept(moto_endpoint: str) -> None:
    """moto's DeleteBucket keeps a bucket with objects without a word, and so does the model (on
    AWS the deletion fails: BucketNotEmpty, the stack DELETE_FAILED)."""
    _targets(moto_endpoint)
    _bucket_call(moto_endpoint, "create", _bucket_template(Bucket=BUCKET))
    _client("s3", moto_endpoint).put_object(Bucket=SOURCE, Key="k", Body=b"x")
    _client("cloudformation", moto_endpoint).delete_stack(StackName=BUCKETS)
    assert _exists(moto_endpoint, SOURCE)


@pytest.mark.parametrize(("policy", "old_kept"), [("Delete", False), ("Retain", True)])
def test_a_new_bucket_name_replaces_the_bucket(moto_endpoint: str, policy: str, old_kept: bool) -> None:
    """The new bucket has every property; the old one goes unless UpdateReplacePolicy is Retain
    (moto's own model deletes it whatever the policy)."""
    _targets(moto_endpoint)
    _bucket_call(moto_endpoint, "create", _bucket_template(policy, Bucket=BUCKET))
    stack = _bucket_call(moto_endpoint, "update", _bucket_template(policy, Bucket=BUCKET | {"BucketName": "app-images-2"}))
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert _reads(moto_endpoint, "app-images-2") == READ_BACK
    assert _exists(moto_endpoint, SOURCE) == old_kept
    assert _outputs(stack) == {"BucketName": "app-images-2", "BucketArn": "arn:aws:s3:::app-images-2"}


def test_a_bucket_without_a_name_keeps_its_generated_name(moto_endpoint: str) -> None:
    """CloudFormation names it ``{stack}-{logical id}-{random}`` (lower case) and keeps the name
    across updates (moto's parser makes up a new one on every update; the model keeps the first)."""
    unnamed = {"VersioningConfiguration": {"Status": "Enabled"}, "Tags": [{"Key": "project", "Value": "demo"}]}
    stack = _bucket_call(moto_endpoint, "create", _bucket_template(Bucket=unnamed))
    name = _outputs(stack)["BucketName"]
    assert re.fullmatch(rf"{BUCKETS}-bucket-[0-9a-z]{{12}}", name), name
    stack = _bucket_call(moto_endpoint, "update", _bucket_template(Bucket=unnamed | {"Tags": [{"Key": "project", "Value": "renamed"}]}))
    assert _outputs(stack) == {"BucketName": name, "BucketArn": f"arn:aws:s3:::{name}"}
    assert [b["Name"] for b in _client("s3", moto_endpoint).list_buckets()["Buckets"]] == [name]
    reads = _reads(moto_endpoint, name)
    assert (reads["versioning"], reads["tags"]) == ("Enabled", [{"Key": "project", "Value": "renamed"}])


# GetBucketReplication through the S3 API alone (moto's PutBucketReplication handler stores the
# request): what was put, as AWS answers it.
API_RULE: dict[str, Any] = {
    "ID": "everything",
    "Priority": 1,
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "DeleteMarkerReplication": {"Status": "Enabled"},
    "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}, "ReplicaModifications": {"Status": "Enabled"}},
    "ExistingObjectReplication": {"Status": "Enabled"},
    "Destination": {
        "Bucket": f"arn:aws:s3:::{DESTINATION}",
        "Account": "123456789012",
        "StorageClass": "GLACIER_IR",
        "AccessControlTranslation": {"Owner": "Destination"},
        "EncryptionConfiguration": {"ReplicaKmsKeyID": KEYS[REPLICA]},
        **RTC,
    },
}
TWO_TAGS = [{"Key": "tier", "Value": "gold"}, {"Key": "team", "Value": "media"}]


@pytest.mark.parametrize(
    "rules",
    [
        [API_RULE],
        [API_RULE | {"Filter": {"Prefix": "portfolio/"}, "DeleteMarkerReplication": {"Status": "Disabled"}}],
        [API_RULE | {"Filter": {"Tag": TWO_TAGS[0]}}],
        [API_RULE | {"Filter": {"And": {"Prefix": "p/", "Tags": TWO_TAGS}}}],
        [API_RULE | {"Filter": {"And": {"Tags": TWO_TAGS[:1]}}}],
        [{"ID": "v1", "Priority": 1, "Prefix": "", "Status": "Disabled", "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}"}}],
        [API_RULE, API_RULE | {"ID": "second", "Priority": 2, "Filter": {"Prefix": "b/"}, "Status": "Disabled"}],
    ],
    ids=["every-element", "prefix", "tag", "and-prefix-tags", "and-one-tag", "v1-prefix", "two-rules"],
)
def test_get_bucket_replication_answers_what_was_put(moto_endpoint: str, rules: list[dict[str, Any]]) -> None:
    """moto's own answer: DeleteMarkerReplication Disabled and Filter {Prefix: ""} for every rule,
    no SourceSelectionCriteria nor ExistingObjectReplication."""
    _targets(moto_endpoint)
    s3 = _client("s3", moto_endpoint)
    s3.create_bucket(Bucket=SOURCE)
    s3.put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration={"Role": REPLICATION_ROLE, "Rules": rules})
    assert s3.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"] == {"Role": REPLICATION_ROLE, "Rules": rules}


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
    assert _create(moto_endpoint, _template(_replica(HERE)))["StackStatus"] == "CREATE_COMPLETE"
    assert _stack_call(moto_endpoint, "create", _alarms(Alarm=SIMPLE))["StackStatus"] == "CREATE_COMPLETE"
    assert _bucket_call(moto_endpoint, "create", _bucket_template(Bucket={"BucketName": SOURCE}))["StackStatus"] == "CREATE_COMPLETE"


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
            {
                "ID": f"replicate-{purpose}-to-{REPLICA}",
                "Priority": 1,
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                "Destination": {
                    "Bucket": f"arn:aws:s3:::{backups[logical.replace('Bucket', 'BackupBucket')]}",
                    "EncryptionConfiguration": {"ReplicaKmsKeyID": keys[REPLICA]},
                    **RTC,
                    **storage,
                },
            }
        ]
