"""Every command of ``appstorage-deploy``: one handler each, registered in :data:`COMMANDS`.

A handler reads the options and prints; the work is done by the actions (:mod:`stacksets.rollout`,
:mod:`stacksets.outputs`, :mod:`stacksets.drift`, :mod:`stacksets.destroy`,
:mod:`stacksets.drcheck`), which take plain
arguments from the environment's :class:`~stacksets.toolkit.Tools`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs

from appstorage.config import Environment

from ..destroy import (
    DestroyRefused,
    Targets,
    configured_instances,
    destroy,
    destroy_refusals,
    destroy_targets,
    destroy_to_json,
    render_destroy,
)
from ..drcheck.reader import dr_check
from ..drcheck.render import read_hints, render_dr_check, report_to_json, summary_line
from ..drift import detect_drift, drift_to_json, render_drift
from ..errors import Declined, Phase, PreflightError, add_stop_context, stop_context
from ..model import Scope, StackSetPlan
from ..observe import observe_stack_set
from ..operations import OperationResult
from ..outputs import collect_outputs
from ..planview import instance_region, plan_to_json, render_plan
from ..preflight import preflight
from ..rollout import deploy, plan_rollout
from ..staged import narrow_rollout, planned_waves, wave_scopes
from ..toolkit import Tools
from .context import EXIT_CHANGES, EXIT_FAILED, EXIT_OK, Context
from .local import cmd_local
from .markdown import dr_check_markdown, drift_markdown, outputs_markdown, plan_markdown, status_markdown
from .output import fitted_table, print_json, print_table, write_outputs
from .staged import cmd_cancel, detach_waits, detached_report

__all__ = [
    "COMMANDS",
    "cmd_deploy",
    "cmd_destroy",
    "cmd_dr_check",
    "cmd_drift",
    "cmd_outputs",
    "cmd_plan",
    "cmd_status",
]


def _plan(ctx: Context, tools: Tools, *, resume: bool = False) -> Any:
    return plan_rollout(
        tools.cfn,
        tools.desired,
        tools.stacks,
        require_managed_execution=ctx.compat.reports_managed_execution,
        resume=tools.runner if resume else None,
    )


def _staged(ctx: Context, plans: Sequence[StackSetPlan], env: Environment) -> tuple[StackSetPlan, ...]:
    """``plans`` limited to the run's subset (``--accounts``/``--regions``), if any; otherwise
    with the environment's waves (``deployment.waves``) to show."""
    scope = ctx.scope
    if scope is not None:
        return narrow_rollout(plans, scope)
    return planned_waves(plans, _waves(ctx, env)) if _waves(ctx, env) else tuple(plans)


def _waves(ctx: Context, env: Environment) -> tuple[Scope, ...]:
    """The waves a deploy of ``env`` runs: none with --accounts/--regions (one run on that subset)."""
    return () if ctx.scope is not None else wave_scopes(env)


def cmd_plan(ctx: Context) -> int:
    """Exit 0; with ``--detailed-exitcode`` 0 without changes and 2 (:data:`EXIT_CHANGES`) with
    changes (a BLOCKED plan is a plan with changes too; deploy refuses it)."""
    result: dict[str, Any] = {}
    plans_by_env = {}
    for env in ctx.environments:
        plans = _staged(ctx, _plan(ctx, ctx.tools(env)).plans, env)
        plans_by_env[env.name] = plans
        if ctx.format == "json":
            result[env.name] = plan_to_json(plans)
        elif ctx.format == "text":
            ctx.out.print(f"[bold]{env.name}[/bold]")
            ctx.out.print(render_plan(plans), markup=False, highlight=False)
            if not any(p.changed for p in plans):
                ctx.out.print("no changes")
    if ctx.format == "json":
        print_json(ctx, result)
    elif ctx.format == "markdown":
        ctx.out.print(plan_markdown(plans_by_env), markup=False, highlight=False)
    changed = any(p.changed for plans in plans_by_env.values() for p in plans)
    return EXIT_CHANGES if ctx.args.detailed_exitcode and changed else EXIT_OK


def _in_order(results: Sequence[OperationResult]) -> Iterator[OperationResult]:
    """The operations in the order they ended: those each one waited for first."""
    for r in results:
        yield from _in_order(r.waited)
        yield r


