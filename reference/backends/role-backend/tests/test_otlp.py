"""The OTLP/HTTP receiver: protobuf, JSON and gzip round trips built with the
opentelemetry-proto classes, series folding, errors, and the real OTLP/HTTP exporters."""

from __future__ import annotations

import gzip
import json

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality, Metric, NumberDataPoint

from conftest import Backend

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
NOW_NS = 1_700_000_000_000_000_000


def kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def counter_request(value: int, time_ns: int, temporality: int = CUMULATIVE, status: str = "200",
                    start_ns: int = NOW_NS) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add()
    resource_metrics.resource.attributes.append(kv("service.name", "primary"))
    scope_metrics = resource_metrics.scope_metrics.add()
    scope_metrics.scope.name = "kserve"
    metric = scope_metrics.metrics.add()
    metric.name = "kserve.requests"
    metric.sum.aggregation_temporality = temporality
    metric.sum.is_monotonic = True
    metric.sum.data_points.append(NumberDataPoint(
        as_int=value, start_time_unix_nano=start_ns, time_unix_nano=time_ns,
        attributes=[kv("model", "mlp"), kv("status", status)]))
    return request


def series_named(backend: Backend, name: str) -> list[dict]:
    return [s for s in backend.control("/otlp/metrics")["series"] if s["name"] == name]


def test_protobuf_cumulative_counter_keeps_the_newest_value(backend: Backend) -> None:
    for value, time_ns in ((3, NOW_NS + 1), (7, NOW_NS + 3), (5, NOW_NS + 2)):  # the last one arrives late
        result = backend.request("otlp", "POST", "/v1/metrics", counter_request(value, time_ns).SerializeToString(),
                                 PROTOBUF)
        assert result.status == 200
        assert result.headers["Content-Type"] == "application/x-protobuf"
        response = ExportMetricsServiceResponse()
        response.ParseFromString(result.body)
        assert response == ExportMetricsServiceResponse()
    [series] = series_named(backend, "kserve.requests")
    assert series["value"] == 7
    assert series["points"] == 3
    assert series["kind"] == "sum"
    assert series["temporality"] == "cumulative"
    assert series["monotonic"] is True
    assert series["attributes"] == {"model": "mlp", "status": "200"}
    assert series["resource"] == {"service.name": "primary"}
    assert series["scope"]["name"] == "kserve"
    assert series["first_ms"] <= series["last_ms"]


def test_gzip_json_delta_counter_sums_the_deltas_per_label_set(backend: Backend) -> None:
    for value, status in ((2, "200"), (3, "200"), (4, "500")):
        payload = json_format.MessageToJson(counter_request(value, NOW_NS, DELTA, status)).encode()
        result = backend.request("otlp", "POST", "/v1/metrics", gzip.compress(payload),
                                 {**JSON, "Content-Encoding": "gzip"})
        assert result.status == 200
        assert result.headers["Content-Type"] == "application/json"
        assert json.loads(result.body) == {}
    by_status = {s["attributes"]["status"]: s for s in series_named(backend, "kserve.requests")}
    assert by_status["200"]["value"] == 5
    assert by_status["200"]["points"] == 2
    assert by_status["500"]["value"] == 4
    assert by_status["200"]["temporality"] == "delta"
    counts = backend.control("/otlp/metrics")["requests"]
    assert (counts["requests"], counts["json"], counts["gzip"], counts["items"]) == (3, 3, 3, 3)


def test_histogram_and_gauge_series(backend: Backend) -> None:
    request = ExportMetricsServiceRequest()
    scope_metrics = request.resource_metrics.add().scope_metrics.add()
    histogram = scope_metrics.metrics.add(name="kserve.request.duration", unit="s")
    histogram.histogram.aggregation_temporality = CUMULATIVE
    point = histogram.histogram.data_points.add(count=4, sum=0.5, min=0.01, max=0.3, time_unix_nano=NOW_NS)
    point.bucket_counts.extend([1, 2, 1])
    point.explicit_bounds.extend([0.05, 0.1])
    gauge = scope_metrics.metrics.add(name="queue.depth")
    gauge.gauge.data_points.add(as_double=2.5, time_unix_nano=NOW_NS)
    assert backend.request("otlp", "POST", "/v1/metrics", request.SerializeToString(), PROTOBUF).status == 200
    [hist] = series_named(backend, "kserve.request.duration")
    assert (hist["kind"], hist["value"], hist["sum"], hist["bucket_counts"], hist["explicit_bounds"], hist["unit"]) == (
        "histogram", 4, 0.5, [1, 2, 1], [0.05, 0.1], "s")
    [depth] = series_named(backend, "queue.depth")
    assert (depth["kind"], depth["value"], depth["temporality"]) == ("gauge", 2.5, None)


def test_cumulative_restart_is_counted_as_a_reset(backend: Backend) -> None:
    backend.request("otlp", "POST", "/v1/metrics", counter_request(9, NOW_NS + 10).SerializeToString(), PROTOBUF)
    backend.request("otlp", "POST", "/v1/metrics",
                    counter_request(1, NOW_NS + 20, start_ns=NOW_NS + 15).SerializeToString(), PROTOBUF)
    [series] = series_named(backend, "kserve.requests")
    assert (series["value"], series["resets"]) == (1, 1)


