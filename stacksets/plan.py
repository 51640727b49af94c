"""Compare desired and observed stack sets: what ``deploy`` would do. Pure: no boto3.

Semantics of :attr:`StackSetPlan.action`:

* ``"create"``: the stack set does not exist (``observed`` is None or its status is DELETED).
  Every resource is an "add", every parameter is added, every desired instance is to create.
* ``"update"``: the stack set exists and something must change: its template (compared as
  parsed JSON, so formatting alone is no change), its parameters, its own settings (permission
  model, auto-deployment, tags, execution and administration roles: typed
  :class:`~stacksets.model.SettingChange` in :attr:`StackSetPlan.settings`), *or only its
  instances* (missing, surplus, or outdated ones). :func:`needs_stack_set_update` tells the
  rollout whether ``UpdateStackSet`` is needed or only ``CreateStackInstances`` /
  ``UpdateStackInstances`` / ``DeleteStackInstances``.
* ``"no change"``: nothing to do; the rollout makes no mutating call.

Instances: a desired instance matches an observed one with the same region and the same
account (or, for SERVICE_MANAGED targets, whose organizational unit is the desired
"account"). Desired without a match: add. Observed without a match: remove. Matched but not
CURRENT, or with parameter overrides different from the desired ones: outdated, except
INOPERABLE instances and those SKIPPED_SUSPENDED_ACCOUNT, which no rollout fixes by itself:
they are reported as notes with the remedy (:attr:`StackSetPlan.notes`) instead of being
retried on every run. Changes CloudFormation refuses (a permission model change while the stack
set has instances, a resource type change) are blockers (:attr:`StackSetPlan.blockers`):
``deploy`` stops with :class:`~stacksets.errors.DeployBlocked`.

The plan as text and JSON is :mod:`stacksets.planview`.
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
    SettingChange,
    StackSetPlan,
    TemplateDiff,
)
from .requests import auto_deployment_request

__all__ = [
    "DEFAULT_ADMINISTRATION_ROLE",
    "all_data_loss",
    "default_administration_role_arn",
    "instance_data_loss",
    "needs_stack_set_update",
    "parse_template_body",
    "plan_blocks_deploy",
    "plan_stack_set",
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
            if _held(have):  # INOPERABLE / suspended: not retried, reported (notes)
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
    settings: list[SettingChange] = []
    if observed.permission_model != desired.permission_model:
        settings.append(SettingChange("PermissionModel", observed.permission_model, desired.permission_model))
    # Compared only when reported (moto reports no AutoDeployment; AWS always does for
    # SERVICE_MANAGED stack sets), both sides normalised to what the API takes: disabled ignores
    # RetainStacksOnAccountRemoval.
    old_auto = auto_deployment_request(observed.auto_deployment)
    new_auto = auto_deployment_request(desired.auto_deployment)
    if new_auto is not None and old_auto is not None and old_auto != new_auto:
        settings.append(SettingChange("AutoDeployment", _auto_text(old_auto), _auto_text(new_auto)))
    if require_managed_execution and not observed.managed_execution:
        settings.append(SettingChange("ManagedExecution", "off", "on"))
    tags = _tag_changes(observed.tags, desired.tags)
    if tags is not None:
        settings.append(tags)
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
        held=tuple(
            (have.account, have.region)
            for have in observed.instances
            if _held(have) and any(_matches(want, have) for want in desired.instances)
        ),
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


def _auto_text(auto: Mapping[str, bool]) -> str:
    return ", ".join(f"{k}={str(v).lower()}" for k, v in auto.items())


def _tags_text(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def _tag_changes(old: Mapping[str, str] | None, new: Mapping[str, str]) -> SettingChange | None:
    """The stack set's tag changes (None: none), detailed as "+added=value, -removed=value,
    ~changed=old -> new". ``old`` None: not reported, not compared. UpdateStackSet sends the whole
    tag list."""
    if old is None:
        return None
    out = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out.append(f"+{key}={new[key]}")
        elif key not in new:
            out.append(f"-{key}={old[key]}")
        elif old[key] != new[key]:
            out.append(f"~{key}={old[key]} -> {new[key]}")
    return SettingChange("Tags", _tags_text(old), _tags_text(new), ", ".join(out)) if out else None


def _role_changes(
    desired: DesiredStackSet, observed: ObservedStackSet
) -> tuple[list[SettingChange], DesiredStackSet]:
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
    out: list[SettingChange] = []
    have, want = observed.execution_role_name, desired.execution_role_name
    if have is not None and want is not None and have != want:
        out.append(SettingChange("ExecutionRoleName", have, want))
    have = observed.administration_role_arn
    want = desired.administration_role_arn
    default = want is None
    if default:
        want = default_administration_role_arn(observed.stack_set_arn)
    if have is not None and want is not None and have != want:
        detail = f"{have} -> {want} (the default role)" if default else ""
        out.append(SettingChange("AdministrationRoleARN", have, want, detail))
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


# --------------------------------------------------------------------------- for the rollout


def needs_stack_set_update(plan: StackSetPlan) -> bool:
    """``UpdateStackSet`` is needed: the stack set exists and its template, parameters or
    settings differ. False when only instances must be created, updated or deleted."""
    return plan.action == "update" and bool(plan.template.changed or plan.parameters or plan.settings)


def plan_blocks_deploy(plans: Iterable[StackSetPlan], allow_replacement: bool) -> list[ResourceChange]:
    """The data-loss changes that stop ``deploy`` (none when ``allow_replacement``).

    Raises :class:`DeployBlocked` first when a plan has blockers (:attr:`StackSetPlan.blockers`), which
    ``--allow-replacement`` does not lift."""
    blockers = [b for plan in plans for b in plan.blockers]
    if blockers:
        raise DeployBlocked("refusing to deploy:\n" + "\n".join(f"  {b}" for b in blockers))
    if allow_replacement:
        return []
    return [change for plan in plans for change in all_data_loss(plan)]


# --------------------------------------------------------------------------- outdated instances


def instance_data_loss(plan: StackSetPlan) -> list[ResourceChange]:
    """Data loss in updating the OUTDATED instances from the template they actually run.

    After a failed UpdateStackSet (say an ``--allow-replacement`` run that stopped half-way) the
    stack set already holds the new template, so :attr:`StackSetPlan.data_loss` (the stack set's
    template against the desired one) shows nothing, while the instances not reached still run
    the old template and updating them replaces their table or buckets. The rollout reads those
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
