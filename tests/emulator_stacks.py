"""Templates and stack calls shared by the emulator's tests (tests/test_emulator*.py): moto's real
HTTP server through boto3, one stack per model (``STACK``: the global table, ``ALARMS``,
``BUCKETS``), in ``PRIMARY`` with replicas in ``REPLICA``."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

__all__ = [
    "ALARMS",
    "ALARM_TAGS",
    "ATTRIBUTES",
    "BUCKETS",
    "DELETIONS",
    "DESTINATION",
    "HERE",
    "KEYS",
    "LOGS",
    "NO_TABLE",
    "PAGER",
    "PK_SK",
    "PRIMARY",
    "REPLICA",
    "RTC",
    "SIMPLE",
    "SOURCE",
    "STACK",
    "TABLE",
    "TOPIC",
    "alarm_stack_call",
    "alarm_template",
    "bucket_stack_call",
    "bucket_template",
    "client",
    "create_table_stack",
    "creation_failures",
    "describe_table",
    "gsi",
    "stack_outputs",
    "table_replica",
    "table_template",
    "without",
]

STACK = "global-table"  # the global table tests' stack
ALARMS = "alarms"  # the alarm tests' stack
BUCKETS = "buckets"  # the bucket tests' stack
TABLE = "gt"
PRIMARY = "us-east-1"  # the stack's region
REPLICA = "us-west-2"
HERE = {"Ref": "AWS::Region"}  # how the primary template names the stack's region
KEYS = {PRIMARY: f"arn:aws:kms:{PRIMARY}:123456789012:key/primary", REPLICA: f"arn:aws:kms:{REPLICA}:123456789012:key/replica"}
# A template without the table (CloudFormation needs one resource).
NO_TABLE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "other"}}}}
#: How a resource leaves its stack (the stack is deleted, or an update drops it from the template),
#: its DeletionPolicy, and whether it is kept.
DELETIONS = [
    ("delete-stack", "Delete", False),
    ("delete-stack", "Retain", True),
    ("leave-the-template", "Delete", False),
    ("leave-the-template", "Retain", True),
]


def client(service: str, endpoint: str, region: str = PRIMARY) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def stack_outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def creation_failures(endpoint: str, stack: str = ALARMS) -> list[tuple[str, str]]:
    events = client("cloudformation", endpoint).describe_stack_events(StackName=stack)["StackEvents"]
    return [(e["LogicalResourceId"], e.get("ResourceStatusReason", "")) for e in events if e["ResourceStatus"] == "CREATE_FAILED"]


def without(props: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in keys}


# ------------------------------------------------------------------ AWS::DynamoDB::GlobalTable

PK_SK = [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]
ATTRIBUTES = [{"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")]


def gsi(name: str) -> dict[str, Any]:
    keys = [{"AttributeName": f"{name}PK", "KeyType": "HASH"}, {"AttributeName": f"{name}SK", "KeyType": "RANGE"}]
    return {"IndexName": name, "KeySchema": keys, "Projection": {"ProjectionType": "ALL"}}


def table_replica(region: Any, *, protected: bool = False, pitr_days: int | None = 7, key: str | None = None) -> dict[str, Any]:
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


def table_template(*replicas: dict[str, Any], name: str = TABLE, policy: str = "Delete", **props: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": ATTRIBUTES,
        "KeySchema": PK_SK,
        "GlobalSecondaryIndexes": [gsi("GSI1"), gsi("GSI2")],
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


def create_table_stack(endpoint: str, template: dict[str, Any]) -> dict[str, Any]:
    cfn = client("cloudformation", endpoint)
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    stack: dict[str, Any] = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    return stack


def describe_table(endpoint: str, region: str, name: str = TABLE) -> dict[str, Any] | None:
    """DescribeTable in ``region``, or None when there is no such table."""
    try:
        table: dict[str, Any] = client("dynamodb", endpoint, region).describe_table(TableName=name)["Table"]
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        return None
    return table


# ------------------------------------------------------------------ AWS::CloudWatch::Alarm

TOPIC = f"arn:aws:sns:{PRIMARY}:123456789012:alarms"
PAGER = f"arn:aws:sns:{PRIMARY}:123456789012:pager"
ALARM_TAGS = [{"Key": "project", "Value": "demo"}, {"Key": "environment", "Value": "prod"}]
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


def alarm_template(policy: str = "Delete", depends: dict[str, str] | None = None, **alarms: dict[str, Any]) -> dict[str, Any]:
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


def alarm_stack_call(endpoint: str, action: str, template: dict[str, Any], topic: str | None = TOPIC) -> dict[str, Any]:
    """CreateStack or UpdateStack of the alarm stack; returns the stack."""
    cfn = client("cloudformation", endpoint)
    parameters = [{"ParameterKey": "AlarmTopicArn", "ParameterValue": topic or ""}]
    getattr(cfn, f"{action}_stack")(StackName=ALARMS, TemplateBody=json.dumps(template), Parameters=parameters)
    stack: dict[str, Any] = cfn.describe_stacks(StackName=ALARMS)["Stacks"][0]
    return stack


# ------------------------------------------------------------------ AWS::S3::Bucket

SOURCE, DESTINATION, LOGS = "app-images", "app-images-backup", "app-access-logs"
RTC = {"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}, "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}


def bucket_template(policy: str = "Delete", **buckets: dict[str, Any]) -> dict[str, Any]:
    """A template with ``buckets`` (logical id -> properties), each with Ref and GetAtt Arn outputs."""
    resources = {
        logical: {"Type": "AWS::S3::Bucket", "DeletionPolicy": policy, "UpdateReplacePolicy": policy, "Properties": props}
        for logical, props in buckets.items()
    }
    outputs = {f"{logical}Name": {"Value": {"Ref": logical}} for logical in buckets} | {
        f"{logical}Arn": {"Value": {"Fn::GetAtt": [logical, "Arn"]}} for logical in buckets
    }
    return {"Resources": resources or NO_TABLE["Resources"], "Outputs": outputs}


def bucket_stack_call(endpoint: str, action: str, template: dict[str, Any]) -> dict[str, Any]:
    """CreateStack or UpdateStack of the bucket stack; returns the stack."""
    cfn = client("cloudformation", endpoint)
    getattr(cfn, f"{action}_stack")(StackName=BUCKETS, TemplateBody=json.dumps(template))
    stack: dict[str, Any] = cfn.describe_stacks(StackName=BUCKETS)["Stacks"][0]
    return stack
