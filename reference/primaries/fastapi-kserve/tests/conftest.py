"""Fixtures: the real server as a subprocess (the documented uvicorn command) on a free port."""

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

import numpy as np
import pytest

APP_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = APP_DIR.parents[2]
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: the kernel SIGKILLs the server if pytest itself dies, so not even a
    # killed test run leaves an orphan listening on a port.
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
class Server:
    process: subprocess.Popen[bytes]
    port: int
    stdout_lines: list[str] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)
    _readers: list[threading.Thread] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | dict | None = None,
        headers: dict[str, str] | None = None,
        timeout_s: float = 30.0,
    ) -> HttpResult:
        if isinstance(body, dict):
            body = json.dumps(body)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return HttpResult(response.status, response.headers, response.read())
        finally:
            connection.close()

    def log_records(self) -> list[dict]:
        return [json.loads(line) for line in list(self.stdout_lines)]

    def wait_for_log(self, predicate: Callable[[dict], bool], timeout_s: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for record in self.log_records():
                if predicate(record):
                    return record
            time.sleep(0.01)
        raise AssertionError(f"no matching access log line; stdout was {self.stdout_lines[-20:]}")

    def stop(self) -> int:
        """SIGTERM (graceful), SIGKILL after a grace period; returns the exit code."""
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


def launch(
    env: dict[str, str] | None = None, extra_args: list[str] | None = None, access_log_flag: bool = True
) -> Server:
    """Starts the server with the documented command; returns once it is live (not ready)."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "server:app",
        "--app-dir", str(APP_DIR.relative_to(REPO_ROOT)),
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning",
        *(["--no-access-log"] if access_log_flag else []),
        *(extra_args or []),
    ]  # fmt: skip
    full_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_die_with_parent,
    )
    server = Server(process, port)
    for stream, sink in ((process.stdout, server.stdout_lines), (process.stderr, server.stderr_lines)):
        reader = threading.Thread(target=_pump, args=(stream, sink), daemon=True)
        reader.start()
        server._readers.append(reader)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            raise RuntimeError(f"server exited with {process.returncode}: {server.stderr_lines[-20:]}")
        try:
            if server.request("GET", "/v2/health/live", timeout_s=1).status == 200:
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"server not live within {STARTUP_TIMEOUT_S}s: {server.stderr_lines[-20:]}")


def wait_ready(server: Server, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.request("GET", "/v2/health/ready").status == 200:
            return
        time.sleep(0.02)
    raise AssertionError("server not ready in time")


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """A factory for servers with their own config; all are stopped after the test."""
    started: list[Server] = []

    def start(*args, **kwargs) -> Server:
        server = launch(*args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One server with the default config, shared by the tests that only send requests."""
    running = launch()
    try:
        wait_ready(running)
        yield running
    finally:
        running.stop()


def reference_mlp(
    x: np.ndarray, input_dim: int = 64, hidden_dim: int = 256, layers: int = 2, output_dim: int = 10, seed: int = 42
) -> np.ndarray:
    """Independent numpy statement of the model contract: He-initialised weights drawn in
    layer order (W then b) from default_rng(seed), ReLU hidden layers, softmax output."""
    rng = np.random.default_rng(seed)
    widths = [input_dim] + [hidden_dim] * layers + [output_dim]
    h = x.astype(np.float32)
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        w = rng.standard_normal((fan_in, fan_out), dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        b = rng.standard_normal(fan_out, dtype=np.float32) * np.float32(0.01)
        h = h @ w + b
        if i < layers:
            h = np.maximum(h, 0)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sample_input(batch: int, width: int = 64, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, width), dtype=np.float32)


def infer_body(x: np.ndarray, **extra: object) -> dict:
    return {
        "inputs": [{"name": "INPUT0", "shape": list(x.shape), "datatype": "FP32", "data": x.reshape(-1).tolist()}],
        **extra,
    }


def binary_request(
    inputs: list[tuple[str, str, list[int], bytes]], outputs: list[dict] | None = None, **extra: object
) -> tuple[bytes, dict[str, str]]:
    """A request in Triton's binary tensor format; inputs are (name, datatype, shape, raw bytes)."""
    header: dict[str, object] = {
        "inputs": [
            {"name": n, "datatype": dt, "shape": shape, "parameters": {"binary_data_size": len(raw)}}
            for n, dt, shape, raw in inputs
        ],
        **extra,
    }
    if outputs is not None:
        header["outputs"] = outputs
    header_bytes = json.dumps(header).encode()
    body = header_bytes + b"".join(raw for *_, raw in inputs)
    return body, {"Inference-Header-Content-Length": str(len(header_bytes)), "Content-Type": "application/octet-stream"}


def split_binary_response(result: HttpResult) -> tuple[dict, bytes]:
    length = int(result.headers["Inference-Header-Content-Length"])
    return json.loads(result.body[:length]), result.body[length:]


def stream_events(
    server: Server, body: dict, path: str = "/v2/models/mlp/generate_stream"
) -> tuple[http.client.HTTPResponse, list[tuple[float, dict]]]:
    """Reads the SSE stream line by line, stamping each event with its arrival time since the request."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    start = time.perf_counter()
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
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
                assert line == b"\n", line  # events are separated by exactly one blank line
    finally:
        connection.close()
    return response, events
