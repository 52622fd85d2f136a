"""The telemetry role: request counts exported over OTLP/HTTP (a real receiver on 127.0.0.1),
as a Prometheus /metrics and textfile, and in GET /v2/debug/telemetry, all agreeing."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgi_client import InProcessServer
from conftest import APP_DIR, Server, free_port, infer_body, sample_input, wait_ready
from otlp_capture import OtlpCapture, wait_for
from prometheus_client.parser import text_string_to_metric_families

from kserve_primary.access_log import AccessLogMiddleware
from kserve_primary.app import create_app
from kserve_primary.config import Config, ConfigError
from kserve_primary.request_stats import (
    BUCKETS,
    MAX_SERIES,
    OVERFLOW_MODEL,
    RequestStats,
    RequestStatsMiddleware,
    is_counted,
    model_of,
)

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_SPAN_ID = "b7ad6b7169203331"
INFER = json.dumps(infer_body(sample_input(1))).encode()


@pytest.fixture
def capture() -> Iterator[OtlpCapture]:
    """Request it before start_server: torn down after the server, so the exit flush has a receiver."""
    receiver = OtlpCapture()
    yield receiver
    receiver.close()


def send_mix(request) -> dict[tuple[str, str], int]:
    """Counted and uncounted requests; answers the counts the primary must report."""
    for _ in range(3):
        assert request("POST", "/v2/models/mlp/infer", INFER).status == 200
    for _ in range(2):
        assert request("GET", "/v2/models/nope").status == 404
    assert request("GET", "/v2").status == 200
    # Not counted: probes, the harness's debug calls, scrapes.
    request("GET", "/v2/health/live")
    request("GET", "/v2/health/ready")
    request("GET", "/v2/debug/pid")
    request("GET", "/metrics")
    return {("mlp", "200"): 3, ("nope", "404"): 2, ("", "200"): 1}


def debug_counts(body: bytes) -> dict[tuple[str, str], int]:
    return {(r["model"], r["status"]): r["count"] for r in json.loads(body)["requests"]}


def prometheus_series(text: str) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """(kserve_requests_total, kserve_request_duration_seconds_count) per (model, status),
    parsed with prometheus_client's own parser."""
    totals: dict[tuple[str, str], float] = {}
    counts: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.labels.get("model", ""), sample.labels.get("status", ""))
            if sample.name == "kserve_requests_total":
                totals[key] = sample.value
            elif sample.name == "kserve_request_duration_seconds_count":
                counts[key] = sample.value
    return totals, counts


# --- OTLP/HTTP to a real receiver, the real server ---


def test_otlp_counts_spans_prometheus_and_debug_agree(capture: OtlpCapture, start_server) -> None:
    server: Server = start_server(
        env={
            "PRIMARY_TELEMETRY": "1",
            "OTEL_EXPORTER_OTLP_ENDPOINT": capture.endpoint,
            "OTEL_METRIC_EXPORT_INTERVAL": "200",
            "PRIMARY_METRICS": "1",
            "PRIMARY_RUN_ID": "run-telemetry",
        }
    )
    wait_ready(server)
    traced = server.request(
        "POST", "/v2/models/mlp/infer", INFER, {"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"}
    )
    assert traced.status == 200
    expected = send_mix(server.request)
    expected[("mlp", "200")] += 1

    wait_for(capture.latest_counts, lambda c: c == expected, 10, "OTLP kserve.requests")
    assert capture.latest_histogram_counts() == expected
    assert debug_counts(server.request("GET", "/v2/debug/telemetry").body) == expected
    totals, histogram_counts = prometheus_series(server.request("GET", "/metrics").body.decode())
    assert totals == histogram_counts == expected

    spans = wait_for(capture.spans, lambda s: len(s) >= sum(expected.values()), 10, "spans")
    assert len(spans) == sum(expected.values())  # one per counted request, none for the rest
    assert sorted(s.name for s in spans) == sorted(
        ["POST /v2/models/{model_name}/infer"] * 4 + ["GET /v2/models/{model_name}"] * 2 + ["GET /v2"]
    )
    [child] = [s for s in spans if s.trace_id.hex() == TRACE_ID]
    assert child.parent_span_id.hex() == PARENT_SPAN_ID
    assert all(s.end_time_unix_nano > s.start_time_unix_nano for s in spans)
    for resource in capture.resources():
        assert resource["service.name"] == "fastapi-kserve"
        assert resource["service.instance.id"] == "run-telemetry"
    assert capture.content_types == {"application/x-protobuf"}


