"""Debug endpoints the harness uses: process identity and header/body echo."""

from __future__ import annotations

import http.client
import time

import pytest
from conftest import Server


def test_pid_identifies_the_process_and_its_model(server: Server) -> None:
    first = server.request("GET", "/v2/debug/pid").json()
    assert first["pid"] == server.process.pid
    assert first["model_loaded_at"] >= first["started_at"]
    second = server.request("GET", "/v2/debug/pid").json()
    assert second["model_loaded_at"] == first["model_loaded_at"]
    assert second["requests"] == first["requests"] + 1


def test_echo_returns_body_and_request_headers(server: Server) -> None:
    body = b"\x00\x01 any bytes \xff"
    headers = {
        "Content-Type": "application/x-custom",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "X-Request-Id": "echo-1",
    }
    result = server.request("POST", "/v2/debug/echo", body, headers)
    assert result.status == 200
    assert result.body == body
    assert result.headers["Content-Type"] == "application/x-custom"
    assert result.headers["x-echo-traceparent"] == headers["traceparent"]
    assert result.headers["x-echo-x-request-id"] == "echo-1"
    assert result.headers["x-echo-content-type"] == "application/x-custom"
    # Framing headers describe this hop, not the client's request: not mirrored.
    assert result.headers["x-echo-content-length"] is None


def test_echo_repeats_multi_valued_headers(server: Server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest("POST", "/v2/debug/echo")
    connection.putheader("X-Multi", "one")
    connection.putheader("X-Multi", "two")
    connection.putheader("Content-Length", "0")
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.headers.get_all("x-echo-x-multi") == ["one", "two"]


def test_echo_streams_the_body_back_chunked_on_request(server: Server) -> None:
    body = bytes(range(256)) * 1000
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    # A chunked request body (no Content-Length), answered chunked.
    parts = iter([body[:100_000], body[100_000:]])
    connection.request("POST", "/v2/debug/echo?chunk_bytes=4096", body=parts, headers={"X-Trace": "t1"}, encode_chunked=True)
    response = connection.getresponse()
    received = response.read()
    connection.close()
    assert response.status == 200
    assert received == body
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert response.headers["Content-Length"] is None
    assert response.headers["x-echo-x-trace"] == "t1"


def test_echo_rejects_a_bad_chunk_size(server: Server) -> None:
    result = server.request("POST", "/v2/debug/echo?chunk_bytes=0", b"x")
    assert result.status == 400
    assert result.json() == {"error": "query parameter chunk_bytes='0': expected an integer from 1 to 16777216"}


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "internal error: RuntimeError"),
        (502, "bad gateway: the model backend closed the connection"),
        (503, "models are loading; the server is not ready"),
        (418, "debug failure 418"),
    ],
)
def test_fail_answers_the_status_asked_for_with_a_json_error(server: Server, status: int, message: str) -> None:
    result = server.request("POST", f"/v2/debug/fail?status={status}", b"ignored")
    assert result.status == status
    assert result.json() == {"error": message}
    assert result.headers["Content-Type"] == "application/json"
    assert result.headers["Cache-Control"] == "no-store"
    assert result.headers["Retry-After"] == ("1" if status == 503 else None)


def test_fail_waits_before_a_slow_504(server: Server) -> None:
    started = time.monotonic()
    result = server.request("POST", "/v2/debug/fail?status=504&delay_ms=300")
    assert time.monotonic() - started >= 0.3
    assert result.status == 504
    assert result.json() == {"error": "the model backend did not answer within 300 ms"}


@pytest.mark.parametrize(
    "query", ["", "status=200", "status=600", "status=abc", "status=500&delay_ms=-1", "status=500&delay_ms=60001"]
)
def test_fail_rejects_bad_parameters(server: Server, query: str) -> None:
    result = server.request("POST", f"/v2/debug/fail?{query}")
    assert result.status == 400
    assert "expected an integer from" in result.json()["error"]
