"""Staged rollouts: a run limited to part of an environment's instances. Pure: no boto3.

A :class:`~stacksets.model.Scope` is what ``deploy --accounts/--regions`` names, or one wave of
``deployment.waves`` (:func:`wave_scopes`). :func:`narrow` turns the plan of a whole stack set
into the plan of the run limited to a scope: the instances to create, update and remove inside
it, and what stays for a later run (:attr:`~stacksets.model.StackSetPlan.left_outdated`,
:attr:`~stacksets.model.StackSetPlan.left_to_create`).

How AWS treats the instances outside the scope (UpdateStackSet, API reference, ``Accounts``): "If
the stack set update includes changes to the template (that is, if the TemplateBody or TemplateURL
properties are specified), or the Parameters property, CloudFormation marks all stack instances
with a status of OUTDATED prior to updating the stack instances in the specified accounts and
Amazon Web Services Regions." So after a partial run with a template or parameter change every
instance outside the scope is OUTDATED, and the next run (a later wave, or a deploy without
``--accounts``) updates them with UpdateStackInstances, which "updates ... stack instances for the
specified accounts" to the stack set's current template without marking any other instance
OUTDATED again. The data-loss guard and the retained-resource check run on the narrowed plans, so
they cover the instances the run touches.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from appstorage import validators as v
from appstorage.config import Environment
from appstorage.deployment import wave_accounts

from .errors import DeployError, FailedInstance
from .model import AccountFilter, DesiredInstance, ObservedInstance, Scope, StackSetPlan, TemplateDiff
from .plan import needs_stack_set_update

__all__ = [
    "WavesStopped",
    "existing_targets",
    "narrow",
    "narrow_rollout",
    "planned_waves",
    "subset_problems",
    "wave_schedule",
    "wave_scopes",
]


def subset_problems(env: Environment, scope: Scope) -> list[str]:
    """Why ``scope`` (from ``--accounts``/``--regions``) is not part of ``env``'s targets: one line
    per problem naming the flag and the fix; empty when it is."""
    d = env.deployment
    problems: list[str] = []
    regions = list(dict.fromkeys((env.primary_region, env.replica_region)))
    for region in scope.regions:
        if region not in regions:
            problems.append(
                f"--regions: {region} is not a region of environment {env.name} (its stack sets deploy "
                f"to {' and '.join(regions)}): pass {' or '.join(regions)}"
            )
    for account in scope.accounts:
        if v.check_account_id(account) is not None:
            problems.append(
                f"--accounts: {v.shown(account)} is not an account id: pass 12-digit account ids, "
                "comma-separated"
            )
        elif d.permission_model == "SELF_MANAGED" and account not in d.accounts:
            problems.append(
                f"--accounts: {account} is not a target account of environment {env.name} "
                f"(environments.{env.name}.deployment.accounts): pass accounts from that list, or add it "
                "there first"
            )
        elif d.account_filter_type == "INTERSECTION" and account not in d.accounts:
            problems.append(
                f"--accounts: {account} is not among the accounts environment {env.name} deploys to "
                f"(account_filter_type INTERSECTION with environments.{env.name}.deployment.accounts): "
                "pass accounts from that list"
            )
        elif d.account_filter_type == "DIFFERENCE" and account in d.accounts:
            problems.append(
                f"--accounts: {account} is excluded from environment {env.name} (account_filter_type "
                f"DIFFERENCE with environments.{env.name}.deployment.accounts): pass another account"
            )
    return problems


def wave_scopes(env: Environment) -> tuple[Scope, ...]:
    """``deployment.waves`` as the scope of each wave, in order (empty: no waves); which accounts
    each wave takes is :func:`appstorage.deployment.wave_accounts`."""
    return tuple(Scope(accounts=accounts) for accounts in wave_accounts(env.deployment))


def _label(account: str, region: str) -> str:
    return f"{account} {region}"


def _service_managed(plan: StackSetPlan) -> bool:
    return plan.desired.permission_model == "SERVICE_MANAGED"


def _wanted(plan: StackSetPlan, scope: Scope, want: DesiredInstance) -> bool:
    """A desired instance (an account, or under SERVICE_MANAGED an OU target) inside ``scope``: an
    OU target is, in the scope's Regions, for the scope's accounts (an account filter)."""
    if _service_managed(plan):
        return not scope.regions or want.region in scope.regions
    return scope.covers(want.account, want.region)


def existing_targets(plan: StackSetPlan) -> list[DesiredInstance]:
    """The desired targets of ``plan`` that already have instances (not to be created)."""
    add = {(i.account, i.region) for i in plan.instances.add}
    return [i for i in plan.desired.instances if (i.account, i.region) not in add]


def narrow(plan: StackSetPlan, scope: Scope, *, stack_set_updated: bool = False) -> StackSetPlan:
    """``plan`` limited to ``scope`` (see the module docstring). ``stack_set_updated``: an earlier
    wave of this run already ran UpdateStackSet (or CreateStackSet) with the plan's template,
    parameters and settings, so every existing instance is OUTDATED (AWS marked them) and the
    scope's are updated with UpdateStackInstances (see :func:`stacksets.rollout.deploy`)."""
    desired = plan.desired
    inside = [i for i in desired.instances if _wanted(plan, scope, i)]
    existing = existing_targets(plan)
    add = [i for i in plan.instances.add if _wanted(plan, scope, i)]
    left_to_create = [i for i in plan.instances.add if i not in add]
    outdated = [o for o in plan.instances.outdated if scope.covers(o.account, o.region)]
    remove = [o for o in plan.instances.remove if scope.covers(o.account, o.region)]
    narrowed = desired
    if _service_managed(plan) and scope.accounts:
        # Only the scope's accounts of each OU (the loader's filter, if any, contains them).
        narrowed = attrs.evolve(desired, account_filter=AccountFilter("INTERSECTION", scope.accounts))
        left_to_create += add  # the OUs' other accounts
        remove = []  # DeleteStackInstances takes OUs: it would reach beyond the accounts named
    narrowed = attrs.evolve(narrowed, instances=tuple(inside))
    outside = [i for i in existing if i not in inside]
    if _service_managed(plan) and scope.accounts:
        outside = existing
    template, parameters, settings = plan.template, plan.parameters, plan.settings
    if stack_set_updated:
        template, parameters, settings = TemplateDiff(), (), ()
        # INOPERABLE instances and suspended accounts stay held (the plan's notes say why).
        outdated = [
            ObservedInstance(i.account, i.region, "OUTDATED", overrides=i.overrides)
            for i in existing
            if i in inside and (i.account, i.region) not in plan.held
        ]
        marks_all = True
    else:
        marks_all = needs_stack_set_update(plan)
    if marks_all:
        left = [_label(i.account, i.region) for i in outside]
    else:
        left = [_label(o.account, o.region) for o in plan.instances.outdated if o not in outdated]
    if _service_managed(plan) and scope.accounts:
        left = [f"{label} (accounts other than {', '.join(scope.accounts)})" for label in left]
    out = attrs.evolve(
        plan,
        desired=narrowed,
        template=template,
        parameters=parameters,
        settings=settings,
        instances=attrs.evolve(
            plan.instances, add=tuple(add), remove=tuple(remove), outdated=tuple(outdated)
        ),
        scope=scope,
        left_outdated=tuple(dict.fromkeys(left)),
        left_to_create=tuple(left_to_create),
    )
    if not inside:
        # Nothing of this stack set is in the scope: this run leaves it as it is (no UpdateStackSet,
        # so nothing is marked OUTDATED; the instances already OUTDATED stay so).
        note = (
            f"none of its instances is in this run ({scope.text}): left as it is; a deploy without "
            "--accounts/--regions applies its changes"
        )
        return attrs.evolve(
            out,
            action="no change",
            template=TemplateDiff(),
            parameters=(),
            settings=(),
            blockers=(),
            notes=(*plan.notes, note) if plan.changed else plan.notes,
            left_outdated=tuple(_label(o.account, o.region) for o in plan.instances.outdated),
        )
    changed = out.template.changed or out.parameters or out.settings or out.instances.changed
    if plan.action == "update" or stack_set_updated:  # created by an earlier wave: an update now
        out = attrs.evolve(out, action="update" if changed else "no change")
    if needs_stack_set_update(out) and not [i for i in existing if i in inside]:
        reason = (
            f"{desired.name}: its template, parameters or settings change, but {scope.text} names no "
            "deployed instance of it to update them with (UpdateStackSet limited to a subset updates the "
            "instances it names; the instances it would create get the stack set's template as it is): "
            "include a deployed account (with deployment.waves: in the first wave), or deploy without "
            "--accounts/--regions"
        )
        out = attrs.evolve(out, blockers=(*out.blockers, reason))
    return out


