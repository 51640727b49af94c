"""The primary and replica templates of an environment.

Builders return fresh objects; nothing registers itself in a global template.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Export, GetAtt, Output, Ref, Template

from .adapter import build_bucket, build_bucket_policy, build_table
from .alarms import replication_alarms, table_alarms
from .buckets import SPA_ERROR_DOCUMENT, SPA_INDEX_DOCUMENT
from .handoff import publish_outputs
from .inputs import TemplateKind
from .model import Config, Environment
from .naming import Purpose, export_name, output_name, table_arn
from .parameters import build_conditions, build_parameters
from .replication import (
    REPLICATED,
    REPLICATION_ROLE_LOGICAL_ID,
    RTC_MINUTES,
    build_replication_configuration,
    build_replication_role,
    rule_id,
)
from .table import GSI_NAMES
from .tags import standard_tags

__all__ = [
    "KINDS",
    "EnvironmentTemplates",
    "TemplateKind",
    "build_environment",
    "build_primary_template",
    "build_replica_template",
]

KINDS: tuple[TemplateKind, ...] = ("primary", "replica")

PRIMARY_BUCKETS = (Purpose.FRONTEND, Purpose.IMAGES)
REPLICA_BUCKETS = (Purpose.FRONTEND_BACKUP, Purpose.IMAGES_BACKUP)


@dataclass(frozen=True)
class EnvironmentTemplates:
    """The two templates of one environment. ``replica`` is deployed first."""

    environment: Environment
    primary: Template
    replica: Template

    def items(self) -> tuple[tuple[TemplateKind, Template], ...]:
        """(kind, template) in rollout order: replica first."""
        return (("replica", self.replica), ("primary", self.primary))


def _output(
    template: Template, config: Config, env: Environment, name: str, value: object, description: str
) -> None:
    template.add_output(
        Output(
            name,
            Description=description,
            Value=value,
            Export=Export(export_name(config.project, env.name, name)),
        )
    )


def _publish_outputs(template: Template, config: Config, env: Environment) -> None:
    """Every output also as an SSM parameter in the stack's account and region (the hand-off),
    unless ``outputs.ssm_parameters`` is off."""
    path = config.output_parameter_path(env)
    if path is not None:
        publish_outputs(template, path, tags=standard_tags(config, env))


def _new_template(config: Config, env: Environment, kind: TemplateKind) -> Template:
    template = Template()
    template.set_version("2010-09-09")
    region = env.primary_region if kind == "primary" else env.replica_region
    what = (
        "DynamoDB global table, frontend and images buckets"
        + (f", replication to {env.replica_region}" if env.replication else "")
        if kind == "primary"
        else "frontend-backup and images-backup buckets"
        + (", alarms on the table's replica" if env.replication else "")
    )
    template.set_description(
        f"appstorage {kind} template for {config.project} {env.name} ({region}): {what}."
    )
    parameters = build_parameters(env, kind)
    for parameter in parameters:
        template.add_parameter(parameter)
    for name, condition in build_conditions(p.title for p in parameters).items():
        template.add_condition(name, condition)
    template.set_metadata(
        {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [
                    {
                        "Label": {"default": "Inputs from other modules"},
                        "Parameters": [p.title for p in parameters],
                    }
                ]
            },
            "appstorage": {"project": config.project, "environment": env.name, "template": kind},
        }
    )
    return template


def _bucket_outputs(template: Template, config: Config, env: Environment, purpose: Purpose) -> None:
    logical = purpose.logical_id
    label = f"{purpose.value} bucket"
    for attribute, value, description in (
        ("Name", Ref(logical), f"Name of the {label}."),
        ("Arn", GetAtt(logical, "Arn"), f"ARN of the {label}."),
        (
            "RegionalDomainName",
            GetAtt(logical, "RegionalDomainName"),
            f"Regional domain name of the {label} (CloudFront origin with OAC).",
        ),
    ):
        _output(template, config, env, output_name(purpose, attribute), value, description)


def build_primary_template(config: Config, env: Environment) -> Template:
    """Table, frontend and images buckets with policies, and replication when it is on."""
    template = _new_template(config, env, "primary")
    table = template.add_resource(build_table(config, env))
    if env.replication:
        template.add_resource(build_replication_role(config, env))
    for purpose in PRIMARY_BUCKETS:
        replication = (
            build_replication_configuration(config, env, purpose)
            if env.replication and purpose in REPLICATED
            else None
        )
        bucket = template.add_resource(build_bucket(config, env, purpose, replication=replication))
        template.add_resource(build_bucket_policy(bucket, purpose))
        if replication is not None:
            for alarm in replication_alarms(config, env, purpose, rule_id(env, purpose), RTC_MINUTES):
                template.add_resource(alarm)
    receiving = env.replica_region if env.replication else None
    for alarm in table_alarms(config, env, GSI_NAMES, receiving):
        template.add_resource(alarm)

    table_name = output_name(table.title, "Name")
    _output(template, config, env, table_name, Ref(table), "Name of the DynamoDB table.")
    _output(
        template,
        config,
        env,
        output_name(table.title, "Arn"),
        GetAtt(table, "Arn"),
        "ARN of the DynamoDB table in this region.",
    )
    if env.replication:
        _output(
            template,
            config,
            env,
            "ReplicaTableArn",
            table_arn(config.prefix, env.name, env.replica_region),
            f"ARN of the table's replica in {env.replica_region} (read/write; the failover target).",
        )
    _output(
        template,
        config,
        env,
        output_name(table.title, "StreamArn"),
        GetAtt(table, "StreamArn"),
        "ARN of the table's NEW_AND_OLD_IMAGES stream (OpenSearch sync trigger).",
    )
    for purpose in PRIMARY_BUCKETS:
        _bucket_outputs(template, config, env, purpose)
    if env.replication:
        _output(
            template,
            config,
            env,
            "ReplicationRoleArn",
            GetAtt(REPLICATION_ROLE_LOGICAL_ID, "Arn"),
            "ARN of the S3 cross-region replication role.",
        )
    _spa_outputs(template, config, env)
    if env.website:
        _output(
            template,
            config,
            env,
            "FrontendWebsiteUrl",
            GetAtt(Purpose.FRONTEND.logical_id, "WebsiteURL"),
            "HTTP-only S3 website endpoint of the frontend bucket (website: true).",
        )
    _publish_outputs(template, config, env)
    return template


def _spa_outputs(template: Template, config: Config, env: Environment) -> None:
    _output(
        template,
        config,
        env,
        "SpaIndexDocument",
        SPA_INDEX_DOCUMENT,
        "SPA index document: CloudFront's default root object.",
    )
    _output(
        template,
        config,
        env,
        "SpaErrorDocument",
        SPA_ERROR_DOCUMENT,
        "SPA error document: CloudFront maps 403 and 404 to it for client-side routing.",
    )


def build_replica_template(config: Config, env: Environment) -> Template:
    """Frontend-backup and images-backup buckets with policies, in the replica region."""
    template = _new_template(config, env, "replica")
    for purpose in REPLICA_BUCKETS:
        bucket = template.add_resource(build_bucket(config, env, purpose))
        template.add_resource(build_bucket_policy(bucket, purpose))
    if env.replication:  # the table's replica lives here: alarm on it in its own region
        for alarm in table_alarms(config, env, GSI_NAMES, env.primary_region):
            template.add_resource(alarm)
    for purpose in REPLICA_BUCKETS:
        _bucket_outputs(template, config, env, purpose)
    _spa_outputs(template, config, env)
    _publish_outputs(template, config, env)
    return template


def build_environment(config: Config, env: str | Environment) -> EnvironmentTemplates:
    """Both templates of one environment (by name or object)."""
    environment = config.environment(env) if isinstance(env, str) else env
    return EnvironmentTemplates(
        environment=environment,
        primary=build_primary_template(config, environment),
        replica=build_replica_template(config, environment),
    )
