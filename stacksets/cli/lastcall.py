"""The last API call a command made, and what came back: what a failure message names when the
endpoint answered something that is not an AWS API response (an HTML page, garbage).

:class:`CallTracker` is a client hook (``ClientFactory(hooks=(tracker.attach,))``): botocore's
``before-call`` event gives the operation, ``before-parse`` the HTTP status and the start of the
body, before botocore's parser sees (and may choke on) it.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["BODY_PREVIEW", "CallTracker", "LastCall"]

#: How much of a response body is kept for the message (bytes).
BODY_PREVIEW = 120


@attrs.frozen
class LastCall:
    """One API call: where it went and, once answered, the HTTP status and the body's start."""

    service: str
    operation: str
    region: str
    endpoint: str
    status: int | None = None
    content_type: str = ""
    body: bytes = b""

    @property
    def name(self) -> str:
        """``cloudformation DescribeStackSet in us-east-1``."""
        return f"{self.service} {self.operation} in {self.region}"

    @property
    def preview(self) -> str:
        """The start of the body on one line, as printable text."""
        text = self.body[:BODY_PREVIEW].decode("utf-8", errors="replace")
        text = " ".join(text.split())
        printable = "".join(c if c.isprintable() else "?" for c in text)
        return printable + ("..." if len(self.body) > BODY_PREVIEW else "")


class CallTracker:
    """Remembers the last call of every client it is attached to (the CLI runs one call at a time)."""

    def __init__(self) -> None:
        self.last: LastCall | None = None

    def attach(self, client: Any) -> None:
        events = client.meta.events
        region = str(client.meta.region_name or "")
        endpoint = str(client.meta.endpoint_url or "")

        def before_call(model: Any, **_: Any) -> None:
            self.last = LastCall(model.service_model.service_name, model.name, region, endpoint)

        def before_parse(response_dict: Any, **_: Any) -> None:
            if self.last is None:  # pragma: no cover - botocore always emits before-call first
                return
            body = response_dict.get("body", b"")
            headers = response_dict.get("headers") or {}
            self.last = attrs.evolve(
                self.last,
                status=response_dict.get("status_code"),
                content_type=str(headers.get("content-type", "")),
                body=body[: BODY_PREVIEW + 1] if isinstance(body, bytes) else b"",
            )

        events.register("before-call.*.*", before_call)
        events.register("before-parse.*.*", before_parse)