def test_traces_json_with_hex_ids_as_the_otlp_json_encoding_writes_them(backend: Backend) -> None:
    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    payload = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "p"}}]},
               "scopeSpans": [{"scope": {"name": "s"}, "spans": [{
                   "traceId": trace_id, "spanId": span_id, "parentSpanId": "", "name": "POST /v2/models/infer",
                   "kind": 2, "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000005000000",
                   "attributes": [{"key": "http.status_code", "value": {"intValue": "200"}}],
                   "someFutureField": True}]}]}]}
    result = backend.request("otlp", "POST", "/v1/traces", json.dumps(payload), JSON)
    assert result.status == 200, result.body
    traces = backend.control("/otlp/traces")
    [span] = traces["spans"]
    assert (span["trace_id"], span["span_id"], span["name"], span["kind"]) == (trace_id, span_id, "POST /v2/models/infer", 2)
    assert span["attributes"] == {"http.status_code": 200}
    assert span["resource"] == {"service.name": "p"}
    assert span["end_ms"] - span["start_ms"] == pytest.approx(5.0)
    assert (traces["total"], traces["dropped"]["spans"]) == (1, 0)


def test_span_bound_drops_and_reports(start_backend) -> None:
    backend = start_backend(["--max-spans", "2"])
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    for index in range(5):
        spans.add(trace_id=bytes(16), span_id=index.to_bytes(8, "big"), name=f"s{index}")
    assert backend.request("otlp", "POST", "/v1/traces", request.SerializeToString(), PROTOBUF).status == 200
    traces = backend.control("/otlp/traces")
    assert [s["name"] for s in traces["spans"]] == ["s0", "s1"]
    assert (traces["total"], traces["dropped"]["spans"], traces["bounds"]["spans"]) == (2, 3, 2)


def test_otlp_logs_join_the_log_records_with_exact_bodies(backend: Backend) -> None:
    request = ExportLogsServiceRequest()
    records = request.resource_logs.add().scope_logs.add().log_records
    bodies = ['{"seq":1,"msg":"caf\u00e9 \U0001f680"}', "x" * (70 * 1024)]
    for body in bodies:
        records.add(body=AnyValue(string_value=body), attributes=[kv("log.file.name", "access.log")])
    records.add(body=AnyValue(kvlist_value={"values": [kv("k", "v")]}))
    result = backend.request("otlp", "POST", "/v1/logs", gzip.compress(request.SerializeToString()),
                             {**PROTOBUF, "Content-Encoding": "gzip"})
    assert result.status == 200
    response = ExportLogsServiceResponse()
    response.ParseFromString(result.body)
    logs = backend.logs()
    assert [r["message"] for r in logs["records"]] == [*bodies, '{"k":"v"}']
    assert {r["via"] for r in logs["records"]} == {"otlp"}
    assert logs["records"][0]["attributes"] == {"log.file.name": "access.log"}


@pytest.mark.parametrize(
    "body, headers, status",
    [
        (b"\xff\xff\xff", PROTOBUF, 400),
        (b"{not json", JSON, 400),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}', JSON, 400),
        (b"\x1f\x8b garbage", {**PROTOBUF, "Content-Encoding": "gzip"}, 400),
        (b"", {"Content-Type": "text/plain"}, 415),
        (b"", {**PROTOBUF, "Content-Encoding": "br"}, 415),
    ],
)
def test_undecodable_requests_are_refused_with_a_status(backend: Backend, body: bytes, headers: dict, status: int) -> None:
    path = "/v1/traces" if b"resourceSpans" in body else "/v1/metrics"
    result = backend.request("otlp", "POST", path, body, headers)
    assert result.status == status
    if headers["Content-Type"] == "application/json":
        assert json.loads(result.body)["code"] == 3
    assert backend.control("/otlp/metrics")["series"] == []


def test_body_bound_is_a_413(start_backend) -> None:
    backend = start_backend(["--max-body-bytes", "1000"])
    large = counter_request(1, NOW_NS)
    large.resource_metrics[0].resource.attributes.append(kv("padding", "p" * 5000))
    result = backend.request("otlp", "POST", "/v1/metrics", large.SerializeToString(), PROTOBUF)
    assert result.status == 413
    bomb = gzip.compress(large.SerializeToString())
    assert len(bomb) < 1000
    assert backend.request("otlp", "POST", "/v1/metrics", bomb, {**PROTOBUF, "Content-Encoding": "gzip"}).status == 413


def test_a_real_otlp_metric_and_span_exporter(backend: Backend) -> None:
    exporter_module = pytest.importorskip("opentelemetry.exporter.otlp.proto.http.metric_exporter")
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    base = f"http://127.0.0.1:{backend.ports['otlp']}"
    resource = Resource.create({"service.name": "exporter-test"})
    exporter = exporter_module.OTLPMetricExporter(endpoint=f"{base}/v1/metrics", compression=Compression.Gzip)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    meters = MeterProvider(resource=resource, metric_readers=[reader])
    counter = meters.get_meter("test").create_counter("kserve.requests")
    for status, times in (("200", 5), ("500", 2)):
        for _ in range(times):
            counter.add(1, {"model": "mlp", "status": status})
    assert meters.force_flush(10_000)
    counter.add(1, {"model": "mlp", "status": "200"})
    meters.shutdown(10_000)  # exports the last collection
    by_status = {s["attributes"]["status"]: s for s in series_named(backend, "kserve.requests")}
    assert by_status["200"]["value"] == 6
    assert by_status["500"]["value"] == 2
    assert by_status["200"]["temporality"] == "cumulative"
    assert by_status["200"]["resource"]["service.name"] == "exporter-test"
    assert backend.control("/otlp/metrics")["requests"]["gzip"] >= 2

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
    with tracer_provider.get_tracer("test").start_as_current_span("parent") as parent:
        with tracer_provider.get_tracer("test").start_as_current_span("child"):
            pass
    tracer_provider.shutdown()
    spans = {s["name"]: s for s in backend.control("/otlp/traces")["spans"]}
    assert spans["child"]["parent_span_id"] == format(parent.get_span_context().span_id, "016x")
    assert spans["child"]["trace_id"] == format(parent.get_span_context().trace_id, "032x")
