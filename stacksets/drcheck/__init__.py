"""``dr-check``: read the live disaster-recovery state of every target account and say what is
not ready.

Per account of each selected environment, read in that account: the table and its replica
(DescribeTable), point-in-time recovery (DescribeContinuousBackups), the buckets' replication
(GetBucketReplication) and versioning (GetBucketVersioning); each check is a row, ready, NOT
READY (with the reason) or off by configuration (``replication: false``: no regional copy).

Three modules, one job each:

* :mod:`.checks`: what was read -> rows, pure (what each check expects is documented there);
* :mod:`.reader`: the boto3 reads through an injected :class:`~stacksets.session.ClientFactory`,
  which accounts to check, and :func:`~.reader.dr_check` (read and judge one environment); a
  failed read is a NOT READY row, never a traceback;
* :mod:`.render`: the table, the summary lines, the JSON document and the hints.

Importing the package, or :mod:`.checks` alone, loads neither boto3 nor the CLI: the pure checks
can be used on their own. :func:`cmd_dr_check` (``appstorage-deploy dr-check``) is the thin
command on top (it imports the reader when it runs); it moves to the CLI layer next.

Exit code (documented for CI): 0 when every check is ready (or off by configuration), 1 when
anything is not ready or could not be read, 2 for bad input (before any call).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..cli import Context

__all__ = ["cmd_dr_check"]


def cmd_dr_check(ctx: Context) -> int:
    """Exit 0 when every check is ready (or off by configuration), 1 otherwise."""
    from .reader import dr_check
    from .render import read_hints, render_dr_check, report_to_json, summary_line

    reports = [dr_check(ctx.factory, ctx.config, env, progress=ctx.reporter.info) for env in ctx.environments]
    ctx.reporter.close()
    if ctx.args.json:
        data = {r.environment: report_to_json(r) for r in reports}
        ctx.out.file.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    else:
        ctx.out.print(render_dr_check(reports))
        for report in reports:
            ctx.out.print(summary_line(report), markup=False, highlight=False)
    for hint in read_hints(reports):
        ctx.err.print(hint, markup=False)
    return 0 if all(r.ready for r in reports) else 1
