"""The backend's last moments, arranged so that a check can read what arrived last.

A pod stops its containers in reverse start order: the sidecar under test exits (flushing on
its way out), and the backend gets SIGTERM the same instant. A check that must see the
sidecar's last delivery has to read the backend after that exit, which a plain shutdown
(control port gone at once) makes a race. So on SIGTERM the data listeners (OTLP, syslog,
vault) close at once — nothing arrives after it — and `stopping` turns true on /healthz,
while the control port keeps answering for as long as it is being read: until `idle_s` pass
without a control request, at most `linger_s` after SIGTERM. A check polls /healthz during
the stop and, once it says `stopping`, reads the final state; a pod nobody reads from stops
at once (its last control request was long ago)."""

from __future__ import annotations

import asyncio
import time
from typing import Any


class Shutdown:
    def __init__(self, linger_s: float, idle_s: float) -> None:
        self.linger_s = max(0.0, linger_s)
        self.idle_s = max(0.0, idle_s)
        self.stopping = False
        self._last_request = float("-inf")

    def touch(self) -> None:
        """A control request arrived."""
        self._last_request = time.monotonic()

    async def linger(self) -> float:
        """Waits while the control port is being read (bounded); answers the seconds waited."""
        began = time.monotonic()
        deadline = began + self.linger_s
        while True:
            now = time.monotonic()
            if now >= deadline or now - self._last_request >= self.idle_s:
                return now - began
            await asyncio.sleep(min(0.05, deadline - now, self.idle_s - (now - self._last_request)))


class Touching:
    """ASGI wrapper: every HTTP request of the wrapped app counts as a read of the control port."""

    def __init__(self, app: Any, shutdown: Shutdown) -> None:
        self.app = app
        self.shutdown = shutdown

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.shutdown.touch()
        await self.app(scope, receive, send)
