"""Compare desired and observed stack sets: what ``deploy`` would do. Pure: no boto3.

Semantics of :attr:`StackSetPlan.action`:

* ``"create"``: the stack set does not exist (``observed`` is None or its status is DELETED).
  Every resource is an "add", every parameter is added, every desired instance is to create.
* ``"update"``: the stack set exists and something must change: its template (compared as
  parsed JSON, so formatting alone is no change), its parameters, its own settings (permission
  model, auto-deployment, tags, execution and administration roles: see
  :func:`stack_set_changes`), *or only its instances* (missing, surplus, or outdated ones).
  :func:`needs_stack_set_update` tells the executor whether ``UpdateStackSet`` is needed
  or only ``CreateStackInstances`` / ``UpdateStackInstances`` / ``DeleteStackInstances``.
* ``"no change"``: nothing to do; the executor makes no mutating call.

Instances: a desired instance matches an observed one with the same region and the same
account (or, for SERVICE_MANAGED targets, whose organizational unit is the desired
"account"). Desired without a match: add. Observed without a match: remove. Matched but not
CURRENT, or with parameter overrides different from the desired ones: outdated, except
INOPERABLE instances and those SKIPPED_SUSPENDED_ACCOUNT, which no rollout fixes by itself:
they are reported as notes with the remedy (:func:`plan_notes`) instead of being retried on
every run. Changes CloudFormation refuses (a permission model change while the stack set has
instances) are blockers (:func:`plan_blockers`): ``deploy`` stops with :class:`DeployBlocked`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from .diff import diff_templates
from .errors import DeployBlocked
from .model import (
    DesiredInstance,
    DesiredStackSet,
    InstanceDiff,
    ObservedInstance,
    ObservedStackSet,
    ParameterChange,
    ResourceChange,
    StackSetPlan,
    TemplateDiff,
)

__all__ = [
    "all_data_loss",
    "auto_deployment_request",
    "default_administration_role_arn",
    "instance_data_loss",
    "instances_to_create",
    "instances_to_delete",
    "instances_to_update",
    "needs_stack_set_create",
    "needs_stack_set_update",
    "parse_template_body",
    "plan_blockers",
    "plan_blocks_deploy",
    "plan_notes",
    "plan_stack_set",
    "plan_to_json",
    "render_plan",
    "stack_set_changes",
]


# --------------------------------------------------------------------------- planning


def parse_template_body(body: str) -> Mapping[str, Any]:
    """A deployed template body as a dict: JSON, or YAML (through cfn-flip) as a fallback."""
    try:
        data = json.loads(body)
    except ValueError:
        from cfn_flip import load

        data, _ = load(body)
    if not isinstance(data, dict):
        raise ValueError("the deployed template body is not a mapping")
    return data


def _parameter_changes(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[ParameterChange, ...]:
    return tuple(
        ParameterChange(key, old.get(key), new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    )


def _matches(desired: DesiredInstance, observed: ObservedInstance) -> bool:
    if desired.region != observed.region:
        return False
    return desired.account in (observed.account, observed.organizational_unit)


def _instance_diff(desired: Sequence[DesiredInstance], observed: Sequence[ObservedInstance]) -> InstanceDiff:
    add: list[DesiredInstance] = []
    outdated: list[ObservedInstance] = []
    matched: set[int] = set()
    for want in desired:
        hits = [i for i, have in enumerate(observed) if _matches(want, have)]
        if not hits:
            add.append(want)
            continue
        matched.update(hits)
        for i in hits:
            have = observed[i]
            if _held(have):  # INOPERABLE / suspended: not retried, reported (plan_notes)
                continue
            stale = have.status != "CURRENT" or dict(have.overrides) != dict(want.overrides)
            if stale and have not in outdated:
                outdated.append(have)
    remove = [have for i, have in enumerate(observed) if i not in matched]
    return InstanceDiff(add=tuple(add), remove=tuple(remove), outdated=tuple(outdated))


def plan_stack_set(
    desired: DesiredStackSet,
    observed: ObservedStackSet | None,
    *,
    require_managed_execution: bool = False,
) -> StackSetPlan:
    """What deploying ``desired`` over ``observed`` does (see the module docstring).

    ``require_managed_execution``: also count ManagedExecution being off as a change of the
    stack set. Off by default because some endpoints (moto) always report it inactive, which
    would make every plan an update.
    """
    if observed is None or observed.status == "DELETED":
        return StackSetPlan(
            desired=desired,
            action="create",
            template=diff_templates(None, desired.template, region=desired.region),
            parameters=_parameter_changes({}, desired.parameters),
            instances=InstanceDiff(add=tuple(desired.instances)),
        )
    template = diff_templates(
        parse_template_body(observed.template_body), desired.template, region=desired.region
    )
    parameters = _parameter_changes(observed.parameters, desired.parameters)
    settings: list[str] = []
    if observed.permission_model != desired.permission_model:
        settings.append(f"PermissionModel: {observed.permission_model} -> {desired.permission_model}")
    # moto deviation: DescribeStackSet reports no AutoDeployment; AWS always does for
    # SERVICE_MANAGED stack sets. Compared only when reported.
    # Both sides normalised to what the API takes: disabled ignores RetainStacksOnAccountRemoval.
    old_auto = auto_deployment_request(observed.auto_deployment)
    new_auto = auto_deployment_request(desired.auto_deployment)
    if new_auto is not None and old_auto is not None and old_auto != new_auto:
        settings.append(f"AutoDeployment: {_auto_text(old_auto)} -> {_auto_text(new_auto)}")
    if require_managed_execution and not observed.managed_execution:
        settings.append("ManagedExecution: off -> on")
    tags = _tag_changes(observed.tags, desired.tags)
    if tags:
        settings.append(f"Tags: {tags}")
    role_settings, desired = _role_changes(desired, observed)
    settings.extend(role_settings)
    instances = _instance_diff(desired.instances, observed.instances)
    changed = template.changed or parameters or settings or instances.changed
    return StackSetPlan(
        desired=desired,
        action="update" if changed else "no change",
        template=template,
        parameters=parameters,
        instances=instances,
        settings=tuple(settings),
        notes=_held_notes(desired, observed),
        blockers=(*_blockers(desired, observed), *_type_change_blockers(desired, template)),
    )


#: The administration role CloudFormation uses when CreateStackSet names none (SELF_MANAGED).
DEFAULT_ADMINISTRATION_ROLE = "AWSCloudFormationStackSetAdministrationRole"


def default_administration_role_arn(stack_set_arn: str) -> str | None:
    """``arn:<partition>:iam::<administrator account>:role/AWSCloudFormationStackSetAdministrationRole``
    for the stack set ``arn:<partition>:cloudformation:<region>:<account>:stackset/...``; None
    when the ARN does not say."""
    parts = stack_set_arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[1] or not parts[4]:
        return None
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{DEFAULT_ADMINISTRATION_ROLE}"


def _tag_changes(old: Mapping[str, str] | None, new: Mapping[str, str]) -> str:
    """The stack set's tag changes as "+added=value, -removed=value, ~changed=old -> new" (empty:
    none). ``old`` None: not reported, not compared. UpdateStackSet sends the whole tag list."""
    if old is None:
        return ""
    out = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out.append(f"+{key}={new[key]}")
        elif key not in new:
            out.append(f"-{key}={old[key]}")
        elif old[key] != new[key]:
            out.append(f"~{key}={old[key]} -> {new[key]}")
    return ", ".join(out)


def _role_changes(desired: DesiredStackSet, observed: ObservedStackSet) -> tuple[list[str], DesiredStackSet]:
    """ExecutionRoleName and AdministrationRoleARN changes (SELF_MANAGED on both sides; a
    permission model change is a setting, or a blocker, of its own), and ``desired`` as
    UpdateStackSet must send it.

    Compared only when DescribeStackSet reports them (AWS does for SELF_MANAGED stack sets). An
    unset desired AdministrationRoleARN means CloudFormation's default role, whose ARN is derived
    from the stack set's ARN: moving from a custom role back to the default one is a change, and
    since UpdateStackSet without an AdministrationRoleARN keeps the previous role, the returned
    ``desired`` then names the default role's ARN explicitly.
    """
    if desired.permission_model != "SELF_MANAGED" or observed.permission_model != "SELF_MANAGED":
        return [], desired
    out: list[str] = []
    have, want = observed.execution_role_name, desired.execution_role_name
    if have is not None and want is not None and have != want:
        out.append(f"ExecutionRoleName: {have} -> {want}")
    have = observed.administration_role_arn
    want = desired.administration_role_arn
    default = want is None
    if default:
        want = default_administration_role_arn(observed.stack_set_arn)
    if have is not None and want is not None and have != want:
        out.append(f"AdministrationRoleARN: {have} -> {want}{' (the default role)' if default else ''}")
        desired = attrs.evolve(desired, administration_role_arn=want)
    return out, desired


# --------------------------------------------------------------------------- notes and blockers

#: DetailedStatus values of instances that deploy does not retry (see :func:`_held_notes`).
INOPERABLE = "INOPERABLE"
SKIPPED_SUSPENDED_ACCOUNT = "SKIPPED_SUSPENDED_ACCOUNT"


def _held(instance: ObservedInstance) -> bool:
    """Instances a rollout cannot bring up to date by itself: not planned as outdated."""
    return INOPERABLE in (instance.status, instance.detailed_status) or (
        instance.detailed_status == SKIPPED_SUSPENDED_ACCOUNT
    )


def _held_notes(desired: DesiredStackSet, observed: ObservedStackSet) -> tuple[str, ...]:
    """Configured instances that are INOPERABLE or in a suspended account.

    AWS: an INOPERABLE instance (a DeleteStackInstances that failed and left the stack unstable)
    is excluded from further UpdateStackSet operations; the remedy is DeleteStackInstances with
    RetainStacks=true, fixing or deleting the stack by hand, then creating the instance again.
    Retrying it each run would make deploy never say "no changes". SKIPPED_SUSPENDED_ACCOUNT:
    operations skip a suspended account, so it is not outdated work either.
    """
    notes = []
    for have in observed.instances:
        if not _held(have) or not any(_matches(want, have) for want in desired.instances):
            continue
        where = f"{have.account} {have.region}"
        if have.detailed_status == SKIPPED_SUSPENDED_ACCOUNT:
            notes.append(
                f"{where} is {have.status}/SKIPPED_SUSPENDED_ACCOUNT: the account was suspended, so "
                "operations skip it and deploy does not retry it; once it is active again it is updated "
                "with the next change of the stack set"
            )
        else:
            notes.append(
                f"{where} is INOPERABLE (a deletion failed and left its stack unstable): CloudFormation "
                "excludes it from stack set updates, so deploy does not retry it; remedy: remove the "
                "instance with RetainStacks=true (drop the account from the configuration and deploy, which "
                "retains the stack), fix or delete its stack by hand, then add the account back and deploy"
            )
    return tuple(notes)


def _blockers(desired: DesiredStackSet, observed: ObservedStackSet) -> tuple[str, ...]:
    """Changes CloudFormation refuses. UpdateStackSet: "You cannot modify PermissionModel if
    there are stack instances associated with your stack set"."""
    if observed.permission_model != desired.permission_model and observed.instances:
        return (
            f"{desired.name}: the permission model cannot change from {observed.permission_model} to "
            f"{desired.permission_model} while the stack set has stack instances "
            f"({len(observed.instances)}); delete its instances first (destroy with the previous "
            "configuration; the table and buckets are retained), or deploy the new permission model as a "
            "new stack set (another environment name)",
        )
    return ()


