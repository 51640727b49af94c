"""``appstorage-deploy``: plan | deploy | status | outputs, against AWS, any endpoint, or --local.

Commands are registered in :data:`COMMANDS` (name -> handler); a new command adds one
handler and one entry. Exit codes: 0 ok, 1 an operation failed or was refused, 2 bad input
(configuration, environment, options), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

import attrs
import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)
from rich.console import Console
from rich.table import Table

from appstorage.config import Config, ConfigError, Environment, load_config

from .awserrors import CREDENTIAL_ERRORS, error_code
from .errors import DeployBlocked
from .execute import (
    UNREADABLE_HINT,
    DeployError,
    Executor,
    OperationFailed,
    PreflightError,
    Runtime,
    StackOutputs,
    outputs_to_json,
)
from .model import StackSetPlan
from .plan import plan_to_json, render_plan
from .progress import RichReporter
from .session import DEFAULT_MAX_ATTEMPTS, ClientFactory

__all__ = [
    "COMMANDS",
    "CREDENTIAL_ERRORS",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "Context",
    "main",
]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class BadInput(Exception):
    """Wrong options or configuration: exit 2 before any API call."""


# --------------------------------------------------------------------------- context


@attrs.define
class Context:
    """What a command handler gets: parsed options, the configuration, and the effects."""

    args: argparse.Namespace
    config: Config
    environments: list[Environment]
    factory: ClientFactory
    out: Console
    err: Console
    reporter: RichReporter
    runtime: Runtime
    confirm_input: Callable[[str], str]
    stdin_tty: bool
    local: bool = False
    executors: list[Executor] = attrs.field(factory=list)

    def executor(self, env: Environment) -> Executor:
        executor = Executor(
            self.factory,
            self.config,
            env,
            runtime=self.runtime,
            reporter=self.reporter,
            require_managed_execution=self.args.endpoint_url is None and not self.local,
            count_progress=self.reporter.enabled,
        )
        self.executors.append(executor)
        return executor

    def outputs_file(self, env: Environment) -> Path:
        if self.args.outputs_file:
            return Path(str(self.args.outputs_file).replace("{env}", env.name))
        return Path("build") / env.name / "outputs.json"

    def confirm(self, plans: list[StackSetPlan]) -> bool:
        if self.args.yes or self.local:
            return True
        if not self.stdin_tty:
            raise DeployError("not confirmed: pass --yes to deploy without a prompt")
        answer = self.confirm_input("Deploy these changes? [y/N] ")
        return answer.strip().lower() in ("y", "yes")


# --------------------------------------------------------------------------- output


def outputs_table(outputs: Sequence[StackOutputs], title: str) -> Table:
    table = Table(title=title)
    for column in ("stack set", "account", "region", "output", "value"):
        table.add_column(column, overflow="fold")
    for o in outputs:
        if not o.outputs:
            table.add_row(o.kind, o.account, o.region, "-", f"({o.error or 'stack ' + o.status})")
        for key, value in sorted(o.outputs.items()):
            table.add_row(o.kind, o.account, o.region, key, value)
    return table


def _write_outputs(ctx: Context, env: Environment, outputs: Sequence[StackOutputs]) -> dict[str, Any]:
    data = outputs_to_json(ctx.config, env, outputs)
    path = ctx.outputs_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if not ctx.args.json:
        ctx.out.print(outputs_table(outputs, f"{env.name} outputs"))
        ctx.out.print(f"outputs written to {path}")
    unreadable = [o for o in outputs if o.error]
    for o in unreadable:
        ctx.err.print(
            f"warning: {env.name}: outputs of the {o.kind} instance in {o.account} {o.region} were not "
            f"read: {o.error}",
            markup=False,
        )
    if unreadable:
        ctx.err.print(
            f'{len(unreadable)} instance(s) have no outputs in {path} (listed with an "error"): '
            f"{UNREADABLE_HINT}",
            markup=False,
        )
    return data


def _print_json(ctx: Context, data: Any) -> None:
    ctx.out.file.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


# --------------------------------------------------------------------------- commands


def cmd_plan(ctx: Context) -> int:
    result: dict[str, Any] = {}
    for env in ctx.environments:
        plans = ctx.executor(env).plan()
        if ctx.args.json:
            result[env.name] = plan_to_json(plans)
        else:
            ctx.out.print(f"[bold]{env.name}[/bold]")
            ctx.out.print(render_plan(plans), markup=False, highlight=False)
            if not any(p.changed for p in plans):
                ctx.out.print("no changes")
    if ctx.args.json:
        _print_json(ctx, result)
    return EXIT_OK


def _partial_failures(ctx: Context, executor: Executor) -> list[dict[str, str]]:
    """Instances that FAILED inside operations that SUCCEEDED within their failure tolerance:
    the rollout went on (the tolerance allows it), but the user is told where and the exit is 1."""
    rows = []
    for stack_set, op, failures in executor.partial_failures:
        for f in failures:
            ctx.err.print(
                f"warning: {stack_set}: operation {op} succeeded within its failure tolerance but "
                f"{f.account} {f.region} is {f.status}: {f.reason or '(no reason given)'}",
                markup=False,
            )
            rows.append({"stack_set": stack_set, "operation": op, **attrs.asdict(f)})
    return rows


def cmd_deploy(ctx: Context) -> int:
    """Exit 0 when the rollout succeeded, 1 when it failed or instances failed within the failure
    tolerance. Outputs that could not be read after a successful rollout (the execution role
    cannot be assumed in a member account) do not fail the deploy: exit 0, each such instance is
    printed as a warning with how to fix it, and outputs.json lists it with an "error"."""
    result: dict[str, Any] = {}
    partial = False
    executors = [ctx.executor(env) for env in ctx.environments]
    for executor in executors:
        # Before any API call: what cannot be deployed as configured is exit 2 (PreflightError).
        for warning in executor.preflight():
            ctx.err.print(f"warning: {warning}", markup=False)
    for env, executor in zip(ctx.environments, executors, strict=True):
        plans = executor.plan(resume=True)
        if not ctx.args.json:
            ctx.out.print(f"[bold]{env.name}[/bold]")
            ctx.out.print(render_plan(plans), markup=False, highlight=False)
        deployed = executor.deploy(
            allow_replacement=ctx.args.allow_replacement, confirm=ctx.confirm, plans=plans
        )
        if not deployed.changed and not ctx.args.json:
            ctx.out.print(f"{env.name}: no changes")
        outputs = executor.collect_outputs()
        data = _write_outputs(ctx, env, outputs)
        result[env.name] = {
            "changed": deployed.changed,
            "operations": deployed.operations,
            "plan": plan_to_json(plans),
            "outputs": data,
            "outputs_file": str(ctx.outputs_file(env)),
            "failed_instances": _partial_failures(ctx, executor),
        }
        partial = partial or bool(result[env.name]["failed_instances"])
    if ctx.args.json:
        _print_json(ctx, result)
    if partial:
        ctx.err.print(
            "deploy finished, but some instances failed (listed above): fix them and deploy again",
            markup=False,
        )
        return EXIT_FAILED
    return EXIT_OK


def cmd_status(ctx: Context) -> int:
    result: dict[str, Any] = {}
    for env in ctx.environments:
        table = Table(title=f"{env.name} stack instances")
        for column in ("stack set", "account", "region", "status", "detailed status", "drift", "reason"):
            table.add_column(column, overflow="fold")
        rows: list[dict[str, Any]] = []
        for desired, observed in ctx.executor(env).status():
            if observed is None:
                table.add_row(desired.name, "-", "-", "NOT DEPLOYED", "", "", "")
                rows.append({"stack_set": desired.name, "status": "NOT DEPLOYED", "instances": []})
                continue
            instances = []
            for i in observed.instances:
                table.add_row(
                    desired.name, i.account, i.region, i.status, i.detailed_status, i.drift_status, i.reason
                )
                instances.append(
                    attrs.asdict(i, filter=lambda a, _: a.name not in ("template_body", "template_error"))
                )
            rows.append(
                {
                    "stack_set": desired.name,
                    "status": observed.status,
                    "running_operations": list(observed.running_operation_ids),
                    "instances": instances,
                }
            )
        result[env.name] = rows
        if not ctx.args.json:
            ctx.out.print(table)
    if ctx.args.json:
        _print_json(ctx, result)
    return EXIT_OK


def cmd_outputs(ctx: Context) -> int:
    """Exit 1 when some instance's outputs could not be read (the file is still written, with the
    readable ones and an "error" for the others): reading them is this command's whole job."""
    result = {}
    unreadable = False
    for env in ctx.environments:
        outputs = ctx.executor(env).collect_outputs()
        unreadable = unreadable or any(o.error for o in outputs)
        result[env.name] = _write_outputs(ctx, env, outputs)
    if ctx.args.json:
        _print_json(ctx, result)
    return EXIT_FAILED if unreadable else EXIT_OK


