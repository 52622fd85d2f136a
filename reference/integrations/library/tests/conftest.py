"""Fixtures: request-guard-sdk in-process around a stub app, and real servers as subprocesses
(the bare reference primary and server_with_sdk, with the documented uvicorn command)."""

from __future__ import annotations

import asyncio
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

import pytest

LIBRARY_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = LIBRARY_DIR.parents[2]
PRIMARY_DIR = REPO_ROOT / "reference" / "primaries" / "fastapi-kserve"
STARTUP_TIMEOUT_S = 30.0


# --- in-process ---


@dataclass
class AsgiResult:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode()
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == wanted), None)


def call(
    app, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, query: str = ""
) -> AsgiResult:
    """One HTTP request through an ASGI app, on an event loop of its own."""
    return asyncio.run(call_async(app, method, path, body, headers, query))


async def call_async(
    app, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, query: str = ""
) -> AsgiResult:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    # The body in two messages, so bytes_in must add them up.
    pending = [
        {"type": "http.request", "body": body[:5], "more_body": True},
        {"type": "http.request", "body": body[5:]},
    ]
    status = 0
    response_headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def receive() -> dict:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status, response_headers
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return AsgiResult(status, response_headers, b"".join(chunks))


async def stub_app(scope, receive, send) -> None:
    """Stands in for a model server: echoes the body it reads (answering in two chunks, so
    bytes_out must add them up), 404 for /aux/..., since no model server has those routes."""
    if scope["type"] != "http":
        scope["seen"] = True
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    if scope["path"].startswith("/aux/"):
        status, payload = 404, b'{"error":"Not Found"}'
    else:
        status, payload = 200, b"echo:" + body
    headers = [(b"content-type", b"text/plain"), (b"x-stub", b"1")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload[:3], "more_body": True})
    await send({"type": "http.response.body", "body": payload[3:]})


# --- real servers ---


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: the kernel SIGKILLs the server if pytest itself dies.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    stdout_lines: list[str] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)
    _readers: list[threading.Thread] = field(default_factory=list)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> HttpResult:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return HttpResult(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def log_records(self) -> list[dict]:
        return [json.loads(line) for line in list(self.stdout_lines)]

    def wait_for_log(self, predicate: Callable[[dict], bool], timeout_s: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = next((r for r in self.log_records() if predicate(r)), None)
            if found is not None:
                return found
            time.sleep(0.01)
        raise AssertionError(f"no matching log line; stdout was {self.stdout_lines[-20:]}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
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


def launch(module: str, app_dir: Path, env: dict[str, str] | None = None) -> Server:
    """Starts `uvicorn module --app-dir app_dir` from the repo root; returns once it is ready."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", module, "--app-dir", str(app_dir.relative_to(REPO_ROOT)),
        "--host", "127.0.0.1", "--port", str(port), "--http", "httptools", "--loop", "uvloop",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
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
            if server.request("GET", "/v2/health/ready").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"server not ready within {STARTUP_TIMEOUT_S}s: {server.stderr_lines[-20:]}")


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """A factory for servers; all are stopped after the test."""
    started: list[Server] = []

    def start(*args, **kwargs) -> Server:
        server = launch(*args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
