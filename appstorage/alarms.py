"""CloudWatch alarms that show whether the disaster-recovery promise holds.

The RPO of 15 minutes rests on S3 replication with Replication Time Control and on the global
table's replica; both fail silently (objects stay ``FAILED``, stacks stay green), so each gets
an alarm, and so does a table that throttles or errors. Alarm actions (and OK actions, so
on-call sees the recovery) go to the optional ``AlarmTopicArn`` parameter, the monitoring
module's SNS topic in the alarm's region; without it the alarms are visible in CloudWatch only.

Metrics (AWS/S3 replication metrics exist because the rules enable RTC ``Metrics``):

* ``OperationsFailedReplication`` (Sum > 0 in 5 minutes) and ``ReplicationLatency`` (Maximum
  over the 15-minute RTC threshold), dimensions ``SourceBucket``, ``DestinationBucket``,
  ``RuleId``, per replication rule.
* ``AWS/DynamoDB ReplicationLatency`` (milliseconds) per sending and ``ReceivingRegion``.
* Read/write throttle events of the table and its indexes, and ``SystemErrors`` per operation
  (the metric has no table-wide form), each summed with metric math.
"""

from __future__ import annotations

from collections.abc import Sequence

from troposphere import AWS_NO_VALUE, If, Ref
from troposphere.cloudwatch import Alarm, Metric, MetricDataQuery, MetricDimension, MetricStat

from .model import Config, Environment
from .naming import Purpose, alarm_name, bucket_name, table_name
from .tags import tags

__all__ = [
    "ALARM_TOPIC_CONDITION",
    "TABLE_OPERATIONS",
    "TABLE_REPLICATION_LATENCY_MS",
    "replication_alarms",
    "table_alarms",
]

#: Template condition: the ``AlarmTopicArn`` parameter is not empty.
ALARM_TOPIC_CONDITION = "HasAlarmTopic"

#: Alarm when the table's replication latency stays above 5 minutes (a third of the RPO) for 5
#: consecutive minutes: normally it is about a second, and this leaves time to act before the
#: 15-minute RPO is at risk.
TABLE_REPLICATION_LATENCY_MS = 300_000
TABLE_REPLICATION_LATENCY_MINUTES = 5

#: Data-plane operations whose SystemErrors are summed (a metric-math alarm takes at most 10
#: metrics): every operation the access patterns and their writers use.
TABLE_OPERATIONS = (
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
)

FIVE_MINUTES = 300


def _actions() -> If:
    return If(ALARM_TOPIC_CONDITION, [Ref("AlarmTopicArn")], Ref(AWS_NO_VALUE))


def _alarm(
    config: Config,
    env: Environment,
    logical_id: str,
    what: str,
    *,
    missing_data: str = "notBreaching",
    **props: object,
) -> Alarm:
    """An alarm notifying the optional topic. ``missing_data``: DynamoDB publishes throttling, error
    and latency data only while there is traffic, so no data is no problem (``notBreaching``)."""
    return Alarm(
        logical_id,
        AlarmName=alarm_name(config.prefix, env.name, what),
        AlarmActions=_actions(),
        OKActions=_actions(),
        TreatMissingData=missing_data,
        Tags=tags(config, env),
        **props,
    )


def _dimensions(**values: object) -> list[MetricDimension]:
    return [MetricDimension(Name=name, Value=value) for name, value in values.items()]