def test_metrics_only_signals_export_no_spans(capture: OtlpCapture, start_server) -> None:
    # A sidecar forwarding metrics only (telemetry.signals: [metrics]) gets no span exports.
    server: Server = start_server(
        env={
            "PRIMARY_TELEMETRY": "1",
            "OTEL_EXPORTER_OTLP_ENDPOINT": capture.endpoint,
            "OTEL_METRIC_EXPORT_INTERVAL": "200",
            "PRIMARY_OTLP_SIGNALS": "metrics",
        }
    )
    wait_ready(server)
    expected = send_mix(server.request)
    wait_for(capture.latest_counts, lambda c: c == expected, 10, "OTLP kserve.requests")
    assert capture.spans() == []


def test_metrics_and_spans_are_flushed_on_sigterm(capture: OtlpCapture, start_server) -> None:
    # A minute between periodic exports: only the shutdown flush can deliver these counts.
    server: Server = start_server(
        env={
            "PRIMARY_TELEMETRY": "1",
            "OTEL_EXPORTER_OTLP_ENDPOINT": capture.endpoint,
            "OTEL_METRIC_EXPORT_INTERVAL": "60000",
        }
    )
    wait_ready(server)
    for _ in range(4):
        assert server.request("POST", "/v2/models/mlp/infer", INFER).status == 200
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
    assert capture.latest_counts() == {("mlp", "200"): 4}
    assert capture.latest_histogram_counts() == {("mlp", "200"): 4}
    assert len(capture.spans()) == 4


