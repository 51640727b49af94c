"""``destroy``: delete an environment's stack instances and stack sets, primary first.

Only what the configuration names is deleted: the environment's two stack sets, and in them
only the instances of the configured targets. Instances are deleted with ``RetainStacks=False``
so their stacks go too; the templates give the table and the buckets ``DeletionPolicy: Retain``,
so CloudFormation leaves them (and their data) in place. The command then lists them, per
account and region, with their names (:func:`stacksets.retained.physical_resources`: from the
deployed template's name properties, else :mod:`appstorage.naming`, by resource type): they still
hold data and still cost money. A global table is listed once in every replica Region of the
deployed template (the instance's own Region for ``{"Ref": "AWS::Region"}``, and each literal
Region): each replica is a table that stays, with its data.

What is retained depends on the template the stacks *run*, not on the configured one: the
retained list comes from the deployed stack set template (``DescribeStackSet``), and before
anything is deleted every instance to delete must be CURRENT (an OUTDATED or INOPERABLE
instance's stack may run an older template). If the deployed template has a stateful resource
(:data:`~stacksets.model.STATEFUL_TYPES`: the table, a bucket) without ``DeletionPolicy:
Retain``, or an instance is not CURRENT, ``destroy`` refuses (:class:`DestroyRefused`, exit 1)
before any delete call, in either stack set, naming the resource or instance and the fix:
``deploy`` first so every instance runs the current template (which retains them), then
``destroy``. Refusing is the safer choice over deleting the instances with
``RetainStacks=True``: nothing changes at all, whereas retained-but-orphaned stacks would still
delete the table with them if someone deleted those stacks later.

A stack set that does not exist is reported and skipped. A stack set is deleted (DeleteStackSet)
only once none of its instances is left; if it still has instances the configuration does not
name, or an instance could not be deleted, it is kept and the command says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from .awserrors import error_code
from .errors import DeployError, FailedInstance
from .model import STATEFUL_TYPES, DesiredInstance, DesiredStackSet, ObservedInstance, ObservedStackSet
from .observe import observe_stack_set
from .operations import OperationRunner
from .plan import parse_template_body
from .preflight import operation_groups
from .requests import instances_request
from .retained import physical_resources

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = [
    "RETAINING_POLICIES",
    "DestroyRefused",
    "DestroyedStackSet",
    "RetainedResource",
    "Targets",
    "configured_instances",
    "destroy",
    "destroy_refusals",
    "destroy_targets",
    "destroy_to_json",
    "render_destroy",
    "retained_resources",
]

#: Each stack set with its observed state (None: it does not exist), in deletion order.
Targets = Sequence[tuple[DesiredStackSet, ObservedStackSet | None]]


@attrs.frozen
class RetainedResource:
    """A resource CloudFormation keeps when its stack is deleted (DeletionPolicy Retain)."""

    account: str
    region: str
    logical_id: str
    resource_type: str
    name: str


@attrs.frozen
class DestroyedStackSet:
    stack_set: str
    kind: str
    existed: bool
    deleted_instances: tuple[tuple[str, str], ...] = ()  # (account, region)
    operations: tuple[str, ...] = ()
    stack_set_deleted: bool = False
    kept_reason: str = ""  # why the stack set itself was kept
    foreign_instances: tuple[tuple[str, str], ...] = ()  # instances the configuration does not name
    failed: tuple[FailedInstance, ...] = ()
    retained: tuple[RetainedResource, ...] = ()


#: DeletionPolicy values that keep the resource when its stack is deleted.
RETAINING_POLICIES = frozenset({"Retain", "RetainExceptOnCreate"})


class DestroyRefused(DeployError):
    """Deleting the stacks could delete data: nothing was deleted (exit 1)."""

    def __init__(self, env: str, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = [f"refusing to destroy {env}: deleting the stacks could delete data; nothing was deleted:"]
        lines += [f"  {p}" for p in problems]
        lines.append(
            f"fix: run 'appstorage-deploy deploy --env {env}' first, so every instance is CURRENT and runs "
            "the current template (DeletionPolicy Retain on the table and the buckets), then destroy again"
        )
        super().__init__("\n".join(lines))


def _deployed_resources(observed: ObservedStackSet) -> Mapping[str, Any]:
    resources = parse_template_body(observed.template_body).get("Resources", {})
    return resources if isinstance(resources, Mapping) else {}


def destroy_refusals(desired: DesiredStackSet, observed: ObservedStackSet) -> list[str]:
    """Why deleting ``observed``'s configured instances with their stacks could lose data: a
    stateful resource of the *deployed* template without DeletionPolicy Retain, an instance to
    delete that is not CURRENT (its stack may run an older template), or a deployed template that
    cannot be read. Empty when deleting is safe (or there is nothing to delete)."""
    mine = configured_instances(desired, observed)
    if not mine:
        return []
    problems: list[str] = []
    try:
        resources = _deployed_resources(observed)
    except ValueError as exc:
        return [f"{desired.name}: the deployed template cannot be read ({exc})"]
    for logical_id, resource in sorted(resources.items()):
        rtype = str(resource.get("Type", "")) if isinstance(resource, Mapping) else ""
        policy = resource.get("DeletionPolicy") if isinstance(resource, Mapping) else None
        if rtype in STATEFUL_TYPES and policy not in RETAINING_POLICIES:
            problems.append(
                f"{desired.name}: the deployed template's {logical_id} ({rtype}) has "
                f"DeletionPolicy {policy or 'Delete (the default)'}, not Retain: deleting the stacks would "
                "delete it and its data"
            )
    for i in mine:
        if i.status != "CURRENT":
            state = i.status + (f"/{i.detailed_status}" if i.detailed_status else "")
            problems.append(
                f"{desired.name}: the instance in {i.account} {i.region} is {state}: its stack may run an "
                "older template than the stack set's, whose table or buckets may not be retained"
            )
    return problems


def retained_resources(
    desired: DesiredStackSet, observed: ObservedStackSet, instances: Sequence[tuple[str, str]]
) -> tuple[RetainedResource, ...]:
    """The resources of the *deployed* template (``observed``) with DeletionPolicy Retain, in
    each instance (:func:`destroy_refusals` made sure every deleted instance ran it): a global
    table once per replica Region."""
    resources = _deployed_resources(observed)
    retained = [
        (logical_id, resources[logical_id])
        for logical_id in sorted(resources)
        if isinstance(resources[logical_id], Mapping)
        and resources[logical_id].get("DeletionPolicy") in RETAINING_POLICIES
    ]
    prefix, env = desired.environment.name_prefix, desired.environment.name
    return tuple(
        RetainedResource(owned.account, owned.region, owned.logical_id, owned.resource_type, owned.name)
        for account, region in sorted(instances)
        for logical_id, resource in retained
        for owned in physical_resources(logical_id, resource, account, region, prefix=prefix, env=env)
    )


def destroy_targets(
    cfn: CloudFormationClient, desired: Sequence[DesiredStackSet]
) -> list[tuple[DesiredStackSet, ObservedStackSet | None]]:
    """The ``desired`` stack sets (rollout order) as observed, in deletion order (primary first:
    it references the replica's buckets)."""
    return [(d, observe_stack_set(cfn, d.name, d.call_as, with_overrides=True)) for d in reversed(desired)]


def _by_ou(desired: DesiredStackSet, instance: ObservedInstance) -> bool:
    return desired.permission_model == "SERVICE_MANAGED" and bool(instance.organizational_unit)


def _delete_targets(desired: DesiredStackSet, instances: Sequence[ObservedInstance]) -> list[DesiredInstance]:
    """DeleteStackInstances targets: accounts (SELF_MANAGED) or the instances' OUs (SERVICE_MANAGED)."""
    pairs = {
        (i.organizational_unit if _by_ou(desired, i) else i.account, i.region)
        for i in instances
        if desired.permission_model != "SERVICE_MANAGED" or i.organizational_unit
    }
    return [DesiredInstance(target, region) for target, region in sorted(pairs)]


def configured_instances(desired: DesiredStackSet, observed: ObservedStackSet) -> list[ObservedInstance]:
    """The instances of ``observed`` that the configuration names (the only ones destroy deletes)."""
    return [i for i in observed.instances if _named(desired, i)]


def _named(desired: DesiredStackSet, instance: ObservedInstance) -> bool:
    if _by_ou(desired, instance):
        return instance.organizational_unit in desired.organizational_units and instance.region in {
            i.region for i in desired.instances
        }
    return any(i.account == instance.account and i.region == instance.region for i in desired.instances)


def _settled(
    cfn: CloudFormationClient, runner: OperationRunner, desired: DesiredStackSet, observed: ObservedStackSet
) -> ObservedStackSet | None:
    """``observed`` once the operations already in flight on it (an interrupted run) finished."""
    if not observed.running_operation_ids:
        return observed
    for op in observed.running_operation_ids:
        runner.reporter.info(f"{desired.name}: waiting for operation {op} already in flight")
        runner.wait(desired.name, op)
    return observe_stack_set(cfn, desired.name, desired.call_as, with_overrides=True)


def _destroy_one(
    runner: OperationRunner, desired: DesiredStackSet, current: ObservedStackSet
) -> DestroyedStackSet:
    name = desired.name
    mine = configured_instances(desired, current)
    foreign = tuple((i.account, i.region) for i in current.instances if not _named(desired, i))
    operations: list[str] = []
    failed: list[FailedInstance] = []
    deleted: list[tuple[str, str]] = []
    for targets, regions, _overrides in operation_groups(_delete_targets(desired, mine)):
        # RetainStacks False: the stacks are deleted; DeletionPolicy Retain keeps the data.
        request = {
            **instances_request(desired, "DeleteStackInstances", targets, regions),
            "RetainStacks": False,
        }
        covered = [
            i
            for i in mine
            if i.region in regions and (i.organizational_unit if _by_ou(desired, i) else i.account) in targets
        ]
        result = runner.run(name, "DeleteStackInstances", request, total=len(covered))
        operations.append(result.id)
        op_failed = list(result.failed)
        failed += op_failed
        bad = {(f.account, f.region) for f in op_failed}
        deleted += [(i.account, i.region) for i in covered if (i.account, i.region) not in bad]
    kept_reason = ""
    if foreign:
        kept_reason = "it still has instances the configuration does not name: " + ", ".join(
            f"{a} {r}" for a, r in foreign
        )
    elif failed:
        kept_reason = "some instances could not be deleted (see above)"
    stack_set_deleted = False
    if not kept_reason:
        try:
            runner.delete_stack_set(name)
            stack_set_deleted = True
        except ClientError as exc:
            code = error_code(exc)
            if code == "StackSetNotFoundException":
                stack_set_deleted = True
            elif code == "StackSetNotEmptyException":
                kept_reason = "CloudFormation reports it still has instances (StackSetNotEmptyException)"
            else:
                raise
    return DestroyedStackSet(
        stack_set=name,
        kind=desired.kind,
        existed=True,
        deleted_instances=tuple(deleted),
        operations=tuple(operations),
        stack_set_deleted=stack_set_deleted,
        kept_reason=kept_reason,
        foreign_instances=foreign,
        failed=tuple(failed),
        retained=retained_resources(desired, current, deleted),
    )


def destroy(found: Targets, *, cfn: CloudFormationClient, runner: OperationRunner) -> list[DestroyedStackSet]:
    """Delete the instances (waiting for each operation), then the stack sets, in the order of
    ``found`` (:func:`destroy_targets`: primary first).

    Raises :class:`DestroyRefused` before any delete call when deleting the stacks of either
    stack set could delete data (:func:`destroy_refusals`)."""
    settled = [(d, _settled(cfn, runner, d, o) if o is not None else None) for d, o in found]
    problems = [p for d, o in settled if o is not None for p in destroy_refusals(d, o)]
    if problems:
        raise DestroyRefused(found[0][0].environment.name, problems)
    results: list[DestroyedStackSet] = []
    for desired, observed in settled:
        if observed is None:
            runner.reporter.info(f"{desired.name}: does not exist; nothing to delete")
            results.append(DestroyedStackSet(desired.name, desired.kind, existed=False))
            continue
        results.append(_destroy_one(runner, desired, observed))
    return results


# --------------------------------------------------------------------------- rendering


def render_destroy(env: str, results: Sequence[DestroyedStackSet]) -> str:
    lines: list[str] = []
    for r in results:
        if not r.existed:
            lines.append(f"{r.stack_set}: does not exist, nothing to delete")
            continue
        ops = f" (operation {', '.join(r.operations)})" if r.operations else ""
        lines.append(f"{r.stack_set}: deleted {len(r.deleted_instances)} instance(s) and their stacks{ops}")
        for f in r.failed:
            lines.append(
                f"  NOT deleted: {f.account} {f.region} {f.status}: {f.reason or '(no reason given)'}"
            )
        if r.stack_set_deleted:
            lines.append(f"{r.stack_set}: stack set deleted")
        else:
            lines.append(f"{r.stack_set}: stack set KEPT: {r.kept_reason}")
    retained = [x for r in results for x in r.retained]
    if retained:
        lines.append(
            f"{env}: retained by DeletionPolicy Retain (NOT deleted: they still hold data and cost money; "
            "delete them yourself if you really want them gone):"
        )
        for x in retained:
            lines.append(f"  {x.account} {x.region} {x.resource_type} {x.name}")
    return "\n".join(lines)


def destroy_to_json(results: Sequence[DestroyedStackSet]) -> dict[str, Any]:
    return {
        "stack_sets": [attrs.asdict(r) for r in results],
        "retained": [attrs.asdict(x) for r in results for x in r.retained],
        "complete": all(r.stack_set_deleted or not r.existed for r in results),
    }