def _partial_failures(ctx: Context, results: Sequence[OperationResult]) -> list[dict[str, str]]:
    """Instances that FAILED inside operations that SUCCEEDED within their failure tolerance:
    the rollout went on (the tolerance allows it), but the user is told where and the exit is 1."""
    rows = []
    for r in _in_order(results):
        for f in r.failed:
            ctx.err.print(
                f"warning: {r.stack_set}: operation {r.id} succeeded within its failure tolerance but "
                f"{f.account} {f.region} is {f.status}: {f.reason or '(no reason given)'}",
                markup=False,
            )
            rows.append({"stack_set": r.stack_set, "operation": r.id, **attrs.asdict(f)})
    return rows


def cmd_deploy(ctx: Context) -> int:
    """Exit 0 when the rollout succeeded, 1 when it failed or instances failed within the failure
    tolerance. Outputs are read only after a rollout that changed something (not with
    ``--no-outputs``; a deploy without changes leaves the outputs file as it is and says so in
    one line, its JSON "outputs" is null). Outputs that could not be read after a successful
    rollout (the execution role cannot be assumed in a member account) do not fail the deploy:
    exit 0, each such instance is printed as a warning with how to fix it, and outputs.json lists
    it with an "error"."""
    result: dict[str, Any] = {}
    partial = False
    every = [ctx.tools(env) for env in ctx.environments]
    for tools in every:
        # Before any API call: what cannot be deployed as configured is exit 2 (PreflightError).
        errors, warnings = preflight(tools.env, tools.desired, ctx.template_limit)
        if errors:
            raise PreflightError(errors, str(ctx.config.source))
        for warning in warnings:
            ctx.err.print(f"warning: {warning}", markup=False)
    applied: tuple[Phase, ...] = ()
    for tools in every:
        env = tools.env
        try:
            if detach_waits(ctx, tools):
                continue
            planned = _plan(ctx, tools, resume=True)
            plans = _staged(ctx, planned.plans, env)
            if not ctx.args.json:
                ctx.out.print(f"[bold]{env.name}[/bold]")
                ctx.out.print(render_plan(plans), markup=False, highlight=False)
            deployed = deploy(
                plans,
                cfn=tools.cfn,
                runner=tools.runner,
                stager=tools.stager,
                stacks=tools.stacks,
                allow_replacement=ctx.args.allow_replacement,
                confirm=ctx.confirm,
                waves=_waves(ctx, env),
            )
            applied += deployed.applied_phases
            if deployed.detached is not None:
                result[env.name] = detached_report(ctx, env.name, deployed)
                continue
            if not deployed.changed and not ctx.args.json:
                ctx.out.print(f"{env.name}: no changes")
            # Outputs are off the critical path (each stack also publishes them as SSM parameters
            # in its account): read only after a rollout that changed something, not with
            # --no-outputs; the outputs command reads them at any time.
            skipped = "--no-outputs" if ctx.args.no_outputs else None if deployed.changed else "no changes"
            outputs = (
                None
                if skipped
                else collect_outputs(
                    tools.cfn, tools.desired, tools.stacks, replica_outputs=deployed.replica_outputs
                )
            )
        except BaseException as exc:
            # What an earlier environment applied stays applied too.
            add_stop_context(exc, applied_phases=(*applied, *stop_context(exc).applied_phases))
            raise
        if outputs is None:
            ctx.err.print(
                f"{env.name}: outputs not read ({skipped}): {ctx.outputs_file(env)} left as it is "
                "('appstorage-deploy outputs' reads them)",
                markup=False,
            )
        data = None if outputs is None else write_outputs(ctx, env, outputs)
        result[env.name] = {
            "changed": deployed.changed,
            "operations": [r.id for r in deployed.operations],
            "plan": plan_to_json(plans),
            "outputs": data,
            "outputs_file": str(ctx.outputs_file(env)),
            "failed_instances": _partial_failures(ctx, [*planned.resumed, *deployed.operations]),
        }
        partial = partial or bool(result[env.name]["failed_instances"])
    if ctx.args.json:
        print_json(ctx, result)
    if partial:
        ctx.err.print(
            "deploy finished, but some instances failed (listed above): fix them and deploy again",
            markup=False,
        )
        return EXIT_FAILED
    return EXIT_OK


