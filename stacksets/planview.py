"""The plan for people (:func:`render_plan`, plain deterministic text) and for programs
(:func:`plan_to_json`, ``plan --json``). Pure: no boto3.

A stack set is labelled with the region its instances deploy to (:func:`instance_region`; both
stack sets live in the administration region). A value of an SSM-typed template parameter is the
path CloudFormation resolves in each account and region, shown as ``ssm:/path``
(:func:`shown_value`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from appstorage.inputs import SSM_PARAMETER_TYPE

from .model import DesiredStackSet, ObservedInstance, ResourceChange, StackSetPlan
from .plan import all_data_loss, needs_stack_set_update

__all__ = [
    "LISTED",
    "instance_region",
    "listed",
    "plan_to_json",
    "render_plan",
    "shown_value",
    "staged_lines",
]


def instance_region(desired: DesiredStackSet) -> str:
    """The region the stack set's instances deploy to (its stack set lives in ``desired.region``)."""
    env = desired.environment
    return env.replica_region if desired.kind == "replica" else env.primary_region


def shown_value(desired: DesiredStackSet, key: str, value: str) -> str:
    """``value`` of template parameter ``key`` as written in the configuration: ``ssm:/path`` for
    an SSM-typed parameter (the value is the path, resolved per account and region)."""
    declared = desired.template.get("Parameters", {}).get(key, {})
    return (
        f"ssm:{value}" if isinstance(declared, dict) and declared.get("Type") == SSM_PARAMETER_TYPE else value
    )


def _instance_label(desired: DesiredStackSet, account: str, region: str, overrides: Mapping[str, str]) -> str:
    label = f"{account} {region}"
    if overrides:
        label += " overrides: " + ", ".join(
            f"{k}={shown_value(desired, k, v)}" for k, v in sorted(overrides.items())
        )
    return label


def _observed_label(desired: DesiredStackSet, instance: ObservedInstance) -> str:
    label = _instance_label(desired, instance.account, instance.region, instance.overrides)
    status = instance.status + (f"/{instance.detailed_status}" if instance.detailed_status else "")
    label += f" [{status}]"
    if instance.reason:
        label += f" {instance.reason}"
    return label


def _value(desired: DesiredStackSet, key: str, value: str | None) -> str:
    return "(none)" if value is None else repr(shown_value(desired, key, value))


def _render_one(plan: StackSetPlan) -> list[str]:
    desired = plan.desired
    lines = [f"Stack set {desired.name} ({desired.kind}, {instance_region(desired)}): {plan.action}"]
    lines.extend(f"  BLOCKED: {b}" for b in plan.blockers)
    lines.extend(f"  NOTE: {n}" for n in plan.notes)
    lines.extend(staged_lines(plan))
    if not plan.changed:
        return lines
    for setting in plan.settings:
        lines.append(f"  ~ {setting.text}")
    resources = plan.template.resources
    if resources:
        lines.append("  Resources:")
        for change in resources:
            mark = {"add": "+", "remove": "-", "modify": "~"}[change.action]
            lines.append(f"    {mark} {change.logical_id} ({change.resource_type}) {change.action}")
            for path in change.changed_paths:
                note = " (requires replacement)" if path in change.replacement_paths else ""
                lines.append(f"        {path}{note}")
    if plan.template.other_sections and plan.action != "create":
        lines.append(f"  Other template sections changed: {', '.join(plan.template.other_sections)}")
    for change in all_data_loss(plan):
        lines.append(f"  DATA LOSS: {change.logical_id} ({change.resource_type}): {change.reason}")
    if plan.parameters:
        lines.append("  Parameters:")
        for p in plan.parameters:
            mark = "+" if p.old is None else "-" if p.new is None else "~"
            lines.append(
                f"    {mark} {p.key}: {_value(desired, p.key, p.old)} -> {_value(desired, p.key, p.new)}"
            )
    if plan.instances.changed:
        lines.append("  Instances:")
        lines.extend(
            f"    + {_instance_label(desired, i.account, i.region, i.overrides)}" for i in plan.instances.add
        )
        lines.extend(f"    - {_observed_label(desired, i)}" for i in plan.instances.remove)
        lines.extend(f"    ~ {_observed_label(desired, i)} (outdated)" for i in plan.instances.outdated)
    return lines


#: How many instances a line of the plan lists before "and N more" (--json lists every one).
LISTED = 10


def listed(labels: Sequence[str]) -> str:
    """``labels`` joined, the first :data:`LISTED` of them and how many more."""
    more = len(labels) - LISTED
    return ", ".join(labels[:LISTED]) + (f" and {more} more" if more > 0 else "")


