"""OTLP/HTTP (protobuf) metrics and traces through the OpenTelemetry SDK, to the endpoint a
telemetry sidecar listens on (PRIMARY_TELEMETRY=1 with OTEL_EXPORTER_OTLP_ENDPOINT).
Imported only then: the baseline never loads the SDK, its exporters, requests or protobuf.

- kserve.requests {model, status}: an observable counter reading RequestStats, so what is
  exported is exactly what GET /v2/debug/telemetry and /metrics show.
- kserve.request.duration {model, status} (s): a histogram recorded with each count.
- one SERVER span per counted request, child of the request's traceparent when it has one,
  always sampled (the checks count spans), batched with a 200 ms schedule delay.

Exports run on the SDK's own threads; a request only records into memory, and a full span
queue drops spans rather than waiting. The providers are this app's, not the global ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from . import SERVER_VERSION
from .access_log import Scope
from .request_stats import BUCKETS, Labels, RequestStats

SERVICE_NAME = "fastapi-kserve"
SPAN_SCHEDULE_DELAY_MS = 200
_PROPAGATOR = TraceContextTextMapPropagator()


class OtlpTelemetry:
    """Owns the meter and tracer providers; `on_request` is a RequestStatsMiddleware listener."""

    def __init__(
        self,
        stats: RequestStats,
        run_id: str,
        *,
        metric_reader: MetricReader | None,
        span_processor: SpanProcessor | None,
        timeout_ms: int,
    ) -> None:
        self._stats = stats
        self._timeout_ms = timeout_ms
        attributes: dict[str, str] = {"service.name": SERVICE_NAME, "service.version": SERVER_VERSION}
        if run_id:
            attributes["service.instance.id"] = run_id
        # Resource.create adds the SDK's attributes and OTEL_RESOURCE_ATTRIBUTES; ours win.
        resource = Resource.create(attributes)
        readers = [metric_reader] if metric_reader is not None else []
        self.meter_provider = MeterProvider(metric_readers=readers, resource=resource, shutdown_on_exit=False)
        self.tracer_provider = TracerProvider(sampler=ALWAYS_ON, resource=resource, shutdown_on_exit=False)
        self._traced = span_processor is not None
        if span_processor is not None:
            self.tracer_provider.add_span_processor(span_processor)
        meter = self.meter_provider.get_meter("kserve_primary", SERVER_VERSION)
        meter.create_observable_counter(
            "kserve.requests", callbacks=[self._observe_counts], unit="{request}", description="Counted requests."
        )
        self._duration = meter.create_histogram(
            "kserve.request.duration",
            unit="s",
            description="Time from request start to response end.",
            explicit_bucket_boundaries_advisory=BUCKETS,
        )
        self._tracer = self.tracer_provider.get_tracer("kserve_primary", SERVER_VERSION)
        self._attributes: dict[Labels, dict[str, str]] = {}  # one dict per label set, not per request

    @staticmethod
    def to_endpoint(
        stats: RequestStats,
        run_id: str,
        endpoint: str,
        interval_ms: int,
        timeout_ms: int,
        signals: frozenset[str] = frozenset({"metrics", "traces"}),
    ) -> OtlpTelemetry:
        """Exporting to `endpoint` (the OTLP/HTTP base URL) over http/protobuf. `timeout_ms`
        bounds one export, retries included, so a sidecar that accepts but never answers
        holds an export thread, and the shutdown flush, that long at most."""
        timeout_s = timeout_ms / 1000.0
        metric_reader = (
            PeriodicExportingMetricReader(
                OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics", timeout=timeout_s),
                export_interval_millis=interval_ms,
                export_timeout_millis=timeout_ms,
            )
            if "metrics" in signals
            else None
        )
        span_processor = (
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=timeout_s),
                schedule_delay_millis=SPAN_SCHEDULE_DELAY_MS,
                export_timeout_millis=timeout_ms,
            )
            if "traces" in signals
            else None
        )
        return OtlpTelemetry(
            stats, run_id, metric_reader=metric_reader, span_processor=span_processor, timeout_ms=timeout_ms
        )

    def _observe_counts(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(count, {"model": model, "status": status})
            for (model, status), count, _, _ in self._stats.snapshot()
        ]

    def on_request(self, scope: Scope, labels: Labels, start_ns: int, duration_s: float) -> None:
        attributes = self._attributes.get(labels)
        if attributes is None:
            attributes = self._attributes.setdefault(labels, {"model": labels[0], "status": labels[1]})
        self._duration.record(duration_s, attributes)
        if self._traced:
            self._span(scope, labels, start_ns, duration_s)

    def _span(self, scope: Scope, labels: Labels, start_ns: int, duration_s: float) -> None:
        method: str = scope["method"]
        route = scope.get("route")
        template = getattr(route, "path", None)  # Starlette's matched route: /v2/models/{model_name}/infer
        parent = None
        for name, value in scope["headers"]:
            if name == b"traceparent":
                parent = _PROPAGATOR.extract({"traceparent": value.decode("latin-1")})
                break
        status = int(labels[1])
        span = self._tracer.start_span(
            f"{method} {template}" if template else method,
            context=parent,
            kind=SpanKind.SERVER,
            start_time=start_ns,
            attributes={
                "http.request.method": method,
                "url.path": scope["path"],
                "http.response.status_code": status,
                "kserve.model": labels[0],
                **({"http.route": template} if template else {}),
            },
        )
        if status >= 500 or status == 0:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=start_ns + int(duration_s * 1e9))

    async def shutdown(self) -> None:
        """Force-flush, then shut down, traces and metrics side by side; each step is bounded
        by the export timeout, so a dead sidecar delays exit by about twice that at most."""
        timeout_ms = self._timeout_ms
        await asyncio.gather(
            asyncio.to_thread(self.tracer_provider.force_flush, timeout_ms),
            asyncio.to_thread(self.meter_provider.force_flush, timeout_ms),
        )
        await asyncio.gather(
            asyncio.to_thread(self.tracer_provider.shutdown),
            asyncio.to_thread(self.meter_provider.shutdown, timeout_ms),
        )
