"""The emulator's ``AWS::CloudWatch::Alarm`` model (stacksets.emulator.alarm), through CloudFormation
CreateStack/UpdateStack/DeleteStack on moto's real HTTP server, read back with CloudWatch's API; and
a stack creation that stops after a failed alarm (stacksets.emulator.lifecycle)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator_stacks import (
    ALARM_TAGS,
    ALARMS,
    DELETIONS,
    HERE,
    PAGER,
    PRIMARY,
    REPLICA,
    SIMPLE,
    TABLE,
    TOPIC,
    alarm_stack_call,
    alarm_template,
    client,
    creation_failures,
    describe_table,
    stack_outputs,
    table_replica,
    table_template,
    without,
)

# Actions as the templates give them (appstorage.alarms): the topic parameter, or none at all.
ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


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


def _alarm(endpoint: str, name: str) -> dict[str, Any] | None:
    """DescribeAlarms of ``name``, or None when there is no such alarm."""
    found = client("cloudwatch", endpoint).describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert len(found) <= 1
    return found[0] if found else None


def _alarm_tags(endpoint: str, name: str) -> list[dict[str, str]]:
    arn = f"arn:aws:cloudwatch:{PRIMARY}:123456789012:alarm:{name}"
    tags: list[dict[str, str]] = client("cloudwatch", endpoint).list_tags_for_resource(ResourceARN=arn)["Tags"]
    return tags


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
    stack = alarm_stack_call(moto_endpoint, "create", alarm_template(Alarm=props))
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    alarm = _alarm(moto_endpoint, props["AlarmName"])
    assert alarm is not None
    assert {key: alarm.get(key) for key in expected} == expected
    assert absent & alarm.keys() == set()
    assert _alarm_tags(moto_endpoint, props["AlarmName"]) == ALARM_TAGS
    # Ref is the alarm's name, GetAtt Arn its ARN.
    assert stack_outputs(stack) == {"AlarmName": alarm["AlarmName"], "AlarmArn": alarm["AlarmArn"]}
    resources = client("cloudformation", moto_endpoint).describe_stack_resources(StackName=ALARMS)["StackResources"]
    assert [(r["ResourceType"], r["PhysicalResourceId"]) for r in resources] == [("AWS::CloudWatch::Alarm", props["AlarmName"])]


@pytest.mark.parametrize(("topic", "actions"), [(TOPIC, [TOPIC]), (None, [])], ids=["topic", "no-topic"])
def test_actions_follow_the_topic_condition(moto_endpoint: str, topic: str | None, actions: list[str]) -> None:
    """Without a topic the template's Fn::If gives AWS::NoValue: the alarm has no actions."""
    assert alarm_stack_call(moto_endpoint, "create", alarm_template(Alarm=MATH), topic=topic)["StackStatus"] == "CREATE_COMPLETE"
    alarm = _alarm(moto_endpoint, MATH["AlarmName"])
    assert alarm is not None
    assert (alarm["AlarmActions"], alarm["OKActions"]) == (actions, actions)


def test_update_changes_an_alarm_in_place(moto_endpoint: str) -> None:
    """Every property but the name changes in place: the alarm stays (with its state, as
    PutMetricAlarm keeps an existing alarm's state on AWS; moto's own resets it to OK) and its tags
    become exactly the template's."""
    alarm_stack_call(moto_endpoint, "create", alarm_template(Alarm=SIMPLE))
    cloudwatch = client("cloudwatch", moto_endpoint)
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
    stack = alarm_stack_call(moto_endpoint, "update", alarm_template(Alarm=changed))
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
    alarm_stack_call(moto_endpoint, "create", alarm_template(policy, Alarm=SIMPLE))
    stack = alarm_stack_call(moto_endpoint, "update", alarm_template(policy, Alarm=SIMPLE | {"AlarmName": "renamed"}))
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    new = _alarm(moto_endpoint, "renamed")
    assert new is not None
    assert new["StateValue"] == "INSUFFICIENT_DATA"
    assert _alarm_tags(moto_endpoint, "renamed") == ALARM_TAGS
    assert (_alarm(moto_endpoint, SIMPLE["AlarmName"]) is not None) == old_kept
    assert (_alarm_tags(moto_endpoint, SIMPLE["AlarmName"]) == ALARM_TAGS) == old_kept
    assert stack_outputs(stack) == {"AlarmName": "renamed", "AlarmArn": new["AlarmArn"]}


