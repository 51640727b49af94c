"""The configuration: one YAML file, loaded into immutable, validated objects.

Every field is validated on load. Errors are collected (not just the first one) and
raised together as a :class:`ConfigError` whose message names the file, the field
and the fix. Nothing here talks to AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from . import validators as v
from .naming import Purpose, bucket_name_for_region, table_name

__all__ = [
    "OPTIONAL_PARAMETERS",
    "PARAMETER_NAMES",
    "AutoDeployment",
    "Config",
    "ConfigError",
    "Deployment",
    "Environment",
    "FieldError",
    "ImagesSettings",
    "MonitoringSettings",
    "OperationPreferences",
    "ParameterOverride",
    "ParameterValue",
    "TableSettings",
    "bundled_example_path",
    "load_config",
    "parse_config",
]

T = TypeVar("T")

#: Parameters the templates take, with the validator for a literal value. Regional ones
#: (resolved per region) have a ``Replica*`` twin for the replica template when literal.
REGIONAL_PARAMETERS = ("KmsKeyArn", "AccessLogsBucketName", "S3VpcEndpointId", "AlarmTopicArn")
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
OPTIONAL_PARAMETERS = (
    "CloudFrontDistributionArn",
    "S3VpcEndpointId",
    "ReplicaS3VpcEndpointId",
    "AlarmTopicArn",
    "ReplicaAlarmTopicArn",
)


@dataclass(frozen=True)
class FieldError:
    """One problem with one field."""

    field: str
    problem: str
    fix: str

    def render(self, source: str) -> str:
        return f"{source}: {self.field}: {self.problem}. Fix: {self.fix}."


class ConfigError(ValueError):
    """The configuration is invalid. ``str()`` lists every problem found."""

    def __init__(self, source: str, errors: list[FieldError]) -> None:
        self.source = source
        self.errors = tuple(errors)
        lines = [e.render(source) for e in errors]
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ParameterValue:
    """A template parameter's value: an SSM path (resolved per account and region) or a literal."""

    value: str
    ssm: bool

    @property
    def ssm_path(self) -> str:
        return self.value if self.ssm else ""

    def __str__(self) -> str:
        return f"ssm:{self.value}" if self.ssm else self.value


@dataclass(frozen=True)
class TableSettings:
    """DynamoDB table options. Defaults: PITR for 35 days, no TTL, no contributor insights, no
    maximum on-demand throughput (``max_*_request_units``: a runaway-cost guard, per second)."""

    pitr_recovery_period_days: int = 35
    ttl_attribute: str | None = None
    contributor_insights: bool = False
    max_read_request_units: int | None = None
    max_write_request_units: int | None = None


@dataclass(frozen=True)
class ImagesSettings:
    """Images bucket options. The replica storage class must be one CloudFront can serve
    (:data:`appstorage.validators.SERVABLE_STORAGE_CLASSES`)."""

    noncurrent_expiration_days: int = 365
    replica_storage_class: str = "STANDARD_IA"


@dataclass(frozen=True)
class MonitoringSettings:
    """CloudWatch options. ``request_metrics``: S3 request metrics (request and error rates,
    1-minute, billed per metric) on the four buckets; the alarms are always in the templates."""

    request_metrics: bool = True


@dataclass(frozen=True)
class OperationPreferences:
    """StackSet OperationPreferences. Defaults are the cautious ones: one account at a time,
    stop at the first failure."""

    region_concurrency_type: Literal["SEQUENTIAL", "PARALLEL"] = "SEQUENTIAL"
    region_order: tuple[str, ...] = ()
    failure_tolerance_count: int | None = None
    failure_tolerance_percentage: int | None = None
    max_concurrent_count: int | None = None
    max_concurrent_percentage: int | None = None
    concurrency_mode: Literal["STRICT_FAILURE_TOLERANCE", "SOFT_FAILURE_TOLERANCE"] = (
        "STRICT_FAILURE_TOLERANCE"
    )

    def to_api(self) -> dict[str, Any]:
        """The ``OperationPreferences`` request structure."""
        prefs: dict[str, Any] = {
            "RegionConcurrencyType": self.region_concurrency_type,
            "ConcurrencyMode": self.concurrency_mode,
        }
        if self.region_order:
            prefs["RegionOrder"] = list(self.region_order)
        if self.failure_tolerance_percentage is not None:
            prefs["FailureTolerancePercentage"] = self.failure_tolerance_percentage
        else:
            prefs["FailureToleranceCount"] = self.failure_tolerance_count or 0
        if self.max_concurrent_percentage is not None:
            prefs["MaxConcurrentPercentage"] = self.max_concurrent_percentage
        else:
            prefs["MaxConcurrentCount"] = (
                self.max_concurrent_count if self.max_concurrent_count is not None else 1
            )
        return prefs


