"""server_with_sdk.py: the reference primary wrapped in request-guard-sdk, as a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from conftest import LIBRARY_DIR, PRIMARY_DIR, Server, launch

KEY = "sdk-server-key"
AUTH = {"x-api-key": KEY}
GUARD_ENV = {"AUX_API_KEY": KEY}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Server, Server]]:
    """The bare primary and the library-integrated one, side by side."""
    bare = launch("server:app", PRIMARY_DIR)
    try:
        guarded = launch("server_with_sdk:app", LIBRARY_DIR, env=GUARD_ENV)
        try:
            yield bare, guarded
        finally:
            guarded.stop()
    finally:
        bare.stop()


def infer_json(batch: int) -> bytes:
    data = [((i * 7) % 13) / 13.0 for i in range(batch * 64)]
    return json.dumps({"inputs": [{"name": "INPUT0", "shape": [batch, 64], "datatype": "FP32", "data": data}]}).encode()


def infer_binary(batch: int) -> tuple[bytes, dict[str, str]]:
    import numpy as np

    raw = np.arange(batch * 64, dtype=np.float32).tobytes()
    tensor = {"name": "INPUT0", "shape": [batch, 64], "datatype": "FP32", "parameters": {"binary_data_size": len(raw)}}
    outputs = [{"name": "OUTPUT0", "parameters": {"binary_data": True}}]
    header = json.dumps({"inputs": [tensor], "outputs": outputs}).encode()
    headers = {"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"}
    return header + raw, headers


def test_infer_with_a_key_answers_the_same_bytes_as_the_bare_primary(servers: tuple[Server, Server]) -> None:
    bare, guarded = servers
    body = infer_json(2)
    plain, via_sdk = (s.request("POST", "/v2/models/mlp/infer", body, AUTH) for s in (bare, guarded))
    assert via_sdk.status == plain.status == 200
    assert via_sdk.body == plain.body
    assert via_sdk.headers["content-type"] == plain.headers["content-type"]
    binary, headers = infer_binary(3)
    plain, via_sdk = (s.request("POST", "/v2/models/mlp/infer", binary, {**headers, **AUTH}) for s in (bare, guarded))
    assert via_sdk.status == plain.status == 200
    assert via_sdk.body == plain.body
    assert via_sdk.headers["inference-header-content-length"] == plain.headers["inference-header-content-length"]


def test_unauthenticated_requests_stop_at_the_guard(servers: tuple[Server, Server]) -> None:
    _, guarded = servers
    result = guarded.request("POST", "/v2/models/mlp/infer", infer_json(1), {"x-request-id": "no-key"})
    assert result.status == 401
    assert result.body == b'{"error":"missing or invalid API key"}'
    assert result.headers["content-type"] == "application/json"
    audit = guarded.wait_for_log(lambda r: r.get("aux") == "request-guard" and r["request_id"] == "no-key")
    assert (audit["integration"], audit["api_key"], audit["pid"]) == ("library", "missing", guarded.process.pid)
    # The guard stands in front of the primary's access log, as the sidecar does.
    assert not any(r.get("request_id") == "no-key" for r in guarded.log_records() if "aux" not in r)


def test_both_log_lines_on_stdout_and_metrics_on_the_primary_port(servers: tuple[Server, Server]) -> None:
    _, guarded = servers
    result = guarded.request("POST", "/v2/models/mlp/infer", infer_json(1), {**AUTH, "x-request-id": "both"})
    audit = guarded.wait_for_log(lambda r: r.get("aux") == "request-guard" and r["request_id"] == "both")
    access = guarded.wait_for_log(lambda r: "aux" not in r and r.get("request_id") == "both")
    assert audit["bytes_out"] == access["bytes_out"] == len(result.body)
    assert audit["bytes_in"] == access["bytes_in"]
    metrics = guarded.request("GET", "/metrics")
    assert metrics.status == 200
    assert 'aux_requests_total{code="200",method="POST"}' in metrics.body.decode()
    assert guarded.request("POST", "/aux/fault/crash", headers=AUTH).status == 404  # AUX_FAULTS unset


def test_crash_segfaults_the_process_after_answering(start_server) -> None:
    server: Server = start_server("server_with_sdk:app", LIBRARY_DIR, env={**GUARD_ENV, "AUX_FAULTS": "1"})
    result = server.request("POST", "/aux/fault/crash", headers=AUTH)
    assert (result.status, result.body) == (202, b'{"fault":"crash"}')
    assert server.process.wait(10) == -11  # SIGSEGV
    server.stop()  # joins the stdout reader, so every line written before the crash is in
    assert any(r.get("path") == "/aux/fault/crash" and r.get("status") == 202 for r in server.log_records())


@pytest.mark.parametrize(
    "env, variable",
    [
        ({}, "AUX_API_KEY"),
        ({"AUX_API_KEY": ""}, "AUX_API_KEY"),
        ({**GUARD_ENV, "AUX_FAULTS": "yes"}, "AUX_FAULTS"),
        ({**GUARD_ENV, "PRIMARY_REQUEST_GUARD": "1"}, "PRIMARY_REQUEST_GUARD"),
    ],
)
def test_the_edge_refuses_bad_settings_naming_the_variable(env: dict[str, str], variable: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUX_", "PRIMARY_"))}
    result = subprocess.run(
        [sys.executable, "-c", "import server_with_sdk"],
        cwd=LIBRARY_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "ConfigError" in result.stderr and variable in result.stderr.splitlines()[-1]
