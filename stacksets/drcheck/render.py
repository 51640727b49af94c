"""What ``dr-check`` prints: the table of every row (:func:`render_dr_check`), one summary line per
environment (:func:`summary_line`), the JSON document (:func:`report_to_json`, ``--json``) and the
hint when reads were refused (:func:`read_hints`). Pure: reports in, text and data out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from rich import box
from rich.table import Table
from rich.text import Text

from .checks import NOT_READY, OFF, READY, ROLE_CHECK, EnvironmentReport

__all__ = ["DR_READ_HINT", "read_hints", "render_dr_check", "report_to_json", "summary_line"]

#: What to do when the reads in a member account are refused.
DR_READ_HINT = (
    "set deployment.execution_role_name to a role this caller can assume in those accounts, allowed "
    "dynamodb:DescribeTable, dynamodb:DescribeContinuousBackups, s3:GetReplicationConfiguration and "
    "s3:GetBucketVersioning, then run dr-check again"
)


_STYLES = {READY: "green", NOT_READY: "bold red", OFF: "yellow"}


def summary_line(report: EnvironmentReport) -> str:
    """The final line of one environment."""
    accounts = len(report.accounts)
    counted = [c for c in report.checks if c.status != OFF]
    if report.ready:
        text = f"{report.environment}: READY ({len(counted)} checks in {accounts} account(s) ready"
        if not report.replication:
            text += f"; no regional DR copy: replication is off, nothing in {report.replica_region}"
        return text + ")"
    if not report.accounts:
        return f"{report.environment}: NOT READY: no account to check ({report.not_ready[0].detail})"
    bad_accounts = sorted({c.account for c in report.not_ready})
    return (
        f"{report.environment}: NOT READY: {len(report.not_ready)} of {len(counted)} checks in "
        f"{len(bad_accounts)} of {accounts} account(s) ({', '.join(bad_accounts)})"
    )


def render_dr_check(reports: Sequence[EnvironmentReport]) -> Table:
    """The table of every row (environment, account, region, check, status, detail); readable at
    100 columns: no vertical borders, the detail column folds."""
    table = Table(
        box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False, title="DR readiness"
    )
    table.add_column("env", no_wrap=True)
    table.add_column("account", no_wrap=True)
    table.add_column("region", no_wrap=True)
    table.add_column("check", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=1)
    for report in reports:
        for c in report.checks:
            table.add_row(
                report.environment,
                c.account,
                c.region or "-",
                c.check,
                Text(c.status, style=_STYLES.get(c.status, "")),
                Text(c.detail),
            )
    return table


def report_to_json(report: EnvironmentReport) -> dict[str, Any]:
    """One environment as ``dr-check --json`` gives it (keyed by environment there): its settings,
    ``ready``, the count of NOT READY rows, every row and the summary line."""
    return {
        "environment": report.environment,
        "ready": report.ready,
        "replication": report.replication,
        "primary_region": report.primary_region,
        "replica_region": report.replica_region,
        "accounts": list(report.accounts),
        "not_ready": len(report.not_ready),
        "checks": [attrs.asdict(c) for c in report.checks],
        "summary": summary_line(report),
    }


def read_hints(reports: Iterable[EnvironmentReport]) -> list[str]:
    """What to do when reads were refused in some accounts (the role, or a permission); else none."""
    refused = any(c.check == ROLE_CHECK or "refused (" in c.detail for r in reports for c in r.not_ready)
    return [f"reads were refused in some accounts: {DR_READ_HINT}"] if refused else []