@dataclass(frozen=True)
class AutoDeployment:
    """SERVICE_MANAGED automatic deployment to accounts added to the target OUs."""

    enabled: bool = True
    retain_stacks_on_account_removal: bool = True


@dataclass(frozen=True)
class ParameterOverride:
    """Parameter values for some accounts and/or regions of the stack sets."""

    parameters: Mapping[str, ParameterValue]
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deployment:
    """How the stack sets are rolled out."""

    permission_model: Literal["SELF_MANAGED", "SERVICE_MANAGED"] = "SELF_MANAGED"
    accounts: tuple[str, ...] = ()
    organizational_units: tuple[str, ...] = ()
    account_filter_type: Literal["NONE", "INTERSECTION", "DIFFERENCE"] = "NONE"
    call_as: Literal["SELF", "DELEGATED_ADMIN"] = "SELF"
    administration_role_arn: str | None = None
    execution_role_name: str = "AWSCloudFormationStackSetExecutionRole"
    auto_deployment: AutoDeployment = AutoDeployment()
    operation_preferences: OperationPreferences = OperationPreferences()
    template_bucket: str | None = None
    overrides: tuple[ParameterOverride, ...] = ()


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
    deployment: Deployment = Deployment()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    """The whole configuration file."""

    project: str
    environments: Mapping[str, Environment]
    name_prefix: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    source: str = "<memory>"

    @property
    def prefix(self) -> str:
        """The prefix of every physical name: ``name_prefix`` if set, else ``project``."""
        return self.name_prefix or self.project

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
                        f"there is no environment {name!r}",
                        f"use one of: {', '.join(self.environments)}",
                    )
                ],
            ) from None


def template_parameter_names(kind: str, replication: bool) -> tuple[str, ...]:
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


def parameter_source(parameters: Mapping[str, ParameterValue], name: str, kind: str) -> str:
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
    parameters: Mapping[str, ParameterValue], override: ParameterOverride, kind: str, replication: bool
) -> dict[str, tuple[str, ParameterValue]]:
    """``{template parameter: (override key, value)}`` of one override for one template kind.

    ``parameters`` are the environment's base parameters: they decide which override key feeds
    which template parameter (:func:`parameter_source`), so a literal ``KmsKeyArn`` override never
    reaches the replica template (its key is the replica region's ``ReplicaKmsKeyArn``).
    """
    out: dict[str, tuple[str, ParameterValue]] = {}
    for name in template_parameter_names(kind, replication):
        key = parameter_source(parameters, name, kind)
        if key in override.parameters:
            out[name] = (key, override.parameters[key])
    return out


# --------------------------------------------------------------------------- reading