def replication_alarms(
    config: Config, env: Environment, purpose: Purpose, rule_id: str, rtc_minutes: int
) -> list[Alarm]:
    """Failed operations and latency over the RTC threshold for one replication rule (primary
    template: S3 publishes the metrics in the source bucket's region).

    Missing data keeps the alarm's state, as AWS asks: "When you set up alarms for your replication
    metrics, set the Missing data treatment field to Treat missing data as ignore (maintain the
    alarm state)." (https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html),
    so a failure stays visible until replication reports success again."""
    dimensions = _dimensions(
        SourceBucket=bucket_name(config.prefix, env.name, purpose),
        DestinationBucket=bucket_name(config.prefix, env.name, purpose.backup, env.replica_region),
        RuleId=rule_id,
    )
    logical = purpose.logical_id
    return [
        _alarm(
            config,
            env,
            f"{logical}ReplicationFailedAlarm",
            f"{purpose.value}-replication-failed",
            missing_data="ignore",
            AlarmDescription=(
                f"Objects of the {purpose.value} bucket failed to replicate to {env.replica_region} "
                "(OperationsFailedReplication > 0): they are not in the backup, the RPO does not hold."
            ),
            Namespace="AWS/S3",
            MetricName="OperationsFailedReplication",
            Dimensions=dimensions,
            Statistic="Sum",
            Period=FIVE_MINUTES,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        ),
        _alarm(
            config,
            env,
            f"{logical}ReplicationLatencyAlarm",
            f"{purpose.value}-replication-latency",
            missing_data="ignore",
            AlarmDescription=(
                f"Replication of the {purpose.value} bucket to {env.replica_region} took longer than the "
                f"{rtc_minutes}-minute Replication Time Control threshold: the RPO is at risk."
            ),
            Namespace="AWS/S3",
            MetricName="ReplicationLatency",
            Dimensions=dimensions,
            Statistic="Maximum",
            Period=FIVE_MINUTES,
            EvaluationPeriods=1,
            Threshold=rtc_minutes * 60,
            ComparisonOperator="GreaterThanThreshold",
        ),
    ]


def _metric(query_id: str, name: str, period: int, **dimensions: object) -> MetricDataQuery:
    return MetricDataQuery(
        Id=query_id,
        MetricStat=MetricStat(
            Metric=Metric(Namespace="AWS/DynamoDB", MetricName=name, Dimensions=_dimensions(**dimensions)),
            Period=period,
            Stat="Sum",
        ),
        ReturnData=False,
    )


def _sum(queries: Sequence[MetricDataQuery], label: str) -> list[MetricDataQuery]:
    expression = "+".join(f"FILL({q.Id}, 0)" for q in queries)
    return [*queries, MetricDataQuery(Id="total", Expression=expression, Label=label, ReturnData=True)]


def table_alarms(
    config: Config, env: Environment, index_names: Sequence[str], receiving_region: str | None
) -> list[Alarm]:
    """Throttling and system errors of the table in this stack's region, and (with a
    ``receiving_region``: the other replica) its replication latency towards that region."""
    name = table_name(config.prefix, env.name)
    throttles = [
        _metric(f"{kind.lower()}{i}", f"{kind}ThrottleEvents", FIVE_MINUTES, TableName=name, **index)
        for i, index in enumerate([{}, *({"GlobalSecondaryIndexName": n} for n in index_names)])
        for kind in ("Read", "Write")
    ]
    errors = [
        _metric(f"e{i}", "SystemErrors", FIVE_MINUTES, TableName=name, Operation=operation)
        for i, operation in enumerate(TABLE_OPERATIONS)
    ]
    alarms = [
        _alarm(
            config,
            env,
            "TableThrottlingAlarm",
            "table-throttling",
            AlarmDescription=(
                f"Requests to the {name} table or its indexes were throttled in this region (read or write "
                "throttle events > 0 in 5 minutes), e.g. at the configured maximum request units."
            ),
            Metrics=_sum(throttles, "throttle events"),
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        ),
        _alarm(
            config,
            env,
            "TableSystemErrorsAlarm",
            "table-system-errors",
            AlarmDescription=(
                f"DynamoDB answered requests to the {name} table with server errors (SystemErrors > 0 in "
                "5 minutes) in this region."
            ),
            Metrics=_sum(errors, "system errors"),
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        ),
    ]
    if receiving_region is not None:
        alarms.append(
            _alarm(
                config,
                env,
                "TableReplicationLatencyAlarm",
                "table-replication-latency",
                AlarmDescription=(
                    f"Writes to the {name} table in this region take more than "
                    f"{TABLE_REPLICATION_LATENCY_MS // 60_000} minutes to reach its replica in "
                    f"{receiving_region} (for {TABLE_REPLICATION_LATENCY_MINUTES} minutes): the 15-minute "
                    "RPO is at risk."
                ),
                Namespace="AWS/DynamoDB",
                MetricName="ReplicationLatency",
                Dimensions=_dimensions(TableName=name, ReceivingRegion=receiving_region),
                Statistic="Maximum",
                Period=60,
                EvaluationPeriods=TABLE_REPLICATION_LATENCY_MINUTES,
                Threshold=TABLE_REPLICATION_LATENCY_MS,
                ComparisonOperator="GreaterThanThreshold",
            )
        )
    return alarms
