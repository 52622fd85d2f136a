"""The structured access log: one flushed JSON line per request on stdout."""

from __future__ import annotations

import json
import time
import uuid

from conftest import Server, infer_body, sample_input, wait_ready

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_one_line_per_request_with_all_fields(server: Server) -> None:
    request_id = str(uuid.uuid4())
    body = json.dumps(infer_body(sample_input(2)))
    result = server.request(
        "POST", "/v2/models/mlp/infer", body, {"X-Request-Id": request_id, "traceparent": TRACEPARENT}
    )
    record = server.wait_for_log(lambda r: r.get("request_id") == request_id)
    assert record["method"] == "POST"
    assert record["path"] == "/v2/models/mlp/infer"
    assert record["status"] == 200
    assert record["bytes_in"] == len(body)
    assert record["bytes_out"] == len(result.body)
    assert record["traceparent"] == TRACEPARENT
    assert 0 < record["duration_ms"] < 5_000
    assert record["ts"].endswith("+00:00")
    assert isinstance(record["seq"], int)
    assert sum(r.get("request_id") == request_id for r in server.log_records()) == 1


def test_errors_are_logged_with_their_status(server: Server) -> None:
    request_id = str(uuid.uuid4())
    server.request("GET", "/v2/models/nope", headers={"X-Request-Id": request_id})
    assert server.wait_for_log(lambda r: r.get("request_id") == request_id)["status"] == 404


def test_stream_is_logged_once_complete(server: Server) -> None:
    request_id = str(uuid.uuid4())
    body = {"text_input": "log me", "parameters": {"max_tokens": 3, "token_interval_ms": 20}}
    result = server.request("POST", "/v2/models/mlp/generate_stream", body, {"X-Request-Id": request_id})
    record = server.wait_for_log(lambda r: r.get("request_id") == request_id)
    assert record["bytes_out"] == len(result.body)
    assert record["duration_ms"] >= 40


def test_lines_are_written_as_they_happen(server: Server) -> None:
    # A log shipper tailing stdout sees the line while the server keeps running: no
    # buffering until exit.
    request_id = str(uuid.uuid4())
    server.request("GET", "/v2/health/live", headers={"X-Request-Id": request_id})
    server.wait_for_log(lambda r: r.get("request_id") == request_id, timeout_s=1.0)


def test_sequence_numbers_are_gapless(start_server) -> None:
    server = start_server()
    wait_ready(server)
    for _ in range(20):
        server.request("GET", "/v2/health/live")
    deadline = time.monotonic() + 5
    while len(server.stdout_lines) < 21 and time.monotonic() < deadline:
        time.sleep(0.01)
    seqs = [r["seq"] for r in server.log_records()]
    assert seqs == list(range(1, len(seqs) + 1))


def test_stdout_holds_only_json_lines_even_without_no_access_log(start_server) -> None:
    # uvicorn's own access log would interleave plain-text lines on stdout; the app
    # silences it even when the launcher forgets --no-access-log.
    server = start_server(access_log_flag=False, extra_args=["--log-level", "info"])
    wait_ready(server)
    for _ in range(5):
        server.request("POST", "/v2/models/mlp/infer", infer_body(sample_input(1)))
    server.stop()
    assert server.stdout_lines, "expected access log lines"
    records = [json.loads(line) for line in server.stdout_lines]
    assert sum(r["path"] == "/v2/models/mlp/infer" for r in records) == 5


def test_primary_access_log_0_writes_no_request_lines(start_server) -> None:
    quiet = start_server(env={"PRIMARY_ACCESS_LOG": "0"})
    wait_ready(quiet)
    request_id = str(uuid.uuid4())
    result = quiet.request(
        "POST", "/v2/models/mlp/infer", json.dumps(infer_body(sample_input(1))), {"X-Request-Id": request_id}
    )
    assert result.status == 200
    time.sleep(0.2)
    assert quiet.log_records() == []


def test_primary_access_log_must_be_0_or_1() -> None:
    from kserve_primary.config import Config, ConfigError

    assert Config.from_env({}).access_log is True
    assert Config.from_env({"PRIMARY_ACCESS_LOG": "1"}).access_log is True
    assert Config.from_env({"PRIMARY_ACCESS_LOG": "0"}).access_log is False
    try:
        Config.from_env({"PRIMARY_ACCESS_LOG": "off"})
    except ConfigError as error:
        assert "PRIMARY_ACCESS_LOG='off': expected 1 (on) or 0 (off)" in str(error)
    else:
        raise AssertionError("PRIMARY_ACCESS_LOG=off was accepted")
