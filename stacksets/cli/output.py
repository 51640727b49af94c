"""What the commands print: JSON on stdout (one way), tables, the outputs file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from appstorage.config import Environment

from ..errors import DeployError
from ..outputs import UNREADABLE_HINT, StackOutputs, outputs_to_json
from .context import Context

__all__ = ["NoOutputs", "outputs_table", "print_json", "write_outputs"]


def print_json(ctx: Context, data: Any) -> None:
    """``--json``: the command's result on stdout, sorted and indented."""
    ctx.out.file.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


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


def write_outputs(ctx: Context, env: Environment, outputs: Sequence[StackOutputs]) -> dict[str, Any]:
    """Write the outputs file (and, without ``--json``, print the table); warn about every
    instance whose outputs could not be read. Returns the file's data. An empty result (no stack
    instance: nothing deployed) is not written: the file keeps what it had, and ``outputs`` stops
    with :class:`NoOutputs`."""
    data = outputs_to_json(ctx.config.project, env.name, outputs)
    path = ctx.outputs_file(env)
    empty = not outputs
    if not ctx.args.json and not empty:
        ctx.out.print(outputs_table(outputs, f"{env.name} outputs"))
    if not empty:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if not ctx.args.json:
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
    if empty:
        _not_written(ctx, env, path)
    return data


class NoOutputs(DeployError):
    """``outputs`` found no stack instance: the outputs file was left as it was (exit 1)."""


def _not_written(ctx: Context, env: Environment, path: Path) -> None:
    """An empty result never replaces an outputs file: say so; ``outputs`` stops with exit 1."""
    kept = f"{path} keeps the outputs written before" if path.exists() else f"{path} was not written"
    message = f"{env.name}: nothing is deployed (no stack instance): {kept}"
    if ctx.args.command == "outputs":
        raise NoOutputs(message)
    ctx.err.print(f"warning: {message}", markup=False)
