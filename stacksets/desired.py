"""Desired state: the two stack sets of one environment, from the configuration and templates.

Pure: no boto3. The stack set parameters are the template parameters' configured values
(an ``ssm:/path`` is sent as the path; CloudFormation resolves it in each account and region).
"""

from __future__ import annotations

import json

from appstorage.config import Config, Environment
from appstorage.naming import stack_set_name
from appstorage.parameters import resolved_override_values, resolved_parameter_values
from appstorage.render import to_request_json
from appstorage.tags import standard_tags
from appstorage.templates import TemplateKind, build_environment

from .model import AccountFilter, DesiredInstance, DesiredStackSet, EnvironmentRef

__all__ = [
    "administration_region",
    "desired_stack_set",
    "desired_stack_sets",
    "environment_ref",
    "instance_overrides",
]


def administration_region(env: Environment) -> str:
    """Where both stack sets of an environment live (their instances go to their own region)."""
    return env.primary_region


def environment_ref(config: Config, env: Environment) -> EnvironmentRef:
    return EnvironmentRef(
        name=env.name,
        name_prefix=config.prefix,
        primary_region=env.primary_region,
        replica_region=env.replica_region,
        config_source=str(config.source),
    )


def instance_overrides(env: Environment, target: str, region: str, kind: TemplateKind) -> dict[str, str]:
    """The parameter overrides of one instance of the ``kind`` stack set (``target``: an account,
    or an OU under SERVICE_MANAGED where only region-wide overrides apply).

    An override applies when its ``accounts`` (if any) include the target and its ``regions``
    (if any) include the instance's region. Its values reach the template parameters by the same
    mapping as the base parameters (:func:`appstorage.parameters.resolved_override_values`): a
    literal ``KmsKeyArn`` override feeds the primary template only, the replica template's
    ``KmsKeyArn`` takes ``ReplicaKmsKeyArn`` (an ``ssm:`` path feeds both, as it resolves in each
    region). Later overrides win.
    """
    out: dict[str, str] = {}
    for override in env.deployment.overrides:
        if override.accounts and target not in override.accounts:
            continue
        if override.regions and region not in override.regions:
            continue
        for name, value in resolved_override_values(env, override, kind).items():
            out[name] = value.value
    return out


def desired_stack_set(config: Config, env: Environment, kind: TemplateKind, body: str) -> DesiredStackSet:
    """One stack set: ``body`` is the rendered template JSON that will be sent as is."""
    region = env.primary_region if kind == "primary" else env.replica_region
    parameters = {
        key: (value.value if value is not None else "")
        for key, value in resolved_parameter_values(env, kind).items()
    }
    deployment = env.deployment
    template = json.loads(body)
    if deployment.permission_model == "SERVICE_MANAGED":
        # One target per organizational unit in the template's region: CloudFormation expands
        # it to the OU's accounts (filtered by account_filter_type/accounts: ``account_filter``).
        targets = deployment.organizational_units
    else:
        targets = deployment.accounts
    instances = tuple(
        DesiredInstance(
            account=target,
            region=region,
            overrides=instance_overrides(env, target, region, kind),
        )
        for target in targets
    )
    return DesiredStackSet(
        # The stack set is the deployment's identity (project + environment): a new name_prefix
        # renames the physical resources inside it, which the plan then flags as data loss,
        # instead of silently starting a second set of stack sets next to the old one.
        name=stack_set_name(config.project, env.name, kind),
        kind=kind,
        region=administration_region(env),
        template=template,
        template_body=body,
        parameters=parameters,
        instances=instances,
        environment=environment_ref(config, env),
        permission_model=deployment.permission_model,
        organizational_units=deployment.organizational_units,
        tags=standard_tags(config, env),
        auto_deployment=(
            (deployment.auto_deployment.enabled, deployment.auto_deployment.retain_stacks_on_account_removal)
            if deployment.permission_model == "SERVICE_MANAGED"
            else None
        ),
        execution_role_name=(
            deployment.execution_role_name if deployment.permission_model == "SELF_MANAGED" else None
        ),
        administration_role_arn=(
            deployment.administration_role_arn if deployment.permission_model == "SELF_MANAGED" else None
        ),
        call_as=deployment.call_as,
        account_filter=(
            AccountFilter(deployment.account_filter_type, deployment.accounts)
            if deployment.permission_model == "SERVICE_MANAGED" and deployment.account_filter_type != "NONE"
            else None
        ),
        operation_preferences=deployment.operation_preferences,
        template_bucket=deployment.template_bucket,
    )


def desired_stack_sets(config: Config, env: str | Environment) -> tuple[DesiredStackSet, ...]:
    """The environment's stack sets in rollout order: replica first, then primary."""
    templates = build_environment(config, env)
    return tuple(
        desired_stack_set(config, templates.environment, kind, to_request_json(template))
        for kind, template in templates.items()
    )
