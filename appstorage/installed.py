"""Which copy of ``appstorage`` runs: ``python -m appstorage.build`` in a source checkout imports
the checkout's ``appstorage/`` (the current directory comes first on ``sys.path``), while the
console scripts (``appstorage-build``, ``appstorage-deploy``) import the installed package. After a
non-editable install (``pip install .``) those are two copies, and the bundled example one of
them reads may not be the one the other reads."""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["installed_elsewhere"]


def installed_elsewhere() -> Path | None:
    """Another copy of the package further down ``sys.path`` (the installed one, shadowed by a
    checkout), or None when this is the only one (an editable install, or a plain checkout)."""
    here = Path(__file__).resolve().parent
    for entry in sys.path:
        candidate = Path(entry or ".").resolve() / "appstorage"
        if (candidate / "__init__.py").is_file() and candidate != here:
            return candidate
    return None
