"""The outputs of every stack instance, and the check that the replica's outputs are what the
primary template expects.

Outputs are read in each instance's account and Region (:class:`~stacksets.stacks.InstanceStacks`),
``stacks.workers`` at a time (:func:`~stacksets.parallel.parallel_map`).
An instance whose outputs cannot be read there (the execution role cannot be assumed, or
DescribeStacks is denied: :func:`~stacksets.awserrors.unreadable_reason`) is listed with an
``error`` and status NOT READABLE; the others are still read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from appstorage.naming import Purpose, bucket_arn_for_region, bucket_name_for_region, output_name

from .awserrors import unreadable_reason
from .errors import ReplicaMismatch
from .model import DesiredStackSet, ObservedInstance
from .observe import observe_stack_set
from .parallel import parallel_map
from .progress import NullReporter, Reporter
from .session import partition_of
from .stacks import InstanceStacks

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = [
    "UNREADABLE_HINT",
    "InstanceKey",
    "StackOutputs",
    "collect_outputs",
    "instance_outputs",
    "outputs_to_json",
    "verify_replica_outputs",
]

#: What to do about outputs that could not be read in a target account.
UNREADABLE_HINT = (
    "set deployment.execution_role_name to a role this caller can assume in those accounts (its trust "
    "policy must allow the caller's account; it needs cloudformation:DescribeStacks and GetTemplate), "
    "then run the command again"
)

#: An instance by (account, Region).
InstanceKey = tuple[str, str]


@attrs.frozen
class StackOutputs:
    stack_set: str
    kind: str
    account: str
    region: str
    stack_id: str
    status: str
    outputs: Mapping[str, str]
    #: Why the outputs could not be read ("not readable: ..."); empty when they were.
    error: str = ""


def outputs_to_json(project: str, env: str, outputs: Sequence[StackOutputs]) -> dict[str, Any]:
    """The outputs file: every output of every instance, grouped by stack set."""
    stack_sets: dict[str, dict[str, Any]] = {}
    for o in outputs:
        entry = stack_sets.setdefault(o.stack_set, {"name": o.stack_set, "kind": o.kind, "instances": []})
        instance: dict[str, Any] = {
            "account": o.account,
            "region": o.region,
            "stack_id": o.stack_id,
            "status": o.status,
            "outputs": dict(sorted(o.outputs.items())),
        }
        if o.error:
            instance["error"] = o.error
        entry["instances"].append(instance)
    return {"project": project, "environment": env, "stack_sets": list(stack_sets.values())}


def instance_outputs(
    stacks: InstanceStacks, desired: DesiredStackSet, instance: ObservedInstance
) -> StackOutputs:
    """One instance's outputs (status NOT FOUND when it has no stack). Raises ClientError."""
    stack = stacks.stack(desired.name, instance) or {}
    return StackOutputs(
        stack_set=desired.name,
        kind=desired.kind,
        account=instance.account,
        region=instance.region,
        stack_id=str(stack.get("StackId", instance.stack_id)),
        status=str(stack.get("StackStatus", "NOT FOUND")),
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
    )


def collect_outputs(
    cfn: CloudFormationClient,
    desired: Sequence[DesiredStackSet],
    stacks: InstanceStacks,
    *,
    replica_outputs: Mapping[InstanceKey, StackOutputs] | None = None,
) -> list[StackOutputs]:
    """Every output of every instance of the ``desired`` stack sets (read from ``cfn``, their
    administration Region's client). ``replica_outputs``: the replica's outputs already read by
    :func:`verify_replica_outputs` (the replica does not change in the primary phase): reused."""
    known = replica_outputs or {}
    observed_sets = [(d, observe_stack_set(cfn, d.name, d.call_as)) for d in desired]
    todo = [(d, i) for d, observed in observed_sets for i in (observed.instances if observed else ())]

    def one(item: tuple[DesiredStackSet, ObservedInstance]) -> StackOutputs:
        d, instance = item
        verified = known.get((instance.account, instance.region))
        if d.kind == "replica" and verified is not None:
            return verified
        try:
            return instance_outputs(stacks, d, instance)
        except ClientError as exc:
            reason = unreadable_reason(exc)
            if reason is None:
                raise
            return StackOutputs(
                stack_set=d.name,
                kind=d.kind,
                account=instance.account,
                region=instance.region,
                stack_id=instance.stack_id,
                status="NOT READABLE",
                outputs={},
                error=f"not readable: {reason}",
            )

    return parallel_map(one, todo, workers=stacks.workers)


