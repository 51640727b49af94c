"""The collaborators the actions on one environment's stack sets are given, wired from a
:class:`~stacksets.session.ClientFactory` (the CLI does this for every command; library callers
and tests can too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from appstorage.config import Config, Environment

from .compat import AWS, Compat
from .desired import desired_stack_sets
from .model import DesiredStackSet
from .operations import OperationRunner, Runtime
from .preflight import TEMPLATE_BODY_LIMIT
from .progress import NullReporter, Reporter
from .session import ClientFactory
from .stacks import InstanceStacks
from .staging import TemplateStager

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = ["Tools", "environment_tools"]


@attrs.frozen
class Tools:
    """One environment's stack sets (rollout order) and what the actions on them are given."""

    env: Environment
    desired: tuple[DesiredStackSet, ...]
    #: CloudFormation in the administration Region, where both stack sets live
    cfn: CloudFormationClient
    runner: OperationRunner
    stacks: InstanceStacks
    stager: TemplateStager


def environment_tools(
    factory: ClientFactory,
    config: Config,
    env: Environment,
    *,
    runtime: Runtime | None = None,
    reporter: Reporter | None = None,
    count_progress: bool = False,
    compat: Compat = AWS,
    template_limit: int = TEMPLATE_BODY_LIMIT,
) -> Tools:
    """The environment's stack sets (built from ``config``) and their collaborators; ``compat``
    says where the endpoint departs from AWS (:mod:`stacksets.compat`)."""
    reporter = reporter or NullReporter()
    desired = desired_stack_sets(config, env)
    cfn = factory.cloudformation(desired[0].region)
    return Tools(
        env=env,
        desired=desired,
        cfn=cfn,
        runner=OperationRunner(
            cfn,
            call_as=env.deployment.call_as,
            runtime=runtime,
            reporter=reporter,
            count_progress=count_progress,
        ),
        stacks=InstanceStacks(
            factory, env.deployment.execution_role_name, compat, workers=env.deployment.read_concurrency
        ),
        stager=TemplateStager(factory, limit=template_limit, reporter=reporter),
    )
