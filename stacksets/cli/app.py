"""The console script: parse the options, load the configuration, set up the effects, run the
command (:data:`~stacksets.cli.commands.COMMANDS`), and end an exception the way
:data:`~stacksets.cli.failures.FAILURES` says."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any, TextIO
from urllib.parse import urlsplit

import boto3
from rich.console import Console

from appstorage.config import Config, Environment, load_config
from appstorage.deployment import MAX_READ_CONCURRENCY

from ..compat import for_endpoint
from ..operations import Runtime
from ..preflight import TEMPLATE_BODY_LIMIT
from ..progress import CliReporter, LogReporter, RichReporter
from ..session import DEFAULT_MAX_ATTEMPTS, ClientFactory
from ..staged import subset_problems
from .commands import COMMANDS
from .context import EXIT_BAD_INPUT, EXIT_FAILED, BadInput, Context, run_scope
from .failures import DEBUG_VARIABLE, failure
from .lastcall import CallTracker
from .local import add_local_arguments, select_endpoint

__all__ = ["FORMATS", "MARKDOWN_COMMANDS", "build_parser", "main"]

#: The output formats (``--format``), and the commands that print Markdown.
FORMATS = ("text", "json", "markdown")
MARKDOWN_COMMANDS = ("plan", "status", "outputs", "drift", "dr-check")


def _read_concurrency(text: str) -> int:
    """``--read-concurrency``: a whole number in deployment.read_concurrency's range."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_READ_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {MAX_READ_CONCURRENCY}")
    return int(text)


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
        "--local",
        action="store_true",
        help="use the local emulator of 'local start' (else a throwaway one), seeded as needed",
    )
    common.add_argument("--yes", action="store_true", help="deploy without asking")
    common.add_argument("--allow-replacement", action="store_true", help="deploy even if the plan loses data")
    common.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds to wait for StackSet operations"
    )
    common.add_argument(
        "--json", action="store_true", help="machine-readable output on stdout (--format json)"
    )
    common.add_argument(
        "--format",
        choices=FORMATS,
        help="text (default), json, or markdown (pull-request comments, CI step summaries)",
    )
    common.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="plan: exit 0 without changes, 2 with changes, 1 on any error (bad input included)",
    )
    common.add_argument(
        "--detach",
        action="store_true",
        help="deploy: start the next operation and return without waiting (follow it with status)",
    )
    common.add_argument(
        "--accounts",
        help="deploy, plan: only these accounts' instances (comma-separated, of the environment's targets)",
    )
    common.add_argument(
        "--regions", help="deploy, plan: only the instances in these regions (comma-separated)"
    )
    common.add_argument(
        "--outputs-file", help="outputs JSON path ({env} is replaced; default build/<env>/outputs.json)"
    )
    common.add_argument(
        "--no-outputs",
        action="store_true",
        help="deploy: do not read the outputs after the rollout (the outputs command reads them)",
    )
    common.add_argument(
        "--read-concurrency",
        type=_read_concurrency,
        help=f"member-account reads at a time, 1-{MAX_READ_CONCURRENCY} (default: its deployment setting)",
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
    add_local_arguments(sub.choices["local"])
    return parser


def _check_options(args: argparse.Namespace) -> None:
    """What the options alone say is wrong: bad input before the configuration is read."""
    if args.json and args.format not in (None, "json"):
        raise BadInput(f"--json and --format {args.format} contradict each other: pass one of them")
    args.format = "json" if args.json else args.format or "text"
    args.json = args.format == "json"
    if args.detailed_exitcode and args.command != "plan":
        raise BadInput("--detailed-exitcode is an option of plan")
    if args.no_outputs and args.command != "deploy":
        raise BadInput(f"--no-outputs is an option of deploy, not {args.command}")
    if args.format == "markdown" and args.command not in MARKDOWN_COMMANDS:
        raise BadInput(f"--format markdown is for {', '.join(MARKDOWN_COMMANDS)}, not {args.command}")
    if args.detach and args.command != "deploy":
        raise BadInput(f"--detach is an option of deploy, not {args.command}")
    for flag in ("accounts", "regions"):
        value = getattr(args, flag)
        if value is None:
            continue
        if args.command not in ("deploy", "plan"):
            raise BadInput(f"--{flag} is an option of deploy and plan, not {args.command}")
        items = tuple(dict.fromkeys(x.strip() for x in value.split(",") if x.strip()))
        if not items:
            raise BadInput(f"--{flag} names nothing: write --{flag} A,B (comma-separated)")
        setattr(args, flag, items)


def _check_confirmation(args: argparse.Namespace, stdin_tty: bool) -> None:
    """deploy and destroy ask first (also against a local emulator); without a terminal to ask on
    they need --yes: bad input, before any call (after the configuration's own problems)."""
    if args.command in ("deploy", "destroy") and not args.yes and not stdin_tty:
        what = (
            "changes AWS resources" if args.command == "deploy" else "deletes stack instances and stack sets"
        )
        raise BadInput(
            f"{args.command} {what} and asks first, but there is no terminal to ask on: pass --yes to run "
            "it without a prompt"
        )


def _select_environments(args: argparse.Namespace, config: Config) -> list[Environment]:
    if args.env:
        names = list(dict.fromkeys(args.env))
    elif args.command in ("deploy", "destroy", "cancel") and not args.local:
        raise BadInput(
            f"{args.command} needs --env (one of: {', '.join(config.environments)}); "
            f"{args.command} of every environment at once is only the default with --local"
        )
    else:
        names = list(config.environments)
    envs = [config.environment(name) for name in names]  # ConfigError for an unknown one
    if args.outputs_file and len(envs) > 1 and "{env}" not in args.outputs_file:
        raise BadInput("--outputs-file needs an {env} placeholder when several environments are selected")
    if args.timeout <= 0 or args.max_attempts < 1:
        raise BadInput("--timeout must be positive and --max-attempts at least 1")
    if args.endpoint_url is not None:
        problem = endpoint_problem(args.endpoint_url)
        if problem:
            raise BadInput(f"--endpoint-url {args.endpoint_url!r} {problem}")
    scope = run_scope(args)
    if scope is not None:
        problems = [p for env in envs for p in subset_problems(env, scope)]
        if problems:
            raise BadInput("\n".join(dict.fromkeys(problems)))
    return envs


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint (botocore would raise a ValueError), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when not a number from 0 to 65535
    except ValueError as exc:
        return f"is not a URL ({exc}): write it as http://host:port"
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        return "is not an http:// or https:// URL: write it as http://host:port (e.g. http://127.0.0.1:5000)"
    if port == 0:
        return "has port 0: write the port the endpoint listens on (1 to 65535)"
    return None


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        code = int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
        words = sys.argv[1:] if argv is None else argv
        return _detailed(code, "--detailed-exitcode" in words)


def _detailed(code: int, detailed: bool) -> int:
    """With ``--detailed-exitcode`` exit 2 means changes only: bad input exits 1, as every error."""
    return EXIT_FAILED if detailed and code == EXIT_BAD_INPUT else code


def _run(
    args: argparse.Namespace,
    out: Console,
    err: Console,
    reporter: CliReporter,
    *,
    session: boto3.Session | None,
    runtime: Runtime | None,
    hooks: tuple[Callable[[Any], None], ...],
    confirm_input: Callable[[str], str],
    template_limit: int,
    tracker: CallTracker,
) -> int:
    stdin_tty = sys.stdin.isatty()
    _check_options(args)
    config = load_config(args.config)
    envs = _select_environments(args, config)
    _check_confirmation(args, stdin_tty)
    with ExitStack() as stack:
        target = stack.enter_context(select_endpoint(args))
        endpoint, local = target.url, target.local
        if local:
            from ..local import local_session

            session = local_session(envs[0].primary_region)
        if session is None:
            session = boto3.Session()
        factory = ClientFactory(
            session, endpoint_url=endpoint, max_attempts=args.max_attempts, hooks=(*hooks, tracker.attach)
        )
        target.prepare(factory, config, envs, err)
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
            stdin_tty=stdin_tty,
            compat=for_endpoint(args.endpoint_url, local=local),
            local=local,
            template_limit=template_limit,
        )
        handler = COMMANDS[args.command][0]
        return handler(ctx)