#: name -> (handler, help). Issue 4 adds drift and destroy here.
COMMANDS: dict[str, tuple[Callable[[Context], int], str]] = {
    "plan": (cmd_plan, "show what deploy would change (template, parameters, instances)"),
    "deploy": (
        cmd_deploy,
        "roll the replica then the primary stack set out and collect outputs (outputs that cannot be "
        "read in a member account are a warning, not a failure)",
    ),
    "status": (cmd_status, "list every stack instance with its status and reason"),
    "outputs": (
        cmd_outputs,
        "collect every instance's outputs into a JSON file and a table (exit 1 when some instance's "
        "outputs could not be read)",
    ),
    "drift": (
        lambda ctx: _drift().cmd_drift(ctx),
        "detect drift on both stack sets and report drifted instances, resources and properties "
        "(exit 1 when drift is found)",
    ),
    "destroy": (
        lambda ctx: _destroy().cmd_destroy(ctx),
        "delete the instances (primary first) and the stack sets; lists the retained table and buckets",
    ),
    "dr-check": (
        lambda ctx: _drcheck().cmd_dr_check(ctx),
        "read the live disaster-recovery state in every target account (table replicas, PITR, bucket "
        "replication with RTC, versioning) and list what is not ready (exit 1 when anything is not)",
    ),
}


