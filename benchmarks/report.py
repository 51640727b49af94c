"""Tables of the rollout benchmark's results (benchmarks/rollout.py writes them as JSON), and the
least-squares line through wall time and calls against the account count, extrapolated to
``--target`` accounts (1,000 by default). The fit uses the sizes below the target only, so a
measured target size checks the extrapolation.

Summary columns: "CPU s" is the CPU time of the benchmark's process during the deploy (the
deployer's and the forwarder's; moto's too unless it ran with --moto-process); "calls x latency
s" is the forwarder's delay summed over the calls (the network wait when every call is
sequential, which "peak in flight" 1 shows); "moto s" the time moto took to answer, summed;
"rest s" the wall time left: the deployer's own work (templates, planning, creating boto3
clients, botocore) and the forwarder's.

    .venv/bin/python benchmarks/report.py benchmarks/results/*.json [--markdown] [--target 1000]

``--before FILE``: instead, one table comparing the results in FILE (the code before a change)
with the others, size by size and scenario by scenario (wall time, calls, calls per account,
administration and member-account calls, and the calls by API that differ).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["compare_rows", "fit", "print_report"]

SCENARIO_ORDER = {"first": 0, "rerun": 1, "change": 2}


def fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """Least squares ``y = a + b*x``: (a, b, r squared)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    b = sxy / sxx if sxx else 0.0
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    return a, b, (1 - ss_res / ss_tot) if ss_tot else 1.0