def staged_lines(plan: StackSetPlan) -> list[str]:
    """A run limited to a subset (``--accounts/--regions``) or a wave: what it leaves for later
    (instances left OUTDATED, instances not created yet, and what updates them), and the waves a
    change goes out in (``deployment.waves``; not repeated on a plan without changes)."""
    lines: list[str] = []
    if plan.waves and plan.changed:
        lines.append("  Waves (deployment.waves; deploy stops between waves when anything failed):")
        lines.extend(
            f"    {n}. {listed(accounts) if accounts else '(none of its instances)'}"
            for n, accounts in enumerate(plan.waves, 1)
        )
    if plan.scope is None:
        return lines
    lines.append(f"  This run: {plan.scope.text}")
    later = "a deploy without --accounts/--regions updates them"
    if plan.left_outdated:
        lines.append(
            f"  Left OUTDATED after this run ({len(plan.left_outdated)}): "
            f"{listed(plan.left_outdated)}; {later}"
        )
    if plan.left_to_create:
        labels = [f"{i.account} {i.region}" for i in plan.left_to_create]
        lines.append(
            f"  Left to create ({len(labels)}): {listed(labels)}; a deploy without --accounts/--regions "
            "creates them"
        )
    return lines


def render_plan(plans: Sequence[StackSetPlan]) -> str:
    """The plan as plain, deterministic text for the terminal (ends with a newline)."""
    lines: list[str] = []
    for plan in plans:
        if lines:
            lines.append("")
        lines.extend(_render_one(plan))
    lines.append("")
    counts = {a: sum(1 for p in plans if p.action == a) for a in ("create", "update", "no change")}
    lines.append(
        f"Plan: {counts['create']} to create, {counts['update']} to update, {counts['no change']} unchanged."
    )
    if any(p.blockers for p in plans):
        lines.append("deploy refuses this plan: see BLOCKED above.")
    losses = sum(len(all_data_loss(p)) for p in plans)
    if losses:
        lines.append(
            f"{losses} change(s) would lose or orphan data: deploy refuses them without --allow-replacement."
        )
    return "\n".join(lines) + "\n"


def _change_json(change: ResourceChange) -> dict[str, Any]:
    return {
        "logical_id": change.logical_id,
        "type": change.resource_type,
        "action": change.action,
        "changed_paths": list(change.changed_paths),
        "replacement_paths": list(change.replacement_paths),
        "replacement": change.replacement,
        "data_loss": change.data_loss,
        "reason": change.reason,
    }


def _observed_json(instance: ObservedInstance) -> dict[str, Any]:
    return {
        "account": instance.account,
        "region": instance.region,
        "status": instance.status,
        "detailed_status": instance.detailed_status,
        "reason": instance.reason,
        "organizational_unit": instance.organizational_unit,
        "overrides": dict(sorted(instance.overrides.items())),
    }


def _plan_json(plan: StackSetPlan) -> dict[str, Any]:
    desired = plan.desired
    return {
        "name": desired.name,
        "kind": desired.kind,
        "region": desired.region,
        "deploys_to": instance_region(desired),
        "action": plan.action,
        "needs_stack_set_update": needs_stack_set_update(plan),
        "stack_set_changes": [s.text for s in plan.settings],
        "settings": [{"key": s.key, "old": s.old, "new": s.new} for s in plan.settings],
        "notes": list(plan.notes),
        "blockers": list(plan.blockers),
        "template": {
            "changed": plan.template.changed,
            "resources": [_change_json(c) for c in plan.template.resources],
            "other_sections": list(plan.template.other_sections),
        },
        "data_loss": [_change_json(c) for c in all_data_loss(plan)],
        "parameters": [{"key": p.key, "old": p.old, "new": p.new} for p in plan.parameters],
        "instances": {
            "add": [
                {"account": i.account, "region": i.region, "overrides": dict(sorted(i.overrides.items()))}
                for i in plan.instances.add
            ],
            "remove": [_observed_json(i) for i in plan.instances.remove],
            "outdated": [_observed_json(i) for i in plan.instances.outdated],
        },
        # deploy --accounts/--regions (or a wave): the subset, and what stays for a later run
        "scope": (
            None
            if plan.scope is None
            else {"accounts": list(plan.scope.accounts), "regions": list(plan.scope.regions)}
        ),
        "left_outdated": list(plan.left_outdated),
        "left_to_create": [{"account": i.account, "region": i.region} for i in plan.left_to_create],
        "waves": [list(accounts) for accounts in plan.waves],
    }


def plan_to_json(plans: Sequence[StackSetPlan]) -> dict[str, Any]:
    """The plan as JSON-serialisable data (for ``plan --json``)."""
    return {
        "changed": any(p.changed for p in plans),
        "data_loss": any(all_data_loss(p) for p in plans),
        "blocked": any(p.blockers for p in plans),
        "stack_sets": [_plan_json(p) for p in plans],
    }
