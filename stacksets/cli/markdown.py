"""``--format markdown``: what a pull-request comment or a CI step summary shows (GitHub-flavoured
Markdown). Pure: plans and reports in, text out.

Every command's document starts with a level-2 heading naming the command, then one level-3
heading per environment with its summary in bold; what needs attention (BLOCKED, DATA LOSS,
drift) is outside the collapsed details, the full text plan inside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..drcheck.checks import NOT_READY, EnvironmentReport
from ..drcheck.render import summary_line
from ..drift import StackSetDrift, render_drift
from ..model import StackSetPlan
from ..outputs import StackOutputs
from ..plan import all_data_loss
from ..planview import instance_region, render_plan, staged_lines

__all__ = [
    "Code",
    "cell",
    "code",
    "dr_check_markdown",
    "drift_markdown",
    "outputs_markdown",
    "plan_markdown",
    "status_markdown",
    "table",
]


#: An empty cell.
EMPTY = "-"


class Code(str):
    """A value shown as inline code in a table cell (names, ARNs, values to copy)."""


def code(value: object) -> Code:
    return Code(str(value))


def cell(value: object) -> str:
    """A table cell: ``|`` escaped (also inside code, as GitHub's tables need), line breaks as
    ``<br>``, an empty one as a dash; a :class:`Code` value in backticks."""
    text = " ".join(str(value).split()) if isinstance(value, Code) else str(value).replace("\r", "")
    text = text.replace("|", "\\|")
    if isinstance(value, Code) and text:
        fence = "``" if "`" in text else "`"
        return f"{fence}{text}{fence}"
    return "<br>".join(text.splitlines()) or EMPTY


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def _details(summary: str, text: str) -> list[str]:
    return [
        "<details><summary>" + summary + "</summary>",
        "",
        "```",
        text.rstrip("\n"),
        "```",
        "",
        "</details>",
    ]


def _changes(plan: StackSetPlan) -> str:
    parts = []
    if plan.template.resources:
        parts.append(f"{len(plan.template.resources)} resource(s)")
    if plan.parameters:
        parts.append(f"{len(plan.parameters)} parameter(s)")
    if plan.settings:
        parts.append(f"{len(plan.settings)} setting(s)")
    instances = plan.instances
    counts = [(len(instances.add), "+"), (len(instances.remove), "-"), (len(instances.outdated), "~")]
    shown = " ".join(f"{mark}{n}" for n, mark in counts if n)
    if shown:
        parts.append(f"instances {shown}")
    return ", ".join(parts)


def plan_markdown(plans_by_env: Mapping[str, Sequence[StackSetPlan]]) -> str:
    """``plan --format markdown``: per environment, the summary, a table of the stack sets, what
    deploy refuses (BLOCKED, DATA LOSS), and the text plan collapsed."""
    lines = ["## appstorage plan", ""]
    for env, plans in plans_by_env.items():
        text = render_plan(plans)
        summary = next(line for line in text.splitlines() if line.startswith("Plan: "))
        changed = any(p.changed for p in plans)
        lines += [f"### {env}", "", f"**{summary}**" + ("" if changed else " No changes."), ""]
        lines += table(
            ("stack set", "kind", "deploys to", "action", "changes"),
            (
                (code(p.desired.name), p.desired.kind, instance_region(p.desired), p.action, _changes(p))
                for p in plans
            ),
        )
        attention = [
            f"- **BLOCKED** {cell(code(p.desired.name))}: {cell(b)}" for p in plans for b in p.blockers
        ]
        attention += [
            f"- **DATA LOSS** {cell(code(c.logical_id))} ({c.resource_type}): {cell(c.reason)}"
            for p in plans
            for c in all_data_loss(p)
        ]
        # A subset run (--accounts/--regions): what stays OUTDATED or uncreated for a later run.
        staged = [
            f"- {cell(code(p.desired.name))}: {cell(line.strip())}" for p in plans for line in staged_lines(p)
        ]
        if staged:
            lines += ["", "Staged rollout:", "", *staged]
        if attention:
            lines += [
                "",
                "Deploy refuses this plan:" if any(p.blockers for p in plans) else "Needs attention:",
                "",
            ]
            lines += attention
        if changed:
            lines += ["", *_details("the plan in full", text)]
        lines.append("")
    return "\n".join(lines)


def status_markdown(rows_by_env: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """``status --format markdown``: one table per environment, a row per instance (a stack set
    without instances, or not deployed, has one row saying so)."""
    lines = ["## appstorage status", ""]
    for env, rows in rows_by_env.items():
        lines += [f"### {env}", ""]
        body = []
        for row in rows:
            name = code(row["stack_set"])
            if not row["instances"]:
                body.append((name, row.get("deploys_to", ""), EMPTY, EMPTY, row["status"], "", "", ""))
            for i in row["instances"]:
                body.append(
                    (
                        name,
                        row.get("deploys_to", ""),
                        i["account"],
                        i["region"],
                        i["status"],
                        i["detailed_status"],
                        i["drift_status"],
                        i["reason"],
                    )
                )
        lines += table(
            ("stack set", "deploys to", "account", "region", "status", "detailed status", "drift", "reason"),
            body,
        )
        lines.append("")
    return "\n".join(lines)


def outputs_markdown(outputs_by_env: Mapping[str, Sequence[StackOutputs]]) -> str:
    """``outputs --format markdown``: one table per environment, a row per output."""
    lines = ["## appstorage outputs", ""]
    for env, outputs in outputs_by_env.items():
        lines += [f"### {env}", ""]
        body: list[tuple[object, ...]] = []
        for o in outputs:
            if not o.outputs:
                body.append((o.kind, o.account, o.region, EMPTY, f"({o.error or 'stack ' + o.status})"))
            body += [
                (o.kind, o.account, o.region, key, code(value)) for key, value in sorted(o.outputs.items())
            ]
        lines += table(("stack set", "account", "region", "output", "value"), body)
        lines.append("")
    return "\n".join(lines)


def drift_markdown(reports_by_env: Mapping[str, Sequence[StackSetDrift]]) -> str:
    """``drift --format markdown``: per environment, the verdict in bold, a table of the stack
    sets, and the report (drifted resources and properties) collapsed."""
    lines = ["## appstorage drift", ""]
    for env, reports in reports_by_env.items():
        text = render_drift(env, reports)
        verdict = text.splitlines()[-1]
        lines += [f"### {env}", "", f"**{verdict}**", ""]
        rows = []
        for r in reports:
            state = "in sync" if r.clean else (r.problem or f"{len(r.drifted)} drifted")
            if r.unchecked or r.failed:
                state += f", {len(r.unchecked) + len(r.failed)} not checked"
            rows.append((code(r.stack_set), r.kind, len(r.instances), state))
        lines += table(("stack set", "kind", "instances", "drift"), rows)
        if not all(r.clean for r in reports):
            lines += ["", *_details("the drift report", text)]
        lines.append("")
    return "\n".join(lines)


def dr_check_markdown(reports: Sequence[EnvironmentReport]) -> str:
    """``dr-check --format markdown``: per environment, the summary in bold, then the rows that
    are NOT READY (all rows collapsed)."""
    lines = ["## appstorage dr-check", ""]
    for report in reports:
        lines += [f"### {report.environment}", "", f"**{summary_line(report)}**", ""]
        header = ("account", "region", "check", "status", "detail")
        rows = [(c.account, c.region, c.check, c.status, c.detail) for c in report.checks]
        bad = [row for row, c in zip(rows, report.checks, strict=True) if c.status == NOT_READY]
        if bad:
            lines += [*table(header, bad), ""]
        lines += ["<details><summary>every check</summary>", "", *table(header, rows), "", "</details>", ""]
    return "\n".join(lines)