def _type_change_blockers(desired: DesiredStackSet, template: TemplateDiff) -> tuple[str, ...]:
    """A resource whose type changes under the same logical id: CloudFormation refuses the update
    ("Update of resource type is not permitted"), so with ``--allow-replacement`` the primary phase
    would fail after the replica phase was applied. For the table (``AWS::DynamoDB::Table`` <->
    ``AWS::DynamoDB::GlobalTable``) AWS also warns that it "might result in the deletion of your
    DynamoDB table"; the change's reason points at the runbook's way to move without losing data."""
    fallback = "remove it in one deploy and add it under a new logical id in the next"
    return tuple(
        f"{desired.name}: {change.logical_id} changes its resource type, which CloudFormation does not "
        f"update in place (not even with --allow-replacement): {change.reason or fallback}"
        for change in template.resources
        if change.action == "modify" and "Type" in change.replacement_paths
    )


def plan_notes(plan: StackSetPlan) -> tuple[str, ...]:
    """Instances deploy leaves alone (INOPERABLE, suspended account), each with its remedy."""
    return plan.notes


def plan_blockers(plan: StackSetPlan) -> tuple[str, ...]:
    """Why deploy refuses this plan whatever the options (see :class:`DeployBlocked`)."""
    return plan.blockers


# --------------------------------------------------------------------------- for the executor


