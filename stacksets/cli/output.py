"""What the commands print: JSON on stdout (one way), tables, the outputs file.

Tables stay readable at any width (:func:`fitted_table`): a cell never splits a word or an ARN in
the middle; a value too long for its column at the console's width is printed whole below the
table, referenced as ``[n]``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from appstorage.config import Environment

from ..errors import DeployError
from ..outputs import UNREADABLE_HINT, StackOutputs, outputs_to_json
from .context import Context

__all__ = ["NoOutputs", "fitted_table", "outputs_table", "print_json", "print_table", "write_outputs"]


def print_json(ctx: Context, data: Any) -> None:
    """``--json``: the command's result on stdout, sorted and indented."""
    ctx.out.file.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def _widths(columns: Sequence[str], cells: Sequence[Sequence[str]], available: int) -> list[int] | None:
    """Column widths that keep every word whole within ``available`` columns of content (None:
    the table fits as it is). rich's own narrowing splits words even where they could fit."""
    lines = [[cell_len(columns[i]), *(cell_len(row[i]) for row in cells)] for i in range(len(columns))]
    natural = [max(widths) for widths in lines]
    if sum(natural) <= available:
        return None
    least = [
        max(_longest_word(columns[i]), *(_longest_word(row[i]) for row in cells)) for i in range(len(columns))
    ]
    slack = [n - m for n, m in zip(natural, least, strict=True)]
    spare, total = available - sum(least), sum(slack) or 1
    widths = [m + spare * s // total for m, s in zip(least, slack, strict=True)]
    widths[slack.index(max(slack))] += available - sum(widths)
    return widths


def fitted_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], width: int
) -> RenderableType:
    """A table whose cells never split a word at ``width`` columns: each column is at least as wide
    as its longest word, and, from the longest word down, a cell whose word cannot fit is replaced
    by ``[n]`` (numbered top to bottom) and printed whole below the table as ``[n] value``."""
    cells = [[str(c) for c in row] for row in rows]
    noted: set[tuple[int, int]] = set()
    available = width - (3 * len(columns) + 1)  # a border and a space on each side of every column

    def grid() -> list[list[str]]:
        order = {rc: n for n, rc in enumerate(sorted(noted), 1)}
        return [
            [f"[{order[r, c]}]" if (r, c) in order else v for c, v in enumerate(row)]
            for r, row in enumerate(cells)
        ]

    def least(shown: list[list[str]]) -> int:
        return sum(
            max(_longest_word(columns[i]), *(_longest_word(row[i]) for row in shown))
            for i in range(len(columns))
        )

    while least(grid()) > available:
        candidates = [
            (r, c)
            for r in range(len(cells))
            for c in range(len(columns))
            if (r, c) not in noted and _longest_word(cells[r][c]) > 4
        ]
        if not candidates:
            break  # the headers alone do not fit: nothing a note can shorten
        noted.add(max(candidates, key=lambda rc: _longest_word(cells[rc[0]][rc[1]])))
    shown = grid()
    widths = _widths(columns, shown, available) if least(shown) <= available else None
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, overflow="fold", width=widths[i] if widths else None)
    for row in shown:
        table.add_row(*row)
    if not noted:
        return table
    below = [
        Text(f"[{n}] {cells[r][c]}", overflow="ignore", no_wrap=True)
        for n, (r, c) in enumerate(sorted(noted), 1)
    ]
    return Group(table, *below)


def outputs_table(outputs: Sequence[StackOutputs], title: str, width: int = 200) -> RenderableType:
    """Every output of every instance in one table; on a console too narrow for it, one table of
    outputs and values per instance (:func:`fitted_table`: no value split in the middle)."""
    rows: list[tuple[str, ...]] = []
    for o in outputs:
        if not o.outputs:
            rows.append((o.kind, o.account, o.region, "-", f"({o.error or 'stack ' + o.status})"))
        rows += [(o.kind, o.account, o.region, key, value) for key, value in sorted(o.outputs.items())]
    columns = ("stack set", "account", "region", "output", "value")
    natural = (
        [max(cell_len(c), *(cell_len(row[i]) for row in rows)) for i, c in enumerate(columns)] if rows else []
    )
    if sum(natural) + 3 * len(columns) + 1 <= width:
        return fitted_table(title, columns, rows, width)
    return Group(
        *(
            fitted_table(
                f"{title}: {o.kind} {o.account} {o.region}",
                ("output", "value"),
                [(key, value) for key, value in sorted(o.outputs.items())]
                or [("-", f"({o.error or 'stack ' + o.status})")],
                width,
            )
            for o in outputs
        )
    )


def print_table(console: Console, renderable: RenderableType) -> None:
    """A (fitted) table, without rich's syntax highlighting."""
    console.print(renderable, highlight=False)


def write_outputs(ctx: Context, env: Environment, outputs: Sequence[StackOutputs]) -> dict[str, Any]:
    """Write the outputs file (and, without ``--json``, print the table); warn about every
    instance whose outputs could not be read. Returns the file's data. An empty result (no stack
    instance: nothing deployed) is not written: the file keeps what it had, and ``outputs`` stops
    with :class:`NoOutputs`."""
    data = outputs_to_json(ctx.config.project, env.name, outputs)
    path = ctx.outputs_file(env)
    empty = not outputs
    if ctx.format == "text" and not empty:
        print_table(ctx.out, outputs_table(outputs, f"{env.name} outputs", ctx.out.width))
    if not empty:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if ctx.format == "text":
            ctx.out.print(f"outputs written to {path}", markup=False, highlight=False)
        elif ctx.format == "markdown":
            ctx.err.print(f"outputs written to {path}", markup=False)
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
