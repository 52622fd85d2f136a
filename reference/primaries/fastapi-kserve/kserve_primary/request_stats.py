"""The one place requests are counted for the telemetry role. GET /v2/debug/telemetry, the
Prometheus exposition (/metrics, textfile) and the OTLP counter all read these counts, so
they agree by construction; a sidecar that loses or invents a sample is what differs.

Counted: every HTTP request except /v2/health/*, /v2/debug/* and /metrics (probes, the
harness's own calls and scrapes would make the counts depend on who polls how often).
Labels: model (the {model} path segment of /v2/models/{model}/..., "" elsewhere) and
status (the response status as a string, "0" when the client left before one started).
"""

from __future__ import annotations

import bisect
import sys
import threading
import time
from collections.abc import Callable, Iterable

from .access_log import ASGIApp, Message, Receive, Scope, Send

# Seconds; the same boundaries for the Prometheus histogram and the OTLP one.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
MAX_SERIES = 1000  # label sets; past it, new models are folded into OVERFLOW_MODEL
OVERFLOW_MODEL = "_other"
_NOT_COUNTED_PREFIXES = ("/v2/health/", "/v2/debug/")
_MODELS_PREFIX = "/v2/models/"

Labels = tuple[str, str]  # (model, status)
# Told of every counted request once it is counted: (scope, labels, start_ns, duration_s).
Listener = Callable[[Scope, Labels, int, float], None]


class Series:
    __slots__ = ("count", "sum_s", "bucket_counts")

    def __init__(self) -> None:
        self.count = 0
        self.sum_s = 0.0
        self.bucket_counts = [0] * (len(BUCKETS) + 1)  # per bucket, not cumulative; the last is +Inf


class RequestStats:
    def __init__(self) -> None:
        # The OTLP reader collects on its own thread while the event loop records.
        self._lock = threading.Lock()
        self._series: dict[Labels, Series] = {}

    def record(self, labels: Labels, duration_s: float) -> Labels:
        """Counts one request; answers the labels it was counted under (folded past MAX_SERIES)."""
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                if len(self._series) >= MAX_SERIES:
                    labels = (OVERFLOW_MODEL, labels[1])
                    series = self._series.get(labels)
                if series is None:
                    series = self._series[labels] = Series()
            series.count += 1
            series.sum_s += duration_s
            series.bucket_counts[bisect.bisect_left(BUCKETS, duration_s)] += 1
        return labels

    def snapshot(self) -> list[tuple[Labels, int, float, list[int]]]:
        """(labels, count, sum in seconds, per-bucket counts) per label set, sorted by labels."""
        with self._lock:
            return sorted((labels, s.count, s.sum_s, list(s.bucket_counts)) for labels, s in self._series.items())

    def counts_json(self) -> dict[str, object]:
        return {
            "requests": [
                {"model": model, "status": status, "count": count} for (model, status), count, _, _ in self.snapshot()
            ]
        }


def is_counted(path: str) -> bool:
    return not (path.startswith(_NOT_COUNTED_PREFIXES) or path == "/metrics")


def model_of(path: str) -> str:
    if not path.startswith(_MODELS_PREFIX):
        return ""
    return path[len(_MODELS_PREFIX) :].split("/", 1)[0]


class RequestStatsMiddleware:
    """Times and counts each counted request, then tells the listeners (the OTLP span and
    histogram). Installed by create_app() only when a telemetry variable is set."""

    def __init__(self, app: ASGIApp, stats: RequestStats, listeners: Iterable[Listener] = ()) -> None:
        self.app = app
        self.stats = stats
        self.listeners = tuple(listeners)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_counted(scope["path"]):
            await self.app(scope, receive, send)
            return
        start_ns = time.time_ns()
        start = time.perf_counter()
        status = 0

        async def status_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, status_send)
        finally:
            duration_s = time.perf_counter() - start
            labels = self.stats.record((model_of(scope["path"]), str(status)), duration_s)
            for listener in self.listeners:
                _notify(listener, scope, labels, start_ns, duration_s)


def _notify(listener: Listener, scope: Scope, labels: Labels, start_ns: int, duration_s: float) -> None:
    try:
        listener(scope, labels, start_ns, duration_s)
    except Exception as error:  # telemetry never fails a request
        _report_listener_error(error)


_reported_errors: set[str] = set()


def _report_listener_error(error: Exception) -> None:
    kind = type(error).__name__
    if kind not in _reported_errors:  # once per kind: stderr is not flooded per request
        _reported_errors.add(kind)
        print(f"telemetry listener failed: {kind}: {error}", file=sys.stderr, flush=True)
