"""Structured access log: one JSON line per HTTP request, written to stdout as it completes.

Pure ASGI (not BaseHTTPMiddleware, which costs a task and a queue per request) and wrapped
around the whole application, so error responses produced by Starlette itself are logged
with their real status. Each line is one os.write: no buffering a log shipper would have
to wait for, and under PIPE_BUF (4 KiB) a line is never interleaved with other writers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from . import jsonio

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]
LineSink = Callable[[bytes], None]

# Request headers copied into the log line, under these keys.
_LOGGED_HEADERS = {b"x-request-id": "request_id", b"traceparent": "traceparent"}


def stdout_sink(fd: int = 1) -> LineSink:
    def write(line: bytes) -> None:
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            # A closed or broken stdout (the log shipper died) must not fail requests.
            pass

    return write


def tag_run(sink: LineSink, run_id: str) -> LineSink:
    """`sink` with a `run` field first in every line (PRIMARY_RUN_ID). Spliced into the
    encoded line by the sink create_app() picks, so the middleware's hot path is the same
    with or without a run id: no per-request flag check."""
    prefix = b'{"run":' + jsonio.dumps(run_id) + b","

    def write(line: bytes) -> None:
        # Every line given here is a non-empty JSON object: b'{"ts":...}\n'.
        sink(prefix + line[1:])

    return write


class RequestCounter:
    """Requests seen by this process; exposed by /v2/debug/pid."""

    def __init__(self) -> None:
        self.count = 0


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, counter: RequestCounter, sink: LineSink) -> None:
        self.app = app
        self.counter = counter
        self.sink = sink
        self.seq = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.counter.count += 1
        start = time.perf_counter()
        status = 0
        bytes_in = 0
        bytes_out = 0

        async def counting_receive() -> Message:
            nonlocal bytes_in
            message = await receive()
            if message["type"] == "http.request":
                bytes_in += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            nonlocal status, bytes_out
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                bytes_out += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            self.seq += 1
            record: dict[str, object] = {
                "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
                "seq": self.seq,
                "method": scope["method"],
                "path": scope["path"],
                "status": status,  # 0: the client went away before a response started
                "duration_ms": round((time.perf_counter() - start) * 1000.0, 3),
                "bytes_in": bytes_in,
                "bytes_out": bytes_out,
            }
            for name, value in scope["headers"]:
                key = _LOGGED_HEADERS.get(name)
                if key is not None:
                    record[key] = value.decode("latin-1")
            self.sink(jsonio.dumps(record) + b"\n")
