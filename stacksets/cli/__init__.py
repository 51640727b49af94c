"""``appstorage-deploy``: plan | deploy | status | outputs | drift | destroy | dr-check, against AWS,
any endpoint, or --local.

* :mod:`.app`: the console script (:func:`main`): options, configuration, effects;
* :mod:`.commands`: one handler per command, registered in :data:`COMMANDS` (name -> handler,
  help); a new command adds one handler and one entry;
* :mod:`.context`: what a handler gets (:class:`Context`) and the exit codes;
* :mod:`.failures`: how an exception ends a command (one table: exit code and message);
* :mod:`.output`: JSON, tables and the outputs file.

Exit codes: 0 ok, 1 an operation failed or was refused (or, for ``drift``/``dr-check``, something
is not as it should be), 2 bad input (configuration, environment, options), 130 interrupted.
"""

from __future__ import annotations

from .app import build_parser, main
from .commands import COMMANDS
from .context import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Context

__all__ = [
    "COMMANDS",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "Context",
    "build_parser",
    "main",
]
