"""Where the endpoint departs from AWS: the one seam for the emulator's deviations.

The deployer is written for AWS. moto (``--local``, and the tests' moto server) differs in ways
that would make it plan a change on every run or miss the instance stacks; each such deviation
is one field of :class:`Compat`, and production code asks that object instead of guessing from
the endpoint. The CLI picks :data:`EMULATOR` for ``--local`` and ``--endpoint-url`` (any endpoint
other than AWS), :data:`AWS` otherwise; library callers and tests pass the one they need.

Deviations met elsewhere are not switched here because the deployer's rule is right on AWS too:
the planner compares a stack set setting only when DescribeStackSet reports it (moto reports no
AutoDeployment), and ListStackInstances' missing OrganizationalUnitId is filled in by the tests.
"""

from __future__ import annotations

import attrs

__all__ = ["AWS", "EMULATOR", "Compat", "for_endpoint"]


@attrs.frozen
class Compat:
    """What the endpoint reports that AWS reports differently (each field: True on AWS)."""

    #: DescribeStackSet reports ManagedExecution as set (moto: always inactive). When False, the
    #: planner does not count "ManagedExecution off" as a change (it would be one on every run).
    reports_managed_execution: bool = True
    #: ListStackInstances' StackId names the instance's stack (moto: a fresh random id matching no
    #: stack, and the stack is named ``StackSet:<name>``, where AWS names it
    #: ``StackSet-<name>-<guid>``). When False, the instance's stack is looked up by name among the
    #: account's stacks (its StackId is not tried); on AWS a StackId that does not resolve means
    #: the instance has no stack.
    resolves_stack_ids: bool = True
    #: DescribeStacks of an instance's stack reports the parameters the stack runs with: the stack
    #: set's, overlaid with the instance's overrides, kept up to date by UpdateStackSet and
    #: UpdateStackInstances, an SSM-typed one as the parameter's name (its value in ResolvedValue).
    #: moto reports an SSM-typed parameter's resolved value as ParameterValue and leaves the stack
    #: with the parameters it was created with when UpdateStackInstances changes the overrides.
    #: When False, a plan reads every instance's overrides with DescribeStackInstance
    #: (:func:`stacksets.observe.read_overrides`).
    reports_instance_parameters: bool = True


#: AWS itself.
AWS = Compat()
#: moto's server.
EMULATOR = Compat(
    reports_managed_execution=False, resolves_stack_ids=False, reports_instance_parameters=False
)


def for_endpoint(endpoint_url: str | None, *, local: bool = False) -> Compat:
    """The deviations to expect: AWS without an endpoint URL, the emulator's otherwise."""
    return EMULATOR if local or endpoint_url is not None else AWS
