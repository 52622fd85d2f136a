"""What the OTLP receiver keeps: one entry per metric series (its latest cumulative value
or the sum of its deltas, with the datapoints counted), the spans (bounded), and request
counts per signal and encoding. Log records go to the shared LogStore."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality, Metric

from .clock import now_ms
from .interner import Interner
from .log_store import LogStore
from .otlp_values import attributes, body_text

_TEMPORALITY = {
    AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA: "delta",
    AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE: "cumulative",
    AggregationTemporality.AGGREGATION_TEMPORALITY_UNSPECIFIED: "unspecified",
}
# DataPointFlags.FLAG_NO_RECORDED_VALUE: a staleness marker, counted but carrying no value.
_NO_RECORDED_VALUE = 1


@dataclass
class Series:
    name: str
    unit: str
    kind: str
    temporality: str | None
    monotonic: bool | None
    resource: dict[str, Any]
    scope: dict[str, Any]
    attributes: dict[str, Any]
    first_ms: float
    last_ms: float = 0.0
    points: int = 0
    value: float | int | None = None
    # The datapoint time of `value`: a cumulative series keeps the newest, whatever the arrival order.
    time_ns: int = -1
    start_time_ns: int = 0
    # Cumulative series whose start time moved forward: the producer restarted its count.
    resets: int = 0
    # Histograms and summaries: value is the count; these carry the rest.
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    bucket_counts: list[int] | None = None
    explicit_bounds: list[float] | None = None
    quantiles: list[dict[str, float]] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "unit": self.unit,
            "kind": self.kind,
            "temporality": self.temporality,
            "monotonic": self.monotonic,
            "resource": self.resource,
            "scope": self.scope,
            "attributes": self.attributes,
            "value": self.value,
            "points": self.points,
            "first_ms": self.first_ms,
            "last_ms": self.last_ms,
            "start_time_ms": self.start_time_ns / 1e6 if self.start_time_ns else None,
            "resets": self.resets,
        }
        if self.kind in ("histogram", "exponential_histogram", "summary"):
            out["sum"] = self.sum
        if self.kind in ("histogram", "exponential_histogram"):
            out["min"] = self.min
            out["max"] = self.max
        if self.kind == "histogram":
            out["bucket_counts"] = self.bucket_counts
            out["explicit_bounds"] = self.explicit_bounds
        if self.kind == "summary":
            out["quantiles"] = self.quantiles
        return out


@dataclass
class SignalCounts:
    requests: int = 0
    rejected: int = 0
    protobuf: int = 0
    json: int = 0
    gzip: int = 0
    items: int = 0

    def as_json(self) -> dict[str, int]:
        return dict(self.__dict__)


def _number(point: Any) -> float | int | None:
    kind = point.WhichOneof("value")
    return getattr(point, kind) if kind else None


@dataclass
class OtlpStore:
    logs: LogStore
    max_series: int
    max_spans: int
    series: dict[bytes, Series] = field(default_factory=dict)
    dropped_points: int = 0
    spans: list[dict[str, Any]] = field(default_factory=list)
    dropped_spans: int = 0
    counts: dict[str, SignalCounts] = field(
        default_factory=lambda: {signal: SignalCounts() for signal in ("metrics", "traces", "logs")}
    )
    _interner: Interner = field(default_factory=Interner)

    # ---- metrics -------------------------------------------------------------------------

    def add_metrics(self, request: ExportMetricsServiceRequest) -> int:
        received = now_ms()
        points = 0
        for resource_metrics in request.resource_metrics:
            resource = attributes(resource_metrics.resource.attributes)
            for scope_metrics in resource_metrics.scope_metrics:
                scope = {
                    "name": scope_metrics.scope.name,
                    "version": scope_metrics.scope.version,
                    "attributes": attributes(scope_metrics.scope.attributes),
                }
                for metric in scope_metrics.metrics:
                    points += self._add_metric(metric, resource, scope, received)
        return points

    def _series(self, metric: Metric, kind: str, temporality: str | None, monotonic: bool | None,
                resource: dict[str, Any], scope: dict[str, Any], point_attributes: dict[str, Any],
                received: float) -> Series | None:
        key = orjson.dumps(
            [metric.name, kind, temporality, resource, scope, point_attributes], option=orjson.OPT_SORT_KEYS
        )
        series = self.series.get(key)
        if series is None:
            if len(self.series) >= self.max_series:
                self.dropped_points += 1
                return None
            series = Series(metric.name, metric.unit, kind, temporality, monotonic, resource, scope,
                            point_attributes, first_ms=received)
            self.series[key] = series
        series.points += 1
        series.last_ms = received
        return series

    def _add_metric(self, metric: Metric, resource: dict[str, Any], scope: dict[str, Any], received: float) -> int:
        kind = metric.WhichOneof("data")
        if kind is None:
            return 0
        data = getattr(metric, kind)
        temporality = _TEMPORALITY.get(data.aggregation_temporality, "unspecified") if kind in (
            "sum", "histogram", "exponential_histogram") else None
        if kind == "summary":
            temporality = "cumulative"
        monotonic = data.is_monotonic if kind == "sum" else None
        for point in data.data_points:
            series = self._series(metric, kind, temporality, monotonic, resource, scope,
                                  attributes(point.attributes), received)
            if series is None or point.flags & _NO_RECORDED_VALUE:
                continue
            if kind in ("sum", "gauge"):
                self._fold(series, point, {"value": _number(point)})
            elif kind == "histogram":
                self._fold(series, point, {
                    "value": point.count, "sum": point.sum if point.HasField("sum") else None,
                    "min": point.min if point.HasField("min") else None,
                    "max": point.max if point.HasField("max") else None,
                    "bucket_counts": list(point.bucket_counts), "explicit_bounds": list(point.explicit_bounds),
                })
            elif kind == "exponential_histogram":
                self._fold(series, point, {
                    "value": point.count, "sum": point.sum if point.HasField("sum") else None,
                    "min": point.min if point.HasField("min") else None,
                    "max": point.max if point.HasField("max") else None,
                })
            elif kind == "summary":
                self._fold(series, point, {
                    "value": point.count, "sum": point.sum,
                    "quantiles": [{"quantile": q.quantile, "value": q.value} for q in point.quantile_values],
                })
        return len(data.data_points)

    @staticmethod
    def _fold(series: Series, point: Any, fields: dict[str, Any]) -> None:
        if series.temporality == "delta" and series.value is not None:
            series.value = series.value + (fields["value"] or 0)
            if fields.get("sum") is not None:
                series.sum = (series.sum or 0) + fields["sum"]
            if fields.get("min") is not None:
                series.min = fields["min"] if series.min is None else min(series.min, fields["min"])
            if fields.get("max") is not None:
                series.max = fields["max"] if series.max is None else max(series.max, fields["max"])
            counts = fields.get("bucket_counts")
            if counts is not None:
                if series.bucket_counts is not None and fields["explicit_bounds"] == series.explicit_bounds \
                        and len(counts) == len(series.bucket_counts):
                    series.bucket_counts = [a + b for a, b in zip(series.bucket_counts, counts, strict=True)]
                else:
                    # Bounds changed between deltas: buckets can no longer be summed; count and sum still can.
                    series.bucket_counts = None
            series.time_ns = max(series.time_ns, point.time_unix_nano)
            return
        if series.temporality != "delta" and point.time_unix_nano < series.time_ns:
            return  # an older point arriving late: the newest cumulative value stands
        if series.temporality == "cumulative" and series.start_time_ns and \
                point.start_time_unix_nano > series.start_time_ns:
            series.resets += 1
        series.time_ns = point.time_unix_nano
        series.start_time_ns = getattr(point, "start_time_unix_nano", 0)
        for name, value in fields.items():
            setattr(series, name, value)

    def metrics_json(self) -> dict[str, Any]:
        listed = sorted(self.series.values(), key=lambda s: (s.name, s.first_ms))
        return {
            "series": [series.as_json() for series in listed],
            "dropped": {"points": self.dropped_points},
            "bounds": {"series": self.max_series},
            "requests": self.counts["metrics"].as_json(),
        }

    # ---- traces --------------------------------------------------------------------------

    def add_traces(self, request: ExportTraceServiceRequest) -> int:
        received = now_ms()
        count = 0
        for resource_spans in request.resource_spans:
            resource = self._interner.intern(attributes(resource_spans.resource.attributes)) or {}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    count += 1
                    if len(self.spans) >= self.max_spans:
                        self.dropped_spans += 1
                        continue
                    self.spans.append({
                        "index": len(self.spans),
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "name": span.name,
                        "kind": span.kind,
                        "start_ms": span.start_time_unix_nano / 1e6,
                        "end_ms": span.end_time_unix_nano / 1e6,
                        "status_code": span.status.code,
                        "attributes": attributes(span.attributes),
                        "resource": resource,
                        "scope": scope_spans.scope.name,
                        "received_ms": received,
                    })
        return count

    def traces_json(self, start: int, limit: int) -> dict[str, Any]:
        start = max(0, start)
        page = self.spans[start:start + max(1, limit)]
        return {
            "spans": page,
            "from": start,
            "next": start + len(page),
            "total": len(self.spans),
            "dropped": {"spans": self.dropped_spans},
            "bounds": {"spans": self.max_spans},
            "requests": self.counts["traces"].as_json(),
        }

    # ---- logs ----------------------------------------------------------------------------

    def add_logs(self, request: ExportLogsServiceRequest) -> int:
        count = 0
        for resource_logs in request.resource_logs:
            for scope_logs in resource_logs.scope_logs:
                for record in scope_logs.log_records:
                    count += 1
                    extra = self._interner.intern({"attributes": attributes(record.attributes)}
                                                   if record.attributes else None)
                    self.logs.add("otlp", body_text(record.body), extra)
        return count
