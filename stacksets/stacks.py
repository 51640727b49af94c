"""Reads of a stack instance's own stack, in its account and Region.

A stack instance is a stack in a member account. Its outputs, the parameters and the template it
actually runs are read there, with the execution role assumed in that account (none in the
caller's own account): :class:`InstanceStacks` makes those clients and finds the stack. (Drift is
read from the administration account: :mod:`stacksets.drift`.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .awserrors import error_code
from .compat import AWS, Compat
from .model import ObservedInstance
from .session import ClientFactory

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = ["InstanceStacks"]


class InstanceStacks:
    """The stacks of stack instances, read in each instance's account and Region with the role
    ``role_name`` (the stack set execution role: it exists in every target account).

    ``workers``: how many of these reads (and of the per-instance reads in the administration
    account that stand in for them) run at once (:func:`~stacksets.parallel.parallel_map`; the
    configuration's ``deployment.read_concurrency``)."""

    def __init__(
        self, factory: ClientFactory, role_name: str, compat: Compat = AWS, *, workers: int = 1
    ) -> None:
        self.factory = factory
        self.role_name = role_name
        self.compat = compat
        self.workers = workers

    def client(self, account: str, region: str) -> CloudFormationClient:
        """CloudFormation in the instance's account and Region."""
        return self.factory.cloudformation(region, account, self.role_name)

    def stack(self, stack_set: str, instance: ObservedInstance) -> Mapping[str, Any] | None:
        """The instance's stack (DescribeStacks), None when it has none (e.g. its creation failed)."""
        cfn = self.client(instance.account, instance.region)
        # The emulator's StackIds never resolve (Compat.resolves_stack_ids): asking by id there
        # would only add a failed call per instance before the lookup by name.
        if instance.stack_id and self.compat.resolves_stack_ids:
            try:
                stacks = cfn.describe_stacks(StackName=instance.stack_id)["Stacks"]
                if stacks:
                    return dict(stacks[0])
            except ClientError as exc:
                if error_code(exc) != "ValidationError":
                    raise
        if self.compat.resolves_stack_ids:
            return None
        return self._stack_by_name(cfn, stack_set)

    @staticmethod
    def _stack_by_name(cfn: CloudFormationClient, stack_set: str) -> Mapping[str, Any] | None:
        """The emulator's instance stack, by name (see :attr:`Compat.resolves_stack_ids`)."""
        paginator = cfn.get_paginator("describe_stacks")
        for page in paginator.paginate():
            for stack in page.get("Stacks", []):
                name = stack.get("StackName", "")
                if stack.get("StackStatus") == "DELETE_COMPLETE":
                    continue
                if name.startswith(f"StackSet-{stack_set}-") or name == f"StackSet:{stack_set}":
                    return dict(stack)
        return None

    def parameters(self, stack_set: str, instance: ObservedInstance) -> dict[str, str] | None:
        """The parameters the instance's stack runs with (DescribeStacks), by key; None when it has
        no stack. SSM-typed parameters read as the parameter's name (ResolvedValue is not used),
        NoEcho ones as ``****``. Raises ClientError when the stack cannot be read."""
        stack = self.stack(stack_set, instance)
        if stack is None:
            return None
        return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}

    def template_body(self, stack_set: str, instance: ObservedInstance) -> str | None:
        """The template the instance's stack runs (GetTemplate, Original stage), as text; None when
        the instance has no stack. Raises ClientError when it cannot be read."""
        stack = self.stack(stack_set, instance)
        if stack is None:
            return None
        cfn = self.client(instance.account, instance.region)
        body: Any = cfn.get_template(StackName=str(stack.get("StackId", "")), TemplateStage="Original")[
            "TemplateBody"
        ]
        # botocore decodes a JSON TemplateBody into a dict; a YAML one stays a string.
        return body if isinstance(body, str) else json.dumps(body)