def stack_set_changes(plan: StackSetPlan) -> tuple[str, ...]:
    """Changes of the stack set's own settings (permission model, auto-deployment, managed
    execution, tags, execution and administration roles)."""
    return plan.settings


def needs_stack_set_create(plan: StackSetPlan) -> bool:
    """``CreateStackSet`` is needed."""
    return plan.action == "create"


def needs_stack_set_update(plan: StackSetPlan) -> bool:
    """``UpdateStackSet`` is needed: the stack set exists and its template, parameters or
    settings differ. False when only instances must be created, updated or deleted."""
    return plan.action == "update" and bool(
        plan.template.changed or plan.parameters or stack_set_changes(plan)
    )


def instances_to_create(plan: StackSetPlan) -> tuple[DesiredInstance, ...]:
    """Instances for ``CreateStackInstances`` (all desired ones when the stack set is created)."""
    return plan.instances.add


def instances_to_delete(plan: StackSetPlan) -> tuple[ObservedInstance, ...]:
    """Instances that exist but are not desired any more (``DeleteStackInstances``)."""
    return plan.instances.remove


def instances_to_update(plan: StackSetPlan) -> tuple[ObservedInstance, ...]:
    """Existing instances that are not CURRENT or whose overrides differ.

    An ``UpdateStackSet`` over all instances brings the not-CURRENT ones up to date too;
    override changes always need ``UpdateStackInstances`` with ``ParameterOverrides``.
    """
    return plan.instances.outdated