def _expected_replica_outputs(replica: DesiredStackSet, account: str) -> dict[str, str]:
    """The replica bucket outputs the primary template relies on, in ``account``."""
    env = replica.environment
    region = env.replica_region
    expected = {}
    for purpose in (Purpose.FRONTEND_BACKUP, Purpose.IMAGES_BACKUP):
        name = bucket_name_for_region(env.name_prefix, env.name, purpose, account, region)
        expected[output_name(purpose, "Name")] = name
        expected[output_name(purpose, "Arn")] = bucket_arn_for_region(partition_of(region), name)
    return expected


def verify_replica_outputs(
    cfn: CloudFormationClient,
    replica: DesiredStackSet,
    primary: DesiredStackSet,
    stacks: InstanceStacks,
    reporter: Reporter | None = None,
) -> dict[InstanceKey, StackOutputs]:
    """Check that the replica buckets are named as the primary template expects, in every account
    the primary stack set targets (SERVICE_MANAGED: the accounts CloudFormation expanded the OUs to,
    where their outputs are readable); raises :class:`~stacksets.errors.ReplicaMismatch`. Returns
    the outputs read, by instance."""
    reporter = reporter or NullReporter()
    region = replica.environment.replica_region
    observed = observe_stack_set(cfn, replica.name, replica.call_as)
    by_account = {i.account: i for i in (observed.instances if observed else ())}
    problems: list[str] = []
    service_managed = primary.permission_model == "SERVICE_MANAGED"
    if service_managed:
        # OU targets: the accounts are the ones CloudFormation expanded the OUs to.
        accounts = sorted(by_account)
        if not accounts:
            problems.append(f"no replica instance in {region} in the target OUs")
    else:
        accounts = sorted({i.account for i in primary.instances})
    verified: dict[InstanceKey, StackOutputs] = {}
    unreadable: list[str] = []
    to_read = [
        by_account[a]
        for a in accounts
        if a in by_account and (not service_managed or by_account[a].status == "CURRENT")
    ]

    def read(instance: ObservedInstance) -> StackOutputs | None:
        if not service_managed:
            return instance_outputs(stacks, replica, instance)
        # The member accounts may have no role this deployer can assume (the stacksets-exec
        # role trusts only the StackSets service): check the outputs where readable.
        try:
            return instance_outputs(stacks, replica, instance)
        except ClientError:
            return None

    read_outputs = dict(
        zip([i.account for i in to_read], parallel_map(read, to_read, workers=stacks.workers), strict=True)
    )
    for account in accounts:
        instance = by_account.get(account)
        if instance is None:
            problems.append(f"{account}: no replica instance in {region}")
            continue
        found: StackOutputs | None
        if service_managed:
            if instance.status != "CURRENT":
                problems.append(f"{account}: replica instance is {instance.status}")
                continue
            found = read_outputs[account]
            if found is None or found.status == "NOT FOUND":
                unreadable.append(account)
                continue
        else:
            found = read_outputs[account]
            assert found is not None  # raised instead
        verified[(instance.account, instance.region)] = found
        for key, value in _expected_replica_outputs(replica, account).items():
            if found.outputs.get(key) != value:
                problems.append(f"{account}: {key} is {found.outputs.get(key)!r}, expected {value!r}")
    if unreadable:
        reporter.info(
            f"replica outputs not readable in {', '.join(unreadable)} (role "
            f"{stacks.role_name}): checked their instance status only"
        )
    if problems:
        raise ReplicaMismatch(
            "the replica outputs do not match what the primary template references; the primary "
            "phase was not started:\n  " + "\n  ".join(problems)
        )
    return verified
