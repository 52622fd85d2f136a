"""OTLP AnyValue / KeyValue lists as plain JSON-able Python values."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        # JSON has no bytes: base64, as the OTLP JSON encoding writes them.
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, kind)


def attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {pair.key: any_value(pair.value) for pair in pairs}


def body_text(value: AnyValue) -> str:
    """A log body as text: a string body exactly as sent; any other body as compact JSON."""
    if value.WhichOneof("value") == "string_value":
        return value.string_value
    return orjson.dumps(any_value(value)).decode("utf-8")