def plan_blocks_deploy(plans: Iterable[StackSetPlan], allow_replacement: bool) -> list[ResourceChange]:
    """The data-loss changes that stop ``deploy`` (none when ``allow_replacement``).

    Raises :class:`DeployBlocked` first when a plan has blockers (:func:`plan_blockers`), which
    ``--allow-replacement`` does not lift."""
    blockers = [b for plan in plans for b in plan_blockers(plan)]
    if blockers:
        raise DeployBlocked("refusing to deploy:\n" + "\n".join(f"  {b}" for b in blockers))
    if allow_replacement:
        return []
    return [change for plan in plans for change in all_data_loss(plan)]


# --------------------------------------------------------------------------- output


def _instance_label(account: str, region: str, overrides: Mapping[str, str]) -> str:
    label = f"{account} {region}"
    if overrides:
        label += " overrides: " + ", ".join(f"{k}={v}" for k, v in sorted(overrides.items()))
    return label


def _observed_label(instance: ObservedInstance) -> str:
    label = _instance_label(instance.account, instance.region, instance.overrides)
    status = instance.status + (f"/{instance.detailed_status}" if instance.detailed_status else "")
    label += f" [{status}]"
    if instance.reason:
        label += f" {instance.reason}"
    return label


def _value(value: str | None) -> str:
    return "(none)" if value is None else repr(value)


def _render_one(plan: StackSetPlan) -> list[str]:
    desired = plan.desired
    lines = [f"Stack set {desired.name} ({desired.kind}, {desired.region}): {plan.action}"]
    lines.extend(f"  BLOCKED: {b}" for b in plan_blockers(plan))
    lines.extend(f"  NOTE: {n}" for n in plan_notes(plan))
    if not plan.changed:
        return lines
    for setting in stack_set_changes(plan):
        lines.append(f"  ~ {setting}")
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
            lines.append(f"    {mark} {p.key}: {_value(p.old)} -> {_value(p.new)}")
    if plan.instances.changed:
        lines.append("  Instances:")
        lines.extend(f"    + {_instance_label(i.account, i.region, i.overrides)}" for i in plan.instances.add)
        lines.extend(f"    - {_observed_label(i)}" for i in plan.instances.remove)
        lines.extend(f"    ~ {_observed_label(i)} (outdated)" for i in plan.instances.outdated)
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
    if any(plan_blockers(p) for p in plans):
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
        "action": plan.action,
        "needs_stack_set_update": needs_stack_set_update(plan),
        "stack_set_changes": list(stack_set_changes(plan)),
        "notes": list(plan_notes(plan)),
        "blockers": list(plan_blockers(plan)),
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
    }


