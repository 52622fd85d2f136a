"""SIGTERM: the data listeners close at once; the control port answers, with stopping true,
while it is being read, then the backend exits."""

from __future__ import annotations

import signal
import time

from conftest import Backend, http_request
from test_control import refused


def test_after_sigterm_control_answers_while_read_and_data_ports_are_closed(backend: Backend) -> None:
    assert backend.control("/healthz")["stopping"] is False
    backend.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 5
    health = backend.control("/healthz")
    while not health["stopping"] and time.monotonic() < deadline:
        time.sleep(0.02)
        health = backend.control("/healthz")
    assert health["stopping"] is True
    for service in ("otlp", "syslog", "vault"):
        assert refused(backend.ports[service]), service
    # Read for a while, longer than the idle bound: the control port stays up throughout.
    for _ in range(30):
        assert http_request(backend.ports["control"], "GET", "/otlp/metrics").status == 200
        time.sleep(0.05)
    began = time.monotonic()
    assert backend.process.wait(5) == 0
    assert time.monotonic() - began < 1.5  # idle bound (0.5 s) and the listener's close


def test_a_backend_nobody_reads_exits_at_once_on_sigterm(start_backend) -> None:
    backend = start_backend(["--linger-idle-ms", "300"])
    time.sleep(0.4)  # the start-up health check is more than the idle bound ago
    began = time.monotonic()
    backend.process.send_signal(signal.SIGTERM)
    assert backend.process.wait(5) == 0
    assert time.monotonic() - began < 1.0


def test_linger_is_bounded_even_while_read(start_backend) -> None:
    backend = start_backend(["--linger-ms", "600"])
    backend.process.send_signal(signal.SIGTERM)
    began = time.monotonic()
    while backend.process.poll() is None and time.monotonic() - began < 5:
        try:
            http_request(backend.ports["control"], "GET", "/healthz", timeout_s=1)
        except OSError:
            pass
        time.sleep(0.02)
    assert backend.process.poll() == 0
    assert time.monotonic() - began < 2.0
