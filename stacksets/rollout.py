"""The rollout of one environment: plan both stack sets, then apply the replica phase, then the
primary phase.

* :func:`plan_rollout` reads both stack sets (with each instance's overrides, and the template
  each OUTDATED instance's stack runs) and plans them (:func:`~stacksets.plan.plan_stack_set`);
  with a runner it first waits for operations already in flight (an interrupted rollout).
* :func:`deploy` refuses what the plans block or what would lose data, stops when the instances
  to create would collide with retained resources (:mod:`stacksets.retained`), asks, then applies
  each phase (:func:`apply_phase`): CreateStackSet or UpdateStackSet, then the instance operations
  (:func:`~stacksets.requests.instance_operations`). Before the primary phase, the replica's
  outputs are checked against what the primary template references.

An error that stops :func:`deploy` carries the phases already applied and the one that did not
complete (:func:`~stacksets.errors.stop_context`). Run :func:`~stacksets.preflight.preflight` first:
it refuses what cannot be deployed as configured before any call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs
from botocore.exceptions import ClientError

from .awserrors import error_code, unreadable_reason
from .errors import DataLossRefused, Declined, DeployBlocked, Phase, add_stop_context
from .model import DesiredStackSet, ObservedInstance, ObservedStackSet, Scope, StackSetPlan
from .observe import observe_stack_set, read_overrides
from .operations import Detached, OperationResult, OperationRunner
from .outputs import InstanceKey, StackOutputs, verify_replica_outputs
from .parallel import parallel_map
from .plan import needs_stack_set_update, plan_blocks_deploy, plan_stack_set
from .requests import instance_operations, removal_targets, stack_set_request, stack_set_update_targets
from .retained import check_before_create
from .stacks import InstanceStacks
from .staged import WavesStopped, wave_schedule
from .staging import TemplateStager

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = [
    "DeployResult",
    "RolloutPlan",
    "apply_phase",
    "deploy",
    "phase_of",
    "plan_rollout",
    "with_instance_templates",
]


@attrs.frozen
class RolloutPlan:
    """The plans of an environment's stack sets, in rollout order (replica, primary)."""

    plans: tuple[StackSetPlan, ...]
    #: operations already in flight that planning waited for (an interrupted rollout)
    resumed: tuple[OperationResult, ...] = ()


@attrs.frozen
class DeployResult:
    plans: tuple[StackSetPlan, ...]
    changed: bool = False
    #: the operations this rollout started, in order
    operations: tuple[OperationResult, ...] = ()
    #: the phases whose changes were applied
    applied_phases: tuple[Phase, ...] = ()
    #: the replica's outputs, read before the primary phase (unchanged since: reuse them)
    replica_outputs: Mapping[InstanceKey, StackOutputs] = attrs.field(factory=dict)
    #: ``deploy --detach``: the operation started and not waited for (the rollout stopped there)
    detached: Detached | None = None


def phase_of(desired: DesiredStackSet) -> Phase:
    return Phase(desired.environment.name, desired.kind, desired.name)


# --------------------------------------------------------------------------- plan


def with_instance_templates(
    desired: DesiredStackSet, observed: ObservedStackSet, stacks: InstanceStacks
) -> ObservedStackSet:
    """``observed`` with the template each OUTDATED instance's stack actually runs.

    After a failed UpdateStackSet the stack set already holds the new template ("even if the
    stack set operation fails, the stack set is updated with your changes") while the
    instances not reached still run the old one: the planner diffs the desired template
    against theirs too (:func:`~stacksets.plan.instance_data_loss`), so a retry cannot push a
    replacing template to them without --allow-replacement. Read in the target account and
    region like the outputs (``stacks.workers`` at a time); a template that cannot be read is
    recorded as ``template_error``.
    """
    return attrs.evolve(
        observed,
        instances=tuple(
            parallel_map(
                lambda i: _with_template(desired, i, stacks) if i.status == "OUTDATED" else i,
                observed.instances,
                workers=stacks.workers,
            )
        ),
    )