def plan_to_json(plans: Sequence[StackSetPlan]) -> dict[str, Any]:
    """The plan as JSON-serialisable data (for ``plan --json``)."""
    return {
        "changed": any(p.changed for p in plans),
        "data_loss": any(all_data_loss(p) for p in plans),
        "blocked": any(plan_blockers(p) for p in plans),
        "stack_sets": [_plan_json(p) for p in plans],
    }


# --------------------------------------------------------------------------- auto-deployment


def auto_deployment_request(value: tuple[bool, bool] | None) -> dict[str, bool] | None:
    """``(Enabled, RetainStacksOnAccountRemoval)`` as the API's AutoDeployment structure (None: not
    set). RetainStacksOnAccountRemoval is only sent when enabled ("Specify only if Enabled is set to
    True", API reference), so a disabled setting compares equal whatever retain says."""
    if value is None:
        return None
    enabled, retain = value
    if not enabled:
        return {"Enabled": False}
    return {"Enabled": True, "RetainStacksOnAccountRemoval": retain}


def _auto_text(auto: Mapping[str, bool]) -> str:
    return ", ".join(f"{k}={str(v).lower()}" for k, v in auto.items())


# --------------------------------------------------------------------------- outdated instances


def instance_data_loss(plan: StackSetPlan) -> list[ResourceChange]:
    """Data loss in updating the OUTDATED instances from the template they actually run.

    After a failed UpdateStackSet (say an ``--allow-replacement`` run that stopped half-way) the
    stack set already holds the new template, so :attr:`StackSetPlan.data_loss` (the stack set's
    template against the desired one) shows nothing, while the instances not reached still run
    the old template and updating them replaces their table or buckets. The executor reads those
    templates into :attr:`ObservedInstance.template_body`; this diffs the desired template against
    each distinct one. An instance whose template could not be read (``template_error``) counts as
    possible data loss: the update is refused without ``--allow-replacement`` rather than guessed.
    Changes already in :attr:`StackSetPlan.data_loss` are not repeated.
    """
    desired = plan.desired
    known = {c.logical_id for c in plan.data_loss}
    found: dict[str, tuple[ResourceChange, list[str]]] = {}
    unreadable: list[tuple[ObservedInstance, str]] = []
    by_body: dict[str, list[ObservedInstance]] = {}
    for instance in plan.instances.outdated:
        if instance.template_error:
            unreadable.append((instance, instance.template_error))
        elif instance.template_body:
            by_body.setdefault(instance.template_body, []).append(instance)
    for body, instances in by_body.items():
        try:
            deployed = parse_template_body(body)
        except ValueError as exc:
            unreadable.extend((i, f"its template does not parse ({exc})") for i in instances)
            continue
        for change in diff_templates(deployed, desired.template, region=desired.region).data_loss:
            if change.logical_id in known:
                continue
            entry = found.setdefault(change.logical_id, (change, []))
            entry[1].extend(f"{i.account} {i.region}" for i in instances)
    out = [
        attrs.evolve(
            change,
            reason=f"{change.reason} (OUTDATED instance(s) {', '.join(where)} still run an older template "
            "than the stack set's, e.g. after a failed update; updating them replaces it)",
        )
        for change, where in found.values()
    ]
    for instance, error in unreadable:
        out.append(
            ResourceChange(
                logical_id=f"(stack of {instance.account} {instance.region})",
                resource_type="AWS::CloudFormation::Stack",
                action="modify",
                data_loss=True,
                reason=(
                    f"the OUTDATED instance's deployed template could not be read ({error}), so whether "
                    "updating it replaces its table or buckets is unknown"
                ),
            )
        )
    return out


def all_data_loss(plan: StackSetPlan) -> list[ResourceChange]:
    """The stack set's template data loss and that of its OUTDATED instances (what ``deploy``
    refuses without ``--allow-replacement``)."""
    return [*plan.data_loss, *instance_data_loss(plan)]
