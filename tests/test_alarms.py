"""The CloudWatch alarms that show whether the RPO holds (SPEC section 5a)."""

from __future__ import annotations

from typing import Any

import pytest

from appstorage.alarms import TABLE_OPERATIONS
from appstorage.config import load_config
from tests.helpers import config_from, example_data, rendered

CONFIG = load_config()
ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == "AWS::CloudWatch::Alarm"
    }


@pytest.mark.parametrize(
    ("env", "kind", "expected"),
    [
        ("dev", "primary", {"TableThrottlingAlarm", "TableSystemErrorsAlarm"}),
        ("dev", "replica", set()),  # no replication: nothing of the module's in the replica region to watch
        (
            "prod",
            "primary",
            {
                "TableThrottlingAlarm",
                "TableSystemErrorsAlarm",
                "TableReplicationLatencyAlarm",
                "FrontendBucketReplicationFailedAlarm",
                "FrontendBucketReplicationLatencyAlarm",
                "ImagesBucketReplicationFailedAlarm",
                "ImagesBucketReplicationLatencyAlarm",
            },
        ),
        # the table's replica lives in the replica region: its own throttling, errors and latency back
        ("prod", "replica", {"TableThrottlingAlarm", "TableSystemErrorsAlarm", "TableReplicationLatencyAlarm"}),
    ],
)
def test_alarms_present_per_template(env: str, kind: str, expected: set[str]) -> None:
    template = rendered(CONFIG, env, kind)
    assert set(alarms(template)) == expected
    assert ("AlarmTopicArn" in template["Parameters"]) is bool(expected)


