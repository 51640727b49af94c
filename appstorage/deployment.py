"""The deployer's settings: how an environment's stack sets are rolled out.

The model (:class:`Deployment` and its parts) checks each field at construction; the rules of a
rollout that combine fields (targets by permission model, account filters, per-account
overrides) are the YAML reader's (:func:`read_deployment`), and the rules that need the
environment (regions, the base parameters the overrides replace) are
:func:`environment_problems`, which :class:`appstorage.model.Environment` applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import validators as v
from .errors import FieldError, Problems
from .frozen import FrozenMap
from .inputs import (
    PARAMETER_NAMES,
    SSM_PARAMETER_TYPE,
    ParameterValue,
    TemplateKind,
    override_values,
    parameter_source,
    value_problem,
)
from .reader import Reader, kind_of
from .waves import Wave, read_waves, resolve_waves, wave_rules

__all__ = [
    "AutoDeployment",
    "Deployment",
    "OperationPreferences",
    "ParameterOverride",
    "Wave",
    "environment_problems",
    "read_deployment",
    "wave_accounts",
]

REGION_CONCURRENCY_TYPES = ("SEQUENTIAL", "PARALLEL")
CONCURRENCY_MODES = ("STRICT_FAILURE_TOLERANCE", "SOFT_FAILURE_TOLERANCE")
PERMISSION_MODELS = ("SELF_MANAGED", "SERVICE_MANAGED")
ACCOUNT_FILTER_TYPES = ("NONE", "INTERSECTION", "DIFFERENCE")
CALL_AS = ("SELF", "DELEGATED_ADMIN")
#: The API's largest integer: the counts of the OperationPreferences have no other maximum.
MAX_API_INTEGER = 2**31 - 1
#: The ranges CloudFormation accepts for the numbers of the OperationPreferences
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackSetOperationPreferences.html).
PREFERENCE_RANGES = {
    "failure_tolerance_count": (0, MAX_API_INTEGER),
    "failure_tolerance_percentage": (0, 100),
    "max_concurrent_count": (1, MAX_API_INTEGER),
    "max_concurrent_percentage": (1, 100),
}
#: CreateStackInstances takes at most 50 organizational units
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackInstances.html); a
#: stack set holds at most 100,000 stack instances, one per account here
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
MAX_ORGANIZATIONAL_UNITS, MAX_ACCOUNTS = 50, 100_000

#: ``read_concurrency``: how many reads in member accounts (their stacks and outputs, each with its
#: AssumeRole) and per-instance reads in the administration account run at once. AWS throttles
#: STS and CloudFormation calls per account with token buckets (AWS Security Blog, "How to monitor
#: and query IAM resources at scale, part 2"; the IAM User Guide's "IAM and AWS STS quotas" page
#: sets no per-second AssumeRole figure the caller could size to), and botocore's adaptive retry
#: mode (stacksets.session) slows a client down when it is throttled rather than failing. 16 at
#: about 100 ms a call is at most ~160 requests a second from one deploy, of which AssumeRole (one
#: per account) is a third at most, and at most one read at a time in any member account and
#: Region: low enough not to starve other callers of the administration account, high enough
#: that 1,000 accounts x 2 Regions are read in about 20 s. Raise it for more accounts, lower it
#: when other automation shares the administration account and gets throttled.
DEFAULT_READ_CONCURRENCY, MAX_READ_CONCURRENCY = 16, 64


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "region_order", tuple(self.region_order))
        problems = Problems()
        problems.add(
            "region_concurrency_type", v.check_choice(self.region_concurrency_type, REGION_CONCURRENCY_TYPES)
        )
        for i, region in enumerate(self.region_order):
            problems.add(f"region_order[{i}]", v.check_region(region))
        numbers: dict[str, int] = {}
        for name, (lo, hi) in PREFERENCE_RANGES.items():
            value = getattr(self, name)
            if value is not None and not problems.add(name, v.check_whole_number(value, lo, hi)):
                numbers[name] = value
        problems.add("concurrency_mode", v.check_choice(self.concurrency_mode, CONCURRENCY_MODES))
        if "failure_tolerance_count" in numbers and "failure_tolerance_percentage" in numbers:
            problems.add(
                "failure_tolerance_percentage",
                (
                    "failure tolerance is given both as a count and a percentage",
                    "keep only one of failure_tolerance_count and failure_tolerance_percentage",
                ),
            )
        if "max_concurrent_count" in numbers and "max_concurrent_percentage" in numbers:
            problems.add(
                "max_concurrent_percentage",
                (
                    "max concurrency is given both as a count and a percentage",
                    "keep only one of max_concurrent_count and max_concurrent_percentage",
                ),
            )
        concurrent, tolerance = numbers.get("max_concurrent_count"), numbers.get("failure_tolerance_count", 0)
        if (
            self.concurrency_mode == "STRICT_FAILURE_TOLERANCE"
            and concurrent is not None
            and self.failure_tolerance_percentage is None
            and concurrent > tolerance + 1
        ):
            problems.add(
                "max_concurrent_count",
                (
                    f"{concurrent} is above failure tolerance + 1 ({tolerance + 1}), which CloudFormation "
                    "refuses under STRICT_FAILURE_TOLERANCE",
                    f"lower max_concurrent_count to {tolerance + 1}, raise failure_tolerance_count to "
                    f"{concurrent - 1}, or set concurrency_mode: SOFT_FAILURE_TOLERANCE",
                ),
            )
        problems.raise_for(self)


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", FrozenMap(self.parameters))
        object.__setattr__(self, "accounts", tuple(self.accounts))
        object.__setattr__(self, "regions", tuple(self.regions))
        problems = Problems()
        for i, account in enumerate(self.accounts):
            problems.add(f"accounts[{i}]", v.check_account_id(account))
        for i, region in enumerate(self.regions):
            problems.add(f"regions[{i}]", v.check_region(region))
        for key in self.parameters:
            if key not in PARAMETER_NAMES:
                problems.add(
                    f"parameters.{key}", ("unknown parameter", f"use one of: {', '.join(PARAMETER_NAMES)}")
                )
        if not self.accounts and not self.regions:
            problems.add(
                "",
                (
                    "an override must name accounts, regions or both",
                    "add 'accounts: [...]' and/or 'regions: [...]'",
                ),
            )
        problems.raise_for(self)


@dataclass(frozen=True)
class Deployment:
    """How the stack sets are rolled out. Each field is checked at construction; the rules that
    combine them are :func:`read_deployment`'s."""

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
    read_concurrency: int = DEFAULT_READ_CONCURRENCY
    #: a staged rollout: deploy updates the accounts wave by wave (:func:`wave_accounts`)
    waves: tuple[Wave, ...] = ()

    def __post_init__(self) -> None:
        for name in ("accounts", "organizational_units", "overrides", "waves"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problems = Problems()
        problems.add("permission_model", v.check_choice(self.permission_model, PERMISSION_MODELS))
        for i, account in enumerate(self.accounts):
            problems.add(f"accounts[{i}]", v.check_account_id(account))
        for i, unit in enumerate(self.organizational_units):
            problems.add(f"organizational_units[{i}]", v.check_organizational_unit(unit))
        for name, limit, fix in (
            ("accounts", MAX_ACCOUNTS, "split the accounts over several environments"),
            ("organizational_units", MAX_ORGANIZATIONAL_UNITS, "target a parent OU that contains them"),
        ):
            count = len(getattr(self, name))
            if count > limit:
                problems.add(name, (f"{count:,} {name.replace('_', ' ')}; AWS allows {limit:,}", fix))
        problems.add("account_filter_type", v.check_choice(self.account_filter_type, ACCOUNT_FILTER_TYPES))
        problems.add("call_as", v.check_choice(self.call_as, CALL_AS))
        if self.administration_role_arn is not None:
            problems.add("administration_role_arn", v.check_iam_role_arn(self.administration_role_arn))
        problems.add("execution_role_name", v.check_iam_role_name(self.execution_role_name))
        if self.template_bucket is not None:
            problems.add("template_bucket", v.check_bucket_name(self.template_bucket))
        if not 1 <= self.read_concurrency <= MAX_READ_CONCURRENCY:
            problems.add(
                "read_concurrency",
                (
                    f"{self.read_concurrency} reads at a time; the deployer runs 1 to {MAX_READ_CONCURRENCY}",
                    f"write a number from 1 to {MAX_READ_CONCURRENCY} (default {DEFAULT_READ_CONCURRENCY})",
                ),
            )
        problems.raise_for(self)


def wave_accounts(deployment: Deployment) -> tuple[tuple[str, ...], ...]:
    """The accounts of each wave of ``deployment.waves``, in order: a deploy runs them one after
    the other (:func:`appstorage.waves.resolve_waves`)."""
    return resolve_waves(deployment.accounts, deployment.waves)


# --------------------------------------------------------------------------- with the environment


def environment_problems(
    deployment: Deployment,
    parameters: Mapping[str, ParameterValue] | None,
    regions: Mapping[TemplateKind, str],
    replication: bool,
) -> list[FieldError]:
    """The problems of a deployment within its environment (fields relative to the deployment):
    regions that are not the environment's, override values that break their rules, and override
    values of another kind than the template parameter they feed. ``regions`` maps each template
    kind to its region (a region that is not valid is left out); ``parameters`` are the base
    parameters, None when they are not valid (an invalid base would make every override look
    mismatched)."""
    problems = Problems()
    own = [regions.get("primary"), regions.get("replica")]
    for j, region in enumerate(deployment.operation_preferences.region_order):
        if region not in own:
            problems.add(
                f"operation_preferences.region_order[{j}]",
                (
                    f"{region} is not a region of these stack sets (RegionOrder may only name the "
                    "operation's regions)",
                    f"list only {' and/or '.join(str(x) for x in dict.fromkeys(own) if x)}",
                ),
            )
    for i, override in enumerate(deployment.overrides):
        where = f"overrides[{i}]"
        for j, region in enumerate(override.regions):
            if region not in own:
                problems.add(
                    f"{where}.regions[{j}]",
                    (
                        f"{region} is neither the primary nor the replica region",
                        f"use {' or '.join(sorted(str(x) for x in set(own)))}",
                    ),
                )
        valid = True
        for key, value in override.parameters.items():
            problem = value_problem(key, value, regions.get("primary"), regions.get("replica"))
            valid = not problems.add(f"{where}.parameters.{key}", problem) and valid
        if parameters is not None and valid:
            problems.extend(
                _override_problems(override, parameters, replication, regions), f"{where}.parameters"
            )
    return problems.errors


def _override_problems(
    override: ParameterOverride,
    base: Mapping[str, ParameterValue],
    replication: bool,
    regions: Mapping[TemplateKind, str],
) -> list[FieldError]:
    """Each value of ``override`` must be of the kind of the template parameter(s) it feeds, and
    must feed one: a literal sent to an SSM-typed parameter is read as a parameter *name* (and an
    ``ssm:`` path sent to a String parameter is the value), so every targeted instance would fail
    or get a wrong value. Which key feeds which template is :func:`override_values` (the base
    values decide)."""
    problems = Problems()
    reached: set[str] = set()
    flagged: set[str] = set()
    kinds: tuple[TemplateKind, ...] = ("primary", "replica")
    for kind in kinds:
        if override.regions and regions.get(kind) not in override.regions:
            continue  # the override targets no instance of this stack set
        for name, (key, value) in override_values(base, override.parameters, kind, replication).items():
            reached.add(key)
            source = parameter_source(base, name, kind)
            configured = base.get(source)
            want_ssm = configured is not None and configured.ssm
            if value.ssm == want_ssm or key in flagged:
                continue
            flagged.add(key)
            if want_ssm:
                problem = (
                    f"a literal value, but the {kind} template's {name} parameter is of type "
                    f"{SSM_PARAMETER_TYPE} (parameters.{source} is an 'ssm:' path): CloudFormation would "
                    "read the literal as an SSM parameter name and the targeted instances would fail",
                    f"write the override as 'ssm:/path' (a parameter holding the value in those accounts), "
                    f"or make parameters.{source} a literal too",
                )
            else:
                problem = (
                    f"an 'ssm:' path, but the {kind} template's {name} parameter is a String "
                    f"(parameters.{source} is {'a literal' if configured else 'not set'}): the path itself "
                    "would be sent as the value",
                    f"write the literal value, or make parameters.{source} an 'ssm:/path' too",
                )
            problems.add(key, problem)
    for key in override.parameters:
        if key not in reached:
            where = f" in {', '.join(override.regions)}" if override.regions else ""
            hint = (
                f"for the replica region's value use Replica{key}"
                if f"Replica{key}" in PARAMETER_NAMES
                else "remove it, or change the override's regions"
            )
            problems.add(
                key,
                (
                    f"this override reaches no template parameter{where} (with the base parameters as "
                    "configured, no stack instance of these stack sets would take it)",
                    hint,
                ),
            )
    return problems.errors


# --------------------------------------------------------------------------- reading


DEPLOYMENT_KEYS = (
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
    "read_concurrency",
    "waves",
)


def read_deployment(r: Reader, raw: Any) -> Deployment | None:
    """The ``deployment`` section, with the rules of a rollout; None when it is not valid."""
    d = r.mapping(raw, DEPLOYMENT_KEYS)
    if d.get("account_filter_type") == "UNION":
        r.error(
            r.field("account_filter_type"),
            "UNION is not supported by CreateStackInstances",
            "use INTERSECTION or DIFFERENCE, or add the extra accounts' OUs to organizational_units",
        )
        d.pop("account_filter_type")
    kwargs: dict[str, Any] = {
        k: d[k] for k in ("permission_model", "account_filter_type", "call_as") if k in d
    }
    for key in ("accounts", "organizational_units"):
        if (values := r.strings(d, key)) is not None:
            kwargs[key] = values
    for key in ("administration_role_arn", "execution_role_name", "template_bucket"):
        if (text := r.typed(d, key, str)) is not None:
            kwargs[key] = text
    if (workers := r.typed(d, "read_concurrency", int)) is not None:
        kwargs["read_concurrency"] = workers
    with r.at("auto_deployment"):
        ad = r.mapping(d.get("auto_deployment"), ("enabled", "retain_stacks_on_account_removal"))
        flags = {k: flag for k in ad if (flag := r.typed(ad, k, bool)) is not None}
        kwargs["auto_deployment"] = AutoDeployment(**flags)
    with r.at("operation_preferences"):
        prefs = _read_operation_preferences(r, d.get("operation_preferences"))
    if prefs is not None:
        kwargs["operation_preferences"] = prefs
    with r.at("overrides"):
        kwargs["overrides"] = _read_overrides(r, d.get("overrides"))
    with r.at("waves"):
        waves = read_waves(r, d.get("waves"))
    kwargs["waves"] = waves or ()
    deployment = r.construct(Deployment, kwargs) if prefs is not None else None
    if deployment is not None:
        _rollout_rules(r, deployment, d)
        if waves:
            with r.at("waves"):
                wave_rules(r, deployment.permission_model, deployment.accounts, waves)
    return deployment


def _read_operation_preferences(r: Reader, raw: Any) -> OperationPreferences | None:
    d = r.mapping(raw, tuple(OperationPreferences.__dataclass_fields__))
    kwargs = {k: val for k, val in d.items() if k != "region_order" and val is not None}
    if (order := r.strings(d, "region_order")) is not None:
        kwargs["region_order"] = order
    return r.construct(OperationPreferences, kwargs)


def _read_overrides(r: Reader, raw: Any) -> tuple[ParameterOverride, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        r.error(
            r.field(),
            f"expected a list, got {kind_of(raw)}",
            "write a list of {accounts, regions, parameters}",
        )
        return ()
    out = []
    for i, item in enumerate(raw):
        with r.at(f"[{i}]"):
            d = r.mapping(item, ("accounts", "regions", "parameters"), required=("parameters",))
            kwargs: dict[str, Any] = {
                k: vals for k in ("accounts", "regions") if (vals := r.strings(d, k)) is not None
            }
            with r.at("parameters"):
                pd = r.mapping(d.get("parameters"), PARAMETER_NAMES)
                values = {key: r.parameter_value(key, val) for key, val in pd.items()}
            params = {key: value for key, value in values.items() if value is not None}
            override = r.construct(ParameterOverride, {**kwargs, "parameters": params})
            if override is not None and len(params) == len(pd):
                out.append(override)
    return tuple(out)


def _rollout_rules(r: Reader, deployment: Deployment, d: Mapping[str, Any]) -> None:
    """What a rollout needs beyond valid fields: targets that fit the permission model, account
    filters that have accounts to filter by, and overrides for accounts that are targets."""
    accounts, ous, filter_type = (
        deployment.accounts,
        deployment.organizational_units,
        deployment.account_filter_type,
    )
    if deployment.permission_model == "SELF_MANAGED":
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
        if deployment.call_as == "DELEGATED_ADMIN":
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
        for i, o in enumerate(deployment.overrides):
            extra = sorted(set(o.accounts) - set(accounts))
            if extra:
                r.error(
                    r.field(f"overrides[{i}].accounts"),
                    f"{', '.join(extra)} is not a target account",
                    "add it to deployment.accounts or remove it from the override",
                )
        return
    if not ous:
        r.error(
            r.field("organizational_units"),
            "SERVICE_MANAGED stack sets need target OUs",
            "list OU ids: organizational_units: [ou-ab12-cd34ef56]",
        )
    if deployment.administration_role_arn is not None:
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
    for i, o in enumerate(deployment.overrides):
        if o.accounts:
            r.error(
                r.field(f"overrides[{i}].accounts"),
                "per-account overrides are not supported with organizational unit targets "
                "(the targets are OUs)",
                "use region-wide overrides (regions: [...]) or SELF_MANAGED with accounts",
            )