def narrow_rollout(plans: Sequence[StackSetPlan], scope: Scope) -> tuple[StackSetPlan, ...]:
    """An environment's plans (replica, primary) limited to ``scope`` (:func:`narrow`), with one
    rule across the two: the primary instance of an account reads that account's replica buckets
    (their names go into the primary template; :func:`stacksets.outputs.verify_replica_outputs`
    checks them before the primary phase), so a run that would create a primary instance where
    the replica instance is neither deployed nor created by the same run is BLOCKED, naming the
    Region to add. SELF_MANAGED only: under SERVICE_MANAGED the accounts are known only once
    CloudFormation has expanded the OUs, and that check reports it then."""
    narrowed = tuple(narrow(p, scope) for p in plans)
    replicas = [(p, n) for p, n in zip(plans, narrowed, strict=True) if p.desired.kind == "replica"]
    if not replicas or _service_managed(replicas[0][0]):
        return narrowed
    whole, part = replicas[0]
    with_replica = {i.account for i in existing_targets(whole)} | {i.account for i in part.instances.add}
    out = []
    for plan in narrowed:
        missing = sorted({i.account for i in plan.instances.add} - with_replica)
        if plan.desired.kind == "primary" and missing:
            region = whole.desired.environment.replica_region
            reason = (
                f"{plan.desired.name}: {scope.text} creates the primary instance of {', '.join(missing)}, "
                f"whose replica instance ({region}) is neither deployed nor created by this run, and the "
                f"primary template needs the replica's buckets: add {region} to --regions (or leave "
                "--regions out), or deploy without --accounts/--regions"
            )
            plan = attrs.evolve(plan, blockers=(*plan.blockers, reason))
        out.append(plan)
    return tuple(out)


