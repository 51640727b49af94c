"""Template Parameters: the inputs owned by other modules.

A configured ``ssm:/path`` becomes an ``AWS::SSM::Parameter::Value<String>`` parameter with
that default, which CloudFormation resolves in each account and region; a literal becomes a
String parameter with an ``AllowedPattern``. Optional inputs default to an empty string and
switch their feature off through a template condition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from troposphere import Equals, Not, Parameter, Ref

from . import validators as v
from .alarms import ALARM_TOPIC_CONDITION
from .deployment import ParameterOverride
from .inputs import (
    SSM_PARAMETER_TYPE,
    ParameterValue,
    TemplateKind,
    override_values,
    parameter_source,
    template_parameter_names,
)
from .model import Environment

__all__ = [
    "CLOUDFRONT_CONDITION",
    "VPC_ENDPOINT_CONDITION",
    "ParameterSpec",
    "build_conditions",
    "build_parameters",
    "parameter_specs",
    "resolved_override_values",
    "resolved_parameter_values",
]

#: Template conditions: the optional CloudFront distribution and VPC endpoint are given.
CLOUDFRONT_CONDITION = "HasCloudFrontDistribution"
VPC_ENDPOINT_CONDITION = "HasS3VpcEndpoint"


@dataclass(frozen=True)
class ParameterSpec:
    """One template parameter: its name, description, pattern and whether it may be empty."""

    name: str
    description: str
    pattern: str
    optional: bool = False


SPECS = {
    spec.name: spec
    for spec in (
        ParameterSpec(
            "KmsKeyArn",
            "ARN of this region's customer-managed KMS key (foundation module) for the table and buckets.",
            v.cloudformation_pattern(v.KMS_KEY_ARN_RE),
        ),
        ParameterSpec(
            "ReplicaKmsKeyArn",
            "ARN of the replica region's customer-managed KMS key, used to encrypt replicas.",
            v.cloudformation_pattern(v.KMS_KEY_ARN_RE),
        ),
        ParameterSpec(
            "AccessLogsBucketName",
            "Name of this region's S3 access-log bucket (log-storage module).",
            v.cloudformation_pattern(v.BUCKET_RE),
        ),
        ParameterSpec(
            "CloudFrontDistributionArn",
            "ARN of the CloudFront distribution allowed to read the buckets (delivery module); "
            "empty allows any distribution of this account.",
            v.cloudformation_pattern(v.CLOUDFRONT_ARN_RE),
            optional=True,
        ),
        ParameterSpec(
            "S3VpcEndpointId",
            "Id of this region's S3 gateway VPC endpoint (networking module); "
            "empty disables access through it in the images bucket policies.",
            v.cloudformation_pattern(v.VPCE_RE),
            optional=True,
        ),
        ParameterSpec(
            "AlarmTopicArn",
            "ARN of this region's SNS topic for alarm notifications (monitoring module); "
            "empty leaves the alarms without actions (visible in CloudWatch only).",
            v.cloudformation_pattern(v.SNS_TOPIC_ARN_RE),
            optional=True,
        ),
    )
}


def parameter_specs(env: Environment, kind: TemplateKind) -> list[ParameterSpec]:
    """The parameters of the ``primary`` or ``replica`` template, in template order."""
    return [SPECS[n] for n in template_parameter_names(kind, env.replication)]


def _configured_value(env: Environment, name: str, kind: TemplateKind) -> ParameterValue | None:
    """The configured value of a template parameter for one template kind.

    In the replica template the regional inputs (key, log bucket, VPC endpoint) must be the
    replica region's: an SSM path resolves there by itself; a literal comes from the
    ``Replica*`` twin (the loader requires it).
    """
    return env.parameters.get(parameter_source(env.parameters, name, kind))


def resolved_parameter_values(env: Environment, kind: TemplateKind) -> dict[str, ParameterValue | None]:
    """The configured value (or None) of each template parameter of one kind."""
    return {spec.name: _configured_value(env, spec.name, kind) for spec in parameter_specs(env, kind)}


def resolved_override_values(
    env: Environment, override: ParameterOverride, kind: TemplateKind
) -> dict[str, ParameterValue]:
    """The values one override gives the template parameters of one kind, by the same mapping as
    :func:`resolved_parameter_values` (the loader checked each value's kind against it)."""
    return {
        name: value
        for name, (_key, value) in override_values(
            env.parameters, override.parameters, kind, env.replication
        ).items()
    }


def build_parameters(env: Environment, kind: TemplateKind) -> list[Parameter]:
    """troposphere Parameters for the ``primary`` or ``replica`` template."""
    out = []
    for spec in parameter_specs(env, kind):
        value = _configured_value(env, spec.name, kind)
        if value is not None and value.ssm:
            out.append(
                Parameter(
                    spec.name,
                    Type=SSM_PARAMETER_TYPE,
                    Default=value.value,
                    Description=f"{spec.description} Resolved from SSM in each account and region.",
                )
            )
            continue
        pattern = f"^({spec.pattern[1:-1]})?$" if spec.optional else spec.pattern
        out.append(
            Parameter(
                spec.name,
                Type="String",
                Default=value.value if value is not None else "",
                AllowedPattern=pattern,
                ConstraintDescription=f"must match {pattern}",
                Description=spec.description,
            )
        )
    return out


def build_conditions(parameter_names: Iterable[str]) -> dict[str, object]:
    """Conditions switching the optional features on when their parameter is not empty."""
    names = set(parameter_names)
    conditions: dict[str, object] = {}
    if "CloudFrontDistributionArn" in names:
        conditions[CLOUDFRONT_CONDITION] = Not(Equals(Ref("CloudFrontDistributionArn"), ""))
    if "S3VpcEndpointId" in names:
        conditions[VPC_ENDPOINT_CONDITION] = Not(Equals(Ref("S3VpcEndpointId"), ""))
    if "AlarmTopicArn" in names:
        conditions[ALARM_TOPIC_CONDITION] = Not(Equals(Ref("AlarmTopicArn"), ""))
    return conditions
