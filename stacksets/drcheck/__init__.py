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
can be used on their own. The command (``appstorage-deploy dr-check``) is
:func:`stacksets.cli.commands.cmd_dr_check`, a thin layer on the reader and the rendering.

Exit code (documented for CI): 0 when every check is ready (or off by configuration), 1 when
anything is not ready or could not be read, 2 for bad input (before any call).
"""

from __future__ import annotations

__all__: list[str] = []