def blackhole() -> socket.socket:
    """A port that accepts connections (the kernel's backlog) and never answers: an export
    to it hangs until the exporter's timeout, the worst case for a sidecar that is down."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    return listener


@pytest.mark.parametrize("sidecar", ["refusing", "not answering"])
def test_a_dead_sidecar_neither_fails_nor_holds_requests(start_server, sidecar: str) -> None:
    hole = blackhole() if sidecar == "not answering" else None
    port = hole.getsockname()[1] if hole else free_port()
    try:
        server: Server = start_server(
            env={
                "PRIMARY_TELEMETRY": "1",
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
                "OTEL_METRIC_EXPORT_INTERVAL": "100",
                "OTEL_EXPORTER_OTLP_TIMEOUT": "1000",
            }
        )
        wait_ready(server)
        slowest_s = 0.0
        deadline = time.monotonic() + 1.5  # several failed export rounds
        sent = 0
        while time.monotonic() < deadline and sent < 300:
            started = time.monotonic()
            assert server.request("POST", "/v2/models/mlp/infer", INFER).status == 200
            slowest_s = max(slowest_s, time.monotonic() - started)
            sent += 1
        # An export blocking a request would hold it for the exporter's 1 s timeout.
        assert slowest_s < 0.5, f"slowest request {slowest_s:.3f} s"
        assert debug_counts(server.request("GET", "/v2/debug/telemetry").body) == {("mlp", "200"): sent}
        started = time.monotonic()
        server.stop()
        # Flush then shutdown, each bounded by the 1 s export timeout, traces and metrics side by side.
        stop_s = time.monotonic() - started
        assert stop_s < 6, f"exit took {stop_s:.1f} s"
        assert server.process.returncode == -15
    finally:
        if hole:
            hole.close()


# --- Prometheus exposition and textfile, in-process ---


@pytest.fixture
def metrics_app() -> Iterator[InProcessServer]:
    server = InProcessServer(create_app(Config(metrics=True), sink=lambda _line: None))
    server.start()
    yield server
    server.close()


def test_metrics_parse_and_match_the_debug_counts(metrics_app: InProcessServer) -> None:
    expected = send_mix(lambda method, path, body=b"": metrics_app.request(method, path, body))
    result = metrics_app.request("GET", "/metrics")
    assert result.header("content-type") == "text/plain; version=0.0.4; charset=utf-8"
    text = result.body.decode()
    totals, histogram_counts = prometheus_series(text)
    assert totals == histogram_counts == expected
    assert debug_counts(metrics_app.request("GET", "/v2/debug/telemetry").body) == expected
    assert "_created" not in text
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert families == {"kserve_requests": "counter", "kserve_request_duration_seconds": "histogram"}
    for model, status in expected:
        buckets = [
            s
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name == "kserve_request_duration_seconds_bucket" and s.labels["model"] == model
        ]
        assert [s.labels["le"] for s in buckets] == [*map(str, map(float, BUCKETS)), "+Inf"]
        values = [s.value for s in buckets]
        assert values == sorted(values) and values[-1] == expected[(model, status)]


def test_textfile_is_rewritten_atomically_and_at_shutdown(tmp_path: Path) -> None:
    path = tmp_path / "primary.prom"
    config = Config.from_env({"PRIMARY_METRICS_TEXTFILE": str(path), "PRIMARY_METRICS_TEXTFILE_INTERVAL_MS": "50"})
    server = InProcessServer(create_app(config, sink=lambda _line: None))
    server.start()
    try:
        assert server.request("GET", "/metrics").status == 404  # the textfile alone serves no /metrics
        expected = send_mix(lambda method, path_, body=b"": server.request(method, path_, body))

        def file_counts() -> dict[tuple[str, str], float]:
            server.loop.run_until_complete(asyncio.sleep(0.05))  # the writer runs on this loop
            return prometheus_series(path.read_text())[0] if path.exists() else {}

        wait_for(file_counts, lambda c: c == expected, 5, "textfile counts")
        # The last request before shutdown reaches the file through the shutdown write, not the interval.
        assert server.request("POST", "/v2/models/mlp/infer", INFER).status == 200
    finally:
        server.close()
    totals, histogram_counts = prometheus_series(path.read_text())
    expected[("mlp", "200")] += 1
    assert totals == histogram_counts == expected
    assert os.listdir(tmp_path) == ["primary.prom"]  # no temporary file left behind


def test_textfile_replaces_rather_than_rewrites(tmp_path: Path) -> None:
    # A reader holding the file open keeps a whole exposition: each write is a new file
    # renamed over the old one, which is unlinked, never truncated or rewritten in place.
    path = tmp_path / "primary.prom"
    config = Config.from_env({"PRIMARY_METRICS_TEXTFILE": str(path), "PRIMARY_METRICS_TEXTFILE_INTERVAL_MS": "20"})
    server = InProcessServer(create_app(config, sink=lambda _line: None))
    server.start()
    try:
        server.loop.run_until_complete(asyncio.sleep(0.1))
        with open(path, "rb") as held:
            before = held.read()
            assert server.request("POST", "/v2/models/mlp/infer", INFER).status == 200
            server.loop.run_until_complete(asyncio.sleep(0.1))
            assert os.fstat(held.fileno()).st_nlink == 0  # replaced: the old file has no name left
            held.seek(0)
            assert held.read() == before
        assert prometheus_series(path.read_text())[0] == {("mlp", "200"): 1}
    finally:
        server.close()


# --- what is counted, how labels are formed ---


def test_counted_paths_and_model_labels() -> None:
    assert is_counted("/v2/models/mlp/infer") and is_counted("/v2") and is_counted("/nope")
    assert not any(map(is_counted, ["/v2/health/live", "/v2/health/ready", "/v2/debug/pid", "/metrics"]))
    assert model_of("/v2/models/mlp/versions/1/infer") == "mlp"
    assert model_of("/v2/models/identity_fp32") == "identity_fp32"
    assert model_of("/v2") == model_of("/metrics/x") == ""


def test_stats_buckets_are_upper_inclusive_and_series_are_bounded() -> None:
    stats = RequestStats()
    stats.record(("m", "200"), BUCKETS[0])  # le=0.0005 holds 0.0005
    stats.record(("m", "200"), BUCKETS[-1] + 1)  # only +Inf
    [(labels, count, sum_s, buckets)] = stats.snapshot()
    assert (labels, count) == (("m", "200"), 2)
    assert sum_s == pytest.approx(BUCKETS[0] + BUCKETS[-1] + 1)
    assert buckets[0] == 1 and buckets[-1] == 1 and sum(buckets) == 2
    for index in range(MAX_SERIES + 10):
        stats.record((f"model-{index}", "404"), 0.001)
    snapshot = stats.snapshot()
    assert len(snapshot) == MAX_SERIES + 1
    assert dict((labels, count) for labels, count, _, _ in snapshot)[(OVERFLOW_MODEL, "404")] == 11


def test_debug_telemetry_is_404_when_nothing_counts() -> None:
    server = InProcessServer(create_app(Config(), sink=lambda _line: None))
    server.start()
    try:
        result = server.request("GET", "/v2/debug/telemetry")
        assert result.status == 404
        assert "PRIMARY_TELEMETRY=1" in json.loads(result.body)["error"]
        assert server.request("GET", "/metrics").status == 404
    finally:
        server.close()


# --- off by default: the baseline neither counts nor loads an exporter ---


def _fresh_app_report(env: dict[str, str]) -> list[str]:
    code = (
        "import json, sys\n"
        "from kserve_primary.app import create_app\n"
        "from kserve_primary.config import Config\n"
        f"app = create_app(Config.from_env({env!r}))\n"
        "loaded = [m for m in ('opentelemetry.sdk', 'opentelemetry.exporter', 'prometheus_client', 'requests',"
        " 'kserve_primary.telemetry_otlp', 'kserve_primary.telemetry_prom') if m in sys.modules]\n"
        "print(json.dumps([type(app).__name__, type(app.app).__name__, *loaded]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=APP_DIR, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_baseline_loads_no_exporter_and_adds_no_middleware() -> None:
    # OTEL_* alone (a scenario may set them for other containers) switch nothing on.
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_METRIC_EXPORT_INTERVAL": "10"}
    assert _fresh_app_report(env) == ["AccessLogMiddleware", "FastAPI"]


def test_counting_alone_loads_no_exporter() -> None:
    assert _fresh_app_report({"PRIMARY_TELEMETRY": "1"}) == ["AccessLogMiddleware", "RequestStatsMiddleware"]


def test_prometheus_loads_prometheus_client_only() -> None:
    assert _fresh_app_report({"PRIMARY_METRICS": "1"}) == [
        "AccessLogMiddleware", "RequestStatsMiddleware", "prometheus_client", "kserve_primary.telemetry_prom",
    ]  # fmt: skip


def test_counting_middleware_sits_inside_the_access_log() -> None:
    app = create_app(Config(telemetry=True))
    assert isinstance(app, AccessLogMiddleware)
    assert isinstance(app.app, RequestStatsMiddleware)


# --- configuration ---


def test_telemetry_config_defaults_and_values() -> None:
    config = Config.from_env(
        {
            "PRIMARY_TELEMETRY": "1",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/",
            "OTEL_METRIC_EXPORT_INTERVAL": "250",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "750",
            "PRIMARY_METRICS": "1",
        }
    )
    assert (config.telemetry, config.otlp_endpoint, config.metrics) == (True, "http://127.0.0.1:4318", True)
    assert (config.otlp_metric_interval_ms, config.otlp_timeout_ms) == (250, 750)
    defaults = Config.from_env({"PRIMARY_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1"})
    assert (defaults.otlp_metric_interval_ms, defaults.otlp_timeout_ms) == (1000, 2000)
    assert Config.from_env({"PRIMARY_TELEMETRY": "1"}).otlp_endpoint == ""  # counting without OTLP
    assert defaults.otlp_signals == {"metrics", "traces"}
    only = {"PRIMARY_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1", "PRIMARY_OTLP_SIGNALS": "traces"}
    assert Config.from_env(only).otlp_signals == {"traces"}
    assert not Config().counts_requests
    assert Config(metrics_textfile="/x.prom").counts_requests


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"PRIMARY_TELEMETRY": "yes"}, "PRIMARY_TELEMETRY="),
        ({"PRIMARY_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT="),
        ({"PRIMARY_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "grpc://h:4317"}, "OTEL_EXPORTER_OTLP_ENDPOINT="),
        (
            {
                "PRIMARY_TELEMETRY": "1",
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1",
                "OTEL_METRIC_EXPORT_INTERVAL": "1s",
            },
            "OTEL_METRIC_EXPORT_INTERVAL=",
        ),
        (
            {"PRIMARY_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1", "OTEL_EXPORTER_OTLP_TIMEOUT": "0"},
            "OTEL_EXPORTER_OTLP_TIMEOUT=",
        ),
        (
            {"PRIMARY_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1", "PRIMARY_OTLP_SIGNALS": "metrics,logs"},
            "PRIMARY_OTLP_SIGNALS=",
        ),
        ({"PRIMARY_METRICS": "true"}, "PRIMARY_METRICS="),
        ({"PRIMARY_METRICS_TEXTFILE": "/no/such/dir/primary.prom"}, "PRIMARY_METRICS_TEXTFILE="),
        (
            {"PRIMARY_METRICS_TEXTFILE": "/tmp/primary.prom", "PRIMARY_METRICS_TEXTFILE_INTERVAL_MS": "5"},
            "PRIMARY_METRICS_TEXTFILE_INTERVAL_MS=",
        ),
    ],
)
def test_telemetry_config_errors_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Config.from_env(env)


def test_counts_survive_concurrent_collection() -> None:
    # The OTLP reader snapshots on its own thread while the event loop records.
    stats = RequestStats()
    stop = threading.Event()
    snapshots = 0

    def collect() -> None:
        nonlocal snapshots
        while not stop.is_set():
            stats.snapshot()
            snapshots += 1

    reader = threading.Thread(target=collect)
    reader.start()
    for index in range(20_000):
        stats.record((f"m{index % 50}", "200"), 0.001)
    stop.set()
    reader.join(5)
    assert snapshots > 0
    assert sum(count for _, count, _, _ in stats.snapshot()) == 20_000
