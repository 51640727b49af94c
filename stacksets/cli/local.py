"""``appstorage-deploy local start|stop|status|seed`` and where ``--local`` and ``--endpoint-url``
send a command.

* ``local start`` runs the emulator in the background (:mod:`stacksets.localserver`), seeds the
  configuration's environments, records both (:mod:`stacksets.localstate`) and prints the
  endpoint; ``local stop`` ends it; ``local status`` reports it (exit 1 when none runs);
  ``local seed --endpoint-url URL`` seeds any emulator (:func:`stacksets.local.seed`).
* ``--local`` (:func:`select_endpoint`) uses the recorded emulator when it runs, seeding what the
  configuration needs if that was not seeded yet; otherwise it runs a throwaway one inside the
  command and says so in one line.
* ``deploy --endpoint-url`` to a plain moto server stops before any call: it lacks the
  emulator's CloudFormation models, and CreateStackInstances would answer HTTP 500.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
from rich.console import Console

from appstorage.config import Config, Environment, bundled_example_path

from ..localstate import (
    EmulatorState,
    Seeded,
    StateError,
    check,
    config_digest,
    probe,
    read_state,
    remove_state,
    state_file,
    write_state,
)
from ..session import ClientFactory
from .context import EXIT_FAILED, EXIT_OK, BadInput, Context
from .output import print_json

__all__ = [
    "ACTIONS",
    "EmulatorMissing",
    "NotTheEmulator",
    "Target",
    "add_local_arguments",
    "cmd_local",
    "plain_moto_problem",
    "select_endpoint",
]

#: What ``local`` does.
ACTIONS = ("start", "stop", "status", "seed")
INSTALL_HINT = "pip install 'appstorage[local]'"
START_HINT = "appstorage-deploy local start"


class EmulatorMissing(BadInput):
    """``--local`` or ``local start|seed`` without the ``[local]`` extra (exit 2)."""


class NotTheEmulator(BadInput):
    """``deploy --endpoint-url`` to a moto server without the emulator's models (exit 2)."""


