"""Checks made before any API call that need the built templates or the target counts.

The configuration loader validates each field on its own; these rules combine fields with
what the deployer will send (template sizes, operations and their target counts). Pure: no
boto3. :func:`preflight` returns ``(errors, warnings)``; ``deploy`` stops (exit 2) on errors.

API rules (CloudFormation ``StackSetOperationPreferences``):

* ``TemplateBody`` holds at most 51,200 bytes; larger templates go through ``TemplateURL``
  (an S3 object), so they need ``deployment.template_bucket``. A template behind ``TemplateURL``
  holds at most 1 MB (CreateStackSet/UpdateStackSet's TemplateURL: "maximum size: 1 MB"; older
  pages said 460,800 bytes).
* Percentages are turned into account counts per Region by rounding down, except that
  ``MaxConcurrentPercentage`` never drops below one account.
* Under ``STRICT_FAILURE_TOLERANCE``, ``MaxConcurrentCount`` is at most one more than the
  failure tolerance. With ``failure_tolerance_percentage`` that tolerance depends on the
  number of targets of each operation, so it is checked per operation here (SELF_MANAGED:
  the accounts of each operation; SERVICE_MANAGED: unknown before CloudFormation expands the
  OUs, so not checked).
* ``RegionOrder`` may only name Regions of the operation: each stack set deploys to one
  Region, so the requests send only the operation's own Region from the configured order
  (the loader already refuses a Region that is neither the primary nor the replica one).

Global table: the primary template declares the table (``AWS::DynamoDB::GlobalTable``) with a
replica in its own Region and in the replica Region. Two primary instances in one account (two
Regions) would each declare the same table, by name, in the same account: the second stack
cannot create it, or both stacks would manage one table and undo each other's replica changes.
So the primary stack set targets each account (or OU) in one Region only.
"""

from __future__ import annotations

from collections.abc import Sequence

from appstorage.config import Environment

from .model import DesiredInstance, DesiredStackSet

__all__ = [
    "TEMPLATE_BODY_LIMIT",
    "TEMPLATE_URL_LIMIT",
    "operation_groups",
    "preflight",
    "primary_region_conflicts",
    "template_size",
]

#: The largest TemplateBody CloudFormation accepts, in bytes (UTF-8).
TEMPLATE_BODY_LIMIT = 51_200
#: The largest template CloudFormation reads from ``TemplateURL``: "1 MB", taken as 10^6 bytes
#: (the smaller reading, so a template this check passes is never refused for its size).
TEMPLATE_URL_LIMIT = 1_000_000


def template_size(desired: DesiredStackSet) -> int:
    return len(desired.template_body.encode("utf-8"))


def operation_groups(
    instances: Sequence[DesiredInstance],
) -> list[tuple[list[str], list[str], dict[str, str]]]:
    """(targets, regions, overrides) of each Create/UpdateStackInstances operation covering
    ``instances``: targets sharing the same overrides share one operation, so the number of
    operations grows with the number of distinct override sets, not with the targets."""
    groups: dict[tuple[tuple[str, str], ...], list[DesiredInstance]] = {}
    for inst in instances:
        groups.setdefault(tuple(sorted(inst.overrides.items())), []).append(inst)
    out: list[tuple[list[str], list[str], dict[str, str]]] = []
    for key, members in groups.items():
        pairs = {(i.account, i.region) for i in members}
        targets = sorted({a for a, _ in pairs})
        regions = sorted({r for _, r in pairs})
        if len(pairs) == len(targets) * len(regions):
            out.append((targets, regions, dict(key)))
            continue
        for region in regions:
            out.append((sorted(a for a, r in pairs if r == region), [region], dict(key)))
    return out


def _field(env: Environment, name: str) -> str:
    return f"environments.{env.name}.deployment.{name}"