_STATUS_COLUMNS = (
    "stack set",
    "deploys to",
    "account",
    "region",
    "status",
    "detailed status",
    "drift",
    "reason",
)


def cmd_status(ctx: Context) -> int:
    """Every stack set of the configuration, with every instance: a stack set that is not deployed
    or has no instances has one row saying so."""
    result: dict[str, Any] = {}
    for env in ctx.environments:
        tools = ctx.tools(env)
        table_rows: list[tuple[str, ...]] = []
        rows: list[dict[str, Any]] = []
        found = [(d, observe_stack_set(tools.cfn, d.name, d.call_as)) for d in tools.desired]
        for desired, observed in found:
            region = instance_region(desired)
            if observed is None:
                table_rows.append((desired.name, region, "-", "-", "NOT DEPLOYED", "", "", ""))
                rows.append(
                    {
                        "stack_set": desired.name,
                        "deploys_to": region,
                        "status": "NOT DEPLOYED",
                        "instances": [],
                    }
                )
                continue
            if not observed.instances:
                table_rows.append((desired.name, region, "-", "-", "NO INSTANCES", "", "", ""))
            instances = []
            for i in observed.instances:
                table_rows.append(
                    (
                        desired.name,
                        region,
                        i.account,
                        i.region,
                        i.status,
                        i.detailed_status,
                        i.drift_status,
                        i.reason,
                    )
                )
                instances.append(
                    attrs.asdict(i, filter=lambda a, _: a.name not in ("template_body", "template_error"))
                )
            rows.append(
                {
                    "stack_set": desired.name,
                    "deploys_to": region,
                    "status": observed.status if observed.instances else f"{observed.status}, NO INSTANCES",
                    "running_operations": list(observed.running_operation_ids),
                    "instances": instances,
                }
            )
        result[env.name] = rows
        if ctx.format == "text":
            title = f"{env.name} stack instances"
            print_table(ctx.out, fitted_table(title, _STATUS_COLUMNS, table_rows, ctx.out.width))
    if ctx.format == "json":
        print_json(ctx, result)
    elif ctx.format == "markdown":
        ctx.out.print(status_markdown(result), markup=False, highlight=False)
    return EXIT_OK


def cmd_outputs(ctx: Context) -> int:
    """Exit 1 when some instance's outputs could not be read (the file is still written, with the
    readable ones and an "error" for the others): reading them is this command's whole job."""
    result = {}
    collected = {}
    unreadable = False
    for env in ctx.environments:
        tools = ctx.tools(env)
        outputs = collect_outputs(tools.cfn, tools.desired, tools.stacks)
        unreadable = unreadable or any(o.error for o in outputs)
        result[env.name] = write_outputs(ctx, env, outputs)
        collected[env.name] = outputs
    if ctx.format == "json":
        print_json(ctx, result)
    elif ctx.format == "markdown":
        ctx.out.print(outputs_markdown(collected), markup=False, highlight=False)
    return EXIT_FAILED if unreadable else EXIT_OK


def cmd_drift(ctx: Context) -> int:
    """Exit 0 in sync, 1 drift found, not checkable, or a stack set missing (see
    :mod:`stacksets.drift`)."""
    result: dict[str, Any] = {}
    by_env = {}
    clean = True
    for env in ctx.environments:
        tools = ctx.tools(env)
        reports = detect_drift(
            tools.desired, cfn=tools.cfn, runner=tools.runner, workers=tools.env.deployment.read_concurrency
        )
        by_env[env.name] = reports
        clean = clean and all(r.clean for r in reports)
        if ctx.format == "json":
            result[env.name] = drift_to_json(reports)
        elif ctx.format == "text":
            ctx.out.print(f"[bold]{env.name}[/bold]")
            ctx.out.print(render_drift(env.name, reports), markup=False, highlight=False)
    if ctx.format == "json":
        print_json(ctx, result)
    elif ctx.format == "markdown":
        ctx.out.print(drift_markdown(by_env), markup=False, highlight=False)
    return EXIT_OK if clean else EXIT_FAILED


def _describe_destroy(found: Targets) -> list[str]:
    lines = []
    for desired, observed in found:
        if observed is None:
            lines.append(f"  {desired.name}: does not exist")
        else:
            where = ", ".join(f"{i.account} {i.region}" for i in configured_instances(desired, observed))
            lines.append(f"  {desired.name}: delete stack set and instance(s) {where or '(none)'}")
    return lines