def main(
    argv: Sequence[str] | None = None,
    *,
    session: boto3.Session | None = None,
    runtime: Runtime | None = None,
    hooks: tuple[Callable[[Any], None], ...] = (),
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    confirm_input: Callable[[str], str] = input,
    template_limit: int = TEMPLATE_BODY_LIMIT,
) -> int:
    """The console script. Everything with an effect can be injected (tests, benchmarks), and the
    TemplateBody limit lowered (``template_limit``, bytes) to stage small templates through S3."""
    out_stream = stdout or sys.stdout
    err_stream = stderr or sys.stderr
    err = Console(file=err_stream, stderr=True, highlight=False, soft_wrap=True)
    out = Console(
        file=out_stream, highlight=False, soft_wrap=True, width=200 if not out_stream.isatty() else None
    )
    parsed = _parse(build_parser(), argv)
    if isinstance(parsed, int):
        return parsed
    reporter: CliReporter = (
        RichReporter(err, enabled=True)
        if err_stream.isatty()
        else LogReporter(err, clock=(runtime or Runtime()).clock)
    )
    tracker = CallTracker()
    detailed = bool(getattr(parsed, "detailed_exitcode", False))
    try:
        return _run(
            parsed,
            out,
            err,
            reporter,
            session=session,
            runtime=runtime,
            hooks=hooks,
            confirm_input=confirm_input,
            template_limit=template_limit,
            tracker=tracker,
        )
    except BaseException as exc:
        ended = failure(exc, parsed.command, tracker.last)
        if ended is None:
            raise
        reporter.close()
        if isinstance(exc, BrokenPipeError) and stdout is None:
            # Python's advice: point stdout at devnull so that its flush at exit does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
            traceback.print_exception(exc, file=err_stream)
        code, lines = ended
        for line in lines:
            err.print(line, markup=False)
        return _detailed(code, detailed)
    finally:
        reporter.close()
