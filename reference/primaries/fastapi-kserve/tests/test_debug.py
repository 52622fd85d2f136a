"""Debug endpoints the harness uses: process identity and header/body echo."""

from __future__ import annotations

import http.client

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