def cmd_destroy(ctx: Context) -> int:
    """Exit 0 everything named is gone, 1 something was kept or failed, 2 not confirmed (no TTY:
    refused before any call, :func:`stacksets.cli.app.main`). A local emulator asks like AWS."""
    confirmed = ctx.args.yes
    result: dict[str, Any] = {}
    complete = True
    for env in ctx.environments:
        tools = ctx.tools(env)
        found = destroy_targets(tools.cfn, tools.desired)
        # Refused before the prompt when already known (stack sets with operations in flight are
        # checked again by destroy() once those finished).
        problems = [
            p
            for d, o in found
            if o is not None and not o.running_operation_ids
            for p in destroy_refusals(d, o)
        ]
        if problems:
            raise DestroyRefused(env.name, problems)
        if not confirmed:
            ctx.err.print(f"destroy {env.name}:\n" + "\n".join(_describe_destroy(found)), markup=False)
            ctx.err.print("the table and the buckets are retained (DeletionPolicy Retain)", markup=False)
            answer = ctx.confirm_input(f"Type the environment name ({env.name}) to destroy it: ")
            if answer.strip() != env.name:
                raise Declined(f"destroy {env.name} cancelled: nothing was deleted")
        results = destroy(found, cfn=tools.cfn, runner=tools.runner)
        complete = complete and all(r.stack_set_deleted or not r.existed for r in results)
        if ctx.args.json:
            result[env.name] = destroy_to_json(results)
        else:
            ctx.out.print(f"[bold]{env.name}[/bold]")
            ctx.out.print(render_destroy(env.name, results), markup=False, highlight=False)
    if ctx.args.json:
        print_json(ctx, result)
    return EXIT_OK if complete else EXIT_FAILED


def cmd_dr_check(ctx: Context) -> int:
    """Exit 0 when every check is ready (or off by configuration), 1 otherwise (see
    :mod:`stacksets.drcheck`)."""
    progress = ctx.reporter.info if ctx.reporter.enabled else None  # a spinner's text, not a log line
    reports = [dr_check(ctx.factory, ctx.config, env, progress=progress) for env in ctx.environments]
    ctx.reporter.close()
    if ctx.format == "json":
        print_json(ctx, {r.environment: report_to_json(r) for r in reports})
    elif ctx.format == "markdown":
        ctx.out.print(dr_check_markdown(reports), markup=False, highlight=False)
    else:
        ctx.out.print(render_dr_check(reports))
        for report in reports:
            ctx.out.print(summary_line(report), markup=False, highlight=False)
    for hint in read_hints(reports):
        ctx.err.print(hint, markup=False)
    return EXIT_OK if all(r.ready for r in reports) else EXIT_FAILED


#: name -> (handler, help).
COMMANDS: Mapping[str, tuple[Callable[[Context], int], str]] = MappingProxyType(
    {
        "plan": (cmd_plan, "show what deploy would change (template, parameters, instances)"),
        "deploy": (
            cmd_deploy,
            "roll the replica then the primary stack set out and, when it changed something, collect "
            "outputs (--no-outputs: not; outputs that cannot be read in a member account are a warning, "
            "not a failure)",
        ),
        "cancel": (
            cmd_cancel,
            "stop the operations running on the environment's stack sets (StopStackSetOperation) and wait "
            "until they stopped",
        ),
        "status": (cmd_status, "list every stack instance with its status and reason"),
        "outputs": (
            cmd_outputs,
            "collect every instance's outputs into a JSON file and a table (exit 1 when some instance's "
            "outputs could not be read)",
        ),
        "drift": (
            cmd_drift,
            "detect drift on both stack sets and report drifted instances, resources and properties "
            "(exit 1 when drift is found)",
        ),
        "destroy": (
            cmd_destroy,
            "delete the instances (primary first) and the stack sets; lists the retained table and buckets",
        ),
        "dr-check": (
            cmd_dr_check,
            "read the live disaster-recovery state in every target account (table replicas, PITR, bucket "
            "replication with RTC, versioning) and list what is not ready (exit 1 when anything is not)",
        ),
        "local": (
            cmd_local,
            "the local emulator: start (in the background, seeded; --local then uses it), stop, status, "
            "or seed any emulator (seed --endpoint-url URL)",
        ),
    }
)
