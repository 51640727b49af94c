"""``GET /moto-api/appstorage``: how a client tells a moto server that has the emulator's models
from a plain one.

A plain moto server (``moto_server``) has no model of ``AWS::DynamoDB::GlobalTable`` or
``AWS::CloudWatch::Alarm``: it answers CreateStackInstances for our templates with an HTTP 500
page. :func:`~stacksets.emulator.register_models` adds this route to moto's own ``/moto-api``
routes, so every moto server started in a process that registered the models (``appstorage-deploy
local start``, ``--local``, the tests' server) answers it with the models and its process id,
and a plain one answers 404.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..localstate import MARKER_PATH

__all__ = ["MARKER_PATH", "MARKER_ROUTE", "MODELLED_TYPES", "describe_emulator"]

#: The path a client asks (:func:`stacksets.localstate.probe`) as a moto url pattern (``{0}``:
#: the url base).
MARKER_ROUTE = "{0}" + MARKER_PATH

#: The types the emulator models (kept in step with ``register_models``).
MODELLED_TYPES = (
    "AWS::DynamoDB::GlobalTable",
    "AWS::CloudWatch::Alarm",
    "AWS::S3::Bucket",
    "AWS::SSM::Parameter",
)


def describe_emulator(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
    """The route's handler (moto's handler signature): which emulator, its models, its pid."""
    body = {"emulator": "appstorage", "models": list(MODELLED_TYPES), "pid": os.getpid()}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode("utf-8")
