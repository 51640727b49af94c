#!/usr/bin/env python3
"""Thin entry point: ``python scripts/build.py`` is ``python -m appstorage.build``."""

from appstorage.build import main

if __name__ == "__main__":
    raise SystemExit(main())