def test_an_alarm_without_a_name_gets_one_and_keeps_it(moto_endpoint: str) -> None:
    """CloudFormation names it ``{stack}-{logical id}-{random}`` and keeps the name across updates
    (moto's parser makes up a new one on every update; the model keeps the first). Giving it a
    name later is a replacement."""
    unnamed = {k: v for k, v in MATH.items() if k != "AlarmName"}
    stack = alarm_stack_call(moto_endpoint, "create", alarm_template(Throttling=unnamed))
    name = stack_outputs(stack)["ThrottlingName"]
    assert re.fullmatch(rf"{ALARMS}-Throttling-[0-9A-Z]{{12}}", name), name
    assert _alarm(moto_endpoint, name) is not None

    stack = alarm_stack_call(moto_endpoint, "update", alarm_template(Throttling=unnamed | {"Threshold": 20}))
    assert stack_outputs(stack)["ThrottlingName"] == name
    alarm = _alarm(moto_endpoint, name)
    assert alarm is not None
    assert alarm["Threshold"] == 20.0
    assert len(client("cloudwatch", moto_endpoint).describe_alarms()["MetricAlarms"]) == 1

    alarm_stack_call(moto_endpoint, "update", alarm_template(Throttling=MATH))
    alarms = client("cloudwatch", moto_endpoint).describe_alarms()["MetricAlarms"]
    assert [a["AlarmName"] for a in alarms] == [MATH["AlarmName"]]


@pytest.mark.parametrize(("how", "policy", "kept"), DELETIONS)
def test_deletion_honours_the_deletion_policy(moto_endpoint: str, how: str, policy: str, kept: bool) -> None:
    """The alarm and its tags go (moto's DeleteAlarms would keep the tags, and hand them to a later
    alarm of that name); moto's CloudFormation ignores DeletionPolicy when an update removes a
    resource, the model honours it as AWS does."""
    alarm_stack_call(moto_endpoint, "create", alarm_template(policy, Alarm=SIMPLE, Other=MATH))
    if how == "delete-stack":
        client("cloudformation", moto_endpoint).delete_stack(StackName=ALARMS)
    else:
        alarm_stack_call(moto_endpoint, "update", alarm_template(policy, Other=MATH))
    assert (_alarm(moto_endpoint, SIMPLE["AlarmName"]) is not None) == kept
    assert (_alarm_tags(moto_endpoint, SIMPLE["AlarmName"]) == ALARM_TAGS) == kept
    assert (_alarm(moto_endpoint, MATH["AlarmName"]) is not None) == (kept or how == "leave-the-template")


