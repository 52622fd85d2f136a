"""The OTLP/HTTP receiver: POST /v1/metrics, /v1/traces, /v1/logs."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .listener import Listener
from .otlp_codec import INVALID_ARGUMENT, OtlpRequestError, decode_request, media_type_of, status_body, success_body
from .otlp_store import OtlpStore


async def read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise OtlpRequestError(413, f"body of {declared} bytes exceeds {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise OtlpRequestError(413, f"body exceeds {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_otlp_app(store: OtlpStore, listener: Listener, max_body_bytes: int) -> Starlette:
    ingest = {"metrics": store.add_metrics, "traces": store.add_traces, "logs": store.add_logs}

    async def export(signal: str, request: Request) -> Response:
        counts = store.counts[signal]
        counts.requests += 1
        answer_as = media_type_of(request.headers.get("content-type"))
        try:
            body = await read_body(request, max_body_bytes)
            decoded = decode_request(signal, request.headers.get("content-type"),
                                     request.headers.get("content-encoding"), body, max_body_bytes)
        except OtlpRequestError as error:
            counts.rejected += 1
            content, media_type = status_body(INVALID_ARGUMENT, error.message, answer_as)
            return Response(content, status_code=error.status, media_type=media_type)
        if request.scope.get("state", {}).get("listener_generation") != listener.generation:
            # The listener went down while the body arrived: the client was reset, so nothing is kept.
            return Response(status_code=503)
        counts.items += ingest[signal](decoded.message)
        counts.gzip += decoded.gzip
        if decoded.media_type.endswith("json"):
            counts.json += 1
        else:
            counts.protobuf += 1
        content, media_type = success_body(signal, decoded.media_type)
        return Response(content, status_code=200, media_type=media_type)

    def route(signal: str):
        async def handler(request: Request) -> Response:
            return await export(signal, request)

        return handler

    return Starlette(routes=[Route(f"/v1/{signal}", route(signal), methods=["POST"]) for signal in ingest])
