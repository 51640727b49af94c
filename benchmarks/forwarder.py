"""A latency-adding forwarder on loopback: every request the deployer sends waits ``delay``
seconds, then goes to moto's server unchanged; the answer comes back unchanged.

Where the default of 100 ms per call comes from (an assumption, not a measurement of ours)
-------------------------------------------------------------------------------------------
A call to an AWS control-plane API costs a network round trip plus the service's own processing.
The deployer runs next to the administration Region (us-east-1 in the bundled example) and reads
stacks in member accounts in both Regions of an environment (us-east-1 and us-west-2), so some
of its calls cross a continent. Published figures for boto3 and HTTP calls on AWS:

* boto3 calls from Lambda in us-east-1 to S3 took 60-120 ms in us-east-1 and 300-550 ms in
  us-west-2 over TLS (small uploads, 2020):
  https://kkc.github.io/2020/03/16/s3-latency/
* HTTP calls between EC2 web servers in Ireland and Oregon averaged about 270 ms, Oregon-Sydney
  about 280-310 ms ("AWS Latency Index", 2018-2019):
  https://sitemap.bytecode.tech/aws-latency-index/ (also https://dzone.com/articles/aws-latency-index)
* For scale, the best-known StackSets pipeline (Customizations for Control Tower) is reported
  to spend about 30 minutes per stack set on a no-change run at 800 accounts in 8 Regions,
  about 0.28 s per stack instance:
  https://github.com/aws-solutions/aws-control-tower-customizations/issues/174

100 ms per call is therefore a middle figure: optimistic for the calls that cross Regions,
perhaps pessimistic for same-Region reads on a warm connection. It is an assumption; change it
with ``--latency-ms``.

What this models and what it does not
-------------------------------------
It adds a fixed delay per HTTP request, before the request reaches moto (requests overlap, each
waits in its own thread: concurrency is modelled). It does not model throttling (no
``Rate exceeded``, no token buckets), latency variance or tails, connection setup (TLS), nor the
time CloudFormation itself takes to run a stack set operation: moto finishes every operation in
the call that starts it.

What it observes
----------------
Every request is attributed from the wire: the access key of its SigV4 ``Authorization`` header
(the administration account's key, or a member account's assumed-role key, mapped to its account
by reading the AssumeRole requests and answers that pass through), the service and Region of
its credential scope, and the operation (the name :func:`tag_operations` puts in a header,
else the ``Action`` of a query-protocol body, the ``X-Amz-Target`` of a JSON-protocol call, or
the HTTP method of a REST call). :class:`Traffic` counts them, sums
the time moto took, and keeps the peak number of requests in flight.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "ADMIN",
    "DEFAULT_LATENCY_MS",
    "OPERATION_HEADER",
    "UNSIGNED",
    "LatencyForwarder",
    "Traffic",
    "forwarding",
    "tag_operations",
]

#: The default delay added to every call, in milliseconds (see the module docstring).
DEFAULT_LATENCY_MS = 100.0

#: The principal of requests signed with the administration account's own credentials.
ADMIN = "admin"
#: The principal of unsigned requests: not AWS calls (the CLI's probe of the emulator's marker).
UNSIGNED = "unsigned"

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")
_ACCESS_KEY = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
_ROLE_ACCOUNT = re.compile(r"^arn:[^:]+:iam::(\d{12}):role/")


class Traffic:
    """What crossed the forwarder: requests by (principal, service, operation), status codes,
    moto's time, and the peak number of requests in flight. Thread-safe."""

    def __init__(self, admin_keys: frozenset[str]) -> None:
        self.admin_keys = admin_keys
        self._lock = threading.Lock()
        self._accounts: dict[str, str] = {}  # assumed-role access key -> account
        self.reset()

    def reset(self) -> None:
        """Forget the counts (the access-key map is kept: clients reuse their credentials)."""
        with self._lock:
            #: (principal, service, operation) -> requests; principal is ADMIN or a member account
            self.requests: Counter[tuple[str, str, str]] = Counter()
            #: (service, operation, HTTP status) of the answers that were not 2xx
            self.errors: Counter[tuple[str, str, int]] = Counter()
            #: seconds moto took, summed over the requests
            self.upstream_seconds = 0.0
            #: seconds moto took, by service.operation (summed)
            self.upstream_by_operation: dict[str, float] = {}
            #: the longest single answer of moto, and its operation
            self.slowest: tuple[float, str] = (0.0, "")
            self.in_flight = 0
            self.peak_in_flight = 0

    def principal(self, access_key: str) -> str:
        if not access_key:
            return UNSIGNED
        if access_key in self.admin_keys:
            return ADMIN
        with self._lock:
            return self._accounts.get(access_key, f"unknown:{access_key}")

    def learn(self, access_key: str, account: str) -> None:
        with self._lock:
            self._accounts[access_key] = account

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self, principal: str, service: str, operation: str, status: int, seconds: float) -> None:
        with self._lock:
            self.in_flight -= 1
            self.requests[(principal, service, operation)] += 1
            if not 200 <= status < 300:
                self.errors[(service, operation, status)] += 1
            self.upstream_seconds += seconds
            key = f"{service}.{operation}"
            self.upstream_by_operation[key] = self.upstream_by_operation.get(key, 0.0) + seconds
            if seconds > self.slowest[0]:
                self.slowest = (seconds, f"{service}.{operation}")

    def snapshot(self) -> dict[str, Any]:
        """The counts as plain data (JSON-ready)."""
        with self._lock:
            admin: Counter[str] = Counter()
            member: Counter[str] = Counter()
            unsigned: Counter[str] = Counter()
            per_account: Counter[str] = Counter()
            for (principal, service, operation), n in self.requests.items():
                key = f"{service}.{operation}"
                if principal == ADMIN:
                    admin[key] += n
                elif principal == UNSIGNED:
                    unsigned[key] += n
                else:
                    member[key] += n
                    per_account[principal] += n
            counts = sorted(per_account.values())
            return {
                "requests": sum(self.requests.values()),
                "admin_by_api": dict(sorted(admin.items())),
                "member_by_api": dict(sorted(member.items())),
                "admin_requests": sum(admin.values()),
                "member_requests": sum(member.values()),
                # not AWS calls: e.g. the CLI's GET of the emulator's marker route before a deploy
                "unsigned_requests": dict(sorted(unsigned.items())),
                "member_accounts_seen": len(per_account),
                "member_requests_per_account_min": counts[0] if counts else 0,
                "member_requests_per_account_max": counts[-1] if counts else 0,
                "errors": {f"{s}.{o} {st}": n for (s, o, st), n in sorted(self.errors.items())},
                "upstream_seconds": round(self.upstream_seconds, 3),
                "upstream_by_api": {
                    k: round(v, 3)
                    for k, v in sorted(self.upstream_by_operation.items(), key=lambda kv: -kv[1])
                },
                "slowest_answer": {"seconds": round(self.slowest[0], 3), "api": self.slowest[1]},
                "peak_in_flight": self.peak_in_flight,
            }


