"""``appstorage-deploy``: plan | deploy | cancel | status | outputs | drift | destroy | dr-check,
against AWS, any endpoint, or --local.

* :mod:`.app`: the console script (:func:`main`): options, configuration, effects;
* :mod:`.commands`: one handler per command, registered in :data:`COMMANDS` (name -> handler,
  help); a new command adds one handler and one entry;
* :mod:`.staged`: ``cancel`` and what ``deploy --detach`` does and says;
* :mod:`.context`: what a handler gets (:class:`Context`) and the exit codes;
* :mod:`.failures`: how an exception ends a command (one table: exit code and message);
* :mod:`.output`: JSON, tables and the outputs file; :mod:`.markdown`: ``--format markdown``;
* :mod:`.lastcall`: the last API call, which a failure's message can name.

Exit codes (the README's table, checked against these constants and the failure table): 0 ok,
1 an operation failed or was refused (or, for ``drift``/``dr-check``, something is not as it
should be), 2 bad input (configuration, environment, options), 130 interrupted;
``plan --detailed-exitcode``: 2 changes, and every error 1.
"""

from __future__ import annotations

from .app import build_parser, main
from .commands import COMMANDS
from .context import EXIT_BAD_INPUT, EXIT_CHANGES, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Context

__all__ = [
    "COMMANDS",
    "EXIT_BAD_INPUT",
    "EXIT_CHANGES",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "Context",
    "build_parser",
    "main",
]