def primary_region_conflicts(env: Environment, desired: Sequence[DesiredStackSet]) -> list[str]:
    """Errors for a primary stack set targeting an account (or OU) in more than one Region (see
    the module docstring): each names the target, its Regions, and the fix."""
    errors = []
    for s in desired:
        if s.kind != "primary":
            continue
        regions: dict[str, list[str]] = {}
        for inst in s.instances:
            regions.setdefault(inst.account, [])
            if inst.region not in regions[inst.account]:
                regions[inst.account].append(inst.region)
        targets = "organizational_units" if s.permission_model == "SERVICE_MANAGED" else "accounts"
        for target, where in regions.items():
            if len(where) < 2:
                continue
            errors.append(
                f"{_field(env, targets)}: the primary stack set {s.name} targets {target} in "
                f"{len(where)} Regions ({', '.join(sorted(where))}): its template declares the global "
                "table, so two instances in one account would both own the same table and fight over it; "
                f"fix: deploy the primary template to one Region per account "
                f"(environments.{env.name}.primary_region) and reach the other Region through the "
                f"table's replica (environments.{env.name}.replica_region with replication: true)"
            )
    return errors


def preflight(
    env: Environment, desired: Sequence[DesiredStackSet], template_limit: int = TEMPLATE_BODY_LIMIT
) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` for deploying ``desired`` (see the module docstring)."""
    d = env.deployment
    prefs = d.operation_preferences
    errors: list[str] = primary_region_conflicts(env, desired)
    warnings: list[str] = []

    for s in desired:
        size = template_size(s)
        if size > TEMPLATE_URL_LIMIT:
            errors.append(
                f"tags: the {s.kind} template of {s.name} is {size:,} bytes, over the "
                f"{TEMPLATE_URL_LIMIT:,}-byte limit of a template CloudFormation reads from S3; fix: "
                "configure fewer or shorter tags (every resource carries each tag)"
            )
        elif size > template_limit and not d.template_bucket:
            errors.append(
                f"{_field(env, 'template_bucket')}: the {s.kind} template of {s.name} is {size:,} bytes, "
                f"over the {template_limit:,}-byte TemplateBody limit, and no staging bucket is configured; "
                f"fix: set deployment.template_bucket to an S3 bucket in {s.region} that this account can "
                "write to (the template is uploaded there and passed as TemplateURL)"
            )

    if d.permission_model == "SELF_MANAGED":
        strict = prefs.concurrency_mode == "STRICT_FAILURE_TOLERANCE"
        for s in desired:
            for targets, _regions, _overrides in operation_groups(s.instances):
                n = len(targets)
                if prefs.failure_tolerance_percentage is not None:
                    tolerance = prefs.failure_tolerance_percentage * n // 100
                    if prefs.failure_tolerance_percentage > 0 and tolerance == 0:
                        warnings.append(
                            f"{_field(env, 'operation_preferences.failure_tolerance_percentage')}: "
                            f"{prefs.failure_tolerance_percentage}% of {n} account(s) rounds down to 0: "
                            f"an operation on {s.name} stops at its first failed account"
                        )
                    if (
                        strict
                        and prefs.max_concurrent_count is not None
                        and prefs.max_concurrent_count > (tolerance + 1)
                    ):
                        errors.append(
                            f"{_field(env, 'operation_preferences.max_concurrent_count')}: "
                            f"{prefs.max_concurrent_count} is above failure tolerance + 1 ({tolerance + 1}: "
                            f"{prefs.failure_tolerance_percentage}% of {n} account(s) rounds down to "
                            f"{tolerance}) "
                            f"for an operation on {s.name}, which CloudFormation refuses under "
                            f"STRICT_FAILURE_TOLERANCE; fix: lower max_concurrent_count to {tolerance + 1}, "
                            "use max_concurrent_percentage, or set concurrency_mode: SOFT_FAILURE_TOLERANCE"
                        )
                        break
                if (
                    prefs.max_concurrent_percentage is not None
                    and prefs.max_concurrent_percentage * n // 100 == 0
                ):
                    warnings.append(
                        f"{_field(env, 'operation_preferences.max_concurrent_percentage')}: "
                        f"{prefs.max_concurrent_percentage}% of {n} account(s) rounds down to 0; "
                        f"CloudFormation then uses 1 account at a time for {s.name}"
                    )
    return errors, list(dict.fromkeys(warnings))
