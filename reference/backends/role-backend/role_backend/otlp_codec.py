"""OTLP/HTTP request decoding and response encoding, as the OTLP specification's
"OTLP/HTTP" section says: binary protobuf (application/x-protobuf) or the JSON protobuf
encoding (application/json, with trace and span ids as hex, not base64), optionally
gzip-compressed; success is 200 with an empty Export*ServiceResponse in the request's
encoding; failures carry a google.rpc.Status in that encoding."""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

SIGNALS: dict[str, tuple[type[Message], type[Message]]] = {
    "metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
    "traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "logs": (ExportLogsServiceRequest, ExportLogsServiceResponse),
}

# Fields that the OTLP JSON encoding writes as hex although protobuf's JSON mapping says base64.
_HEX_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})

# google.rpc.Code values used in error bodies.
INVALID_ARGUMENT = 3


class OtlpRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class DecodedRequest:
    message: Message
    media_type: str
    gzip: bool


def media_type_of(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def gunzip(body: bytes, max_bytes: int) -> bytes:
    """Decompresses a gzip body, refusing to inflate past `max_bytes` (a gzip bomb is a 413, not an OOM)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, max_bytes + 1)
    except zlib.error as error:
        raise OtlpRequestError(400, f"Content-Encoding gzip: body is not valid gzip ({error})") from error
    if len(data) > max_bytes:
        raise OtlpRequestError(413, f"decompressed body exceeds {max_bytes} bytes")
    if not inflater.eof:
        raise OtlpRequestError(400, "Content-Encoding gzip: body is truncated gzip")
    return data


def _hex_ids_to_base64(node: Any, path: str = "$") -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _HEX_ID_FIELDS and isinstance(value, str):
                try:
                    raw = bytes.fromhex(value)
                except ValueError as error:
                    raise OtlpRequestError(400, f"{path}.{key}: {value!r} is not a hex id ({error})") from error
                out[key] = base64.b64encode(raw).decode("ascii")
            else:
                out[key] = _hex_ids_to_base64(value, f"{path}.{key}")
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(item, f"{path}[{index}]") for index, item in enumerate(node)]
    return node


def decode_request(
    signal: str, content_type: str | None, content_encoding: str | None, body: bytes, max_bytes: int
) -> DecodedRequest:
    request_class, _ = SIGNALS[signal]
    media_type = media_type_of(content_type)
    if media_type not in (PROTOBUF, JSON):
        raise OtlpRequestError(415, f"Content-Type {content_type!r}: expected {PROTOBUF} or {JSON}")
    encoding = (content_encoding or "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise OtlpRequestError(415, f"Content-Encoding {content_encoding!r}: expected gzip or none")
    is_gzip = encoding == "gzip"
    if is_gzip:
        body = gunzip(body, max_bytes)
    message = request_class()
    if media_type == PROTOBUF:
        try:
            message.ParseFromString(body)
        except DecodeError as error:
            raise OtlpRequestError(400, f"body is not a valid {request_class.__name__} ({error})") from error
    else:
        try:
            parsed = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise OtlpRequestError(400, f"body is not JSON ({error})") from error
        try:
            # Unknown fields are ignored, as the specification asks of receivers.
            json_format.ParseDict(_hex_ids_to_base64(parsed), message, ignore_unknown_fields=True)
        except (json_format.ParseError, binascii.Error, ValueError, TypeError) as error:
            raise OtlpRequestError(400, f"body is not a valid {request_class.__name__} in JSON ({error})") from error
    return DecodedRequest(message, media_type, is_gzip)


def success_body(signal: str, media_type: str) -> tuple[bytes, str]:
    _, response_class = SIGNALS[signal]
    if media_type == JSON:
        return json_format.MessageToJson(response_class(), indent=None).encode("utf-8"), JSON
    return response_class().SerializeToString(), PROTOBUF


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def status_body(code: int, message: str, media_type: str) -> tuple[bytes, str]:
    """A google.rpc.Status {code, message}: hand-encoded (fields 1 varint, 2 string) so
    that the fixture needs no googleapis-common-protos for two fields."""
    if media_type == JSON:
        return json.dumps({"code": code, "message": message}).encode("utf-8"), JSON
    text = message.encode("utf-8")
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text, PROTOBUF
