"""Fixtures: the real backend as a subprocess (the documented command, cwd = the package's
folder) on ports it picks itself (port 0; the `ready` line says which)."""

from __future__ import annotations

import ctypes
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
TOKEN = "test-token-7f3a"


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: the kernel SIGKILLs the backend if pytest dies, so no orphan keeps a port.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


@dataclass
class HttpResult:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(port: int, method: str, path: str, body: bytes | str | dict | None = None,
                 headers: dict[str, str] | None = None, timeout_s: float = 10.0) -> HttpResult:
    if isinstance(body, dict):
        body = json.dumps(body)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return HttpResult(response.status, response.headers, response.read())
    finally:
        connection.close()


@dataclass
class Backend:
    process: subprocess.Popen[bytes]
    ports: dict[str, int] = field(default_factory=dict)
    stdout_lines: list[str] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)
    _readers: list[threading.Thread] = field(default_factory=list)

    def request(self, service: str, method: str, path: str, body: bytes | str | dict | None = None,
                headers: dict[str, str] | None = None, timeout_s: float = 10.0) -> HttpResult:
        return http_request(self.ports[service], method, path, body, headers, timeout_s)

    def control(self, path: str, method: str = "GET") -> Any:
        result = self.request("control", method, path)
        assert result.status == 200, f"{method} {path}: {result.status} {result.body[:300]!r}"
        return result.json()

    def set_state(self, service: str, state: str, delay_ms: int | None = None) -> Any:
        query = f"?delay_ms={delay_ms}" if delay_ms is not None else ""
        return self.control(f"/control/{service}/{state}{query}", "POST")

    def vault(self, method: str, path: str, body: dict | None = None, token: str | None = TOKEN) -> HttpResult:
        headers = {"X-Vault-Token": token} if token is not None else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.request("vault", method, path, body, headers)

    def logs(self, start: int = 0) -> dict:
        return self.control(f"/logs?from={start}")

    def wait_logs(self, count: int, timeout_s: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while True:
            page = self.logs()
            if page["total"] >= count or time.monotonic() > deadline:
                return page["records"]
            time.sleep(0.02)

    def output(self) -> str:
        return "\n".join(self.stdout_lines + self.stderr_lines)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for reader in self._readers:
            reader.join(5)
        return self.process.returncode


def _pump(stream, sink: list[str]) -> None:
    for raw in iter(stream.readline, b""):
        sink.append(raw.decode("utf-8", "replace").rstrip("\n"))
    stream.close()


def launch(extra_args: list[str] | None = None, env: dict[str, str] | None = None) -> Backend:
    command = [sys.executable, "-m", "role_backend", "--otlp", "0", "--syslog", "0", "--vault", "0",
               "--control", "0", "--host", "127.0.0.1", *(extra_args or [])]
    full_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "STORE_TOKEN": TOKEN, **(env or {})}
    process = subprocess.Popen(command, cwd=PACKAGE_DIR, env=full_env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
    backend = Backend(process)
    for stream, sink in ((process.stdout, backend.stdout_lines), (process.stderr, backend.stderr_lines)):
        reader = threading.Thread(target=_pump, args=(stream, sink), daemon=True)
        reader.start()
        backend._readers.append(reader)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        ready = [line for line in backend.stdout_lines if line.startswith("ready ")]
        if ready:
            backend.ports = json.loads(ready[0][len("ready "):])
            assert backend.request("control", "GET", "/healthz").status == 200
            return backend
        if process.poll() is not None:
            backend.stop()
            raise RuntimeError(f"backend exited with {process.returncode}: {backend.output()}")
        time.sleep(0.02)
    backend.stop()
    raise RuntimeError(f"backend not ready within {STARTUP_TIMEOUT_S}s: {backend.output()}")


@pytest.fixture
def start_backend() -> Iterator[Callable[..., Backend]]:
    """A factory for backends with their own arguments; all are stopped after the test."""
    started: list[Backend] = []

    def start(*args: Any, **kwargs: Any) -> Backend:
        backend = launch(*args, **kwargs)
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.stop()


@pytest.fixture
def backend(start_backend: Callable[..., Backend]) -> Backend:
    return start_backend()


def send_tcp(port: int, payload: bytes, chunk_bytes: int = 0) -> None:
    """Sends `payload` on one connection (in chunks of `chunk_bytes` when set) and closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        if chunk_bytes:
            for offset in range(0, len(payload), chunk_bytes):
                sock.sendall(payload[offset:offset + chunk_bytes])
        else:
            sock.sendall(payload)
