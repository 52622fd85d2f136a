"""Control: listeners down (refused, open connections reset), up on the same port, slow."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from conftest import TOKEN, Backend, http_request, send_tcp

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def metrics_body(name: str) -> bytes:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name=name)
    metric.gauge.data_points.add(as_int=1, time_unix_nano=1)
    return request.SerializeToString()


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_healthz_lists_every_listener_up(backend: Backend) -> None:
    health = backend.control("/healthz")
    assert health["ok"] is True
    assert {name: listener["state"] for name, listener in health["listeners"].items()} == {
        "otlp": "up", "syslog": "up", "vault": "up", "control": "up"}
    assert {name: listener["port"] for name, listener in health["listeners"].items()} == backend.ports


@pytest.mark.parametrize("service", ["otlp", "vault"])
def test_http_listener_down_refuses_and_resets_then_comes_back_on_the_same_port(backend: Backend, service: str) -> None:
    port = backend.ports[service]
    kept_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    kept_alive.request("GET", "/v1/sys/health")
    kept_alive.getresponse().read()  # the whole response: the connection now idles, kept alive

    answer = backend.set_state(service, "down")
    assert (answer["state"], answer["port"]) == ("down", port)
    assert refused(port)
    assert kept_alive.sock is not None
    with pytest.raises(ConnectionResetError):  # a reset (RST), not an orderly close (FIN)
        kept_alive.sock.recv(1)
    kept_alive.close()

    assert backend.set_state(service, "up")["state"] == "up"
    if service == "otlp":
        assert http_request(port, "POST", "/v1/metrics", metrics_body("after.up"), PROTOBUF).status == 200
        assert [s["name"] for s in backend.control("/otlp/metrics")["series"]] == ["after.up"]
    else:
        assert http_request(port, "GET", "/v1/sys/health").status == 200


def test_syslog_down_resets_open_connections_and_loses_only_unframed_bytes(backend: Backend) -> None:
    port = backend.ports["syslog"]
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"before\nhalf a line")
    backend.wait_logs(1)
    backend.set_state("syslog", "down")
    assert refused(port)
    sock.settimeout(5)
    with pytest.raises(ConnectionResetError):  # a reset (RST), not an orderly close (FIN)
        sock.recv(1)
    sock.close()
    backend.set_state("syslog", "up")
    send_tcp(port, b"after\n")
    records = backend.wait_logs(2)
    assert [r["message"] for r in records] == ["before", "after"]
    assert backend.control("/syslog/stats")["cut_by_down"] == 1


def test_slow_delays_each_request_and_up_restores_speed(backend: Backend) -> None:
    delay_ms = 400
    answer = backend.set_state("vault", "slow", delay_ms)
    assert (answer["state"], answer["delay_ms"]) == ("slow", delay_ms)
    started = time.monotonic()
    assert backend.vault("GET", "/v1/sys/health").status == 200
    assert (time.monotonic() - started) * 1000 >= delay_ms
    backend.set_state("vault", "up")
    started = time.monotonic()
    assert backend.vault("GET", "/v1/auth/token/lookup-self").status == 200
    assert (time.monotonic() - started) * 1000 < delay_ms


def test_slow_syslog_delays_each_read(backend: Backend) -> None:
    delay_ms = 400
    backend.set_state("syslog", "slow", delay_ms)
    started = time.monotonic()
    send_tcp(backend.ports["syslog"], b"slow line\n")
    [record] = backend.wait_logs(1)
    assert record["message"] == "slow line"
    assert (time.monotonic() - started) * 1000 >= delay_ms


def test_a_request_cut_by_down_during_slow_is_not_recorded(backend: Backend) -> None:
    port = backend.ports["otlp"]
    backend.set_state("otlp", "slow", 1500)
    outcome: list[object] = []

    def send() -> None:
        try:
            outcome.append(http_request(port, "POST", "/v1/metrics", metrics_body("cut"), PROTOBUF).status)
        except (ConnectionError, http.client.HTTPException) as error:
            outcome.append(error)

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.3)
    backend.set_state("otlp", "down")
    sender.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], Exception), outcome
    backend.set_state("otlp", "up")
    time.sleep(1.5)  # past the delay the cut request was sleeping in
    assert backend.control("/otlp/metrics")["series"] == []


def test_control_refuses_unknown_services_states_and_slow_without_delay(backend: Backend) -> None:
    assert backend.request("control", "POST", "/control/control/down").status == 404
    assert backend.request("control", "POST", "/control/otlp/sideways").status == 404
    assert backend.request("control", "POST", "/control/otlp/slow").status == 400
    assert backend.request("control", "POST", "/control/otlp/slow?delay_ms=abc").status == 400
    assert backend.vault("GET", "/v1/sys/health", token=TOKEN).status == 200