def _drift() -> Any:
    from . import drift

    return drift


def _destroy() -> Any:
    from . import destroy

    return destroy


def _drcheck() -> Any:
    from . import drcheck

    return drcheck


# --------------------------------------------------------------------------- parsing


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="configuration YAML (default: the bundled example)")
    common.add_argument(
        "--env",
        action="append",
        help="environment to act on (repeatable; default: all, except for deploy against AWS)",
    )
    common.add_argument("--endpoint-url", help="any AWS-compatible endpoint instead of AWS")
    common.add_argument(
        "--local", action="store_true", help="start an embedded AWS emulator (moto), seed it, use it"
    )
    common.add_argument("--yes", action="store_true", help="deploy without asking")
    common.add_argument("--allow-replacement", action="store_true", help="deploy even if the plan loses data")
    common.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds to wait for StackSet operations"
    )
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    common.add_argument(
        "--outputs-file", help="outputs JSON path ({env} is replaced; default build/<env>/outputs.json)"
    )
    common.add_argument(
        "--max-attempts",
        type=int,
        default=DEFAULT_MAX_ATTEMPTS,
        help="botocore attempts per API call (adaptive retry mode)",
    )
    parser = argparse.ArgumentParser(
        prog="appstorage-deploy",
        description="Roll the appstorage templates out as CloudFormation StackSet instances. "
        "Options follow the command: appstorage-deploy deploy --env dev",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text, parents=[common])
    return parser


def _select_environments(args: argparse.Namespace, config: Config) -> list[Environment]:
    if args.env:
        names = list(dict.fromkeys(args.env))
    elif args.command in ("deploy", "destroy") and not args.local:
        raise BadInput(
            f"{args.command} needs --env (one of: {', '.join(config.environments)}); "
            f"{args.command} of every environment at once is only the default with --local"
        )
    else:
        names = list(config.environments)
    envs = [config.environment(name) for name in names]  # ConfigError for an unknown one
    for env in envs:
        d = env.deployment
        if d.permission_model == "SELF_MANAGED" and not d.accounts:
            raise BadInput(
                f"{config.source}: environments.{env.name}.deployment.accounts: no target accounts"
            )
    if args.outputs_file and len(envs) > 1 and "{env}" not in args.outputs_file:
        raise BadInput("--outputs-file needs an {env} placeholder when several environments are selected")
    if args.timeout <= 0 or args.max_attempts < 1:
        raise BadInput("--timeout must be positive and --max-attempts at least 1")
    return envs


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT


def _phases(err: Console, ctx: Context | None) -> None:
    """After an error in a deploy: which phases were already applied and which one stopped."""
    for executor in ctx.executors if ctx else []:
        for desired in executor.phases_done:
            err.print(
                f"{executor.env.name}: the {desired.kind} phase (stack set {desired.name}) was already "
                "applied and stays applied",
                markup=False,
            )
        stopped = executor.phase_running
        if stopped is not None:
            err.print(
                f"{executor.env.name}: the {stopped.kind} phase (stack set {stopped.name}) did not complete; "
                "fix the error and run deploy again to finish it",
                markup=False,
            )


def _still_running(err: Console, ctx: Context | None) -> None:
    """After an error while waiting: the operation that was being waited for is not cancelled,
    and (deploy) which phases were already applied."""
    _phases(err, ctx)
    for executor in ctx.executors if ctx else []:
        if executor.waiting_on:
            stack_set, op = executor.waiting_on
            err.print(
                f"still running (not cancelled): operation {op} on stack set {stack_set}; "
                "run the command again to pick it up",
                markup=False,
            )


@contextmanager
def _endpoint(args: argparse.Namespace) -> Iterator[str | None]:
    if args.local:
        from .local import run_local_server

        with run_local_server() as url:
            yield url
    else:
        yield args.endpoint_url


