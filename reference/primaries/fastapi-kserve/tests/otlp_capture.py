"""A tiny OTLP/HTTP receiver on 127.0.0.1 for the tests: decodes what the primary's exporters
POST to /v1/metrics and /v1/traces (protobuf, optionally gzip) and keeps every request."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

T = TypeVar("T")


class OtlpCapture:
    def __init__(self) -> None:
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.traces: list[ExportTraceServiceRequest] = []
        self.content_types: set[str] = set()
        self._lock = threading.Lock()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path == "/v1/metrics":
                    request: Any = ExportMetricsServiceRequest.FromString(body)
                    answer = ExportMetricsServiceResponse().SerializeToString()
                    target: list[Any] = capture.metrics
                elif self.path == "/v1/traces":
                    request = ExportTraceServiceRequest.FromString(body)
                    answer = ExportTraceServiceResponse().SerializeToString()
                    target = capture.traces
                else:
                    self.send_error(404)
                    return
                with capture._lock:
                    target.append(request)
                    capture.content_types.add(self.headers.get("Content-Type", ""))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def latest_counts(self) -> dict[tuple[str, str], int]:
        """kserve.requests {model, status} -> value, from the last export that had the metric."""
        with self._lock:
            requests = list(self.metrics)
        for request in reversed(requests):
            counts = {
                (_attr(p.attributes, "model"), _attr(p.attributes, "status")): p.as_int
                for m in _metrics(request, "kserve.requests")
                for p in m.sum.data_points
            }
            if counts:
                return counts
        return {}

    def latest_histogram_counts(self) -> dict[tuple[str, str], int]:
        with self._lock:
            requests = list(self.metrics)
        for request in reversed(requests):
            counts = {
                (_attr(p.attributes, "model"), _attr(p.attributes, "status")): p.count
                for m in _metrics(request, "kserve.request.duration")
                for p in m.histogram.data_points
            }
            if counts:
                return counts
        return {}

    def spans(self) -> list[Any]:
        with self._lock:
            requests = list(self.traces)
        return [s for r in requests for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]

    def resources(self) -> list[dict[str, str]]:
        with self._lock:
            requests = [*self.metrics, *self.traces]
        found = []
        for request in requests:
            for resource_data in [*getattr(request, "resource_metrics", []), *getattr(request, "resource_spans", [])]:
                found.append({kv.key: kv.value.string_value for kv in resource_data.resource.attributes})
        return found


def _metrics(request: ExportMetricsServiceRequest, name: str) -> list[Any]:
    return [m for rm in request.resource_metrics for sm in rm.scope_metrics for m in sm.metrics if m.name == name]


def _attr(attributes: Any, key: str) -> str:
    return next((kv.value.string_value for kv in attributes if kv.key == key), "")


def wait_for(read: Callable[[], T], accept: Callable[[T], bool], timeout_s: float, what: str) -> T:
    """Polls `read` every 50 ms until `accept` holds; fails naming `what` and the last value."""
    deadline = time.monotonic() + timeout_s
    value = read()
    while not accept(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s; last seen {value!r}")
        time.sleep(0.05)
        value = read()
    return value