def _with_template(
    desired: DesiredStackSet, instance: ObservedInstance, stacks: InstanceStacks
) -> ObservedInstance:
    try:
        body = stacks.template_body(desired.name, instance)
    except ClientError as exc:
        reason = unreadable_reason(exc) or f"{exc.operation_name} failed ({error_code(exc)})"
        return attrs.evolve(instance, template_error=reason)
    if body is None:  # no stack (e.g. its creation failed): nothing there to lose
        return instance
    return attrs.evolve(instance, template_body=body)


def _observe(
    cfn: CloudFormationClient, desired: DesiredStackSet, stacks: InstanceStacks
) -> ObservedStackSet | None:
    observed = observe_stack_set(cfn, desired.name, desired.call_as)
    return None if observed is None else read_overrides(cfn, desired, observed, stacks)


def plan_rollout(
    cfn: CloudFormationClient,
    desired: Sequence[DesiredStackSet],
    stacks: InstanceStacks,
    *,
    require_managed_execution: bool = True,
    resume: OperationRunner | None = None,
) -> RolloutPlan:
    """Plans of the ``desired`` stack sets (rollout order), read from ``cfn`` (their administration
    Region's client). ``resume``: first wait, with this runner, for the operations already running
    on each stack set, and plan against the result. ``require_managed_execution``: see
    :func:`~stacksets.plan.plan_stack_set` (off for the emulator: :mod:`stacksets.compat`)."""
    plans: list[StackSetPlan] = []
    resumed: list[OperationResult] = []
    for d in desired:
        # Overrides are only reported per instance: a plan always reads them, even when the
        # configuration has none, so that removing an override (an instance still running with an
        # old value, e.g. an old key ARN) is planned as an update too. read_overrides reads them
        # from each instance's stack (in parallel) where that is conclusive, else with
        # DescribeStackInstance.
        observed = _observe(cfn, d, stacks)
        if resume is not None and observed is not None and observed.running_operation_ids:
            resume.reporter.info(
                f"{d.name}: waiting for {len(observed.running_operation_ids)} operation(s) already in flight"
            )
            resumed += [
                resume.wait(d.name, op, len(observed.instances)) for op in observed.running_operation_ids
            ]
            observed = _observe(cfn, d, stacks)
        if observed is not None:
            observed = with_instance_templates(d, observed, stacks)
        plans.append(plan_stack_set(d, observed, require_managed_execution=require_managed_execution))
    return RolloutPlan(tuple(plans), tuple(resumed))


# --------------------------------------------------------------------------- apply


def apply_phase(
    plan: StackSetPlan, runner: OperationRunner, stager: TemplateStager
) -> tuple[OperationResult, ...]:
    """Apply one stack set's plan: CreateStackSet or UpdateStackSet (when its template, parameters
    or settings change), then its instance operations; returns the operations started."""
    desired = plan.desired
    reporter = runner.reporter
    if not plan.changed:
        reporter.phase(desired.kind, desired.name, "no changes")
        return ()
    reporter.phase(desired.kind, desired.name, plan.action)
    results: list[OperationResult] = []
    updated_all = needs_stack_set_update(plan)
    if plan.action == "create":
        runner.create_stack_set(desired.name, stack_set_request(desired, stager.source(desired)))
    elif updated_all:
        request = stack_set_request(desired, stager.source(desired), update=True)
        # A scoped run (--accounts/--regions, a wave) names the instances it updates.
        request.update(stack_set_update_targets(plan))
        total = len(desired.instances) - len(plan.instances.add)
        results.append(runner.run(desired.name, "UpdateStackSet", request, total=total))
    operations = instance_operations(plan, updated_all=updated_all)
    for op in operations:
        if op.api != "DeleteStackInstances":
            results.append(runner.run(desired.name, op.api, op.request, total=op.instances))
    _, unknown = removal_targets(plan)
    if unknown:
        reporter.info(
            f"{desired.name}: instance(s) in {', '.join(unknown)} are not in a configured OU and "
            "CloudFormation reports no OU for them: left in place"
        )
    for op in operations:
        if op.api == "DeleteStackInstances":
            results.append(runner.run(desired.name, op.api, op.request, total=op.instances))
            reporter.info(
                f"{desired.name}: removed {op.instances} instance(s) no longer configured from the stack "
                f"set; their stacks were retained in {', '.join(op.targets)}"
            )
    return tuple(results)


