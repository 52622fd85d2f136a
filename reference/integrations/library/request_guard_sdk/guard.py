"""request-guard as pure-ASGI middleware: API-key check, Prometheus metrics, a JSON audit
line per request and, when enabled, fault triggers — the contract of
reference/integrations/README.md.

The monolithic integration (kserve_primary/request_guard.py of the reference primary) is
the same function by design: the comparison measures where it runs, not what it does.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, which costs a task and a queue per
request: the comparison must measure the function, not a slow middleware style.
"""

from __future__ import annotations

import asyncio
import ctypes
import hmac
import math
import mmap
import os
import platform
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from . import __version__

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]
LineSink = Callable[[bytes], None]

INTEGRATION = "library"
RUNTIME = f"{platform.python_implementation()} {platform.python_version()}"
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Probes and scrapers carry no keys; these are still logged and counted.
EXEMPT = frozenset({("GET", "/v2/health/live"), ("GET", "/v2/health/ready"), ("GET", "/metrics")})
METRICS_PATH = "/metrics"
FAULT_PREFIX = "/aux/fault/"
UNAUTHORIZED_BODY = b'{"error":"missing or invalid API key"}'
JSON_CONTENT_TYPE = b"application/json"
METRICS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4.encode()

CRASH_DELAY_S = 0.010
MAX_SPIN_SECONDS = 60.0
MIB = 1 << 20
BALLOON_CHUNK = 16 * MIB
_TOUCH = b"\x01" * (BALLOON_CHUNK // mmap.PAGESIZE)


def stdout_sink(fd: int = 1) -> LineSink:
    """Each line is one write(2): seen at once by a log shipper, never interleaved (< PIPE_BUF)."""

    def write(line: bytes) -> None:
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            # A closed or broken stdout (the log shipper died) must not fail requests.
            pass

    return write


class RequestGuard:
    """Wraps an ASGI app; every HTTP request passes the key check, is counted, timed and audited."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_key: str,
        integration: str = INTEGRATION,
        faults: bool = False,
        sink: LineSink | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must be a non-empty string")
        self.app = app
        self.integration = integration
        self._api_key = api_key.encode()
        self._sink = sink or stdout_sink()
        self._pid = os.getpid()
        self.metrics = GuardMetrics(integration, __version__)
        self.faults = Faults() if faults else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method: str = scope["method"]
        path: str = scope["path"]
        presented = b""
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                presented = presented or value
            elif name == b"x-request-id":
                request_id = request_id or value.decode("latin-1")
        if (method, path) in EXEMPT:
            verdict = "exempt"
        elif not presented:
            verdict = "missing"  # an empty header counts as missing, as in the Go sidecar's Header.Get
        elif hmac.compare_digest(presented, self._api_key):
            verdict = "ok"
        else:
            verdict = "invalid"
        status = 0
        bytes_in = 0
        bytes_out = 0

        async def counting_receive() -> Message:
            nonlocal bytes_in
            message = await receive()
            if message["type"] == "http.request":
                bytes_in += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            nonlocal status, bytes_out
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                bytes_out += len(message.get("body", b""))
            await send(message)

        start_fault: Callable[[], None] | None = None
        try:
            if verdict == "missing" or verdict == "invalid":
                await _respond(counting_send, 401, JSON_CONTENT_TYPE, UNAUTHORIZED_BODY)
            elif verdict == "exempt" and path == METRICS_PATH:
                await _respond(counting_send, 200, METRICS_CONTENT_TYPE, self.metrics.exposition())
            elif self.faults is not None and method == "POST" and path.startswith(FAULT_PREFIX):
                answer = self.faults.prepare(path[len(FAULT_PREFIX) :], scope["query_string"])
                if answer is None:  # not a fault kind: the app answers (404), as with faults off
                    await self.app(scope, counting_receive, counting_send)
                else:
                    fault_status, body, start_fault = answer
                    await _respond(counting_send, fault_status, JSON_CONTENT_TYPE, body)
            else:
                await self.app(scope, counting_receive, counting_send)
        finally:
            elapsed = time.perf_counter() - start
            self.metrics.observe(method, status, elapsed)
            record = {
                "ts": datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z",
                "aux": "request-guard",
                "integration": self.integration,
                "pid": self._pid,
                "method": method,
                "path": path,
                "status": status,  # 0: the client went away before a response started
                "duration_us": round(elapsed * 1_000_000),
                "bytes_in": bytes_in,
                "bytes_out": bytes_out,
                "api_key": verdict,
                "request_id": request_id,
            }
            self._sink(orjson.dumps(record) + b"\n")
        if start_fault is not None:
            start_fault()  # after the 202 has been sent and audited


async def _respond(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GuardMetrics:
    """aux_requests_total, aux_request_duration_seconds and aux_build_info in a registry of their own."""

    def __init__(self, integration: str, version: str) -> None:
        # A dedicated registry: the host's global REGISTRY (and whatever it exports) stays untouched.
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "aux_requests",
            "HTTP requests seen by request-guard, by method and status code.",
            ["method", "code"],
            registry=None,
        )
        self._duration = Histogram(
            "aux_request_duration_seconds",
            "Time request-guard spent on a request, response sent.",
            buckets=BUCKETS,
            registry=None,
        )
        self.registry.register(_WithoutCreatedSeries(self._requests, self._duration))
        # labels() takes a lock and validates on every call; the children are cached per (method, status).
        self._children: dict[tuple[str, int], Counter] = {}
        self._build_info = _build_info(integration, version)

    def observe(self, method: str, status: int, seconds: float) -> None:
        child = self._children.get((method, status))
        if child is None:
            child = self._children.setdefault((method, status), self._requests.labels(method, str(status)))
        child.inc()
        self._duration.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry) + self._build_info


class _WithoutCreatedSeries(Collector):
    """The counter and histogram without prometheus_client's `_created` series: the contract
    lists none and the Go sidecar exposes none. Filtered here rather than switched off with
    disable_created_metrics(), which is process-wide and would change the host's own metrics."""

    def __init__(self, *metrics: Counter | Histogram) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        for metric in self._metrics:
            for family in metric.collect():
                family.samples = [s for s in family.samples if not s.name.endswith("_created")]
                yield family


def _build_info(integration: str, version: str) -> bytes:
    """Rendered once, by hand: constant for the process, and prometheus_client would write the
    labels sorted and the value as `1.0`; the contract's line has this label order and `1`."""
    labels = (
        ("integration", integration),
        ("language", "python"),
        ("runtime", RUNTIME),
        ("version", version),
        ("pid", str(os.getpid())),
    )
    rendered = ",".join(f'{name}="{_escape_label(value)}"' for name, value in labels)
    return (
        "# HELP aux_build_info request-guard build: integration, language, runtime, version and pid.\n"
        "# TYPE aux_build_info gauge\n"
        f"aux_build_info{{{rendered}}} 1\n"
    ).encode()


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Faults:
    """POST /aux/fault/{crash,balloon,spin}: real failures of the process request-guard runs in."""

    def __init__(self) -> None:
        # Balloon memory is kept for the life of the process: the fault is memory that stays.
        self.ballast: list[bytearray] = []

    def prepare(self, kind: str, query_string: bytes) -> tuple[int, bytes, Callable[[], None] | None] | None:
        """(status, body, what to start once the answer is sent), or None for an unknown kind."""
        params = parse_qs(query_string.decode("latin-1"))
        try:
            if kind == "crash":
                start: Callable[[], None] = _crash_soon
            elif kind == "balloon":
                rate = _positive(params, "mibPerSec", 256.0)
                limit = _positive(params, "maxMiB", 4096.0)
                start = partial(_start_thread, "request-guard-balloon", self.balloon, rate, limit)
            elif kind == "spin":
                seconds = _positive(params, "seconds", 3.0, maximum=MAX_SPIN_SECONDS)
                start = partial(_start_thread, "request-guard-spin", spin, seconds)
            else:
                return None
        except ValueError as error:
            return 400, orjson.dumps({"error": str(error)}), None
        return 202, orjson.dumps({"fault": kind}), start

    def balloon(self, mib_per_sec: float, max_mib: float) -> None:
        """Allocates 16 MiB blocks at mib_per_sec until max_mib, keeping every block."""
        limit = int(max_mib * MIB)
        rate = mib_per_sec * MIB
        started = time.monotonic()
        allocated = 0
        while allocated < limit:
            size = min(BALLOON_CHUNK, limit - allocated)
            block = bytearray(size)
            # A byte written per page: only written pages become resident, and the fault is
            # about resident memory, whatever zero-filling the allocator does or skips.
            block[:: mmap.PAGESIZE] = _TOUCH[: -(-size // mmap.PAGESIZE)]
            self.ballast.append(block)
            allocated += size
            delay = started + allocated / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def spin(seconds: float) -> None:
    """A pure-Python loop: holds the GIL the way a CPU-bound bug in the function would."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def _crash_soon() -> None:
    # Later, not now: the 202 is on its way out first, as the contract says.
    asyncio.get_running_loop().call_later(CRASH_DELAY_S, _segfault)


def _segfault() -> None:
    ctypes.string_at(0)  # reads address 0: SIGSEGV, the way a real native bug ends a process


def _start_thread(name: str, target: Callable[..., None], *args: float) -> None:
    # A daemon thread: a running fault never holds up the process's exit.
    threading.Thread(target=target, args=args, name=name, daemon=True).start()


def _positive(params: dict[str, list[str]], name: str, default: float, *, maximum: float | None = None) -> float:
    values = params.get(name)
    if not values:
        return default
    raw = values[-1]
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0 and (maximum is None or value <= maximum)):
        bound = f" and <= {maximum:g}" if maximum is not None else ""
        raise ValueError(f"{name}={raw!r}: expected a number > 0{bound}")
    return value
