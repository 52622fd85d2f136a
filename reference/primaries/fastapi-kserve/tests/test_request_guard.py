"""request-guard in the primary's own code (PRIMARY_REQUEST_GUARD=1), against the contract in
reference/integrations/README.md: in-process with a sink for exact log lines, and as a real
server for the environment wiring, stdout and the crash fault."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from asgi_client import InProcessServer
from conftest import APP_DIR, Server, binary_request, infer_body, launch, sample_input, wait_ready

from kserve_primary.access_log import AccessLogMiddleware
from kserve_primary.app import create_app
from kserve_primary.config import Config, ConfigError
from kserve_primary.request_guard import BUCKETS, RequestGuard

KEY = "test-key-3f9a"
AUTH = {"x-api-key": KEY}
UNAUTHORIZED = b'{"error":"missing or invalid API key"}'
AUDIT_KEYS = [
    "ts", "aux", "integration", "pid", "method", "path", "status",
    "duration_us", "bytes_in", "bytes_out", "api_key", "request_id",
]  # fmt: skip
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
GUARD_ENV = {"PRIMARY_REQUEST_GUARD": "1", "AUX_API_KEY": KEY}


class Captured:
    """The in-process app and every line its sink received, audit and access log alike."""

    def __init__(self, config: Config) -> None:
        self.lines: list[bytes] = []
        self.app = create_app(config, sink=self.lines.append)
        self.server = InProcessServer(self.app)

    def audit(self) -> list[dict]:
        return [r for r in map(json.loads, self.lines) if r.get("aux") == "request-guard"]

    def access(self) -> list[dict]:
        return [r for r in map(json.loads, self.lines) if "aux" not in r]


@pytest.fixture(scope="module")
def guarded() -> Iterator[Captured]:
    captured = Captured(Config(request_guard=True, aux_api_key=KEY, aux_faults=True))
    captured.server.start()
    yield captured
    captured.server.close()


@pytest.fixture(scope="module")
def bare() -> Iterator[Captured]:
    captured = Captured(Config())
    captured.server.start()
    yield captured
    captured.server.close()


def metric_samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


# --- configuration: decided once, at the edge ---


def test_config_reads_the_guard_settings_only_when_enabled() -> None:
    assert Config.from_env({"AUX_API_KEY": "k", "AUX_FAULTS": "yes please"}) == Config()
    config = Config.from_env({**GUARD_ENV, "AUX_FAULTS": "1"})
    assert (config.request_guard, config.aux_api_key, config.aux_faults) == (True, KEY, True)
    assert Config.from_env(GUARD_ENV).aux_faults is False
    assert KEY not in repr(config)


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"PRIMARY_REQUEST_GUARD": "1"}, "AUX_API_KEY"),
        ({"PRIMARY_REQUEST_GUARD": "1", "AUX_API_KEY": ""}, "AUX_API_KEY"),
        ({"PRIMARY_REQUEST_GUARD": "yes", "AUX_API_KEY": "k"}, "PRIMARY_REQUEST_GUARD"),
        ({**GUARD_ENV, "AUX_FAULTS": "true"}, "AUX_FAULTS"),
    ],
)
def test_config_errors_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Config.from_env(env)


def test_disabled_guard_leaves_the_baseline_app_and_imports_untouched() -> None:
    # A fresh interpreter: this test process has imported request_guard already.
    code = (
        "import sys\n"
        "from kserve_primary.app import create_app\n"
        "from kserve_primary.config import Config\n"
        "app = create_app(Config.from_env({'AUX_API_KEY': 'k', 'AUX_FAULTS': '1'}))\n"
        "print(type(app).__name__, 'kserve_primary.request_guard' in sys.modules, 'prometheus_client' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=APP_DIR, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["AccessLogMiddleware", "False", "False"]


def test_guard_wraps_the_access_log(guarded: Captured) -> None:
    assert isinstance(guarded.app, RequestGuard)
    assert isinstance(guarded.app.app, AccessLogMiddleware)


# --- the API-key check ---


@pytest.mark.parametrize(
    "headers, verdict", [({}, "missing"), ({"x-api-key": ""}, "missing"), ({"x-api-key": "nope"}, "invalid")]
)
def test_requests_without_a_valid_key_get_401(guarded: Captured, headers: dict[str, str], verdict: str) -> None:
    before_access = len(guarded.access())
    body = json.dumps(infer_body(sample_input(1))).encode()
    result = guarded.server.request("POST", "/v2/models/mlp/infer", body, {**headers, "x-request-id": f"r-{verdict}"})
    assert result.status == 401
    assert result.body == UNAUTHORIZED
    assert result.header("content-type") == "application/json"
    assert result.header("content-length") == str(len(UNAUTHORIZED))
    record = guarded.audit()[-1]
    assert (record["status"], record["api_key"], record["request_id"]) == (401, verdict, f"r-{verdict}")
    # The model never saw it, so neither did the primary's access log (as behind the sidecar).
    assert len(guarded.access()) == before_access


@pytest.mark.parametrize("path", ["/v2/health/live", "/v2/health/ready", "/metrics"])
def test_probes_and_metrics_need_no_key_and_are_still_logged(guarded: Captured, path: str) -> None:
    result = guarded.server.request("GET", path)
    assert result.status == 200
    record = guarded.audit()[-1]
    assert (record["path"], record["status"], record["api_key"]) == (path, 200, "exempt")
    assert guarded.server.request("GET", path, headers={"x-api-key": "wrong"}).status == 200
    assert guarded.audit()[-1]["api_key"] == "exempt"


def test_exemption_is_for_get_only(guarded: Captured) -> None:
    assert guarded.server.request("POST", "/v2/health/live").status == 401
    assert guarded.server.request("POST", "/metrics").status == 401
    # With a key the request goes on to the primary, which has no POST /metrics.
    assert guarded.server.request("POST", "/metrics", headers=AUTH).status == 404


def test_other_routes_need_the_key(guarded: Captured) -> None:
    assert guarded.server.request("GET", "/v2").status == 401
    assert guarded.server.request("GET", "/v2", headers=AUTH).status == 200


# --- pass-through ---


def test_infer_with_a_key_is_unchanged(guarded: Captured, bare: Captured) -> None:
    body = json.dumps(infer_body(sample_input(3))).encode()
    assert guarded.server.request("POST", "/v2/models/mlp/infer", body, AUTH) == bare.server.request(
        "POST", "/v2/models/mlp/infer", body, AUTH
    )
    raw = sample_input(2).tobytes()
    outputs = [{"name": "OUTPUT0", "parameters": {"binary_data": True}}]
    binary, headers = binary_request([("INPUT0", "FP32", [2, 64], raw)], outputs)
    via_guard = guarded.server.request("POST", "/v2/models/mlp/infer", binary, {**headers, **AUTH})
    assert via_guard.status == 200
    assert via_guard == bare.server.request("POST", "/v2/models/mlp/infer", binary, {**headers, **AUTH})


def test_the_primary_access_log_sees_forwarded_requests(guarded: Captured) -> None:
    guarded.server.request("GET", "/v2/models/mlp", headers={**AUTH, "x-request-id": "fwd-1"})
    assert guarded.access()[-1]["request_id"] == "fwd-1"
    assert guarded.audit()[-1]["request_id"] == "fwd-1"


# --- the audit line ---


def test_audit_line_has_exactly_the_contract_keys_and_values(guarded: Captured) -> None:
    body = json.dumps(infer_body(sample_input(2))).encode()
    result = guarded.server.request("POST", "/v2/models/mlp/infer", body, {**AUTH, "X-Request-Id": "audit-1"})
    # The guard is outside the access log: the primary's line comes first, then the audit line.
    assert json.loads(guarded.lines[-2])["request_id"] == "audit-1"
    line = guarded.lines[-1]
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    record = json.loads(line)
    assert list(record) == AUDIT_KEYS
    assert TS.match(record["ts"]), record["ts"]
    assert record["aux"] == "request-guard"
    assert record["integration"] == "monolithic"
    assert record["pid"] == os.getpid()
    assert (record["method"], record["path"], record["status"]) == ("POST", "/v2/models/mlp/infer", 200)
    assert isinstance(record["duration_us"], int) and 0 < record["duration_us"] < 5_000_000
    assert (record["bytes_in"], record["bytes_out"]) == (len(body), len(result.body))
    assert (record["api_key"], record["request_id"]) == ("ok", "audit-1")
    assert guarded.server.request("GET", "/v2/health/live").status == 200
    assert guarded.audit()[-1]["request_id"] == ""


# --- metrics ---


def test_metrics_count_and_time_every_request(guarded: Captured) -> None:
    before = metric_samples(guarded.server.request("GET", "/metrics").body.decode())
    body = json.dumps(infer_body(sample_input(1))).encode()
    for _ in range(3):
        assert guarded.server.request("POST", "/v2/models/mlp/infer", body, AUTH).status == 200
    for _ in range(2):
        assert guarded.server.request("POST", "/v2/models/mlp/infer", body).status == 401
    result = guarded.server.request("GET", "/metrics")
    assert result.header("content-type") == "text/plain; version=0.0.4; charset=utf-8"
    after = metric_samples(result.body.decode())

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert delta('aux_requests_total{code="200",method="POST"}') == 3
    assert delta('aux_requests_total{code="401",method="POST"}') == 2
    assert delta('aux_requests_total{code="200",method="GET"}') == 1  # the first scrape
    assert delta("aux_request_duration_seconds_count") == 6
    assert delta("aux_request_duration_seconds_sum") > 0
    buckets = [after[f'aux_request_duration_seconds_bucket{{le="{le}"}}'] for le in [*map(float, BUCKETS), "+Inf"]]
    assert buckets == sorted(buckets)
    assert buckets[-1] == after["aux_request_duration_seconds_count"]


def test_exposition_has_the_contract_series_only(guarded: Captured) -> None:
    text = guarded.server.request("GET", "/metrics").body.decode()
    assert "_created" not in text
    families = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE)
    assert families == [
        ("aux_requests_total", "counter"),
        ("aux_request_duration_seconds", "histogram"),
        ("aux_build_info", "gauge"),
    ]
    les = re.findall(r'aux_request_duration_seconds_bucket\{le="([^"]+)"\}', text)
    assert les == [
        "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "+Inf",
    ]  # fmt: skip
    build_info = (
        f'aux_build_info{{integration="monolithic",language="python",runtime="CPython {sys.version.split()[0]}",'
        f'version="0.1.0",pid="{os.getpid()}"}} 1\n'
    )
    assert text.endswith(build_info)


# --- fault triggers ---


def fault_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


def test_unknown_fault_kind_goes_to_the_primary(guarded: Captured) -> None:
    assert guarded.server.request("POST", "/aux/fault/meltdown", headers=AUTH).status == 404
    assert guarded.server.request("GET", "/aux/fault/spin", headers=AUTH).status == 404


def test_faults_need_a_key(guarded: Captured) -> None:
    assert guarded.server.request("POST", "/aux/fault/crash").status == 401


@pytest.mark.parametrize(
    "kind, query",
    [
        ("spin", "seconds=61"),
        ("spin", "seconds=0"),
        ("spin", "seconds=abc"),
        ("balloon", "mibPerSec=-1"),
        ("balloon", "maxMiB=inf"),
    ],
)
def test_fault_parameters_are_bounded(guarded: Captured, kind: str, query: str) -> None:
    result = guarded.server.request("POST", f"/aux/fault/{kind}", headers=AUTH, query=query)
    assert result.status == 400
    assert json.loads(result.body)["error"].startswith(query.split("=")[0])


def test_spin_burns_cpu_for_the_given_time_then_stops(guarded: Captured) -> None:
    started = time.perf_counter()
    result = guarded.server.request("POST", "/aux/fault/spin", headers=AUTH, query="seconds=0.3")
    assert (result.status, result.body) == (202, b'{"fault":"spin"}')
    assert guarded.audit()[-1]["status"] == 202
    cpu_before = time.process_time()
    [thread] = fault_threads("request-guard-spin")
    thread.join(5)
    assert not thread.is_alive()
    assert 0.3 <= time.perf_counter() - started < 5
    # Real CPU work (not a sleep), with slack for a loaded machine.
    assert time.process_time() - cpu_before > 0.1


def test_balloon_allocates_touched_memory_up_to_its_limit(guarded: Captured) -> None:
    assert guarded.app.faults is not None
    rss_before = resident_mib()
    started = time.perf_counter()
    result = guarded.server.request("POST", "/aux/fault/balloon", headers=AUTH, query="mibPerSec=200&maxMiB=40")
    assert (result.status, result.body) == (202, b'{"fault":"balloon"}')
    [thread] = fault_threads("request-guard-balloon")
    thread.join(10)
    assert not thread.is_alive()
    assert time.perf_counter() - started >= 40 / 200 * 0.9  # the rate holds it back
    ballast = guarded.app.faults.ballast
    assert [len(b) for b in ballast] == [16 << 20, 16 << 20, 8 << 20]
    assert resident_mib() - rss_before >= 38  # every page written, so resident
    ballast.clear()


def resident_mib() -> float:
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kib / 1024


# --- the real server: environment, stdout, faults off, crash ---


def test_real_server_with_guard_logs_both_lines_on_stdout_and_has_no_faults(start_server) -> None:
    server: Server = start_server(env=GUARD_ENV)
    wait_ready(server)
    assert server.request("POST", "/aux/fault/crash", headers=AUTH).status == 404  # AUX_FAULTS unset
    assert server.request("POST", "/v2/models/mlp/infer", infer_body(sample_input(1))).status == 401
    body = infer_body(sample_input(1))
    result = server.request("POST", "/v2/models/mlp/infer", body, {**AUTH, "x-request-id": "e2e"})
    assert result.status == 200
    audit = server.wait_for_log(lambda r: r.get("aux") == "request-guard" and r["request_id"] == "e2e")
    access = server.wait_for_log(lambda r: "aux" not in r and r.get("request_id") == "e2e")
    assert audit["bytes_out"] == access["bytes_out"] == len(result.body)
    assert audit["pid"] == server.process.pid
    assert server.process.poll() is None
    assert not any(r["status"] == 401 for r in server.log_records() if "aux" not in r)


def test_crash_segfaults_the_process_after_answering(start_server) -> None:
    server: Server = start_server(env={**GUARD_ENV, "AUX_FAULTS": "1"})
    result = server.request("POST", "/aux/fault/crash", headers=AUTH)
    assert (result.status, result.body) == (202, b'{"fault":"crash"}')
    assert server.process.wait(10) == -11  # SIGSEGV
    server.stop()  # joins the stdout reader, so every line written before the crash is in
    assert any(r.get("path") == "/aux/fault/crash" and r.get("status") == 202 for r in server.log_records())


def test_server_refuses_to_start_without_a_key() -> None:
    with pytest.raises(RuntimeError, match="AUX_API_KEY"):
        launch(env={"PRIMARY_REQUEST_GUARD": "1", "AUX_API_KEY": ""})