def deploy(
    plans: Sequence[StackSetPlan],
    *,
    cfn: CloudFormationClient,
    runner: OperationRunner,
    stager: TemplateStager,
    stacks: InstanceStacks,
    allow_replacement: bool = False,
    confirm: Callable[[Sequence[StackSetPlan]], bool] | None = None,
    waves: Sequence[Scope] = (),
) -> DeployResult:
    """Check and roll out ``plans`` (from :func:`plan_rollout`, rollout order). Raises
    :class:`~stacksets.errors.DeployError` subclasses; nothing is changed before ``confirm``
    returns True (None: no question). ``waves``: roll out wave by wave
    (:func:`~stacksets.staged.wave_schedule`), both phases in each wave, and stop before the next
    wave when instances failed within the failure tolerance (:class:`~stacksets.staged.WavesStopped`)."""
    runner.restart_deadline()
    reporter = runner.reporter
    blocked = plan_blocks_deploy(plans, allow_replacement)
    if blocked:
        raise DataLossRefused(blocked)
    if not any(p.changed for p in plans):
        return DeployResult(plans=tuple(plans))
    schedule = wave_schedule(plans, waves)
    wave_blockers = [b for parts in schedule for p in parts for b in p.blockers]
    if waves and wave_blockers:
        raise DeployBlocked("refusing to deploy these waves:\n" + "\n".join(f"  {b}" for b in wave_blockers))
    # Both phases, before the first mutating call (and before asking): names the new instances
    # would take that an earlier destroy left behind (reads only when instances are created).
    check_before_create(plans, stacks.factory, stacks.role_name, reporter, workers=stacks.workers)
    if confirm is not None and not confirm(plans):
        raise Declined("deploy cancelled: nothing was changed")
    results: list[OperationResult] = []
    applied: list[Phase] = []
    replica_outputs: dict[InstanceKey, StackOutputs] = {}
    for n, parts in enumerate(schedule, 1):
        if waves:
            reporter.info(f"wave {n} of {len(schedule)}: {waves[n - 1].text}")
        by_kind = {p.desired.kind: p.desired for p in parts}
        done: list[OperationResult] = []
        for plan in parts:
            try:
                if plan.desired.kind == "primary" and plan.changed:
                    replica_outputs.update(
                        verify_replica_outputs(cfn, by_kind["replica"], plan.desired, stacks, reporter)
                    )
                done += apply_phase(plan, runner, stager)
            except Detached as started:
                # deploy --detach: the first operation pending was started; a later deploy resumes
                # (plan_rollout waits for it), and the phases before it stay applied.
                return DeployResult(
                    plans=tuple(plans),
                    changed=True,
                    operations=tuple(results + done),
                    applied_phases=tuple(applied),
                    detached=started,
                )
            except BaseException as exc:
                if waves:
                    reporter.info(f"wave {n} of {len(schedule)} did not complete; the waves before it ran")
                add_stop_context(exc, applied_phases=tuple(applied), stopped_phase=phase_of(plan.desired))
                raise
            if plan.changed and phase_of(plan.desired) not in applied:
                applied.append(phase_of(plan.desired))
        results += done
        failed = [(r.stack_set, f) for r in done for f in r.failed]
        if failed and n < len(schedule):
            stopped = WavesStopped(n, waves, failed)
            add_stop_context(stopped, applied_phases=tuple(applied))
            raise stopped
    return DeployResult(
        plans=tuple(plans),
        changed=True,
        operations=tuple(results),
        applied_phases=tuple(applied),
        replica_outputs=replica_outputs,
    )
