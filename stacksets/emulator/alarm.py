"""``AWS::CloudWatch::Alarm`` for moto's CloudFormation (moto 5 has no model for it and skips such
a resource with a warning).

Emulated: :class:`MetricAlarm` puts the alarm into moto's own CloudWatch backend, as
PutMetricAlarm would, in the stack's region: a single-metric alarm (``Namespace``,
``MetricName``, ``Dimensions``, ``Statistic`` or ``ExtendedStatistic``, ``Period``, ``Unit``) or a
metric-math one (``Metrics``: ``Id``, ``Expression``, ``Label``, ``ReturnData``, ``Period``,
``MetricStat`` with its metric, period, stat and unit), with ``AlarmDescription``,
``EvaluationPeriods``, ``DatapointsToAlarm``, ``Threshold``, ``ThresholdMetricId``,
``ComparisonOperator``, ``TreatMissingData``, ``EvaluateLowSampleCountPercentile``, the alarm,
OK and insufficient-data actions, ``ActionsEnabled`` and ``Tags``; DescribeAlarms and
ListTagsForResource read them back. Without ``AlarmName`` the alarm is named as CloudFormation
names it, ``{stack}-{logical id}-{random}``, and keeps that name across updates. Ref is the
alarm name; GetAtt ``Arn`` its ARN.

Create: a new alarm is INSUFFICIENT_DATA, as PutMetricAlarm makes it on AWS; the property
combinations CloudWatch refuses (no ``ComparisonOperator`` or ``EvaluationPeriods``; ``Metrics``
together with the single-metric properties or with other than exactly one query returning data;
neither or both of ``Statistic`` and ``ExtendedStatistic``; no ``Threshold`` nor
``ThresholdMetricId``; a malformed value) and an alarm of that name that already exists (it is
left alone, also when the stack is deleted) fail the resource and roll the stack back. Update: a
new ``AlarmName`` (or giving or dropping it) is a replacement; any other change overwrites the
alarm in place, keeping its state, and sets exactly the template's tags (on AWS PutMetricAlarm
ignores tags when it updates an alarm; the model replaces them as a Tags update does). Delete: the
alarm and its tags. Rollback, refused updates, replacement and the deletion and replace policies:
see :mod:`.lifecycle`.

moto deviations corrected: moto's PutMetricAlarm makes a new alarm OK and resets an updated one to
OK (AWS: INSUFFICIENT_DATA, and an update keeps the state); moto's DeleteAlarms leaves the alarm's
tags (handed to a later alarm of that name).

Not emulated: state evaluation (no metric is read; the state changes only through SetAlarmState),
actions (nothing is sent to the SNS topics or other targets, and their ARNs are not checked),
configuration-update entries in the alarm history, composite alarms
(``AWS::CloudWatch::CompositeAlarm``), cross-account metrics (a query's ``AccountId``).
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import ServiceException

from .lifecycle import EmulatedModel, flag, malformed

__all__ = ["MetricAlarm"]

#: The single-metric properties an alarm with ``Metrics`` must not have (CloudWatch's PutMetricAlarm).
_SINGLE_METRIC = ("Namespace", "MetricName", "Dimensions", "Statistic", "ExtendedStatistic", "Period", "Unit")


def _int(value: Any) -> int | None:
    """A CloudFormation integer (a number, or a string from a parameter), or None when absent."""
    return None if value is None else int(value)


def _dimensions(dimensions: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    return [{"Name": str(d["Name"]), "Value": str(d["Value"])} for d in dimensions or []]


def _query(query: dict[str, Any]) -> MetricDataQuery:
    """One ``Metrics`` entry, built as moto's PutMetricAlarm handler builds it from a request
    (moto annotates ``period``/``return_data`` as strings but serialises what its request parser
    gives it: an int and a bool)."""
    metric_stat = None
    if "MetricStat" in query:
        stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
        dimensions = [Dimension(d["Name"], d["Value"]) for d in _dimensions(metric.get("Dimensions"))]
        stat_args: dict[str, Any] = {
            "metric": Metric(metric["MetricName"], metric["Namespace"], dimensions),
            "period": _int(stat["Period"]),
            "stat": stat["Stat"],
            "unit": stat.get("Unit"),
        }
        metric_stat = MetricStat(**stat_args)
    query_args: dict[str, Any] = {
        "query_id": query["Id"],
        "label": query.get("Label"),
        "period": _int(query.get("Period")),
        "return_data": flag(query["ReturnData"]) if "ReturnData" in query else None,
        "expression": query.get("Expression"),
        "metric_stat": metric_stat,
    }
    return MetricDataQuery(**query_args)


def _alarm_problem(props: dict[str, Any]) -> str | None:
    """What CloudWatch's PutMetricAlarm would refuse in these properties, or None."""
    for key in ("ComparisonOperator", "EvaluationPeriods"):
        if key not in props:
            return f"Properties validation failed: required key [{key}] not found"
    if "Threshold" not in props and "ThresholdMetricId" not in props:
        return "Properties validation failed: Threshold or ThresholdMetricId is required"
    if "Metrics" in props:
        mixed = [key for key in _SINGLE_METRIC if key in props]
        if mixed:
            return f"Metrics cannot be combined with {', '.join(mixed)}: give them in Metrics"
        for query in props["Metrics"]:
            if "Id" not in query:
                return "Properties validation failed: required key [Id] not found in Metrics"
            if ("Expression" in query) == ("MetricStat" in query):
                return f"Metrics {query['Id']}: exactly one of Expression and MetricStat must be given"
        returning = [q for q in props["Metrics"] if flag(q.get("ReturnData", True))]
        if len(returning) != 1:
            return "Exactly one element of the metrics list should return data."
        return None
    if "MetricName" not in props:
        return "Properties validation failed: MetricName (or Metrics) is required"
    if ("Statistic" in props) == ("ExtendedStatistic" in props):
        return "Exactly one of Statistic and ExtendedStatistic must be given"
    return None