def add_local_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``local`` command's own argument (the options are every command's)."""
    parser.add_argument("action", choices=ACTIONS, help="start | stop | status | seed")


def require_emulator() -> None:
    """Raise :class:`EmulatorMissing` unless moto's server and the emulator's models import."""
    try:
        import moto.server  # noqa: F401

        from .. import emulator  # noqa: F401
    except ModuleNotFoundError as exc:
        raise EmulatorMissing(
            f"the local emulator is not installed ({exc}): {INSTALL_HINT}, then run the command again"
        ) from None


def plain_moto_problem(endpoint: str) -> str:
    """What goes wrong on a moto server that was not started by ``local start``."""
    return (
        f"{endpoint} is a moto server without appstorage's CloudFormation models "
        "(AWS::DynamoDB::GlobalTable, AWS::CloudWatch::Alarm): a deploy there fails with HTTP 500 "
        f"on CreateStackInstances; start the emulator with '{START_HINT}' and use --local "
        "(or the endpoint it prints)"
    )


def _source(config: Config) -> tuple[str, str]:
    """The configuration file and its digest, as the record keeps them."""
    path = Path(config.source)
    if path.is_file():
        return str(path.resolve()), config_digest(path)
    return config.source, ""


def _describe_source(source: str) -> str:
    return "the bundled example" if Path(source) == bundled_example_path() else source


#: How ``stacksets.local.seed``'s counts read, in this order.
COUNT_LABELS = {
    "kms_keys": "KMS keys",
    "ssm_parameters": "SSM parameters",
    "buckets": "log buckets",
    "sns_topics": "alarm topics",
}


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{counts[key]} {label}" for key, label in COUNT_LABELS.items() if key in counts)


def _seed(factory: ClientFactory, config: Config, envs: Sequence[Environment]) -> Seeded:
    from ..local import seed

    source, digest = _source(config)
    counts = seed(factory, config, envs)
    return Seeded(config=source, digest=digest, environments=tuple(e.name for e in envs), counts=counts)


def _seed_missing(
    state: EmulatorState, factory: ClientFactory, config: Config, envs: Sequence[Environment]
) -> tuple[EmulatorState, list[str]]:
    """Seed the environments of ``config`` the record does not list yet; record them."""
    source, digest = _source(config)
    missing = state.missing(source, digest, [e.name for e in envs])
    if not missing:
        return state, []
    state = state.with_seeded(_seed(factory, config, [e for e in envs if e.name in missing]))
    write_state(state)
    return state, missing


def _recorded() -> tuple[EmulatorState | None, str | None]:
    """The recorded emulator and, when the record is not true, why (the record is not used)."""
    try:
        state = read_state()
    except StateError as exc:
        return None, str(exc)
    if state is None:
        return None, None
    stale = check(state)
    if stale:
        return None, f"{state_file()} records {state.endpoint} (pid {state.pid}), but {stale}"
    return state, None


# --------------------------------------------------------------------------- --local


@attrs.define
class Target:
    """Where a command's clients go: ``url`` (None: AWS), and for ``--local`` the recorded
    background emulator (``background``) or a throwaway one."""

    url: str | None
    local: bool = False
    background: EmulatorState | None = None
    #: Why a recorded emulator was not used (a stale record).
    stale: str | None = None

    def prepare(
        self, factory: ClientFactory, config: Config, envs: Sequence[Environment], err: Console
    ) -> None:
        """For ``--local``: seed what the command needs and say, in one line, which emulator it uses."""
        if not self.local:
            return
        if self.background is not None:
            self.background, seeded = _seed_missing(self.background, factory, config, envs)
            note = f"; seeded {', '.join(seeded)}" if seeded else ""
            err.print(
                f"local emulator at {self.url} (pid {self.background.pid}, from '{START_HINT}'){note}",
                markup=False,
            )
            return
        _seed(factory, config, envs)
        why = f"{self.stale}; " if self.stale else "no local emulator is running: "
        err.print(
            f"{why}using a throwaway one at {self.url}, seeded for this command only (it keeps no state: "
            f"'{START_HINT}' starts one that does)",
            markup=False,
        )


@contextmanager
def select_endpoint(args: argparse.Namespace) -> Iterator[Target]:
    """``--local``: the recorded emulator when it runs, else a throwaway one for this command.
    ``--endpoint-url``: that URL (``deploy`` to a plain moto server is refused). Else AWS."""
    if not args.local:
        if args.endpoint_url and args.command == "deploy" and probe(args.endpoint_url).kind == "moto":
            raise NotTheEmulator(plain_moto_problem(args.endpoint_url))
        yield Target(args.endpoint_url)
        return
    require_emulator()
    state, stale = _recorded()
    if state is not None:
        yield Target(state.endpoint, local=True, background=state)
        return
    from ..local import run_local_server

    with run_local_server() as url:
        yield Target(url, local=True, stale=stale)


# --------------------------------------------------------------------------- local start|stop|status|seed


def _factory(endpoint: str, ctx: Context) -> ClientFactory:
    from ..local import local_session

    return ClientFactory(local_session(ctx.environments[0].primary_region), endpoint_url=endpoint)


def _print_state(ctx: Context, state: EmulatorState) -> None:
    ctx.out.print(f"endpoint: {state.endpoint}", markup=False, highlight=False)
    ctx.out.print(f"pid {state.pid}, started {state.started}, log {state.log}", markup=False, highlight=False)
    for s in state.seeded:
        ctx.out.print(
            f"seeded from {_describe_source(s.config)}: {', '.join(s.environments)} ({_counts(s.counts)})",
            markup=False,
            highlight=False,
        )


def _start(ctx: Context) -> int:
    from ..localserver import start

    require_emulator()
    state, stale = _recorded()
    if stale:
        ctx.err.print(f"{stale}: removed that record", markup=False)
        remove_state()
    if state is not None:
        ctx.err.print(f"the local emulator is already running at {state.endpoint}", markup=False)
    else:
        state = start()
        ctx.err.print(
            f"started the local emulator (pid {state.pid}), recorded in {state_file()}", markup=False
        )
    state, _ = _seed_missing(state, _factory(state.endpoint, ctx), ctx.config, ctx.environments)
    if ctx.args.json:
        print_json(ctx, {"running": True, **state.to_json()})
        return EXIT_OK
    _print_state(ctx, state)
    ctx.out.print(f"use it with --local on any command; '{START_HINT.replace('start', 'stop')}' ends it")
    return EXIT_OK


def _stop(ctx: Context) -> int:
    from ..localserver import stop

    try:
        state = read_state()
    except StateError as exc:
        remove_state()
        ctx.err.print(f"{exc}: removed it; no local emulator is recorded now", markup=False)
        return EXIT_OK
    if state is None:
        ctx.out.print("no local emulator is running")
        return EXIT_OK
    if stop(state):
        ctx.out.print(f"stopped the local emulator at {state.endpoint} (pid {state.pid})", markup=False)
    else:
        ctx.out.print(
            f"the record of {state.endpoint} (pid {state.pid}) was stale ({check(state)}): removed it, "
            "nothing was stopped",
            markup=False,
        )
    return EXIT_OK


def _status(ctx: Context) -> int:
    state: EmulatorState | None = None
    stale: str | None = None
    try:
        state = read_state()
    except StateError as exc:
        stale = str(exc)
    else:
        stale = None if state is None else check(state)
    up = state is not None and stale is None
    if ctx.args.json:
        data: dict[str, Any] = {"running": up, "state_file": str(state_file())}
        if state is not None:
            data.update(state.to_json())
        if stale:
            data["stale"] = stale
        print_json(ctx, data)
    elif up and state is not None:
        ctx.out.print(f"local emulator: up at {state.endpoint}", markup=False, highlight=False)
        _print_state(ctx, state)
    elif stale:
        ctx.out.print(
            f"local emulator: not running; the record {state_file()} is stale: {stale} "
            f"('{START_HINT}' starts a new one)",
            markup=False,
        )
    else:
        ctx.out.print(f"local emulator: not running ('{START_HINT}' starts one)", markup=False)
    return EXIT_OK if up else EXIT_FAILED


def _seed_endpoint(ctx: Context) -> int:
    state, _ = _recorded()
    endpoint: str | None = ctx.args.endpoint_url or (state.endpoint if state else None)
    if endpoint is None:
        raise BadInput(f"local seed needs --endpoint-url URL (or a running emulator: '{START_HINT}')")
    if probe(endpoint).kind == "moto":
        ctx.err.print(f"warning: {plain_moto_problem(endpoint)}", markup=False)
    factory = _factory(endpoint, ctx)
    if state is not None and state.endpoint.rstrip("/") == endpoint.rstrip("/"):
        state = state.with_seeded(_seed(factory, ctx.config, ctx.environments))
        write_state(state)
        seeded = state.seeded[-1]
    else:
        seeded = _seed(factory, ctx.config, ctx.environments)
    if ctx.args.json:
        print_json(ctx, {"endpoint": endpoint, **attrs.asdict(seeded)})
    else:
        ctx.out.print(
            f"seeded {endpoint} from {_describe_source(seeded.config)}: {', '.join(seeded.environments)} "
            f"({_counts(seeded.counts)})",
            markup=False,
            highlight=False,
        )
    return EXIT_OK


def cmd_local(ctx: Context) -> int:
    """start: exit 0 once it answers; stop: exit 0 (nothing running is not an error); status: exit
    0 when it runs, 1 when not; seed: exit 0 when seeded."""
    action = ctx.args.action
    if action == "start":
        return _start(ctx)
    if action == "stop":
        return _stop(ctx)
    if action == "status":
        return _status(ctx)
    return _seed_endpoint(ctx)