def planned_waves(plans: Sequence[StackSetPlan], waves: Sequence[Scope]) -> tuple[StackSetPlan, ...]:
    """``plans`` with each stack set's accounts per wave (for the plan's display)."""
    return tuple(
        attrs.evolve(
            p,
            waves=tuple(
                tuple(i.account for i in p.desired.instances if _wanted(p, wave, i)) for wave in waves
            ),
        )
        for p in plans
    )


def wave_schedule(
    plans: Sequence[StackSetPlan], waves: Sequence[Scope]
) -> tuple[tuple[StackSetPlan, ...], ...]:
    """The plans of each wave, in order (without waves: one wave, ``plans`` as they are).

    The first wave that reaches a stack set's deployed instances carries its template, parameter
    and settings change (UpdateStackSet naming that wave's accounts; a stack set to create is
    created in the first wave that has instances of it); AWS then marks the other instances
    OUTDATED, and each later wave updates its own with UpdateStackInstances (AWS, API reference:
    UpdateStackInstances "updates the parameter values for stack instances for the specified
    accounts, within the specified Amazon Web Services Regions", to the stack set's current
    template, and names no other instance, so none is marked OUTDATED again; a second
    UpdateStackSet with the template would mark every instance OUTDATED once more). Instances no
    longer configured are in no wave: the last wave removes them."""
    if not waves:
        return (tuple(plans),)
    updated: set[str] = set()
    out = []
    for n, wave in enumerate(waves, 1):
        parts = []
        for plan in plans:
            part = narrow(plan, wave, stack_set_updated=plan.desired.name in updated)
            if n == len(waves) and plan.instances.remove and not part.instances.remove:
                # Instances no longer configured belong to no wave: the last wave removes them.
                part = attrs.evolve(
                    part,
                    instances=attrs.evolve(part.instances, remove=plan.instances.remove),
                    action="update",
                )
            if part.changed and (part.action == "create" or needs_stack_set_update(part)):
                updated.add(plan.desired.name)
            parts.append(part)
        out.append(tuple(parts))
    return tuple(out)


class WavesStopped(DeployError):
    """A wave ended with instances that failed within the failure tolerance: deploy stops before
    the next wave."""

    def __init__(
        self, wave: int, waves: Sequence[Scope], failed: Sequence[tuple[str, FailedInstance]]
    ) -> None:
        self.wave = wave
        self.failed = tuple(failed)
        lines = [
            f"wave {wave} of {len(waves)} ({waves[wave - 1].text}) ended with instances that failed within "
            f"the failure tolerance; deploy stopped before wave {wave + 1} ({waves[wave].text}):"
        ]
        lines += [
            f"  {stack_set}: {f.account} {f.region} {f.status}: {f.reason or '(no reason given)'}"
            for stack_set, f in failed
        ]
        done = f"waves 1 to {wave}" if wave > 1 else "wave 1"
        lines.append(
            f"{done} ran; fix the failed instances, then run deploy again: it goes on from there (the "
            "instances already up to date have nothing left to do; the failed ones and the later waves "
            "are updated wave by wave)"
        )
        super().__init__("\n".join(lines))