#: The header :func:`tag_operations` adds to each request (botocore's operation name); the
#: forwarder reads it and removes it before the request goes to moto.
OPERATION_HEADER = "X-Benchmark-Operation"


def tag_operations(client: Any) -> None:
    """A client hook (``main(hooks=...)``): each request carries its operation name in
    :data:`OPERATION_HEADER`, so that S3's REST calls are named too (added after signing: the
    signature is unchanged, and the forwarder removes the header)."""
    client.meta.events.register("before-send.*.*", _tag)


def _tag(request: Any, event_name: str, **_: Any) -> None:
    request.headers[OPERATION_HEADER] = event_name.rsplit(".", 1)[-1]


def _operation(method: str, headers: Any, body: bytes) -> str:
    tagged = headers.get(OPERATION_HEADER)
    if tagged:
        return str(tagged)
    target = headers.get("X-Amz-Target")
    if target:
        return str(target).rsplit(".", 1)[-1]
    if "x-www-form-urlencoded" in str(headers.get("Content-Type", "")) and body:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    return f"{method} (REST)"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: The status line, headers and body leave in one write (flushed after each request) ...
    wbufsize = 1 << 16
    server: _Server

    def setup(self) -> None:
        super().setup()
        # ... and without Nagle's algorithm: a reply in two small writes would otherwise wait for
        # the client's delayed ACK (about 40 ms on Linux) on every call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # the base class's signature
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def do_PUT(self) -> None:
        self._forward()

    def do_DELETE(self) -> None:
        self._forward()

    def _forward(self) -> None:
        forwarder = self.server.forwarder
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        credential = _CREDENTIAL.search(self.headers.get("Authorization", ""))
        access_key, _region, service = credential.groups() if credential else ("", "", "unsigned")
        operation = _operation(self.command, self.headers, body)
        traffic = forwarder.traffic
        traffic.enter()
        status = 599
        started = 0.0
        try:
            if forwarder.delay > 0:
                time.sleep(forwarder.delay)
            started = time.perf_counter()
            status, reason, headers, answer = forwarder.send_upstream(
                self.command, self.path, self.headers, body
            )
        finally:
            traffic.leave(
                traffic.principal(access_key),
                service,
                operation,
                status,
                time.perf_counter() - started if started else 0.0,
            )
        if service == "sts" and operation == "AssumeRole" and status == 200:
            role = parse_qs(body.decode("utf-8", "replace")).get("RoleArn", [""])[0]
            account = _ROLE_ACCOUNT.match(role)
            key = _ACCESS_KEY.search(answer)
            if account and key:
                traffic.learn(key.group(1).decode(), account.group(1))
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() in _HOP_BY_HOP or name.lower() == "content-length":
                continue
            self.send_header(name, value)
        if self.command == "HEAD":
            upstream_length = next((v for k, v in headers if k.lower() == "content-length"), "0")
            self.send_header("Content-Length", upstream_length)
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    forwarder: LatencyForwarder


class LatencyForwarder:
    """Forwards to ``upstream`` (moto's URL) after ``delay`` seconds per request."""

    def __init__(
        self, upstream: str, delay: float = DEFAULT_LATENCY_MS / 1000, *, admin_keys: frozenset[str]
    ):
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.delay = delay
        self.traffic = Traffic(admin_keys)
        self._local = threading.local()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.forwarder = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def send_upstream(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """One request to moto on this thread's keep-alive connection (reopened once if moto
        closed it). Returns status, reason, headers and the whole body (chunks decoded)."""
        out = {
            k: v
            for k, v in headers.items()
            if k.lower() not in _HOP_BY_HOP and k.lower() != OPERATION_HEADER.lower()
        }
        for attempt in (0, 1):
            connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
            if connection is None:
                connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=3600)
                self._local.connection = connection
            try:
                connection.request(method, path, body=body or None, headers=out)
                response = connection.getresponse()
                answer = response.read()
                if response.will_close:
                    connection.close()
                    self._local.connection = None
                return response.status, response.reason, response.getheaders(), answer
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                self._local.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


@contextmanager
def forwarding(upstream: str, delay: float, *, admin_keys: frozenset[str]) -> Iterator[LatencyForwarder]:
    """A started :class:`LatencyForwarder` in front of ``upstream``; stopped on exit."""
    forwarder = LatencyForwarder(upstream, delay, admin_keys=admin_keys)
    forwarder.start()
    try:
        yield forwarder
    finally:
        forwarder.stop()
