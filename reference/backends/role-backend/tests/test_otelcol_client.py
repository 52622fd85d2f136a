"""The OTLP receiver against its main client, the OpenTelemetry Collector's otlphttp exporter
(the project's build, .venv/bin/otelcol-sidecar-bench: gzip-compressed protobuf by default),
fed by the Python SDK's OTLP exporter and by its filelog receiver. Skipped where the
collector has not been built."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import PACKAGE_DIR, Backend, _die_with_parent

REPO_ROOT = PACKAGE_DIR.parents[2]
_BUILT = REPO_ROOT / ".venv" / "bin" / "otelcol-sidecar-bench"
OTELCOL = str(_BUILT) if _BUILT.exists() else shutil.which("otelcol-sidecar-bench")
ARRIVAL_TIMEOUT_S = 20.0
LINES = [json.dumps({"seq": i, "msg": "caf\u00e9 \U0001f680 \"q\" \\"}, ensure_ascii=False) for i in range(3)] + ["y" * 70_000]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.skipif(OTELCOL is None, reason="otelcol-sidecar-bench not built (npm run setup builds it into .venv/bin)")
def test_collector_otlphttp_exporter_delivers_metrics_spans_and_file_lines(backend: Backend, tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    log_file = tmp_path / "access.log"
    log_file.write_text("".join(f"{line}\n" for line in LINES), encoding="utf-8")
    ingest_port, health_port = free_port(), free_port()
    config = tmp_path / "otelcol.yaml"
    config.write_text(f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{ingest_port}
  filelog:
    include: [{log_file}]
    start_at: beginning
    max_log_size: 1MiB
extensions:
  health_check:
    endpoint: 127.0.0.1:{health_port}
processors:
  batch:
    timeout: 200ms
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:{backend.ports['otlp']}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics: {{receivers: [otlp], processors: [batch], exporters: [otlphttp]}}
    traces: {{receivers: [otlp], processors: [batch], exporters: [otlphttp]}}
    logs: {{receivers: [filelog], processors: [batch], exporters: [otlphttp]}}
""", encoding="utf-8")
    collector = subprocess.Popen([OTELCOL, "--config", str(config)], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    try:
        def healthy() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", health_port), timeout=1):
                    return True
            except OSError:
                return False

        assert wait_until(healthy, ARRIVAL_TIMEOUT_S), "collector not up"
        base = f"http://127.0.0.1:{ingest_port}"
        meters = MeterProvider(metric_readers=[PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{base}/v1/metrics"), export_interval_millis=3_600_000)])
        counter = meters.get_meter("test").create_counter("kserve.requests")
        for _ in range(7):
            counter.add(1, {"model": "mlp", "status": "200"})
        meters.shutdown(10_000)
        tracers = TracerProvider()
        tracers.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
        with tracers.get_tracer("test").start_as_current_span("infer"):
            pass
        tracers.shutdown()

        def delivered() -> bool:
            series = backend.control("/otlp/metrics")["series"]
            return (any(s["name"] == "kserve.requests" and s["value"] == 7 for s in series)
                    and backend.control("/otlp/traces")["total"] >= 1 and backend.logs()["total"] >= len(LINES))

        assert wait_until(delivered, ARRIVAL_TIMEOUT_S), "not everything arrived through the collector"
    finally:
        collector.send_signal(signal.SIGTERM)
        try:
            output, _ = collector.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            collector.kill()
            output, _ = collector.communicate()
    assert [r["message"] for r in backend.logs()["records"]] == LINES, output.decode("utf-8", "replace")[-2000:]
    assert [s["name"] for s in backend.control("/otlp/traces")["spans"]] == ["infer"]
    requests = backend.control("/otlp/metrics")["requests"]
    assert requests["gzip"] == requests["requests"] - requests["rejected"] >= 1  # otlphttp gzips by default