def _ok(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Successful records, the last one of each (accounts, latency, scenario)."""
    latest: dict[tuple[int, float, str], dict[str, Any]] = {}
    for r in records:
        if r.get("exit_code") == 0:
            latest[(r["accounts"], r["latency_ms"], r["scenario"])] = r
    return sorted(
        latest.values(), key=lambda r: (r["latency_ms"], SCENARIO_ORDER[r["scenario"]], r["accounts"])
    )


def _where(record: dict[str, Any], api: str) -> str:
    admin = record.get("admin_by_api", {}).get(api, 0)
    member = record.get("member_by_api", {}).get(api, 0)
    if admin and member:
        return "both"
    return "member" if member else "admin"


def summary_rows(records: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in records:
        rows.append(
            [
                str(r["accounts"]),
                f"{r['latency_ms']:g}",
                r["scenario"],
                f"{r['wall_s']:.1f}",
                f"{r['cpu_s']:.1f}",
                str(r["calls"]),
                f"{r['calls_per_account']:.2f}",
                str(r["admin_requests"]),
                str(r["member_requests"]),
                f"{r['member_requests'] / r['accounts']:.2f}",
                str(r["operations_started"]),
                str(r["mutating_calls"]),
                f"{r['delay_s_if_sequential']:.1f}",
                f"{r['upstream_seconds']:.1f}",
                f"{r['wall_s'] - r['delay_s_if_sequential'] - r['upstream_seconds']:.1f}",
                str(r["peak_in_flight"]),
            ]
        )
    return rows


SUMMARY_COLUMNS = (
    "accounts",
    "latency ms",
    "scenario",
    "wall s",
    "CPU s",
    "calls",
    "calls/account",
    "admin calls",
    "member calls",
    "member calls/account",
    "operations started",
    "mutating calls",
    "calls x latency s",
    "moto s",
    "rest s",
    "peak in flight",
)


def by_api_rows(
    records: list[dict[str, Any]], latency: float, scenario: str
) -> tuple[list[int], list[list[str]]]:
    """Calls by API (and where they are made) at each size, for one latency and scenario."""
    chosen = [r for r in records if r["latency_ms"] == latency and r["scenario"] == scenario]
    sizes = [r["accounts"] for r in chosen]
    apis = sorted({api for r in chosen for api in r["calls_by_api"]})
    rows = []
    for api in apis:
        where = _where(chosen[-1], api)
        counts = [r["calls_by_api"].get(api, 0) for r in chosen]
        per_account = f"{counts[-1] / sizes[-1]:.2f}"
        errors = sum(n for key, n in chosen[-1].get("errors", {}).items() if key.split(" ")[0] == api)
        rows.append([api, where, *(str(c) for c in counts), per_account, str(errors)])
    return sizes, rows


def fit_rows(records: list[dict[str, Any]], target: int) -> list[list[str]]:
    groups: dict[tuple[float, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["latency_ms"], r["scenario"])].append(r)
    rows = []
    for (latency, scenario), every in sorted(
        groups.items(), key=lambda kv: (kv[0][0], SCENARIO_ORDER[kv[0][1]])
    ):
        measured = next((r for r in every if r["accounts"] == target), None)
        rs = [r for r in every if r["accounts"] < target]
        xs = [float(r["accounts"]) for r in rs]
        if len(set(xs)) < 2:
            continue
        a, b, r2 = fit(xs, [r["wall_s"] for r in rs])
        ca, cb, _ = fit(xs, [float(r["calls"]) for r in rs])
        rows.append(
            [
                f"{latency:g}",
                scenario,
                ", ".join(str(int(x)) for x in xs),
                f"{a:.2f} + {b:.4f} x N",
                f"{r2:.4f}",
                f"{a + b * target:.0f}",
                f"{measured['wall_s']:.0f}" if measured else "not measured",
                f"{ca:.1f} + {cb:.3f} x N",
                f"{ca + cb * target:.0f}",
                str(measured["calls"]) if measured else "not measured",
            ]
        )
    return rows


COMPARE_COLUMNS = (
    "accounts",
    "scenario",
    "wall s before",
    "wall s after",
    "CPU s before",
    "CPU s after",
    "calls before",
    "calls after",
    "calls/account before",
    "calls/account after",
    "admin calls before",
    "admin calls after",
    "member calls before",
    "member calls after",
    "calls by API before -> after (those that differ)",
)


def compare_rows(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[list[str]]:
    """One row per (accounts, latency, scenario) measured both before and after."""
    old = {(r["accounts"], r["latency_ms"], r["scenario"]): r for r in _ok(before)}
    rows = []
    for r in _ok(after):
        b = old.get((r["accounts"], r["latency_ms"], r["scenario"]))
        if b is None:
            continue
        apis = sorted(set(b["calls_by_api"]) | set(r["calls_by_api"]))
        changed = [
            f"{api.split('.', 1)[1]} {b['calls_by_api'].get(api, 0)} -> {r['calls_by_api'].get(api, 0)}"
            for api in apis
            if b["calls_by_api"].get(api, 0) != r["calls_by_api"].get(api, 0)
        ]
        rows.append(
            [
                str(r["accounts"]),
                r["scenario"],
                f"{b['wall_s']:.1f}",
                f"{r['wall_s']:.1f}",
                f"{b['cpu_s']:.1f}",
                f"{r['cpu_s']:.1f}",
                str(b["calls"]),
                str(r["calls"]),
                f"{b['calls_per_account']:.2f}",
                f"{r['calls_per_account']:.2f}",
                str(b["admin_requests"]),
                str(r["admin_requests"]),
                str(b["member_requests"]),
                str(r["member_requests"]),
                ", ".join(changed) or "same",
            ]
        )
    return sorted(rows, key=lambda row: (int(row[0]), SCENARIO_ORDER[row[1]]))


def fit_columns(target: int) -> tuple[str, ...]:
    return (
        "latency ms",
        "scenario",
        "sizes fitted",
        "wall s (least squares)",
        "r²",
        f"wall s at {target:,} (fit)",
        f"wall s at {target:,} (measured)",
        "calls (least squares)",
        f"calls at {target:,} (fit)",
        f"calls at {target:,} (measured)",
    )


def _markdown(title: str, columns: Sequence[str], rows: list[list[str]]) -> str:
    lines = [f"**{title}**", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _rich(title: str, columns: Sequence[str], rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def print_report(records: Iterable[dict[str, Any]], *, markdown: bool = False, target: int = 1000) -> None:
    ok = _ok(records)
    tables: list[tuple[str, Sequence[str], list[list[str]]]] = [
        ("Rollout of the environment, by size, latency and scenario", SUMMARY_COLUMNS, summary_rows(ok))
    ]
    for latency in sorted({r["latency_ms"] for r in ok}):
        for scenario in sorted({r["scenario"] for r in ok}, key=SCENARIO_ORDER.__getitem__):
            sizes, rows = by_api_rows(ok, latency, scenario)
            columns = (
                "API",
                "where",
                *(f"{n} accounts" for n in sizes),
                f"per account at {sizes[-1]}",
                f"error answers at {sizes[-1]}",
            )
            tables.append((f"Calls by API: {scenario}, {latency:g} ms", columns, rows))
    fits = fit_rows(ok, target)
    if fits:
        tables.append(
            (
                f"Least-squares fit in the account count N, extrapolated to {target:,}",
                fit_columns(target),
                fits,
            )
        )
    if markdown:
        for title, header, body in tables:
            print(_markdown(title, header, body))
        return
    console = Console(width=220)
    for title, header, body in tables:
        console.print(_rich(title, header, body))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("results", type=Path, nargs="+", help="JSON files written by rollout.py --json")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables (for the README)")
    parser.add_argument("--target", type=int, default=1000, help="extrapolate to this many accounts")
    parser.add_argument("--before", type=Path, help="compare with these results (the code before)")
    args = parser.parse_args()
    records = [r for path in args.results for r in json.loads(path.read_text())]
    if args.before:
        rows = compare_rows(json.loads(args.before.read_text()), records)
        title = f"Before ({args.before.name}) and after"
        if args.markdown:
            print(_markdown(title, COMPARE_COLUMNS, rows))
        else:
            Console(width=260).print(_rich(title, COMPARE_COLUMNS, rows))
        return 0
    print_report(records, markdown=args.markdown, target=args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
