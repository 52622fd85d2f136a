"""Drives an ASGI app in-process, lifespan included, so a test can hand create_app() a sink and
read every log line it writes (the real server's stdout is covered by the subprocess tests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any


@dataclass
class AsgiResult:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode()
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == wanted), None)


class InProcessServer:
    """One event loop for the app's lifespan and all its requests, as under uvicorn."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self._lifespan_in: asyncio.Queue[dict] | None = None
        self._lifespan_out: asyncio.Queue[dict] | None = None
        self._lifespan_task: asyncio.Task[None] | None = None

    def start(self, ready_timeout_s: float = 30.0) -> None:
        self.loop.run_until_complete(self._start(ready_timeout_s))

    def close(self) -> None:
        self.loop.run_until_complete(self._stop())
        self.loop.close()

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, query: str = ""
    ) -> AsgiResult:
        return self.loop.run_until_complete(self._request(method, path, body, headers or {}, query))

    async def _start(self, ready_timeout_s: float) -> None:
        self._lifespan_in, self._lifespan_out = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.3"}, "state": {}}
        self._lifespan_task = asyncio.create_task(self.app(scope, self._lifespan_in.get, self._lifespan_out.put))
        await self._lifespan_in.put({"type": "lifespan.startup"})
        message = await asyncio.wait_for(self._lifespan_out.get(), 10)
        assert message["type"] == "lifespan.startup.complete", message
        deadline = self.loop.time() + ready_timeout_s
        while (await self._request("GET", "/v2/health/ready", b"", {}, "")).status != 200:
            assert self.loop.time() < deadline, "app not ready in time"
            await asyncio.sleep(0.01)

    async def _stop(self) -> None:
        if self._lifespan_task is None:
            return
        assert self._lifespan_in is not None and self._lifespan_out is not None
        await self._lifespan_in.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(self._lifespan_out.get(), 10)
        await asyncio.wait_for(self._lifespan_task, 10)

    async def _request(self, method: str, path: str, body: bytes, headers: dict[str, str], query: str) -> AsgiResult:
        raw_headers = [(b"host", b"127.0.0.1"), *((k.lower().encode(), v.encode()) for k, v in headers.items())]
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
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
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        done = asyncio.Event()
        body_sent = False
        status = 0
        response_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def receive() -> dict:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()  # a streaming response listens for the client leaving; it stays
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        await self.app(scope, receive, send)
        done.set()
        return AsgiResult(status, response_headers, b"".join(chunks))