@pytest.mark.parametrize(
    ("props", "reason"),
    [
        (without(SIMPLE, "ComparisonOperator"), "Properties validation failed: required key [ComparisonOperator] not found"),
        (without(SIMPLE, "EvaluationPeriods"), "Properties validation failed: required key [EvaluationPeriods] not found"),
        (without(SIMPLE, "Threshold"), "Properties validation failed: Threshold or ThresholdMetricId is required"),
        (without(SIMPLE, "MetricName"), "Properties validation failed: MetricName (or Metrics) is required"),
        (SIMPLE | {"ExtendedStatistic": "p99"}, "Exactly one of Statistic and ExtendedStatistic must be given"),
        (without(SIMPLE, "Statistic"), "Exactly one of Statistic and ExtendedStatistic must be given"),
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
    stack = alarm_stack_call(moto_endpoint, "create", alarm_template(Alarm=props))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert creation_failures(moto_endpoint) == [("Alarm", f"Resource handler returned message: {reason!r}")]
    assert client("cloudwatch", moto_endpoint).describe_alarms()["MetricAlarms"] == []


def test_an_existing_alarm_of_that_name_rolls_the_stack_back(moto_endpoint: str) -> None:
    """An alarm made outside the stack is not taken over: the resource fails, the stack rolls back,
    the alarm stays as it was, and the resources after it are not created (AWS deletes what it made
    when it rolls back; moto keeps what it made before)."""
    cloudwatch = client("cloudwatch", moto_endpoint)
    cloudwatch.put_metric_alarm(
        AlarmName=SIMPLE["AlarmName"], AlarmDescription="someone else's", Namespace="Other", MetricName="m",
        Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="LessThanThreshold",
    )  # fmt: skip
    stack = alarm_stack_call(moto_endpoint, "create", alarm_template(Alarm=SIMPLE, Other=MATH, depends={"Other": "Alarm"}))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    message = f"Resource of type 'AWS::CloudWatch::Alarm' with identifier '{SIMPLE['AlarmName']}' already exists."
    assert creation_failures(moto_endpoint) == [("Alarm", f"Resource handler returned message: {message!r}")]
    alarms = cloudwatch.describe_alarms()["MetricAlarms"]
    assert [(a["AlarmName"], a["AlarmDescription"]) for a in alarms] == [(SIMPLE["AlarmName"], "someone else's")]
    # Deleting the rolled-back stack leaves the other alarm alone.
    client("cloudformation", moto_endpoint).delete_stack(StackName=ALARMS)
    assert _alarm(moto_endpoint, SIMPLE["AlarmName"]) is not None


def test_a_global_table_after_a_failed_alarm_is_not_created(moto_endpoint: str) -> None:
    """Once a resource failed the stack creation, the models create nothing more (AWS would delete it)."""
    template = alarm_template(Alarm=without(SIMPLE, "Threshold"))
    template["Resources"]["Table"] = table_template(table_replica(HERE), table_replica(REPLICA))["Resources"]["Table"] | {"DependsOn": "Alarm"}
    stack = alarm_stack_call(moto_endpoint, "create", template)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert [logical for logical, _ in creation_failures(moto_endpoint)] == ["Alarm"]
    assert [describe_table(moto_endpoint, region) for region in (PRIMARY, REPLICA)] == [None, None]


@pytest.mark.parametrize(
    ("after", "message"),
    [
        (SIMPLE | {"AlarmName": "taken"}, "Resource of type 'AWS::CloudWatch::Alarm' with identifier 'taken' already exists."),
        (without(SIMPLE, "Statistic"), "Exactly one of Statistic and ExtendedStatistic must be given"),
    ],
    ids=["renamed-to-an-existing-alarm", "invalid-properties"],
)
def test_a_refused_alarm_update_changes_nothing(moto_endpoint: str, after: dict[str, Any], message: str) -> None:
    """On AWS the update fails and rolls back (UPDATE_ROLLBACK_COMPLETE); moto's CloudFormation
    fails the UpdateStack call itself. Either way the alarms stay as they were."""
    alarm_stack_call(moto_endpoint, "create", alarm_template(Alarm=SIMPLE))
    client("cloudwatch", moto_endpoint).put_metric_alarm(
        AlarmName="taken", Namespace="Other", MetricName="m", Statistic="Average", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="LessThanThreshold",
    )  # fmt: skip
    with pytest.raises(ClientError) as raised:
        alarm_stack_call(moto_endpoint, "update", alarm_template(Alarm=after | {"AlarmDescription": "changed"}))
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert message in raised.value.response["Error"]["Message"]
    alarm = _alarm(moto_endpoint, SIMPLE["AlarmName"])
    assert alarm is not None
    assert (alarm["AlarmDescription"], alarm["Statistic"]) == (SIMPLE["AlarmDescription"], "Sum")
    taken = _alarm(moto_endpoint, "taken")
    assert taken is not None
    assert "AlarmDescription" not in taken