class _Reader:
    """Walks the raw YAML data, recording errors with their dotted field path."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self._path: list[str] = []

    def field(self, *parts: str) -> str:
        # A list index ("[0]") attaches to its list: "overrides[0].parameters", not "overrides.[0]".
        return ".".join([*self._path, *parts]).replace(".[", "[") or "<root>"

    def error(self, field: str, problem: str, fix: str) -> None:
        self.errors.append(FieldError(field, problem, fix))

    def problem(self, field: str, problem: v.Problem) -> bool:
        if problem is not None:
            self.error(field, *problem)
            return True
        return False

    @contextmanager
    def at(self, *parts: str) -> Iterator[None]:
        self._path.extend(parts)
        try:
            yield
        finally:
            del self._path[len(self._path) - len(parts) :]

    def mapping(self, data: Any, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
        """Check ``data`` is a mapping with only ``allowed`` keys and every ``required`` one."""
        where = self.field()
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.error(where, f"expected a mapping, got {_kind(data)}", "write 'key: value' lines here")
            return {}
        for key in data:
            if key not in allowed:
                import difflib  # only on the error path: keeps start-up fast

                close = difflib.get_close_matches(str(key), allowed, n=1)
                fix = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
                self.error(self.field(str(key)), "unknown key", fix.rstrip("?") if not close else fix)
        for key in required:
            if data.get(key) is None:
                self.error(self.field(key), "missing", "this field is required")
        return {k: val for k, val in data.items() if k in allowed}

    def typed(self, data: dict[str, Any], key: str, kind: type[T], default: T) -> T:
        value = data.get(key, default)
        if value is None:
            return default
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            self.error(
                self.field(key), f"expected {kind.__name__}, got {_kind(value)}", f"write a {_describe(kind)}"
            )
            return default
        return value  # type: ignore[no-any-return]

    def integer(self, data: dict[str, Any], key: str, default: int | None, lo: int, hi: int) -> int | None:
        value = data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            self.error(
                self.field(key),
                f"{value!r} is not a whole number from {lo} to {hi}",
                f"write a whole number from {lo} to {hi}",
            )
            return default
        return value

    def choice(self, data: dict[str, Any], key: str, choices: tuple[str, ...], default: str) -> Any:
        value = data.get(key, default)
        if value not in choices:
            self.error(self.field(key), f"{value!r} is not allowed", f"use one of: {', '.join(choices)}")
            return default
        return value

    def strings(
        self, data: dict[str, Any], key: str, check: Callable[[str], v.Problem] | None = None
    ) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error(self.field(key), f"expected a list, got {_kind(value)}", "write a YAML list: [a, b]")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            where = self.field(f"{key}[{i}]")
            if not isinstance(item, str):
                fix = (
                    "quote it: YAML reads unquoted digits as a number"
                    if isinstance(item, int)
                    else "write a string"
                )
                self.error(where, f"expected a string, got {_kind(item)} {item!r}", fix)
                continue
            if check is not None and self.problem(where, check(item)):
                continue
            if item in out:
                self.error(where, f"{item!r} is listed twice", "remove the duplicate")
                continue
            out.append(item)
        return tuple(out)

    def str_map(self, data: dict[str, Any], key: str) -> dict[str, str]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(self.field(key), f"expected a mapping, got {_kind(value)}", "write 'key: value' lines")
            return {}
        out: dict[str, str] = {}
        for k, val in value.items():
            if not isinstance(k, str) or not isinstance(val, str) or not 1 <= len(k) <= 128 or len(val) > 256:
                self.error(
                    self.field(key, str(k)),
                    "tag keys and values must be strings (1-128 / 0-256 chars)",
                    "quote the value",
                )
                continue
            if k.lower().startswith("aws:"):
                self.error(self.field(key, k), "tag keys starting with 'aws:' are reserved", "rename the tag")
                continue
            out[k] = val
        return out


def _kind(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "nothing",
    }.get(type(value), type(value).__name__)


def _describe(kind: type) -> str:
    return {bool: "boolean (true or false)", str: "string", int: "whole number"}.get(kind, kind.__name__)


# --------------------------------------------------------------------------- sections


def _parameter_value(
    r: _Reader, key: str, raw: Any, region: str, replica_region: str
) -> ParameterValue | None:
    where = r.field(key)
    if not isinstance(raw, str) or not raw:
        r.error(where, f"expected a string, got {_kind(raw)}", "write a literal value or 'ssm:/path'")
        return None
    if raw.startswith("ssm:"):
        path = raw[4:]
        return None if r.problem(where, v.check_ssm_path(path)) else ParameterValue(path, True)
    base = key.removeprefix("Replica")
    own_region = replica_region if key.startswith("Replica") else region
    checks: dict[str, Callable[[str], v.Problem]] = {
        "KmsKeyArn": lambda s: v.check_kms_key_arn(s, own_region),
        "AccessLogsBucketName": v.check_access_logs_bucket,
        "CloudFrontDistributionArn": v.check_cloudfront_distribution_arn,
        "S3VpcEndpointId": v.check_vpc_endpoint_id,
        "AlarmTopicArn": lambda s: v.check_sns_topic_arn(s, own_region),
    }
    if r.problem(where, checks[base](raw)):
        return None
    return ParameterValue(raw, False)


def _parameters(r: _Reader, raw: Any, env: dict[str, Any]) -> dict[str, ParameterValue]:
    data = r.mapping(raw, PARAMETER_NAMES, required=("KmsKeyArn", "AccessLogsBucketName"))
    region, replica = env.get("primary_region", ""), env.get("replica_region", "")
    out: dict[str, ParameterValue] = {}
    for key in PARAMETER_NAMES:
        if data.get(key) is None:
            continue
        value = _parameter_value(r, key, data[key], region, replica)
        if value is not None:
            out[key] = value
    if env.get("replication") and "ReplicaKmsKeyArn" not in out and "ReplicaKmsKeyArn" not in data:
        r.error(
            r.field("ReplicaKmsKeyArn"),
            "replication is on but no replica key is given",
            "add the replica region's KMS key ARN or its 'ssm:/path' (readable in the primary region)",
        )
    replica_names = template_parameter_names("replica", bool(env.get("replication")))
    for base in REGIONAL_PARAMETERS:
        value = out.get(base)
        twin = f"Replica{base}"
        if value is not None and not value.ssm and twin not in data and base in replica_names:
            r.error(
                r.field(twin),
                f"{base} is a literal, so the replica region needs its own value",
                f"add {twin} (the value in {replica}), or make {base} an 'ssm:/path' that exists "
                "in both regions",
            )
    return out


def _request_units(r: _Reader, d: dict[str, Any], key: str) -> int | None:
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        r.error(
            r.field(key), f"expected a whole number, got {_kind(value)}", "write request units per second"
        )
        return None
    return None if r.problem(r.field(key), v.check_request_units(value)) else value


def _table(r: _Reader, raw: Any) -> TableSettings:
    d = r.mapping(
        raw,
        (
            "pitr_recovery_period_days",
            "ttl_attribute",
            "contributor_insights",
            "max_read_request_units",
            "max_write_request_units",
        ),
    )
    ttl = d.get("ttl_attribute")
    if ttl is not None and (not isinstance(ttl, str) or not 1 <= len(ttl) <= 255):
        r.error(
            r.field("ttl_attribute"),
            f"{ttl!r} is not an attribute name",
            "write a name of 1 to 255 characters",
        )
        ttl = None
    return TableSettings(
        pitr_recovery_period_days=r.integer(d, "pitr_recovery_period_days", 35, 1, 35) or 35,
        ttl_attribute=ttl,
        contributor_insights=r.typed(d, "contributor_insights", bool, False),
        max_read_request_units=_request_units(r, d, "max_read_request_units"),
        max_write_request_units=_request_units(r, d, "max_write_request_units"),
    )


def _images(r: _Reader, raw: Any) -> ImagesSettings:
    d = r.mapping(raw, ("noncurrent_expiration_days", "replica_storage_class"))
    storage_class = r.typed(d, "replica_storage_class", str, "STANDARD_IA")
    if r.problem(r.field("replica_storage_class"), v.check_servable_storage_class(storage_class)):
        storage_class = "STANDARD_IA"
    return ImagesSettings(
        noncurrent_expiration_days=r.integer(d, "noncurrent_expiration_days", 365, 91, 36500) or 365,
        replica_storage_class=storage_class,
    )


def _monitoring(r: _Reader, raw: Any) -> MonitoringSettings:
    d = r.mapping(raw, ("request_metrics",))
    return MonitoringSettings(request_metrics=r.typed(d, "request_metrics", bool, True))


def _operation_preferences(r: _Reader, raw: Any) -> OperationPreferences:
    keys = (
        "region_concurrency_type",
        "region_order",
        "failure_tolerance_count",
        "failure_tolerance_percentage",
        "max_concurrent_count",
        "max_concurrent_percentage",
        "concurrency_mode",
    )
    d = r.mapping(raw, keys)
    prefs = OperationPreferences(
        region_concurrency_type=r.choice(
            d, "region_concurrency_type", ("SEQUENTIAL", "PARALLEL"), "SEQUENTIAL"
        ),
        region_order=r.strings(d, "region_order", v.check_region),
        failure_tolerance_count=r.integer(d, "failure_tolerance_count", None, 0, 10_000),
        failure_tolerance_percentage=r.integer(d, "failure_tolerance_percentage", None, 0, 100),
        max_concurrent_count=r.integer(d, "max_concurrent_count", None, 1, 10_000),
        max_concurrent_percentage=r.integer(d, "max_concurrent_percentage", None, 1, 100),
        concurrency_mode=r.choice(
            d,
            "concurrency_mode",
            ("STRICT_FAILURE_TOLERANCE", "SOFT_FAILURE_TOLERANCE"),
            "STRICT_FAILURE_TOLERANCE",
        ),
    )
    if prefs.failure_tolerance_count is not None and prefs.failure_tolerance_percentage is not None:
        r.error(
            r.field("failure_tolerance_percentage"),
            "failure tolerance is given both as a count and a percentage",
            "keep only one of failure_tolerance_count and failure_tolerance_percentage",
        )
    if prefs.max_concurrent_count is not None and prefs.max_concurrent_percentage is not None:
        r.error(
            r.field("max_concurrent_percentage"),
            "max concurrency is given both as a count and a percentage",
            "keep only one of max_concurrent_count and max_concurrent_percentage",
        )
    if (
        prefs.concurrency_mode == "STRICT_FAILURE_TOLERANCE"
        and prefs.max_concurrent_count is not None
        and prefs.failure_tolerance_percentage is None
        and prefs.max_concurrent_count > (prefs.failure_tolerance_count or 0) + 1
    ):
        tolerance = prefs.failure_tolerance_count or 0
        r.error(
            r.field("max_concurrent_count"),
            f"{prefs.max_concurrent_count} is above failure tolerance + 1 ({tolerance + 1}), which "
            "CloudFormation refuses under STRICT_FAILURE_TOLERANCE",
            f"lower max_concurrent_count to {tolerance + 1}, raise failure_tolerance_count to "
            f"{prefs.max_concurrent_count - 1}, or set concurrency_mode: SOFT_FAILURE_TOLERANCE",
        )
    return prefs


SSM_TYPE_NOTE = "AWS::SSM::Parameter::Value<String>"


def _check_override(
    r: _Reader,
    override: ParameterOverride,
    base: Mapping[str, ParameterValue],
    replication: bool,
    regions: Mapping[str, str],
) -> None:
    """Each value of ``override`` (inside its ``parameters`` mapping) must be of the kind of the
    template parameter(s) it feeds, and must feed one: a literal sent to an SSM-typed parameter
    is read as a parameter *name* (and an ``ssm:`` path sent to a String parameter is the value),
    so every targeted instance would fail or get a wrong value.

    Which key feeds which template is :func:`override_values` (the base values decide); the
    region of a literal KMS key is checked by :func:`_parameter_value` against the region of the
    template(s) the key feeds (``KmsKeyArn``: the primary's; ``ReplicaKmsKeyArn``: the replica's).
    """
    reached: set[str] = set()
    flagged: set[str] = set()
    for kind in ("primary", "replica"):
        if override.regions and regions[kind] not in override.regions:
            continue  # the override targets no instance of this stack set
        for name, (key, value) in override_values(base, override, kind, replication).items():
            reached.add(key)
            source = parameter_source(base, name, kind)
            configured = base.get(source)
            want_ssm = configured is not None and configured.ssm
            if value.ssm == want_ssm or key in flagged:
                continue
            flagged.add(key)
            if want_ssm:
                r.error(
                    r.field(key),
                    f"a literal value, but the {kind} template's {name} parameter is of type {SSM_TYPE_NOTE} "
                    f"(parameters.{source} is an 'ssm:' path): CloudFormation would read the literal as an "
                    "SSM parameter name and the targeted instances would fail",
                    f"write the override as 'ssm:/path' (a parameter holding the value in those accounts), "
                    f"or make parameters.{source} a literal too",
                )
            else:
                r.error(
                    r.field(key),
                    f"an 'ssm:' path, but the {kind} template's {name} parameter is a String "
                    f"(parameters.{source} is {'a literal' if configured else 'not set'}): the path itself "
                    "would be sent as the value",
                    f"write the literal value, or make parameters.{source} an 'ssm:/path' too",
                )
    for key in override.parameters:
        if key in reached:
            continue
        where = f" in {', '.join(override.regions)}" if override.regions else ""
        hint = (
            f"for the replica region's value use Replica{key}"
            if f"Replica{key}" in PARAMETER_NAMES
            else "remove it, or change the override's regions"
        )
        r.error(
            r.field(key),
            f"this override reaches no template parameter{where} (with the base parameters as "
            "configured, no stack instance of these stack sets would take it)",
            hint,
        )


def _overrides(
    r: _Reader,
    raw: Any,
    env: dict[str, Any],
    base: Mapping[str, ParameterValue] | None = None,
    replication: bool = False,
) -> tuple[ParameterOverride, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        r.error(
            r.field(), f"expected a list, got {_kind(raw)}", "write a list of {accounts, regions, parameters}"
        )
        return ()
    regions = {env.get("primary_region"), env.get("replica_region")}
    out = []
    for i, item in enumerate(raw):
        with r.at(f"[{i}]"):
            d = r.mapping(item, ("accounts", "regions", "parameters"), required=("parameters",))
            accounts = r.strings(d, "accounts", v.check_account_id)
            regs = r.strings(d, "regions", v.check_region)
            for j, reg in enumerate(regs):
                if reg not in regions:
                    r.error(
                        r.field(f"regions[{j}]"),
                        f"{reg} is neither the primary nor the replica region",
                        f"use {' or '.join(sorted(str(x) for x in regions))}",
                    )
            if not accounts and not regs:
                r.error(
                    r.field(),
                    "an override must name accounts, regions or both",
                    "add 'accounts: [...]' and/or 'regions: [...]'",
                )
            with r.at("parameters"):
                pd = r.mapping(d.get("parameters"), PARAMETER_NAMES)
                params = {}
                for key, val in pd.items():
                    pv = _parameter_value(
                        r, key, val, env.get("primary_region", ""), env.get("replica_region", "")
                    )
                    if pv is not None:
                        params[key] = pv
            override = ParameterOverride(parameters=params, accounts=accounts, regions=regs)
            if base is not None and len(params) == len(pd):
                with r.at("parameters"):
                    kinds = {
                        "primary": env.get("primary_region", ""),
                        "replica": env.get("replica_region", ""),
                    }
                    _check_override(r, override, base, replication, kinds)
            out.append(override)
    return tuple(out)


def _deployment(
    r: _Reader,
    raw: Any,
    env: dict[str, Any],
    base: Mapping[str, ParameterValue] | None = None,
    replication: bool = False,
) -> Deployment:
    keys = (
        "permission_model",
        "accounts",
        "organizational_units",
        "account_filter_type",
        "call_as",
        "administration_role_arn",
        "execution_role_name",
        "auto_deployment",
        "operation_preferences",
        "template_bucket",
        "overrides",
    )
    d = r.mapping(raw, keys)
    model = r.choice(d, "permission_model", ("SELF_MANAGED", "SERVICE_MANAGED"), "SELF_MANAGED")
    accounts = r.strings(d, "accounts", v.check_account_id)
    ous = r.strings(d, "organizational_units", v.check_organizational_unit)
    if d.get("account_filter_type") == "UNION":
        r.error(
            r.field("account_filter_type"),
            "UNION is not supported by CreateStackInstances",
            "use INTERSECTION or DIFFERENCE, or add the extra accounts' OUs to organizational_units",
        )
        d.pop("account_filter_type")
    filter_type = r.choice(d, "account_filter_type", ("NONE", "INTERSECTION", "DIFFERENCE"), "NONE")
    call_as = r.choice(d, "call_as", ("SELF", "DELEGATED_ADMIN"), "SELF")
    admin = d.get("administration_role_arn")
    if admin is not None and (
        not isinstance(admin, str)
        or r.problem(r.field("administration_role_arn"), v.check_iam_role_arn(str(admin)))
    ):
        admin = None
    execution = r.typed(d, "execution_role_name", str, "AWSCloudFormationStackSetExecutionRole")
    r.problem(r.field("execution_role_name"), v.check_iam_role_name(execution))
    bucket = d.get("template_bucket")
    if bucket is not None and (
        not isinstance(bucket, str) or r.problem(r.field("template_bucket"), v.check_bucket_name(str(bucket)))
    ):
        bucket = None
    with r.at("auto_deployment"):
        ad = r.mapping(d.get("auto_deployment"), ("enabled", "retain_stacks_on_account_removal"))
        auto = AutoDeployment(
            r.typed(ad, "enabled", bool, True), r.typed(ad, "retain_stacks_on_account_removal", bool, True)
        )
    with r.at("operation_preferences"):
        prefs = _operation_preferences(r, d.get("operation_preferences"))
        regions = [env.get("primary_region"), env.get("replica_region")]
        for j, region in enumerate(prefs.region_order):
            if region not in regions:
                r.error(
                    r.field(f"region_order[{j}]"),
                    f"{region} is not a region of these stack sets (RegionOrder may only name the "
                    "operation's regions)",
                    f"list only {' and/or '.join(str(x) for x in dict.fromkeys(regions) if x)}",
                )
    with r.at("overrides"):
        overrides = _overrides(r, d.get("overrides"), env, base, replication)

    if model == "SELF_MANAGED":
        if not accounts:
            r.error(
                r.field("accounts"),
                "SELF_MANAGED stack sets need target accounts",
                'list the 12-digit account ids: accounts: ["111111111111"]',
            )
        for key in ("organizational_units", "auto_deployment"):
            if d.get(key):
                r.error(
                    r.field(key),
                    f"{key} needs permission_model: SERVICE_MANAGED",
                    f"remove {key} or set permission_model: SERVICE_MANAGED",
                )
        if call_as == "DELEGATED_ADMIN":
            r.error(
                r.field("call_as"),
                "DELEGATED_ADMIN works only with SERVICE_MANAGED stack sets",
                "set call_as: SELF or permission_model: SERVICE_MANAGED",
            )
        if filter_type != "NONE":
            r.error(
                r.field("account_filter_type"),
                "account filters apply to organizational unit targets",
                "remove account_filter_type or set permission_model: SERVICE_MANAGED",
            )
    else:
        if not ous:
            r.error(
                r.field("organizational_units"),
                "SERVICE_MANAGED stack sets need target OUs",
                "list OU ids: organizational_units: [ou-ab12-cd34ef56]",
            )
        if admin is not None:
            r.error(
                r.field("administration_role_arn"),
                "SERVICE_MANAGED stack sets use service-linked roles",
                "remove administration_role_arn",
            )
        if accounts and filter_type == "NONE":
            r.error(
                r.field("accounts"),
                "with OU targets, accounts only work with an account filter",
                "set account_filter_type: INTERSECTION or DIFFERENCE, or remove accounts",
            )
        if filter_type != "NONE" and not accounts:
            r.error(
                r.field("account_filter_type"),
                f"{filter_type} needs accounts to filter by",
                "add accounts: [...] or set account_filter_type: NONE",
            )
        for i, o in enumerate(overrides):
            if o.accounts:
                r.error(
                    r.field(f"overrides[{i}].accounts"),
                    "per-account overrides are not supported with organizational unit targets "
                    "(the targets are OUs)",
                    "use region-wide overrides (regions: [...]) or SELF_MANAGED with accounts",
                )
    if model == "SELF_MANAGED":
        for i, o in enumerate(overrides):
            extra = sorted(set(o.accounts) - set(accounts))
            if extra:
                r.error(
                    r.field(f"overrides[{i}].accounts"),
                    f"{', '.join(extra)} is not a target account",
                    "add it to deployment.accounts or remove it from the override",
                )
    return Deployment(
        permission_model=model,
        accounts=accounts,
        organizational_units=ous,
        account_filter_type=filter_type,
        call_as=call_as,
        administration_role_arn=admin,
        execution_role_name=execution,
        auto_deployment=auto,
        operation_preferences=prefs,
        template_bucket=bucket,
        overrides=overrides,
    )


ENV_KEYS = (
    "primary_region",
    "replica_region",
    "replication",
    "deletion_protection",
    "website",
    "cors_allowed_origins",
    "table",
    "images",
    "monitoring",
    "parameters",
    "deployment",
    "tags",
)


def _environment(r: _Reader, name: str, raw: Any, prefix: str) -> Environment | None:
    before = len(r.errors)
    r.problem(r.field(), v.check_name(name, "environment name"))
    d = r.mapping(raw, ENV_KEYS, required=("primary_region", "replica_region", "parameters"))
    for key in ("primary_region", "replica_region"):
        val = d.get(key)
        if val is not None and (not isinstance(val, str) or r.problem(r.field(key), v.check_region(val))):
            d.pop(key)
    primary, replica = d.get("primary_region", ""), d.get("replica_region", "")
    replication = r.typed(d, "replication", bool, False)
    if primary and replica:
        if replication and primary == replica:
            r.error(
                r.field("replica_region"),
                f"replication is on but both regions are {primary}",
                "choose a different replica_region (cross-region replication needs two regions)",
            )
        elif v.partition_of(primary) != v.partition_of(replica):
            r.error(
                r.field("replica_region"),
                f"{primary} and {replica} are in different AWS partitions",
                "choose two regions of the same partition",
            )
    for purpose, region in (
        ("frontend", primary),
        ("images", primary),
        ("frontend-backup", replica),
        ("images-backup", replica),
    ):
        if region and not v.check_name(prefix, "prefix") and not v.check_name(name, "environment"):
            problem = v.check_bucket_name(
                bucket_name_for_region(prefix, name, Purpose(purpose), "1" * 12, region)
            )
            if problem:
                r.error(
                    r.field(),
                    f"the {purpose} bucket name would be too long or invalid: {problem[0]}",
                    "set a shorter top-level 'name_prefix' or a shorter environment name",
                )
                break
    if not v.check_name(prefix, "prefix") and len(table_name(prefix, name)) > 255:
        r.error(r.field(), "the table name would exceed 255 characters", "set a shorter 'name_prefix'")
    origins = r.strings(d, "cors_allowed_origins", v.check_cors_origin)
    with r.at("table"):
        table = _table(r, d.get("table"))
    with r.at("images"):
        images = _images(r, d.get("images"))
    with r.at("monitoring"):
        monitoring = _monitoring(r, d.get("monitoring"))
    params_errors = len(r.errors)
    with r.at("parameters"):
        params = _parameters(r, d.get("parameters"), {**d, "replication": replication})
    # Overrides are checked against the base parameters only when those are valid (an invalid
    # base value would make every override look mismatched).
    base = params if len(r.errors) == params_errors and primary and replica else None
    with r.at("deployment"):
        deployment = _deployment(r, d.get("deployment"), d, base, replication)
    if len(r.errors) > before:
        return None
    return Environment(
        name=name,
        primary_region=primary,
        replica_region=replica,
        parameters=params,
        replication=replication,
        deletion_protection=r.typed(d, "deletion_protection", bool, True),
        website=r.typed(d, "website", bool, False),
        cors_allowed_origins=origins,
        table=table,
        images=images,
        monitoring=monitoring,
        deployment=deployment,
        tags=r.str_map(d, "tags"),
    )


def parse_config(data: Any, source: str = "<memory>") -> Config:
    """Validate already-parsed YAML data. Raises :class:`ConfigError` listing every problem."""
    r = _Reader()
    d = r.mapping(
        data, ("project", "name_prefix", "tags", "environments"), required=("project", "environments")
    )
    project = r.typed(d, "project", str, "")
    if project:
        r.problem("project", v.check_name(project, "project"))
    prefix = d.get("name_prefix")
    if prefix is not None and (
        not isinstance(prefix, str) or r.problem("name_prefix", v.check_name(prefix, "name_prefix"))
    ):
        prefix = None
    tags = r.str_map(d, "tags")
    envs_raw = d.get("environments")
    environments: dict[str, Environment] = {}
    if envs_raw is not None and (not isinstance(envs_raw, dict) or not envs_raw):
        r.error(
            "environments",
            "expected a non-empty mapping of environment names",
            "add at least one environment, e.g. 'dev: {primary_region: us-east-1, ...}'",
        )
    elif envs_raw:
        for name, raw in envs_raw.items():
            with r.at("environments", str(name)):
                env = _environment(r, str(name), raw, prefix or project or "x")
            if env is not None:
                environments[str(name)] = env
    if r.errors:
        raise ConfigError(source, r.errors)
    return Config(project=project, environments=environments, name_prefix=prefix, tags=tags, source=source)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def bundled_example_path() -> Path:
    """The bundled tattoo-directory example configuration (the default everywhere)."""
    return Path(__file__).resolve().parent / "examples" / "tattoo-directory.yaml"


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a configuration file (the bundled example when ``path`` is None)."""
    file = Path(path) if path is not None else bundled_example_path()
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            source,
            [
                FieldError(
                    "<file>", f"cannot be read ({exc.strerror})", "pass an existing YAML file with --config"
                )
            ],
        ) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "<file>"
        raise ConfigError(
            source,
            [FieldError(where, f"is not valid YAML ({getattr(exc, 'problem', exc)})", "fix the YAML syntax")],
        ) from None
    return parse_config(data, source)
