"""The configuration model: immutable, hashable objects, each checked at construction.

Every default is the dataclass field's (the YAML reader passes only the keys a file has), and
every rule on a value is checked in ``__post_init__`` with the validators of
:mod:`appstorage.validators`: an object built in code is refused with the same problem and fix
as the same value in a file (:class:`appstorage.errors.PropsError`; the reader reports it as a
:class:`appstorage.errors.ConfigError` naming the file and the field). Maps are
:class:`appstorage.frozen.FrozenMap`, lists are tuples. Nothing here talks to AWS or imports
troposphere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from . import validators as v
from .deployment import (
    AutoDeployment,
    Deployment,
    OperationPreferences,
    ParameterOverride,
    environment_problems,
)
from .errors import ConfigError, FieldError, Problems
from .frozen import FrozenMap
from .inputs import ParameterValue, TemplateKind, parameter_problems
from .naming import (
    MODULE,
    Purpose,
    bucket_name_for_region,
    export_name,
    output_name,
    output_parameter_path,
    stack_set_name,
    table_name,
)
from .schema import KEY_ATTRIBUTES

__all__ = [
    "IMAGE_TIERS",
    "MAX_LIFECYCLE_DAYS",
    "AutoDeployment",
    "Config",
    "ConfigError",
    "Deployment",
    "Environment",
    "FieldError",
    "ImagesSettings",
    "MonitoringSettings",
    "OperationPreferences",
    "OutputSettings",
    "ParameterOverride",
    "ParameterValue",
    "TableSettings",
]

#: The images buckets' lifecycle tiers (current and noncurrent versions): (storage class, days).
#: Every class must stay servable by CloudFront: Glacier Instant Retrieval, not GLACIER.
IMAGE_TIERS = (("STANDARD_IA", 30), ("GLACIER_IR", 90))
#: Point-in-time recovery periods DynamoDB accepts, in days.
PITR_DAYS = (1, 35)
#: The longest period a lifecycle rule takes here, in days (100 years).
MAX_LIFECYCLE_DAYS = 36_500
#: Noncurrent image versions expire after the last tier (GLACIER_IR bills 90 days at least).
NONCURRENT_EXPIRATION_DAYS = (IMAGE_TIERS[-1][1] + 1, MAX_LIFECYCLE_DAYS)
#: The tags every resource and both stack sets get (:func:`appstorage.tags.standard_tags`).
STANDARD_TAG_KEYS = ("project", "environment", "module", "managed-by")
#: The longest output of a template (export names are ``{project}-{env}-{output}``) and the
#: longest alarm of one (``{prefix}-{env}-app-storage-{what}-{region}``); tests/test_config_aws.py
#: checks both against the templates.
LONGEST_OUTPUT = output_name(Purpose.FRONTEND_BACKUP, "RegionalDomainName")
LONGEST_ALARM = "frontend-replication-latency"


@dataclass(frozen=True)
class TableSettings:
    """DynamoDB table options. Defaults: PITR for 35 days, no TTL, no contributor insights, no
    maximum on-demand throughput (``max_*_request_units``: a runaway-cost guard, per second)."""

    pitr_recovery_period_days: int = 35
    ttl_attribute: str | None = None
    contributor_insights: bool = False
    max_read_request_units: int | None = None
    max_write_request_units: int | None = None

    def __post_init__(self) -> None:
        problems = Problems()
        problems.add(
            "pitr_recovery_period_days", v.check_whole_number(self.pitr_recovery_period_days, *PITR_DAYS)
        )
        if self.ttl_attribute is not None:
            problems.add("ttl_attribute", v.check_ttl_attribute(self.ttl_attribute, KEY_ATTRIBUTES))
        for name in ("max_read_request_units", "max_write_request_units"):
            if getattr(self, name) is not None:
                problems.add(name, v.check_request_units(getattr(self, name)))
        problems.raise_for(self)


@dataclass(frozen=True)
class ImagesSettings:
    """Images bucket options. The replica storage class must be one CloudFront can serve
    (:data:`appstorage.validators.SERVABLE_STORAGE_CLASSES`)."""

    noncurrent_expiration_days: int = 365
    replica_storage_class: str = "STANDARD_IA"

    def __post_init__(self) -> None:
        problems = Problems()
        problems.add(
            "noncurrent_expiration_days",
            v.check_whole_number(self.noncurrent_expiration_days, *NONCURRENT_EXPIRATION_DAYS),
        )
        problems.add("replica_storage_class", v.check_servable_storage_class(self.replica_storage_class))
        problems.raise_for(self)


@dataclass(frozen=True)
class MonitoringSettings:
    """CloudWatch options. ``request_metrics``: S3 request metrics (request and error rates,
    1-minute, billed per metric) on the four buckets; the alarms are always in the templates."""

    request_metrics: bool = True


@dataclass(frozen=True)
class OutputSettings:
    """The stack outputs handed over as SSM parameters (:mod:`appstorage.handoff`).
    ``ssm_parameters``: every output of both templates is also an SSM parameter in the stack's
    account and region (default on). ``ssm_path``: the path they go under, starting and ending
    with ``/``; default ``/{project}/{env}/app-storage/``."""

    ssm_parameters: bool = True
    ssm_path: str | None = None

    def __post_init__(self) -> None:
        problems = Problems()
        path = self.ssm_path
        if path is not None:
            if not self.ssm_parameters:
                problems.add(
                    "ssm_path",
                    ("ssm_path is set but ssm_parameters is false", "remove ssm_path, or set ssm_parameters"),
                )
            elif not path.startswith("/") or not path.endswith("/"):
                problems.add(
                    "ssm_path",
                    (
                        f"{v.shown(path)} is not an SSM path",
                        "start and end it with '/', e.g. '/acme/prod/storage/'",
                    ),
                )
            else:
                problems.add("ssm_path", v.check_ssm_parameter_name(path + LONGEST_OUTPUT))
        problems.raise_for(self)


@dataclass(frozen=True)
class Environment:
    """One environment (dev, staging, prod, ...): two templates, two stack sets."""

    name: str
    primary_region: str
    replica_region: str
    parameters: Mapping[str, ParameterValue]
    replication: bool = False
    deletion_protection: bool = True
    website: bool = False
    cors_allowed_origins: tuple[str, ...] = ()
    table: TableSettings = TableSettings()
    images: ImagesSettings = ImagesSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    outputs: OutputSettings = OutputSettings()
    deployment: Deployment = field(default_factory=Deployment)
    tags: Mapping[str, str] = FrozenMap()

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", FrozenMap(self.parameters))
        object.__setattr__(self, "tags", FrozenMap(self.tags))
        object.__setattr__(self, "cors_allowed_origins", tuple(self.cors_allowed_origins))
        problems = Problems()
        problems.add("name", v.check_name(self.name, "environment name"))
        regions: dict[TemplateKind, str] = {}
        kinds: tuple[tuple[TemplateKind, str], ...] = (
            ("primary", self.primary_region),
            ("replica", self.replica_region),
        )
        for kind, region in kinds:
            if not problems.add(f"{kind}_region", v.check_region(region)):
                regions[kind] = region
        if len(regions) == 2:
            primary, replica = regions["primary"], regions["replica"]
            if primary == replica and self.replication:
                problems.add(
                    "replica_region",
                    (
                        f"replication is on but both regions are {primary}",
                        "choose a different replica_region (cross-region replication needs two regions)",
                    ),
                )
            elif primary == replica:
                # Both stacks export the same names (SpaIndexDocument, SpaErrorDocument) and publish
                # the same SSM parameters: in one region of one account the second stack fails.
                problems.add(
                    "replica_region",
                    (
                        f"both regions are {primary}: the primary and replica stacks would export the "
                        "same names and publish the same SSM parameters in one region",
                        "choose a different replica_region",
                    ),
                )
            elif v.partition_of(primary) != v.partition_of(replica):
                problems.add(
                    "replica_region",
                    (
                        f"{primary} and {replica} are in different AWS partitions",
                        "choose two regions of the same partition",
                    ),
                )
        for i, origin in enumerate(self.cors_allowed_origins):
            problems.add(f"cors_allowed_origins[{i}]", v.check_cors_origin(origin))
        problems.extend(tag_problems(self.tags))
        base = parameter_problems(
            self.parameters, regions.get("primary"), regions.get("replica"), self.replication
        )
        problems.extend(base, "parameters")
        valid_base = self.parameters if not base and len(regions) == 2 else None
        problems.extend(
            environment_problems(self.deployment, valid_base, regions, self.replication), "deployment"
        )
        problems.raise_for(self)


def tag_problems(tags: Mapping[str, str]) -> list[FieldError]:
    """The configured tags (fields ``tags.<key>``): each a valid stack set tag (they go on the stack
    sets and every resource), none a standard tag in any case (IAM compares keys without case:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html#case-sensitivity)."""
    problems = Problems()
    for key, value in tags.items():
        if not problems.add(f"tags.{key}", v.check_stack_set_tag(key, value)) and (
            str(key).lower() in STANDARD_TAG_KEYS
        ):
            problems.add(
                f"tags.{key}",
                (
                    f"{v.shown(key)} is a standard tag ({', '.join(STANDARD_TAG_KEYS)}) every resource "
                    "already gets",
                    "remove it, or give it another name",
                ),
            )
    return problems.errors


def merged_tag_problems(config_tags: Mapping[str, str], env: Environment) -> list[FieldError]:
    """The tags of ``env``'s resources (the configuration's, the environment's and the standard
    ones; fields relative to the environment): at most 50 (CreateStackSet's Tags, and most
    resources), and no two keys that differ only in case (the IAM role refuses them)."""
    problems = Problems()
    keys = {**config_tags, **env.tags}.keys() | set(STANDARD_TAG_KEYS)
    if len(keys) > v.MAX_TAGS:
        problems.add(
            "tags",
            (
                f"the resources would get {len(keys)} tags (the 4 standard ones included); AWS allows "
                f"{v.MAX_TAGS}",
                f"remove {len(keys) - v.MAX_TAGS} tag(s) here or in the top-level 'tags'",
            ),
        )
    folded: dict[str, list[str]] = {}
    for key in sorted(str(k) for k in keys):
        folded.setdefault(key.lower(), []).append(key)
    for same in folded.values():
        if len(same) > 1 and same[0].lower() not in STANDARD_TAG_KEYS:  # those: tag_problems
            problems.add(
                "tags",
                (
                    f"the tags {', '.join(same)} differ only in case; IAM treats them as one key and "
                    "refuses the role's tags",
                    "spell the key the same way in the top-level and the environment's 'tags'",
                ),
            )
    return problems.errors


def published_path(project: str, env: Environment) -> str | None:
    """Where ``env``'s stacks publish their outputs as SSM parameters (``outputs.ssm_path``, else
    ``/{project}/{env}/app-storage/``), or None when they do not (``outputs.ssm_parameters``)."""
    if not env.outputs.ssm_parameters:
        return None
    return env.outputs.ssm_path or output_parameter_path(project, env.name)


def project_parameter_problem(project: str) -> v.Problem:
    """Whether the stack outputs' SSM parameters (``/{project}/{env}/app-storage/<Output>``) may
    start with ``project``: SSM reserves names starting with ``aws`` or ``ssm``."""
    problem = v.check_ssm_parameter_name(f"/{project}")
    if problem is None:
        return None
    return (
        f"the stack outputs' SSM parameters would be named /{project}/<env>/{MODULE}/<Output>, and "
        f"{problem[0]}",
        "choose a project name that does not start with 'aws' or 'ssm'",
    )


def name_problems(project: str, prefix: str, env: Environment) -> list[FieldError]:
    """Whether every physical name of ``env`` fits its service's rules with ``prefix`` (fields are
    relative to the environment): the longest bucket name in any account, the table, the stack
    sets, the longest alarm and (with ``project``) the longest export name."""
    problems = Problems()
    for purpose in Purpose:
        region = env.replica_region if purpose.is_backup else env.primary_region
        problem = v.check_bucket_name(bucket_name_for_region(prefix, env.name, purpose, "1" * 12, region))
        if problem:
            problems.add(
                "",
                (
                    f"the {purpose.value} bucket name would be too long or invalid: {problem[0]}",
                    "set a shorter top-level 'name_prefix' or a shorter environment name",
                ),
            )
            break
    regions = (env.primary_region, env.replica_region)
    longest_region = max(regions, key=len)
    for problem in (
        v.check_table_name(table_name(prefix, env.name)),
        *(v.check_stack_set_name(stack_set_name(prefix, env.name, kind)) for kind in ("primary", "replica")),
        v.check_alarm_name(f"{prefix}-{env.name}-{MODULE}-{LONGEST_ALARM}-{longest_region}"),
    ):
        if problem:
            problems.add("", problem)
    if problem := v.check_export_name(export_name(project, env.name, LONGEST_OUTPUT)):
        problems.add(
            "", (problem[0], "use a shorter project name (export names are {project}-{env}-{output})")
        )
    path = published_path(project, env)
    own = env.outputs.ssm_path is not None
    parameter = f"{path}{LONGEST_OUTPUT}" if path is not None else None
    if (
        parameter is not None
        and (own or project_parameter_problem(project) is None)
        and (
            problem := v.check_ssm_parameter_name(parameter)
            or next(filter(None, (v.check_ssm_arn_length(parameter, r) for r in regions)), None)
        )
    ):
        problems.add(
            "outputs.ssm_path" if own else "",
            (
                f"the stack outputs' SSM parameters under {v.shown(path)} would be invalid: {problem[0]}",
                "use a shorter outputs.ssm_path" if own else "use a shorter project or environment name",
            ),
        )
    overrides = (
        (f"deployment.overrides[{i}].parameters", o.parameters)
        for i, o in enumerate(env.deployment.overrides)
    )
    for where, parameters in (("parameters", env.parameters), *overrides):
        for key, value in parameters.items():
            problem = next(filter(None, (v.check_ssm_arn_length(value.value, r) for r in regions)), None)
            if value.ssm and problem:
                problems.add(f"{where}.{key}", problem)
    return problems.errors


@dataclass(frozen=True)
class Config:
    """The whole configuration file."""

    project: str
    environments: Mapping[str, Environment]
    name_prefix: str | None = None
    tags: Mapping[str, str] = FrozenMap()
    source: str = "<memory>"

    def __post_init__(self) -> None:
        object.__setattr__(self, "environments", FrozenMap(self.environments))
        object.__setattr__(self, "tags", FrozenMap(self.tags))
        problems = Problems()
        valid_prefix = not problems.add("project", v.check_name(self.project, "project"))
        default_path = any(
            e.outputs.ssm_parameters and e.outputs.ssm_path is None for e in self.environments.values()
        )
        if valid_prefix and default_path:
            problems.add("project", project_parameter_problem(self.project))
        if self.name_prefix is not None:
            valid_prefix = not problems.add("name_prefix", v.check_name(self.name_prefix, "name_prefix"))
        problems.extend(tag_problems(self.tags))
        for key, env in self.environments.items():
            if key != env.name:
                problems.add(
                    f"environments.{key}",
                    (
                        f"the key {v.shown(key)} is not the environment's name {v.shown(env.name)}",
                        "use its name as the key",
                    ),
                )
            if valid_prefix:
                problems.extend(name_problems(self.project, self.prefix, env), f"environments.{key}")
            problems.extend(merged_tag_problems(self.tags, env), f"environments.{key}")
        problems.raise_for(self)

    @property
    def prefix(self) -> str:
        """The prefix of every physical name: ``name_prefix`` if set, else ``project``."""
        return self.name_prefix or self.project

    def output_parameter_path(self, env: Environment) -> str | None:
        """Where ``env``'s stacks publish their outputs as SSM parameters, or None (see
        :func:`published_path`)."""
        return published_path(self.project, env)

    def environment(self, name: str) -> Environment:
        """The named environment, or a :class:`ConfigError` listing the ones that exist."""
        try:
            return self.environments[name]
        except KeyError:
            raise ConfigError(
                self.source,
                [
                    FieldError(
                        f"environments.{name}",
                        f"there is no environment {v.shown(name)}",
                        f"use one of: {', '.join(self.environments)}",
                    )
                ],
            ) from None
