"""Fixtures: a real tritonserver on free ports, started as primary.yaml starts it.

The server is the launcher scripts/setup.mjs writes (.venv/bin/tritonserver), which is
what the local runtime runs for the manifest's `tritonserver`; the flags are the manifest's.
"""

from __future__ import annotations

import ctypes
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

PRIMARY_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = PRIMARY_DIR.parents[2]
TRITONSERVER = REPO_ROOT / ".venv" / "bin" / "tritonserver"
# Ready in about 2 s alone; a loaded 2-core machine (npm test) can take several times that.
STARTUP_TIMEOUT_S = 60.0
# Triton waits for in-flight requests, then unloads every model (each a stub process).
STOP_TIMEOUT_S = 30.0


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: the kernel SIGKILLs the server if pytest itself dies; its backend
    # stubs exit when they see their parent gone.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class HttpResult:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Triton:
    process: subprocess.Popen[bytes]
    http_port: int
    grpc_port: int
    metrics_port: int
    output: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @property
    def http_url(self) -> str:
        return f"127.0.0.1:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def request(
        self, method: str, path: str, body: bytes | str | dict | None = None, port: int | None = None, timeout_s: float = 30.0
    ) -> HttpResult:
        if isinstance(body, dict):
            body = json.dumps(body)
        connection = http.client.HTTPConnection("127.0.0.1", port or self.http_port, timeout=timeout_s)
        try:
            connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
            response = connection.getresponse()
            return HttpResult(response.status, response.headers, response.read())
        finally:
            connection.close()

    def stop(self) -> int:
        """SIGTERM to the server (as a runtime signals PID 1: the server stops its stubs and
        removes their shared memory), then SIGKILL to whatever is left of its process group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # stragglers: stubs that outlived the server
        except ProcessLookupError:
            pass
        self.process.wait()
        if self._reader:
            self._reader.join(5)
        return self.process.returncode


def _pump(stream, sink: list[str]) -> None:
    for raw in iter(stream.readline, b""):
        sink.append(raw.decode("utf-8", "replace").rstrip("\n"))
    stream.close()


def launch_triton() -> Triton:
    """Starts tritonserver with primary.yaml's flags; returns once /v2/health/ready answers 200."""
    if not TRITONSERVER.exists():
        raise RuntimeError(f"{TRITONSERVER} is missing: run `npm run setup` (scripts/setup.mjs) to install the Triton primary")
    ports = free_port(), free_port(), free_port()
    command = [
        str(TRITONSERVER), "--model-repository", "models",
        "--http-address", "127.0.0.1", "--http-port", str(ports[0]),
        "--grpc-address", "127.0.0.1", "--grpc-port", str(ports[1]),
        "--allow-metrics", "true", "--allow-gpu-metrics", "false",
        "--metrics-address", "127.0.0.1", "--metrics-port", str(ports[2]),
        "--pinned-memory-pool-byte-size", "0",
        "--exit-timeout-secs", "5",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=PRIMARY_DIR,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop() reaches the backend stubs too
        preexec_fn=_die_with_parent,
    )
    triton = Triton(process, *ports)
    triton._reader = threading.Thread(target=_pump, args=(process.stdout, triton.output), daemon=True)
    triton._reader.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            triton.stop()
            raise RuntimeError(f"tritonserver exited with {process.returncode}: {triton.output[-30:]}")
        try:
            if triton.request("GET", "/v2/health/ready", timeout_s=1).status == 200:
                return triton
        except OSError:
            pass
        time.sleep(0.05)
    triton.stop()
    raise RuntimeError(f"tritonserver not ready within {STARTUP_TIMEOUT_S}s: {triton.output[-30:]}")


@pytest.fixture(scope="session")
def triton() -> Iterator[Triton]:
    """One server for the whole session: every test only sends requests."""
    server = launch_triton()
    try:
        yield server
    finally:
        server.stop()


def sample_input(batch: int, width: int = 64, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, width), dtype=np.float32)


def stream_events(http_port: int, body: dict, model: str = "token_stream") -> tuple[http.client.HTTPResponse, list[tuple[float, dict]]]:
    """POSTs to a primary's generate_stream and reads the SSE events, each stamped with its arrival time since the request."""
    connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
    start = time.perf_counter()
    connection.request("POST", f"/v2/models/{model}/generate_stream", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    events: list[tuple[float, dict]] = []
    try:
        while True:
            line = response.readline()
            if not line:
                break
            if line.startswith(b"data: "):
                events.append((time.perf_counter() - start, json.loads(line[len(b"data: ") :])))
            else:
                assert line in (b"\n", b"\r\n"), line
    finally:
        connection.close()
    return response, events