@pytest.mark.parametrize(("env", "kind"), [("prod", "primary"), ("prod", "replica"), ("dev", "primary")])
def test_every_alarm_notifies_the_optional_topic_and_ignores_missing_data(env: str, kind: str) -> None:
    template = rendered(CONFIG, env, kind)
    assert template["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    names = set()
    for logical, alarm in alarms(template).items():
        assert alarm["AlarmActions"] == ACTIONS, logical
        assert alarm["OKActions"] == ACTIONS, logical
        # DynamoDB metrics exist only while there is traffic: no data is no problem. S3 replication
        # alarms keep their state on missing data, as AWS asks for replication metrics.
        expected = "ignore" if "BucketReplication" in logical else "notBreaching"
        assert alarm["TreatMissingData"] == expected, logical
        assert alarm["AlarmDescription"], logical
        names.add(alarm["AlarmName"]["Fn::Sub"])
    assert len(names) == len(alarms(template))
    assert all(n.startswith(f"tattoo-directory-{env}-app-storage-") and n.endswith("-${AWS::Region}") for n in names)


@pytest.mark.parametrize("purpose", ["frontend", "images"])
def test_s3_replication_alarms_per_rule(purpose: str) -> None:
    logical = purpose.capitalize() + "Bucket"
    all_alarms = alarms(rendered(CONFIG, "prod", "primary"))
    dimensions = [
        {"Name": "SourceBucket", "Value": {"Fn::Sub": f"tattoo-directory-prod-{purpose}-${{AWS::AccountId}}-${{AWS::Region}}"}},
        {"Name": "DestinationBucket", "Value": {"Fn::Sub": f"tattoo-directory-prod-{purpose}-backup-${{AWS::AccountId}}-us-west-2"}},
        {"Name": "RuleId", "Value": f"replicate-{purpose}-to-us-west-2"},
    ]
    failed = all_alarms[f"{logical}ReplicationFailedAlarm"]
    assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == ("AWS/S3", "OperationsFailedReplication", "Sum")
    assert failed["Dimensions"] == dimensions
    assert (failed["ComparisonOperator"], failed["Threshold"]) == ("GreaterThanThreshold", 0)
    latency = all_alarms[f"{logical}ReplicationLatencyAlarm"]
    assert (latency["MetricName"], latency["Statistic"]) == ("ReplicationLatency", "Maximum")
    assert latency["Dimensions"] == dimensions
    assert latency["Threshold"] == 900  # seconds: the 15-minute RTC threshold the rule sets
    # the rule the alarms name is the rule the bucket has
    bucket = rendered(CONFIG, "prod", "primary")["Resources"][logical]["Properties"]
    (rule,) = bucket["ReplicationConfiguration"]["Rules"]
    assert rule["Id"] == dimensions[2]["Value"]
    assert rule["Destination"]["Metrics"]["EventThreshold"]["Minutes"] * 60 == latency["Threshold"]


@pytest.mark.parametrize(("kind", "receiving"), [("primary", "us-west-2"), ("replica", "us-east-1")])
def test_table_replication_latency_alarm_towards_the_other_region(kind: str, receiving: str) -> None:
    alarm = alarms(rendered(CONFIG, "prod", kind))["TableReplicationLatencyAlarm"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/DynamoDB", "ReplicationLatency", "Maximum")
    assert alarm["Dimensions"] == [
        {"Name": "TableName", "Value": "tattoo-directory-prod"},
        {"Name": "ReceivingRegion", "Value": receiving},
    ]
    assert alarm["Threshold"] == 300_000  # milliseconds: a third of the 15-minute RPO
    assert alarm["Period"] * alarm["EvaluationPeriods"] == 300  # sustained for 5 minutes


def _queries(alarm: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    metrics = [q for q in alarm["Metrics"] if "MetricStat" in q]
    (total,) = [q for q in alarm["Metrics"] if q.get("ReturnData")]
    assert all(q["ReturnData"] is False for q in metrics)
    assert len(metrics) <= 10  # CloudWatch: a metric-math alarm takes at most 10 metrics
    assert total["Expression"] == "+".join(f"FILL({q['Id']}, 0)" for q in metrics)
    return metrics, total


def test_table_throttling_covers_the_table_and_both_indexes() -> None:
    metrics, _ = _queries(alarms(rendered(CONFIG, "prod", "primary"))["TableThrottlingAlarm"])
    seen = {
        (q["MetricStat"]["Metric"]["MetricName"], tuple(d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]))
        for q in metrics
    }
    assert seen == {
        (f"{kind}ThrottleEvents", ("tattoo-directory-prod", *index))
        for kind in ("Read", "Write")
        for index in ((), ("GSI1",), ("GSI2",))
    }
    assert all(q["MetricStat"]["Stat"] == "Sum" and q["MetricStat"]["Metric"]["Namespace"] == "AWS/DynamoDB" for q in metrics)


def test_table_system_errors_summed_over_operations() -> None:
    metrics, _ = _queries(alarms(rendered(CONFIG, "dev", "primary"))["TableSystemErrorsAlarm"])
    dims = [{d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]} for q in metrics]
    assert dims == [{"TableName": "tattoo-directory-dev", "Operation": op} for op in TABLE_OPERATIONS]
    assert {q["MetricStat"]["Metric"]["MetricName"] for q in metrics} == {"SystemErrors"}


def test_literal_alarm_topic_needs_its_replica_twin_only_with_replication() -> None:
    topic = "arn:aws:sns:us-east-1:333333333333:ops-alarms"
    data = example_data()
    data["environments"]["prod"]["parameters"]["AlarmTopicArn"] = topic
    data["environments"]["dev"]["parameters"]["AlarmTopicArn"] = topic.replace("333333333333", "111111111111")
    data["environments"]["prod"]["parameters"]["ReplicaAlarmTopicArn"] = topic.replace("us-east-1", "us-west-2")
    config = config_from(data)  # dev (no replication) needs no twin: its replica template has no alarms
    assert rendered(config, "prod", "primary")["Parameters"]["AlarmTopicArn"]["Default"] == topic
    assert rendered(config, "prod", "replica")["Parameters"]["AlarmTopicArn"]["Default"].startswith("arn:aws:sns:us-west-2:")
    del data["environments"]["prod"]["parameters"]["ReplicaAlarmTopicArn"]
    with pytest.raises(ValueError, match=r"ReplicaAlarmTopicArn: AlarmTopicArn is a literal"):
        config_from(data)
