"""request-guard-sdk in-process around a stub app, against the contract in
reference/integrations/README.md; a sink captures the audit lines."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import call, stub_app
from prometheus_client import REGISTRY

import request_guard_sdk
from request_guard_sdk import BUCKETS, RequestGuard

KEY = "sdk-test-key"
AUTH = {"x-api-key": KEY}
UNAUTHORIZED = b'{"error":"missing or invalid API key"}'
AUDIT_KEYS = [
    "ts", "aux", "integration", "pid", "method", "path", "status",
    "duration_us", "bytes_in", "bytes_out", "api_key", "request_id",
]  # fmt: skip
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class Guarded:
    def __init__(self, **options: object) -> None:
        self.lines: list[bytes] = []
        self.app = RequestGuard(stub_app, api_key=KEY, sink=self.lines.append, **options)

    def audit(self) -> dict:
        return json.loads(self.lines[-1])


@pytest.fixture
def guarded() -> Guarded:
    return Guarded()


@pytest.fixture
def with_faults() -> Iterator[Guarded]:
    guarded = Guarded(faults=True)
    yield guarded
    assert guarded.app.faults is not None
    guarded.app.faults.ballast.clear()


def metric_samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_the_installed_package_is_this_source_tree() -> None:
    assert importlib.metadata.version("request-guard-sdk") == request_guard_sdk.__version__ == "1.0.0"
    assert request_guard_sdk.__file__.startswith(str(os.path.dirname(os.path.dirname(__file__))))


def test_an_api_key_is_required() -> None:
    with pytest.raises(ValueError, match="api_key"):
        RequestGuard(stub_app, api_key="")


def test_non_http_scopes_pass_through(guarded: Guarded) -> None:
    import asyncio

    scope: dict = {"type": "lifespan"}
    asyncio.run(guarded.app(scope, None, None))
    assert scope.get("seen") is True
    assert guarded.lines == []


# --- the API-key check ---


@pytest.mark.parametrize(
    "headers, verdict", [({}, "missing"), ({"x-api-key": ""}, "missing"), ({"x-api-key": KEY + "x"}, "invalid")]
)
def test_requests_without_a_valid_key_get_401_and_never_reach_the_app(
    guarded: Guarded, headers: dict, verdict: str
) -> None:
    result = call(guarded.app, "POST", "/v2/models/mlp/infer", b"payload", {**headers, "x-request-id": "r-1"})
    assert result.status == 401
    assert result.body == UNAUTHORIZED
    assert result.header("content-type") == "application/json"
    assert result.header("content-length") == str(len(UNAUTHORIZED))
    assert result.header("x-stub") is None
    record = guarded.audit()
    assert (record["status"], record["api_key"], record["request_id"], record["bytes_in"]) == (401, verdict, "r-1", 0)


@pytest.mark.parametrize("path", ["/v2/health/live", "/v2/health/ready", "/metrics"])
def test_probes_and_metrics_need_no_key_and_are_still_logged(guarded: Guarded, path: str) -> None:
    assert call(guarded.app, "GET", path).status == 200
    assert (guarded.audit()["path"], guarded.audit()["api_key"]) == (path, "exempt")
    assert call(guarded.app, "GET", path, headers={"x-api-key": "wrong"}).status == 200
    assert guarded.audit()["api_key"] == "exempt"


def test_exemption_is_for_get_only(guarded: Guarded) -> None:
    assert call(guarded.app, "POST", "/v2/health/live").status == 401
    assert call(guarded.app, "POST", "/metrics").status == 401
    assert call(guarded.app, "POST", "/metrics", headers=AUTH).header("x-stub") == "1"  # on to the app


# --- pass-through ---


def test_requests_with_a_key_pass_through_unchanged(guarded: Guarded) -> None:
    body = b'{"inputs": []}' * 50
    assert call(guarded.app, "POST", "/v2/models/mlp/infer", body, AUTH) == call(
        stub_app, "POST", "/v2/models/mlp/infer", body, AUTH
    )


# --- the audit line ---


def test_audit_line_has_exactly_the_contract_keys_and_values(guarded: Guarded) -> None:
    body = b"x" * 1234
    result = call(guarded.app, "POST", "/v2/models/mlp/infer", body, {**AUTH, "X-Request-Id": "audit-1"})
    [line] = guarded.lines
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    record = json.loads(line)
    assert list(record) == AUDIT_KEYS
    assert TS.match(record["ts"]), record["ts"]
    assert (record["aux"], record["integration"], record["pid"]) == ("request-guard", "library", os.getpid())
    assert (record["method"], record["path"], record["status"]) == ("POST", "/v2/models/mlp/infer", 200)
    assert isinstance(record["duration_us"], int) and 0 <= record["duration_us"] < 5_000_000
    assert (record["bytes_in"], record["bytes_out"]) == (len(body), len(result.body))
    assert (record["api_key"], record["request_id"]) == ("ok", "audit-1")
    call(guarded.app, "GET", "/v2/health/live")
    assert guarded.audit()["request_id"] == ""


def test_integration_label_is_configurable() -> None:
    lines: list[bytes] = []
    app = RequestGuard(stub_app, api_key=KEY, integration="library-test", sink=lines.append)
    call(app, "GET", "/v2/health/live")
    assert json.loads(lines[-1])["integration"] == "library-test"
    assert 'aux_build_info{integration="library-test",' in call(app, "GET", "/metrics").body.decode()


def test_audit_goes_to_stdout_by_default() -> None:
    read_fd, write_fd = os.pipe()
    saved = os.dup(1)
    try:
        os.dup2(write_fd, 1)
        call(RequestGuard(stub_app, api_key=KEY), "GET", "/v2/health/live", headers={"x-request-id": "stdout-1"})
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        assert json.loads(pipe.read())["request_id"] == "stdout-1"


# --- metrics ---


def test_metrics_count_and_time_every_request(guarded: Guarded) -> None:
    for _ in range(3):
        assert call(guarded.app, "POST", "/v2/models/mlp/infer", b"{}", AUTH).status == 200
    for _ in range(2):
        assert call(guarded.app, "POST", "/v2/models/mlp/infer", b"{}").status == 401
    assert call(guarded.app, "GET", "/v2/health/ready").status == 200
    result = call(guarded.app, "GET", "/metrics")
    assert result.header("content-type") == "text/plain; version=0.0.4; charset=utf-8"
    samples = metric_samples(result.body.decode())
    assert samples['aux_requests_total{code="200",method="POST"}'] == 3
    assert samples['aux_requests_total{code="401",method="POST"}'] == 2
    assert samples['aux_requests_total{code="200",method="GET"}'] == 1  # this scrape is counted after it
    assert samples["aux_request_duration_seconds_count"] == 6
    assert samples["aux_request_duration_seconds_sum"] > 0
    buckets = [samples[f'aux_request_duration_seconds_bucket{{le="{le}"}}'] for le in [*map(float, BUCKETS), "+Inf"]]
    assert buckets == sorted(buckets) and buckets[-1] == 6
    again = metric_samples(call(guarded.app, "GET", "/metrics").body.decode())
    assert again['aux_requests_total{code="200",method="GET"}'] == 2


def test_exposition_has_the_contract_series_only(guarded: Guarded) -> None:
    text = call(guarded.app, "GET", "/metrics").body.decode()
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
        f'aux_build_info{{integration="library",language="python",runtime="CPython {sys.version.split()[0]}",'
        f'version="1.0.0",pid="{os.getpid()}"}} 1\n'
    )
    assert text.endswith(build_info)


def test_metrics_stay_out_of_the_global_registry(guarded: Guarded) -> None:
    call(guarded.app, "GET", "/v2/health/live")
    assert not any(metric.name.startswith("aux_") for metric in REGISTRY.collect())


# --- fault triggers ---


def fault_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


@pytest.mark.parametrize("kind", ["crash", "balloon", "spin"])
def test_faults_are_off_unless_enabled(guarded: Guarded, kind: str) -> None:
    result = call(guarded.app, "POST", f"/aux/fault/{kind}", headers=AUTH)
    assert (result.status, result.header("x-stub")) == (404, "1")  # the app's answer


def test_faults_need_a_key(with_faults: Guarded) -> None:
    assert call(with_faults.app, "POST", "/aux/fault/crash").status == 401


def test_unknown_fault_kinds_and_methods_go_to_the_app(with_faults: Guarded) -> None:
    assert call(with_faults.app, "POST", "/aux/fault/meltdown", headers=AUTH).header("x-stub") == "1"
    assert call(with_faults.app, "GET", "/aux/fault/spin", headers=AUTH).header("x-stub") == "1"


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
def test_fault_parameters_are_bounded(with_faults: Guarded, kind: str, query: str) -> None:
    result = call(with_faults.app, "POST", f"/aux/fault/{kind}", headers=AUTH, query=query)
    assert (result.status, result.header("content-type")) == (400, "application/json")
    assert json.loads(result.body)["error"].startswith(query.split("=")[0])
    assert not fault_threads(f"request-guard-{kind}")


def test_spin_burns_cpu_for_the_given_time_then_stops(with_faults: Guarded) -> None:
    started = time.perf_counter()
    result = call(with_faults.app, "POST", "/aux/fault/spin", headers=AUTH, query="seconds=0.3")
    assert (result.status, result.body, result.header("x-stub")) == (202, b'{"fault":"spin"}', None)
    assert with_faults.audit()["status"] == 202
    cpu_before = time.process_time()
    [thread] = fault_threads("request-guard-spin")
    thread.join(5)
    assert not thread.is_alive()
    assert 0.3 <= time.perf_counter() - started < 5
    # Real CPU work (not a sleep), with slack for a loaded machine.
    assert time.process_time() - cpu_before > 0.1


def test_balloon_allocates_touched_memory_up_to_its_limit(with_faults: Guarded) -> None:
    assert with_faults.app.faults is not None
    rss_before = resident_mib()
    started = time.perf_counter()
    result = call(with_faults.app, "POST", "/aux/fault/balloon", headers=AUTH, query="mibPerSec=200&maxMiB=40")
    assert (result.status, result.body) == (202, b'{"fault":"balloon"}')
    [thread] = fault_threads("request-guard-balloon")
    thread.join(10)
    assert not thread.is_alive()
    assert time.perf_counter() - started >= 40 / 200 * 0.9  # the rate holds it back
    assert [len(b) for b in with_faults.app.faults.ballast] == [16 << 20, 16 << 20, 8 << 20]
    assert resident_mib() - rss_before >= 38  # every page written, so resident


def resident_mib() -> float:
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kib / 1024
