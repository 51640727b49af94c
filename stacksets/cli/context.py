"""What a command handler gets (:class:`Context`) and the exit codes."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
from rich.console import Console

from appstorage.config import Config, Environment

from ..compat import Compat
from ..model import Scope, StackSetPlan
from ..operations import Runtime
from ..preflight import TEMPLATE_BODY_LIMIT
from ..progress import CliReporter
from ..session import ClientFactory
from ..toolkit import Tools, environment_tools

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHANGES",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "BadInput",
    "Context",
    "run_scope",
]

#: 0 ok, 1 an operation failed or was refused, 2 bad input (configuration, environment, options),
#: 130 interrupted.
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
#: ``plan --detailed-exitcode``: the plan has changes (Terraform's convention: with the flag every
#: error, bad input included, exits 1, so 2 means changes and nothing else).
EXIT_CHANGES = 2


class BadInput(Exception):
    """Wrong options or configuration: exit 2 before any API call."""


def run_scope(args: argparse.Namespace) -> Scope | None:
    """The subset ``--accounts``/``--regions`` name (None: every instance)."""
    accounts, regions = getattr(args, "accounts", None), getattr(args, "regions", None)
    if accounts is None and regions is None:
        return None
    return Scope(accounts=tuple(accounts or ()), regions=tuple(regions or ()))


@attrs.define
class Context:
    """What a command handler gets: parsed options, the configuration, and the effects."""

    args: argparse.Namespace
    config: Config
    environments: list[Environment]
    factory: ClientFactory
    out: Console
    err: Console
    reporter: CliReporter
    runtime: Runtime
    confirm_input: Callable[[str], str]
    stdin_tty: bool
    compat: Compat
    local: bool = False
    #: TemplateBody limit in bytes (CloudFormation's; lowered by tests through ``main``)
    template_limit: int = TEMPLATE_BODY_LIMIT

    def tools(self, env: Environment) -> Tools:
        """The environment's stack sets and the collaborators of the actions on them
        (``--read-concurrency`` replaces the environment's ``deployment.read_concurrency``)."""
        workers = getattr(self.args, "read_concurrency", None)
        if workers is not None:
            env = dataclasses.replace(
                env, deployment=dataclasses.replace(env.deployment, read_concurrency=workers)
            )
        return environment_tools(
            self.factory,
            self.config,
            env,
            runtime=self.runtime,
            reporter=self.reporter,
            count_progress=self.reporter.enabled,
            compat=self.compat,
            template_limit=self.template_limit,
        )

    def outputs_file(self, env: Environment) -> Path:
        if self.args.outputs_file:
            return Path(str(self.args.outputs_file).replace("{env}", env.name))
        return Path("build") / env.name / "outputs.json"

    @property
    def scope(self) -> Scope | None:
        """The subset of the run (``--accounts``/``--regions``); None: every instance."""
        return run_scope(self.args)

    @property
    def format(self) -> str:
        """``text``, ``json`` or ``markdown`` (``--json`` is ``--format json``)."""
        return str(self.args.format)

    def confirm(self, plans: Sequence[StackSetPlan]) -> bool:
        """Whether to apply the changes: ``--yes``, or the answer at the prompt (a local emulator
        asks like any other endpoint). Without a terminal the CLI refused before any call."""
        if self.args.yes:
            return True
        if not self.stdin_tty:  # pragma: no cover - app refuses deploy without --yes before any call
            raise BadInput("deploy needs --yes without a terminal to ask on")
        answer = self.confirm_input("Deploy these changes? [y/N] ")
        return answer.strip().lower() in ("y", "yes")
