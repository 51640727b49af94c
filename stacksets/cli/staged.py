"""The staged-rollout parts of the CLI: ``cancel`` (StopStackSetOperation on what runs) and what
``deploy --detach`` does and says (:func:`detach_waits`, :func:`detached_report`)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..awserrors import error_code
from ..observe import running_operations
from ..planview import plan_to_json
from ..rollout import DeployResult
from ..toolkit import Tools
from .context import EXIT_OK, Context
from .output import print_json

__all__ = ["cmd_cancel", "detach_waits", "detached_report", "running_on"]


def running_on(tools: Tools) -> list[tuple[str, str]]:
    """(stack set, operation id) of every operation running on the environment's stack sets."""
    found = []
    for desired in tools.desired:
        try:
            found += [
                (desired.name, op) for op in running_operations(tools.cfn, desired.name, desired.call_as)
            ]
        except ClientError as exc:
            if error_code(exc) != "StackSetNotFoundException":
                raise
    return found


def detach_waits(ctx: Context, tools: Tools) -> bool:
    """``deploy --detach``: the runner starts the next operation without waiting for it; when an
    operation is still running on the environment's stack sets nothing is started (True)."""
    tools.runner.detach = bool(ctx.args.detach)
    if not ctx.args.detach:
        return False
    env = tools.env.name
    running = running_on(tools)
    for stack_set, op in running:
        ctx.out.print(
            f"{env}: operation {op} on stack set {stack_set} is still running: nothing started (--detach); "
            f"follow it with 'appstorage-deploy status --env {env}', then deploy again",
            markup=False,
            highlight=False,
        )
    return bool(running)


def detached_report(ctx: Context, env: str, deployed: DeployResult) -> dict[str, Any]:
    """What ``deploy --detach`` says about the operation it started, and its JSON."""
    assert deployed.detached is not None
    started = deployed.detached.operation
    if not ctx.args.json:
        ctx.out.print(
            f"{env}: started operation {started.operation_id} ({deployed.detached.api}) on stack set "
            f"{started.stack_set} and did not wait for it (--detach). Follow it with 'appstorage-deploy "
            f"status --env {env}'; 'appstorage-deploy deploy --env {env}' waits for it and goes on with "
            "the rollout (another --detach starts the next operation once this one ended)",
            markup=False,
            highlight=False,
        )
    return {
        "changed": True,
        "operations": [r.id for r in deployed.operations],
        "detached": {
            "stack_set": started.stack_set,
            "operation": started.operation_id,
            "api": deployed.detached.api,
        },
        "plan": plan_to_json(deployed.plans),
    }


def cmd_cancel(ctx: Context) -> int:
    """StopStackSetOperation on every operation running on the environment's stack sets, then wait
    until each ended (STOPPED, or how it ended first). Exit 0, also when nothing runs (one line)."""
    result: dict[str, Any] = {}
    for env in ctx.environments:
        tools = ctx.tools(env)
        stopped = []
        for stack_set, op in running_on(tools):
            status = tools.runner.stop(stack_set, op)
            stopped.append({"stack_set": stack_set, "operation": op, "status": status})
            if not ctx.args.json:
                ctx.out.print(f"{env.name}: operation {op} on stack set {stack_set}: {status}", markup=False)
        result[env.name] = stopped
        if ctx.args.json:
            continue
        if stopped:
            ctx.out.print(
                f"{env.name}: the instances the stopped operation(s) had not reached are left as they were "
                f"(OUTDATED after a stack set update): 'appstorage-deploy deploy --env {env.name}' finishes "
                "the rollout",
                markup=False,
            )
        else:
            ctx.out.print(
                f"{env.name}: no operation is running on its stack sets: nothing to cancel", markup=False
            )
    if ctx.args.json:
        print_json(ctx, result)
    return EXIT_OK