def main(
    argv: Sequence[str] | None = None,
    *,
    session: boto3.Session | None = None,
    runtime: Runtime | None = None,
    hooks: tuple[Callable[[Any], None], ...] = (),
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    confirm_input: Callable[[str], str] = input,
) -> int:
    """The console script. Everything with an effect can be injected (tests, benchmarks)."""
    out_stream = stdout or sys.stdout
    err_stream = stderr or sys.stderr
    err = Console(file=err_stream, stderr=True, highlight=False, soft_wrap=True)
    out = Console(
        file=out_stream, highlight=False, soft_wrap=True, width=200 if not out_stream.isatty() else None
    )
    parsed = _parse(build_parser(), argv)
    if isinstance(parsed, int):
        return parsed
    args = parsed
    try:
        config = load_config(args.config)
        envs = _select_environments(args, config)
    except (ConfigError, BadInput) as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_BAD_INPUT

    reporter = RichReporter(err, enabled=err_stream.isatty())
    ctx: Context | None = None
    try:
        with ExitStack() as stack:
            endpoint = stack.enter_context(_endpoint(args))
            local = bool(args.local)
            if local:
                from .local import local_session

                session = local_session(envs[0].primary_region)
            if session is None:
                session = boto3.Session()
            factory = ClientFactory(
                session, endpoint_url=endpoint, max_attempts=args.max_attempts, hooks=hooks
            )
            if local:
                from .local import seed

                if not args.json:
                    err.print(f"local AWS emulator (moto) at {endpoint}; seeding KMS keys, SSM, log buckets")
                seed(factory, config, envs)
            ctx = Context(
                args=args,
                config=config,
                environments=envs,
                factory=factory,
                out=out,
                err=err,
                reporter=reporter,
                runtime=runtime or Runtime(timeout=args.timeout),
                confirm_input=confirm_input,
                stdin_tty=sys.stdin.isatty(),
                local=local,
            )
            handler = COMMANDS[args.command][0]
            return handler(ctx)
    except KeyboardInterrupt:
        reporter.close()
        running = [e.waiting_on for e in (ctx.executors if ctx else []) if e.waiting_on]
        for stack_set, op in running:
            err.print(f"still running: operation {op} on stack set {stack_set}", markup=False)
        err.print(
            "interrupted: operations already started keep running in CloudFormation (not cancelled); "
            f"run {args.command} again to pick them up and finish"
        )
        return EXIT_INTERRUPTED
    except OperationFailed as exc:
        reporter.close()
        err.print(f"error: {exc}", markup=False)
        if args.command == "deploy":
            _phases(err, ctx)
            err.print("the rollout stopped; later phases were not started", markup=False)
        else:
            err.print(f"{args.command} stopped; nothing after this operation was started", markup=False)
        return EXIT_FAILED
    except DeployBlocked as exc:  # the plan was printed with BLOCKED lines; nothing was changed
        reporter.close()
        err.print(f"error: {exc}", markup=False)
        return EXIT_FAILED
    except PreflightError as exc:
        reporter.close()
        err.print(f"error: {config.source}: cannot deploy as configured (no API call made):", markup=False)
        for line in exc.errors:
            err.print(f"  {line}", markup=False)
        return EXIT_BAD_INPUT
    except DeployError as exc:
        reporter.close()
        err.print(f"error: {exc}", markup=False)
        _still_running(err, ctx)
        return EXIT_FAILED
    except EndpointConnectionError as exc:
        reporter.close()
        err.print(
            f"error: cannot reach the AWS endpoint ({exc}); check --endpoint-url and the network",
            markup=False,
        )
        _still_running(err, ctx)
        return EXIT_FAILED
    except NoCredentialsError:
        reporter.close()
        err.print("error: no AWS credentials found: configure a profile or environment credentials")
        return EXIT_FAILED
    except NoRegionError:
        reporter.close()
        err.print("error: no AWS region configured")
        return EXIT_FAILED
    except ClientError as exc:
        reporter.close()
        code = error_code(exc)
        if code in CREDENTIAL_ERRORS:
            err.print(
                f"error: the AWS credentials were rejected ({code}: "
                f"{exc.response.get('Error', {}).get('Message', '')}); refresh them (for example "
                "'aws sso login' or a new session token) and run the command again",
                markup=False,
            )
        else:
            err.print(f"error: AWS refused a call: {exc}", markup=False)
        _still_running(err, ctx)
        return EXIT_FAILED
    except BotoCoreError as exc:
        reporter.close()
        err.print(f"error: {exc}", markup=False)
        _still_running(err, ctx)
        return EXIT_FAILED
    finally:
        reporter.close()
