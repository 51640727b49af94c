"""Moved: the rollout is :mod:`stacksets.rollout` (with :mod:`stacksets.operations`,
:mod:`stacksets.requests`, :mod:`stacksets.outputs`, :mod:`stacksets.errors`). These names stay
importable from here only until :mod:`stacksets.drcheck` imports them from
:mod:`stacksets.awserrors`; nothing else may import this module."""

from __future__ import annotations

from .awserrors import ACCESS_DENIED, unreadable_reason

__all__ = ["ACCESS_DENIED", "unreadable_reason"]
