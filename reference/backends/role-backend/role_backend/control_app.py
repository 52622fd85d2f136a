"""The control API the checks use: what arrived (and when), and the listeners' state.

GET  /healthz                      listeners, ports and states, stopping (SIGTERM received); the readiness probe
GET  /otlp/metrics                 every series received
GET  /otlp/traces?from=N&limit=M   spans in arrival order (bounded, drops reported)
GET  /logs?from=N&limit=M          log records in arrival order, syslog and OTLP alike
GET  /syslog/stats                 framing counts (oversize, partial, framing errors)
GET  /vault/reads                  every secret read: time, path, version served
GET  /vault/requests               every store request: time, method, path, status
POST /control/<otlp|syslog|vault>/<up|down|slow>?delay_ms=N"""

from __future__ import annotations

import os
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .kv_store import KvStore
from .listener import Listener
from .log_store import PAGE_RECORDS_DEFAULT, LogStore
from .otlp_store import OtlpStore
from .shutdown import Shutdown
from .syslog_listener import SyslogListener
from .vault_app import VaultApi

STATES = ("up", "down", "slow")


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ValueError(f"query parameter {name}={raw!r} is not an integer") from error


def create_control_app(listeners: dict[str, Listener], otlp: OtlpStore, logs: LogStore, kv: KvStore,
                       vault: VaultApi, syslog: SyslogListener, shutdown: Shutdown | None = None) -> Starlette:
    async def healthz(request: Request) -> Response:
        return _json({"ok": True, "pid": os.getpid(), "stopping": shutdown is not None and shutdown.stopping,
                      "listeners": {name: listener.describe() for name, listener in listeners.items()}})

    async def metrics(request: Request) -> Response:
        return _json(otlp.metrics_json())

    async def traces(request: Request) -> Response:
        try:
            start = _int_param(request, "from", 0)
            limit = _int_param(request, "limit", PAGE_RECORDS_DEFAULT)
        except ValueError as error:
            return _json({"error": str(error)}, 400)
        return _json(otlp.traces_json(start, limit))

    async def log_records(request: Request) -> Response:
        try:
            start = _int_param(request, "from", 0)
            limit = _int_param(request, "limit", PAGE_RECORDS_DEFAULT)
        except ValueError as error:
            return _json({"error": str(error)}, 400)
        return _json(logs.page(start, limit))

    async def syslog_stats(request: Request) -> Response:
        return _json(syslog.stats())

    async def vault_reads(request: Request) -> Response:
        return _json(kv.reads_json())

    async def vault_requests(request: Request) -> Response:
        return _json({"requests": list(vault.requests), "bound": vault.requests.maxlen})

    async def control(request: Request) -> Response:
        service, state = request.path_params["service"], request.path_params["state"]
        listener = listeners.get(service)
        if listener is None or service == "control":
            return _json({"error": f"service {service!r}: expected one of otlp, syslog, vault"}, 404)
        if state not in STATES:
            return _json({"error": f"state {state!r}: expected one of {', '.join(STATES)}"}, 404)
        try:
            delay_ms = _int_param(request, "delay_ms", 0)
        except ValueError as error:
            return _json({"error": str(error)}, 400)
        if state == "slow" and delay_ms <= 0:
            return _json({"error": "slow needs delay_ms > 0"}, 400)
        try:
            if state == "down":
                await listener.down()
            else:
                await listener.up(delay_ms if state == "slow" else 0)
        except OSError as error:
            return _json({"error": f"{service}: cannot listen on port {listener.port} again ({error})"}, 409)
        return _json({"service": service, **listener.describe()})

    return Starlette(routes=[
        Route("/healthz", healthz),
        Route("/otlp/metrics", metrics),
        Route("/otlp/traces", traces),
        Route("/logs", log_records),
        Route("/syslog/stats", syslog_stats),
        Route("/vault/reads", vault_reads),
        Route("/vault/requests", vault_requests),
        Route("/control/{service}/{state}", control, methods=["POST"]),
    ])
