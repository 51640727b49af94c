"""Desired state: the two stack sets of one environment, from the configuration and templates.

Pure: no boto3. The stack set parameters are the template parameters' configured values
(an ``ssm:/path`` is sent as the path; CloudFormation resolves it in each account and region).
"""

from __future__ import annotations

import json

from appstorage.config import Config, Environment
from appstorage.naming import stack_set_name
from appstorage.parameters import resolved_parameter_values
from appstorage.render import to_json
from appstorage.tags import standard_tags
from appstorage.templates import TemplateKind, build_environment

from .model import DesiredInstance, DesiredStackSet

__all__ = ["administration_region", "desired_stack_set", "desired_stack_sets"]


def administration_region(env: Environment) -> str:
    """Where both stack sets of an environment live (their instances go to their own region)."""
    return env.primary_region


def desired_stack_set(config: Config, env: Environment, kind: TemplateKind, body: str) -> DesiredStackSet:
    """One stack set: ``body`` is the rendered template JSON that will be sent as is."""
    region = env.primary_region if kind == "primary" else env.replica_region
    parameters = {
        key: (value.value if value is not None else "")
        for key, value in resolved_parameter_values(env, kind).items()
    }
    deployment = env.deployment
    # SELF_MANAGED: one instance per account in the template's region. SERVICE_MANAGED
    # (organizational units) and per-instance overrides are handled by a later change.
    instances = tuple(DesiredInstance(account=account, region=region) for account in deployment.accounts)
    return DesiredStackSet(
        # The stack set is the deployment's identity (project + environment): a new name_prefix
        # renames the physical resources inside it, which the plan then flags as data loss,
        # instead of silently starting a second set of stack sets next to the old one.
        name=stack_set_name(config.project, env.name, kind),
        kind=kind,
        region=administration_region(env),
        template=json.loads(body),
        template_body=body,
        parameters=parameters,
        instances=instances,
        permission_model=deployment.permission_model,
        organizational_units=deployment.organizational_units,
        tags=standard_tags(config, env),
    )


def desired_stack_sets(config: Config, env: str | Environment) -> tuple[DesiredStackSet, ...]:
    """The environment's stack sets in rollout order: replica first, then primary."""
    templates = build_environment(config, env)
    return tuple(
        desired_stack_set(config, templates.environment, kind, to_json(template))
        for kind, template in templates.items()
    )
