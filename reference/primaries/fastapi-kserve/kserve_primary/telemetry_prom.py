"""Prometheus exposition of the request counts: GET /metrics (PRIMARY_METRICS=1) and a textfile
for node exporter's textfile collector (PRIMARY_METRICS_TEXTFILE). Imported only when one of
them is on, so the baseline never loads prometheus_client.

Series: kserve_requests_total{model,status} and the histogram
kserve_request_duration_seconds{model,status}, both rendered from RequestStats by a
collector in a registry of its own (the global REGISTRY stays untouched), without `_created`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Iterable
from itertools import accumulate

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from .request_stats import BUCKETS, RequestStats

# 0.0.4, the text format Prometheus 2.42, promtool and node exporter all read.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
_LES = [floatToGoString(b) for b in BUCKETS] + ["+Inf"]
_LABELS = ["model", "status"]


class _StatsCollector(Collector):
    def __init__(self, stats: RequestStats) -> None:
        self._stats = stats

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily("kserve_requests", "Counted requests by model and status.", labels=_LABELS)
        duration = HistogramMetricFamily(
            "kserve_request_duration_seconds",
            "Time from request start to response end, by model and status.",
            labels=_LABELS,
        )
        for (model, status), count, sum_s, bucket_counts in self._stats.snapshot():
            requests.add_metric([model, status], count)
            duration.add_metric([model, status], list(zip(_LES, accumulate(bucket_counts), strict=True)), sum_s)
        yield requests
        yield duration


class PrometheusExposition:
    def __init__(self, stats: RequestStats) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_StatsCollector(stats))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class TextfileWriter:
    """Rewrites the textfile every interval and once more at shutdown. Atomic: written to a
    temporary file in the same directory, then renamed over the target, so a reader sees the
    old file or the new one, never a partial one. The temporary name does not end in .prom:
    node exporter's textfile collector skips it."""

    def __init__(self, exposition: PrometheusExposition, path: str, interval_ms: int) -> None:
        self._exposition = exposition
        self.path = path
        self._tmp_path = os.path.join(
            os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{os.getpid()}.tmp"
        )
        self._interval_s = interval_ms / 1000.0
        self.writes = 0
        self._failed = False
        # A cancelled run() leaves its thread writing: the shutdown write waits for it
        # rather than sharing the temporary file.
        self._lock = threading.Lock()

    def write(self) -> None:
        with self._lock:
            try:
                with open(self._tmp_path, "wb") as file:
                    file.write(self._exposition.render())
                os.replace(self._tmp_path, self.path)
            except OSError as error:
                if not self._failed:  # said once, not every interval
                    print(
                        f"PRIMARY_METRICS_TEXTFILE {self.path}: write failed: {error.strerror}",
                        file=sys.stderr,
                        flush=True,
                    )
                self._failed = True
                return
            self._failed = False
            self.writes += 1

    async def run(self) -> None:
        """Writes now and then every interval until cancelled; off the event loop, since a
        slow disk must not hold up requests."""
        while True:
            await asyncio.to_thread(self.write)
            await asyncio.sleep(self._interval_s)