class MetricAlarm(EmulatedModel, CloudFormationModel):
    """``AWS::CloudWatch::Alarm``: a metric or metric-math alarm in moto's CloudWatch backend."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    @property
    def backend(self) -> CloudWatchBackend:
        backend: CloudWatchBackend = cloudwatch_backends[self.account_id][self.region_name]
        return backend

    def alarm(self) -> Alarm | None:
        """moto's alarm of this name, if it exists."""
        return self.backend.alarms.get(self.name)

    def attribute(self, attribute_name: str) -> Any:
        alarm = self.alarm()
        return None if alarm is None else alarm.alarm_arn  # None: the creation failed

    def create_resource(self, props: dict[str, Any]) -> None:
        self._put(props, new=True)

    def update_resource(self, props: dict[str, Any]) -> None:
        self._put(props, new=False)

    def remove_resource(self) -> None:
        """DeleteAlarms, and the alarm's tags (which moto's DeleteAlarms keeps)."""
        alarm = self.alarm()
        if alarm is not None and not self.failed:
            self.backend.delete_alarms([self.name])
            self.backend.tagger.delete_all_tags_for_resource(alarm.alarm_arn)

    def _put(self, props: dict[str, Any], *, new: bool) -> None:
        """PutMetricAlarm with ``props``; ``new``: refused if the alarm exists (created elsewhere)."""
        try:
            problem = _alarm_problem(props)
            arguments = self._arguments(props) if problem is None else {}
        except (AttributeError, KeyError, TypeError, ValueError) as error:  # a malformed value
            raise ValidationError(message=malformed(error)) from error
        if problem is not None:
            raise ValidationError(message=problem)
        previous = self.alarm()
        if new and previous is not None:
            raise ValidationError(
                message=f"Resource of type '{self.cloudformation_type()}' with identifier '{self.name}' "
                "already exists."
            )
        try:
            alarm = self.backend.put_metric_alarm(**arguments)
        except ServiceException as error:  # moto's CloudFormation cannot serialise CloudWatch's errors
            raise ValidationError(message=error.message) from error
        if previous is None:
            alarm.state_value = "INSUFFICIENT_DATA"  # what AWS's PutMetricAlarm creates
        else:  # an update keeps the state on AWS; moto's PutMetricAlarm starts a new alarm
            alarm.state_value, alarm.state_reason = previous.state_value, previous.state_reason
            alarm.state_reason_data = previous.state_reason_data
            alarm.state_updated_timestamp = previous.state_updated_timestamp
            alarm.history = previous.history
        self.backend.tagger.delete_all_tags_for_resource(alarm.alarm_arn)
        self.backend.tagger.tag_resource(alarm.alarm_arn, [dict(t) for t in props.get("Tags", [])])

    def _arguments(self, props: dict[str, Any]) -> dict[str, Any]:
        """moto's ``put_metric_alarm`` arguments for ``props``, as its PutMetricAlarm handler passes them."""
        metrics = props.get("Metrics")
        return {
            "name": self.name,
            "namespace": props.get("Namespace"),
            "metric_name": props.get("MetricName"),
            "metric_data_queries": [_query(q) for q in metrics] if metrics else None,
            "comparison_operator": props["ComparisonOperator"],
            "evaluation_periods": int(props["EvaluationPeriods"]),
            "datapoints_to_alarm": _int(props.get("DatapointsToAlarm")),
            "period": _int(props.get("Period")),
            "threshold": float(props["Threshold"]) if "Threshold" in props else None,
            "statistic": props.get("Statistic"),
            "extended_statistic": props.get("ExtendedStatistic"),
            "description": props.get("AlarmDescription"),
            "dimensions": _dimensions(props.get("Dimensions")),
            "alarm_actions": list(props.get("AlarmActions", [])),
            "ok_actions": list(props.get("OKActions", [])),
            "insufficient_data_actions": list(props.get("InsufficientDataActions", [])),
            "unit": props.get("Unit"),
            "actions_enabled": flag(props.get("ActionsEnabled", True)),
            "treat_missing_data": props.get("TreatMissingData"),
            "evaluate_low_sample_count_percentile": props.get("EvaluateLowSampleCountPercentile"),
            "threshold_metric_id": props.get("ThresholdMetricId"),
        }
