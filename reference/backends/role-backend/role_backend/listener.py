"""A listener the checks can take down, bring back and slow down.

`down` closes the listening socket (new connections are refused) and aborts every open
connection (RST: clients see a reset, as from a crashed backend); `up` binds the same port
again; `slow` delays each request (HTTP) or each read (TCP) by `delay_ms`. A generation
number, bumped on every `down`, lets work that started before an outage notice that its
connection is gone, so nothing is recorded that the client was not answered for."""

from __future__ import annotations

import asyncio
import socket
import struct
from abc import ABC, abstractmethod
from typing import Any

import uvicorn
from uvicorn.server import ServerState

# How long `down` waits for the aborted connections' callbacks before it reports done.
CLOSE_WAIT_S = 2.0


def bind_tcp(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # The same port must be bindable again right after `down`.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(512)
    sock.setblocking(False)
    return sock


def reset(transport: asyncio.BaseTransport) -> None:
    """Closes a connection with a RST, as a crashed peer's kernel would: SO_LINGER with a zero
    timeout, since a plain close sends an orderly FIN whenever the receive queue is empty."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass  # already closed by the peer
    transport.abort()


class Listener(ABC):
    def __init__(self, name: str, host: str, port: int) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.delay_ms = 0.0
        self.generation = 0
        self._server: asyncio.base_events.Server | None = None

    @property
    def state(self) -> str:
        if self._server is None:
            return "down"
        return "slow" if self.delay_ms > 0 else "up"

    def describe(self) -> dict[str, Any]:
        return {"port": self.port, "state": self.state, "delay_ms": self.delay_ms, "generation": self.generation}

    async def up(self, delay_ms: float = 0.0) -> None:
        self.delay_ms = max(0.0, delay_ms)
        if self._server is not None:
            return
        sock = bind_tcp(self.host, self.port)
        # Port 0 on the command line: the first bind picks the port, later binds reuse it.
        self.port = sock.getsockname()[1]
        try:
            self._server = await self._serve(sock)
        except BaseException:
            sock.close()
            raise

    async def down(self) -> None:
        server, self._server = self._server, None
        self.generation += 1
        if server is None:
            return
        server.close()
        self._abort_connections()
        try:
            await asyncio.wait_for(server.wait_closed(), CLOSE_WAIT_S)
        except TimeoutError:
            pass  # the sockets are closed; only bookkeeping callbacks are late

    async def pause(self, generation: int) -> bool:
        """The slow-mode delay; False when the listener went down meanwhile."""
        if self.delay_ms > 0:
            await asyncio.sleep(self.delay_ms / 1000.0)
        return generation == self.generation and self._server is not None

    @abstractmethod
    async def _serve(self, sock: socket.socket) -> asyncio.base_events.Server: ...

    @abstractmethod
    def _abort_connections(self) -> None: ...


class SlowGate:
    """ASGI wrapper: the slow-mode delay before the app sees the request, and no app call
    at all when the listener went down during the delay (the client was reset)."""

    def __init__(self, app: Any, listener: Listener) -> None:
        self.app = app
        self.listener = listener

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            generation = self.listener.generation
            if not await self.listener.pause(generation):
                return
            scope.setdefault("state", {})["listener_generation"] = generation
        await self.app(scope, receive, send)


class HttpListener(Listener):
    """An ASGI app served by uvicorn's HTTP protocol on a socket this class owns, so that it
    can close the socket and abort the connections itself (uvicorn.Server only shuts down
    gracefully)."""

    def __init__(self, name: str, host: str, port: int) -> None:
        super().__init__(name, host, port)
        self.config: uvicorn.Config | None = None
        self._server_state = ServerState()

    def mount(self, app: Any, http: str = "auto") -> None:
        """Sets the ASGI app; separate from __init__ because the apps take their listener.
        `http`: uvicorn's HTTP implementation ("h11" accepts any method token, e.g. Vault's LIST)."""
        self.config = uvicorn.Config(
            SlowGate(app, self), http=http, lifespan="off", ws="none", log_level="warning", access_log=False,
            server_header=False, date_header=False, proxy_headers=False,
            # Longer than Go's default idle timeout (90 s): the client closes idle connections,
            # never the server, so a POST never races a server-side close.
            timeout_keep_alive=120,
        )
        self.config.load()

    async def _serve(self, sock: socket.socket) -> asyncio.base_events.Server:
        if self.config is None:
            raise RuntimeError(f"listener {self.name}: no app mounted")
        self._server_state = ServerState()
        state, config = self._server_state, self.config

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(config=config, server_state=state, app_state={})  # type: ignore[call-arg]

        return await asyncio.get_running_loop().create_server(protocol, sock=sock)

    def _abort_connections(self) -> None:
        for connection in list(self._server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                reset(transport)
