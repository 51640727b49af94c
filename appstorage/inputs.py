"""Template inputs: the parameters other modules provide, and which configuration key feeds which.

A configured value is either ``ssm:/path`` (an ``AWS::SSM::Parameter::Value<String>`` parameter
resolved in each account and region) or a literal (a String parameter). The primary and the
replica template take the same regional inputs, each in its own region: an SSM path resolves
there by itself, a literal needs its ``Replica*`` twin for the replica template.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from . import validators as v
from .errors import FieldError, Problems

__all__ = [
    "PARAMETER_NAMES",
    "REGIONAL_PARAMETERS",
    "REQUIRED_PARAMETERS",
    "SSM_PARAMETER_TYPE",
    "ParameterValue",
    "TemplateKind",
    "override_values",
    "parameter_problems",
    "parameter_source",
    "template_parameter_names",
    "value_problem",
]

#: The two templates of an environment.
TemplateKind = Literal["primary", "replica"]
#: The parameter type of an input configured as ``ssm:/path``.
SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<String>"

#: Inputs resolved per region: a literal one has a ``Replica*`` twin for the replica template.
REGIONAL_PARAMETERS = ("KmsKeyArn", "AccessLogsBucketName", "S3VpcEndpointId", "AlarmTopicArn")
#: Every configuration key of the ``parameters`` section.
PARAMETER_NAMES = (
    "KmsKeyArn",
    "ReplicaKmsKeyArn",
    "AccessLogsBucketName",
    "ReplicaAccessLogsBucketName",
    "CloudFrontDistributionArn",
    "S3VpcEndpointId",
    "ReplicaS3VpcEndpointId",
    "AlarmTopicArn",
    "ReplicaAlarmTopicArn",
)
#: Inputs without which no template can be built (and ``ReplicaKmsKeyArn`` with replication).
REQUIRED_PARAMETERS = ("KmsKeyArn", "AccessLogsBucketName")

#: The check of a literal value by input (without ``Replica``), given the region it is used in.
_LITERAL_CHECKS: dict[str, Callable[[str, str | None], v.Problem]] = {
    "KmsKeyArn": v.check_kms_key_arn,
    "AccessLogsBucketName": lambda value, _region: v.check_access_logs_bucket(value),
    "CloudFrontDistributionArn": lambda value, _region: v.check_cloudfront_distribution_arn(value),
    "S3VpcEndpointId": lambda value, _region: v.check_vpc_endpoint_id(value),
    "AlarmTopicArn": v.check_sns_topic_arn,
}


@dataclass(frozen=True)
class ParameterValue:
    """A template parameter's value: an SSM path (resolved per account and region) or a literal.
    An SSM path is checked at construction."""

    value: str
    ssm: bool

    def __post_init__(self) -> None:
        problems = Problems()
        if self.ssm:
            problems.add("value", v.check_ssm_path(self.value))
        problems.raise_for(self)

    @classmethod
    def parse(cls, text: str) -> ParameterValue:
        """``ssm:/path`` or a literal, as written in the configuration."""
        return cls(text[4:], True) if text.startswith("ssm:") else cls(text, False)

    @property
    def ssm_path(self) -> str:
        return self.value if self.ssm else ""

    def __str__(self) -> str:
        return f"ssm:{self.value}" if self.ssm else self.value


def value_problem(
    key: str, value: ParameterValue, region: str | None, replica_region: str | None
) -> v.Problem:
    """The problem with a literal value for configuration key ``key`` (``Replica*`` keys are used
    in the replica region); None for an SSM path, checked when it was built. A region of None (not
    known, or invalid) skips the checks that compare regions."""
    if value.ssm:
        return None
    replica = key.startswith("Replica")
    return _LITERAL_CHECKS[key.removeprefix("Replica")](value.value, replica_region if replica else region)


def template_parameter_names(kind: TemplateKind, replication: bool) -> tuple[str, ...]:
    """The parameters of the ``primary`` or ``replica`` template, in template order.

    ``ReplicaKmsKeyArn`` is a parameter of the primary template only, and only with replication.
    ``AlarmTopicArn`` is a parameter of the replica template only with replication (its alarms
    watch the table's replica there).
    """
    names = ["KmsKeyArn", "AccessLogsBucketName", "CloudFrontDistributionArn", "S3VpcEndpointId"]
    if kind == "primary" or replication:
        names.append("AlarmTopicArn")
    if kind == "primary" and replication:
        names.insert(1, "ReplicaKmsKeyArn")
    return tuple(names)


def parameter_source(parameters: Mapping[str, ParameterValue], name: str, kind: TemplateKind) -> str:
    """The configuration key whose value feeds the template parameter ``name`` of ``kind``.

    In the replica template the regional inputs (key, log bucket, VPC endpoint) must be the
    replica region's: an SSM path resolves there by itself, so an ``ssm:`` base value feeds both
    templates; a literal one feeds the primary template only and the ``Replica*`` twin feeds the
    replica template. Overrides follow the same mapping (decided by the *base* value, which also
    decides the parameter's Type), see :func:`override_values`.
    """
    if kind == "replica" and name != "CloudFrontDistributionArn":
        value = parameters.get(name)
        if value is None or not value.ssm:
            return f"Replica{name}"
    return name


def override_values(
    parameters: Mapping[str, ParameterValue],
    override: Mapping[str, ParameterValue],
    kind: TemplateKind,
    replication: bool,
) -> dict[str, tuple[str, ParameterValue]]:
    """``{template parameter: (override key, value)}`` of one override's values for one template kind.

    ``parameters`` are the environment's base parameters: they decide which override key feeds
    which template parameter (:func:`parameter_source`), so a literal ``KmsKeyArn`` override never
    reaches the replica template (its key is the replica region's ``ReplicaKmsKeyArn``).
    """
    out: dict[str, tuple[str, ParameterValue]] = {}
    for name in template_parameter_names(kind, replication):
        key = parameter_source(parameters, name, kind)
        if key in override:
            out[name] = (key, override[key])
    return out


def parameter_problems(
    parameters: Mapping[str, ParameterValue],
    region: str | None,
    replica_region: str | None,
    replication: bool,
) -> list[FieldError]:
    """Every problem with an environment's base parameters (fields are their keys): unknown keys,
    missing required ones, literal values that break their rules or sit in another region, and a
    literal regional input whose ``Replica*`` twin the replica template would need."""
    problems = Problems()
    valid: set[str] = set()
    for key, value in parameters.items():
        if key not in PARAMETER_NAMES:
            problems.add(key, ("unknown parameter", f"use one of: {', '.join(PARAMETER_NAMES)}"))
        elif not problems.add(key, value_problem(key, value, region, replica_region)):
            valid.add(key)
    for key in REQUIRED_PARAMETERS:
        if key not in parameters:
            problems.add(key, ("missing", "this field is required"))
    if replication and "ReplicaKmsKeyArn" not in parameters:
        problems.add(
            "ReplicaKmsKeyArn",
            (
                "replication is on but no replica key is given",
                "add the replica region's KMS key ARN or its 'ssm:/path' (readable in the primary region)",
            ),
        )
    replica_names = template_parameter_names("replica", replication)
    for base in REGIONAL_PARAMETERS:
        configured = parameters.get(base)
        twin = f"Replica{base}"
        if (
            base in valid
            and configured is not None
            and not configured.ssm
            and twin not in parameters
            and base in replica_names
        ):
            problems.add(
                twin,
                (
                    f"{base} is a literal, so the replica region needs its own value",
                    f"add {twin} (the value in {replica_region}), or make {base} an 'ssm:/path' that "
                    "exists in both regions",
                ),
            )
    return problems.errors
