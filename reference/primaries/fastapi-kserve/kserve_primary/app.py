"""The ASGI application: KServe v2 REST endpoints, token streams and debug endpoints.

Handlers take the raw Request and return raw Responses: no pydantic models on the hot
path, since this server's latency is the baseline sidecar overhead is measured against.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import SERVER_NAME, SERVER_VERSION, jsonio
from .access_log import ASGIApp, LineSink, RequestCounter, stdout_sink
from .config import Config
from .errors import ApiError, bad_request
from .generate import generate_whole, parse_generate_request, sse_stream
from .inference import HEADER_LENGTH, JSON_CONTENT_TYPE, infer
from .model import Model, load_models
from .roles import Roles

EXTENSIONS = ["binary_tensor_data", "generate"]

# Below this body size, decoding + a batch-1..16 MLP forward take tens of microseconds:
# less than a hop to the thread pool. Above it, work moves off the event loop so health
# probes and token streams keep flowing while a large batch computes (numpy drops the GIL).
INLINE_BODY_LIMIT_BYTES = 64 * 1024

# Request headers the echo endpoint does not mirror: they describe this hop's framing.
_NOT_ECHOED = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"})
_MAX_ECHO_CHUNK_BYTES = 16 * 1024 * 1024
_MAX_FAIL_DELAY_MS = 60_000
# What /v2/debug/fail answers: the messages the server's real failures carry.
_FAILURES = {
    500: "internal error: RuntimeError",
    502: "bad gateway: the model backend closed the connection",
    503: "models are loading; the server is not ready",
    504: "the model backend did not answer within {delay_ms} ms",
}

log = logging.getLogger("kserve_primary")


@dataclass
class ServerState:
    config: Config
    counter: RequestCounter = field(default_factory=RequestCounter)
    models: dict[str, Model] | None = None  # None until loaded: the server is live, not ready
    model_loaded_at: float | None = None
    started_at: float = field(default_factory=time.time)


def json_response(value: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonio.dumps(value), status_code=status, media_type=JSON_CONTENT_TYPE, headers=headers)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers)


def create_app(config: Config, sink: LineSink | None = None) -> ASGIApp:
    """The FastAPI app wrapped in the access log, and in request-guard when the config enables
    it; `sink` receives each stdout line, access log (unless PRIMARY_ACCESS_LOG_FILE sends it
    to a file) and audit alike (stdout by default)."""
    state = ServerState(config)
    # PRIMARY_ACCESS_LOG=0: the lines are still formatted, only not written (what is measured is the write).
    sink = sink or (stdout_sink() if config.access_log else _discard)
    # The telemetry, logs and secrets roles: whatever the environment switched on, decided here.
    roles = Roles.build(config, sink)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Load in the background: uvicorn only starts listening once startup returns, and
        # liveness must answer while the model loads, with readiness following later.
        task = asyncio.create_task(_load(state))
        role_tasks = roles.start()
        # gRPC on this same loop, when the manifest gave it a port: the HTTP path is untouched.
        grpc_server = await _start_grpc(state) if config.grpc_port else None
        yield
        task.cancel()
        # uvicorn gets here after the last in-flight request has completed (SIGTERM included).
        if grpc_server is not None:
            from .grpc_service import STOP_GRACE_S

            await grpc_server.stop(STOP_GRACE_S)
        await roles.stop(role_tasks)

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # FastAPI's native OpenTelemetry would switch itself on from OTEL_* variables: the
        # baseline must not grow telemetry work behind the benchmark's back (telemetry is
        # what the sidecar and integration variants add, and are measured for).
        telemetry={"tracing": False, "metrics": False, "logs": False, "auto_configure": False},
    )
    _install_error_handlers(app)
    _install_routes(app, state)
    roles.install_routes(app)
    # This log replaces uvicorn's access log; silence that one even when --no-access-log is forgotten.
    logging.getLogger("uvicorn.access").disabled = True
    # With no role variable set this is AccessLogMiddleware(app) with the stdout sink: the baseline.
    logged = roles.wrap(app, state.counter)
    if not config.request_guard:
        return logged
    # Decided here, once: the baseline keeps the exact app above, with no per-request flag
    # check, and never imports prometheus_client. The guard goes outside the access log, as
    # the sidecar stands in front of the primary: 401s, /metrics scrapes and fault triggers
    # never reach the primary's access log or its request counter, in either arm.
    from .request_guard import RequestGuard

    return RequestGuard(logged, api_key=config.aux_api_key, faults=config.aux_faults, sink=sink)


def _discard(_line: bytes) -> None:
    pass


async def _start_grpc(state: ServerState):  # -> grpc.aio.Server, imported only here
    from .grpc_service import InferenceServicer, start_grpc_server

    servicer = InferenceServicer(
        lambda: state.models, SERVER_NAME, SERVER_VERSION, EXTENSIONS, inline_limit_bytes=INLINE_BODY_LIMIT_BYTES
    )
    return await start_grpc_server(state.config.grpc_host, state.config.grpc_port, servicer)


async def _load(state: ServerState) -> None:
    try:
        if state.config.load_delay_ms:
            await asyncio.sleep(state.config.load_delay_ms / 1000.0)
        models = await asyncio.to_thread(load_models, state.config)
    except Exception:
        # Stay live and never ready: a readiness probe reports it, stderr says why.
        log.exception("model loading failed")
        return
    state.model_loaded_at = time.time()
    state.models = models


def _install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message)

    async def on_http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail), exc.headers)

    async def on_validation_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()
        )
        return error_response(400, f"invalid request: {problems}")

    async def on_unexpected(_: Request, exc: Exception) -> Response:
        # The traceback goes to stderr (uvicorn logs the re-raised exception), never to the client.
        return error_response(500, f"internal error: {type(exc).__name__}")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)


def _install_routes(app: FastAPI, state: ServerState) -> None:
    def ready_models() -> dict[str, Model]:
        if state.models is None:
            raise ApiError(503, "models are loading; the server is not ready")
        return state.models

    def find_model(name: str, version: str | None = None) -> Model:
        model = ready_models().get(name)
        if model is None:
            raise ApiError(404, f"unknown model '{name}'")
        if version is not None and version != model.version:
            raise ApiError(404, f"unknown version '{version}' of model '{name}'")
        return model

    async def run_infer(request: Request, model: Model) -> Response:
        body = await _read_body(request)
        header_length = request.headers.get(HEADER_LENGTH)
        if len(body) <= INLINE_BODY_LIMIT_BYTES:
            result = infer(model, body, header_length)
        else:
            result = await run_in_threadpool(infer, model, body, header_length)
        headers = (
            None if result.header_length is None else {"Inference-Header-Content-Length": str(result.header_length)}
        )
        return Response(result.body, media_type=result.content_type, headers=headers)

    # Infer first: Starlette tries routes in registration order, and this is the hot path.
    @app.post("/v2/models/{model_name}/infer")
    async def post_infer(request: Request) -> Response:
        return await run_infer(request, find_model(request.path_params["model_name"]))

    @app.post("/v2/models/{model_name}/versions/{version}/infer")
    async def post_version_infer(request: Request) -> Response:
        params = request.path_params
        return await run_infer(request, find_model(params["model_name"], params["version"]))

    @app.get("/v2/health/live")
    async def live() -> Response:
        return Response(status_code=200)

    @app.get("/v2/health/ready")
    async def ready() -> Response:
        return Response(status_code=200 if state.models is not None else 503)

    @app.get("/v2")
    async def server_metadata() -> Response:
        return json_response({"name": SERVER_NAME, "version": SERVER_VERSION, "extensions": EXTENSIONS})

    def model_metadata(model: Model) -> Response:
        return json_response(
            {
                "name": model.name,
                "versions": [model.version],
                "platform": model.platform,
                "inputs": [spec.to_json() for spec in model.inputs],
                "outputs": [spec.to_json() for spec in model.outputs],
            }
        )

    def model_ready(name: str, version: str | None) -> Response:
        find_model(name, version)  # 503 while loading, 404 for an unknown model or version
        return Response(status_code=200)

    @app.get("/v2/models/{model_name}")
    async def get_model_metadata(request: Request) -> Response:
        return model_metadata(find_model(request.path_params["model_name"]))

    @app.get("/v2/models/{model_name}/versions/{version}")
    async def get_model_version_metadata(request: Request) -> Response:
        params = request.path_params
        return model_metadata(find_model(params["model_name"], params["version"]))

    @app.get("/v2/models/{model_name}/ready")
    async def get_model_ready(request: Request) -> Response:
        return model_ready(request.path_params["model_name"], None)

    @app.get("/v2/models/{model_name}/versions/{version}/ready")
    async def get_model_version_ready(request: Request) -> Response:
        params = request.path_params
        return model_ready(params["model_name"], params["version"])

    def text_model(name: str) -> Model:
        model = find_model(name)
        if not model.generates_text:
            raise bad_request(f"model '{name}' does not support generate")
        return model

    @app.post("/v2/models/{model_name}/generate")
    async def post_generate(request: Request) -> Response:
        model = text_model(request.path_params["model_name"])
        generate_request = parse_generate_request(await _read_body(request))
        return Response(await generate_whole(model.name, model.version, generate_request), media_type=JSON_CONTENT_TYPE)

    @app.post("/v2/models/{model_name}/generate_stream")
    async def post_generate_stream(request: Request) -> Response:
        model = text_model(request.path_params["model_name"])
        generate_request = parse_generate_request(await _read_body(request))
        return StreamingResponse(
            sse_stream(model.name, model.version, generate_request),
            media_type="text/event-stream",
            # no-cache and X-Accel-Buffering tell intermediaries not to hold events back.
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/v2/debug/pid")
    async def debug_pid() -> Response:
        return json_response(
            {
                "pid": os.getpid(),
                "started_at": state.started_at,
                "model_loaded_at": state.model_loaded_at,
                "requests": state.counter.count,
            }
        )

    @app.post("/v2/debug/echo")
    async def debug_echo(request: Request) -> Response:
        """The request body back, and every end-to-end request header as x-echo-<name>;
        ?chunk_bytes=n sends the body back streamed in chunks of n bytes (chunked framing)."""
        body = await request.body()
        media_type = request.headers.get("content-type", "application/octet-stream")
        if "chunk_bytes" in request.query_params:
            size = _query_int(request, "chunk_bytes", minimum=1, maximum=_MAX_ECHO_CHUNK_BYTES)

            async def chunks() -> AsyncIterator[bytes]:
                for start in range(0, len(body), size):
                    yield body[start : start + size]

            response: Response = StreamingResponse(chunks(), media_type=media_type)
        else:
            response = Response(body, media_type=media_type)
        for name, value in request.headers.items():
            if name not in _NOT_ECHOED:
                response.headers.append(f"x-echo-{name}", value)
        return response

    @app.post("/v2/debug/fail")
    async def debug_fail(request: Request) -> Response:
        """An error answer on purpose, as the server gives it for real: ?status=<400-599>,
        after ?delay_ms=n (a slow 504, say); 503 carries Retry-After, as while loading."""
        status = _query_int(request, "status", minimum=400, maximum=599)
        delay_ms = _query_int(request, "delay_ms", minimum=0, maximum=_MAX_FAIL_DELAY_MS, default=0)
        await request.body()
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000.0)
        headers = {"Cache-Control": "no-store"}
        if status == 503:
            headers["Retry-After"] = "1"
        message = _FAILURES.get(status, f"debug failure {status}").format(delay_ms=delay_ms)
        return error_response(status, message, headers)


def _query_int(request: Request, name: str, *, minimum: int, maximum: int, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None and default is not None:
        return default
    try:
        value = int(raw) if raw is not None else None
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise bad_request(f"query parameter {name}={raw!r}: expected an integer from {minimum} to {maximum}")
    return value


async def _read_body(request: Request) -> bytes:
    """The request body, decompressed when the client compressed it (tritonclient can)."""
    body = await request.body()
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "identity":
        return body
    try:
        if encoding == "gzip":
            return zlib.decompress(body, wbits=16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(body)
    except zlib.error as error:
        raise bad_request(f"request body is not valid {encoding} data: {error}") from None
    raise ApiError(415, f"unsupported Content-Encoding {encoding!r}; use gzip, deflate or none")
