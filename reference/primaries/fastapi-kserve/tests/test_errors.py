"""Every error path answers `{"error": "..."}` with the right status, and never a traceback."""

from __future__ import annotations

import asyncio
import json
import struct

import pytest
from fastapi import Request

from conftest import Server, binary_request, infer_body, sample_input
from kserve_primary.app import create_app
from kserve_primary.config import Config

INFER = "/v2/models/mlp/infer"


def fp32(shape: list[int], data: object) -> dict:
    return {"inputs": [{"name": "INPUT0", "shape": shape, "datatype": "FP32", "data": data}]}


def ones(n: int) -> list[float]:
    return [1.0] * n


GOOD_RAW = sample_input(1).tobytes()
_good_body, _good_headers = binary_request([("INPUT0", "FP32", [1, 64], GOOD_RAW)])

CASES: list[tuple[str, str, str, object, dict[str, str] | None, int, str]] = [
    # (id, method, path, body, headers, status, words the message must contain)
    ("unknown-model", "POST", "/v2/models/nope/infer", infer_body(sample_input(1)), None, 404, "unknown model 'nope'"),
    ("unknown-version", "POST", "/v2/models/mlp/versions/9/infer", infer_body(sample_input(1)), None, 404, "unknown version"),
    ("unknown-route", "GET", "/v2/nothing/here", None, None, 404, "Not Found"),
    ("wrong-method", "GET", INFER, None, None, 405, "Method Not Allowed"),
    ("malformed-json", "POST", INFER, '{"inputs": [', None, 400, "not valid JSON"),
    ("json-not-object", "POST", INFER, "[1, 2]", None, 400, "JSON object"),
    ("empty-body", "POST", INFER, "", None, 400, "not valid JSON"),
    ("missing-inputs", "POST", INFER, {"id": "x"}, None, 400, "'inputs'"),
    ("empty-inputs", "POST", INFER, {"inputs": []}, None, 400, "'inputs'"),
    ("input-not-object", "POST", INFER, {"inputs": [5]}, None, 400, "inputs[0]"),
    ("unknown-input", "POST", INFER, {"inputs": [{"name": "X", "shape": [1, 64], "datatype": "FP32", "data": ones(64)}]}, None, 400, "unexpected input 'X'"),
    ("duplicate-input", "POST", INFER, {"inputs": fp32([1, 64], ones(64))["inputs"] * 2}, None, 400, "twice"),
    ("wrong-datatype", "POST", INFER, {"inputs": [{"name": "INPUT0", "shape": [1, 64], "datatype": "FP64", "data": ones(64)}]}, None, 400, "expects FP32"),
    ("wrong-width", "POST", INFER, fp32([1, 63], ones(63)), None, 400, "expects [-1, 64]"),
    ("wrong-rank", "POST", INFER, fp32([64], ones(64)), None, 400, "expects [-1, 64]"),
    ("bad-shape", "POST", INFER, fp32([1, "64"], ones(64)), None, 400, "'shape'"),
    ("negative-shape", "POST", INFER, fp32([-1, 64], ones(64)), None, 400, "'shape'"),
    ("count-mismatch", "POST", INFER, fp32([2, 64], ones(64)), None, 400, "has 64 elements"),
    ("string-data", "POST", INFER, fp32([1, 2 * 32], ["1.0"] * 64), None, 400, "not FP32"),
    ("null-data", "POST", INFER, fp32([1, 64], [None] * 64), None, 400, "not FP32"),
    ("ragged-data", "POST", INFER, fp32([2, 64], [ones(64), ones(63)]), None, 400, "ragged"),
    ("data-not-array", "POST", INFER, fp32([1, 64], 5), None, 400, "'data' must be a JSON array"),
    ("no-data", "POST", INFER, {"inputs": [{"name": "INPUT0", "shape": [1, 64], "datatype": "FP32"}]}, None, 400, "neither"),
    ("id-not-string", "POST", INFER, infer_body(sample_input(1), id=7), None, 400, "'id'"),
    ("parameters-not-object", "POST", INFER, infer_body(sample_input(1), parameters=[1]), None, 400, "'parameters'"),
    ("binary-output-flag-not-bool", "POST", INFER, infer_body(sample_input(1), parameters={"binary_data_output": "yes"}), None, 400, "binary_data_output"),
    ("unknown-output", "POST", INFER, infer_body(sample_input(1), outputs=[{"name": "OUT9"}]), None, 400, "unknown output 'OUT9'"),
    ("duplicate-output", "POST", INFER, infer_body(sample_input(1), outputs=[{"name": "OUTPUT0"}] * 2), None, 400, "twice"),
    ("outputs-not-array", "POST", INFER, infer_body(sample_input(1), outputs={"name": "OUTPUT0"}), None, 400, "'outputs'"),
    ("classification", "POST", INFER, infer_body(sample_input(1), outputs=[{"name": "OUTPUT0", "parameters": {"classification": 3}}]), None, 400, "classification"),
    ("binary-flag-not-bool", "POST", INFER, infer_body(sample_input(1), outputs=[{"name": "OUTPUT0", "parameters": {"binary_data": 1}}]), None, 400, "binary_data must be a boolean"),
    ("shared-memory", "POST", INFER, {"inputs": [{"name": "INPUT0", "shape": [1, 64], "datatype": "FP32", "parameters": {"shared_memory_region": "r"}}]}, None, 400, "shared memory"),
    ("header-length-not-int", "POST", INFER, _good_body, {**_good_headers, "Inference-Header-Content-Length": "ten"}, 400, "must be an integer"),
    ("header-length-negative", "POST", INFER, _good_body, {**_good_headers, "Inference-Header-Content-Length": "-1"}, 400, "Inference-Header-Content-Length is -1"),
    ("header-length-past-body", "POST", INFER, _good_body, {**_good_headers, "Inference-Header-Content-Length": str(len(_good_body) + 1)}, 400, "Inference-Header-Content-Length is"),
    ("header-length-cuts-json", "POST", INFER, _good_body, {**_good_headers, "Inference-Header-Content-Length": "10"}, 400, "not valid JSON"),
    ("binary-size-vs-shape", "POST", INFER, *binary_request([("INPUT0", "FP32", [2, 64], GOOD_RAW)]), 400, "needs 512"),
    ("binary-size-past-body", "POST", INFER, _good_body[:-4], _good_headers, 400, "runs past"),
    ("binary-trailing-bytes", "POST", INFER, _good_body + b"junk", _good_headers, 400, "4 bytes after"),
    ("binary-without-header-length", "POST", INFER, _good_body, {"Content-Type": "application/octet-stream"}, 400, "not valid JSON"),
    ("binary-size-without-binary-part", "POST", INFER, json.dumps({"inputs": [{"name": "INPUT0", "shape": [1, 64], "datatype": "FP32", "parameters": {"binary_data_size": 256}}]}), None, 400, "runs past"),
    ("binary-size-negative", "POST", INFER, json.dumps({"inputs": [{"name": "INPUT0", "shape": [1, 64], "datatype": "FP32", "parameters": {"binary_data_size": -4}}]}), None, 400, "non-negative"),
    ("data-and-binary", "POST", INFER, json.dumps({"inputs": [{"name": "INPUT0", "shape": [1, 64], "datatype": "FP32", "data": ones(64), "parameters": {"binary_data_size": 0}}]}), None, 400, "both"),
    ("unsupported-encoding", "POST", INFER, "x", {"Content-Encoding": "br"}, 415, "Content-Encoding"),
    ("corrupt-gzip", "POST", INFER, b"not gzip", {"Content-Encoding": "gzip"}, 400, "not valid gzip"),
    ("int32-overflow", "POST", "/v2/models/identity_int32/infer", {"inputs": [{"name": "INPUT0", "shape": [1, 1], "datatype": "INT32", "data": [2**31]}]}, None, 400, "outside the range"),
    ("uint8-negative", "POST", "/v2/models/identity_uint8/infer", {"inputs": [{"name": "INPUT0", "shape": [1, 1], "datatype": "UINT8", "data": [-1]}]}, None, 400, "outside the range"),
    ("int64-beyond-64-bits", "POST", "/v2/models/identity_int64/infer", {"inputs": [{"name": "INPUT0", "shape": [1, 1], "datatype": "INT64", "data": [2**70]}]}, None, 400, "not INT64"),
    ("float-into-int64", "POST", "/v2/models/identity_int64/infer", {"inputs": [{"name": "INPUT0", "shape": [1, 1], "datatype": "INT64", "data": [1.5]}]}, None, 400, "not INT64"),
    ("number-into-bool", "POST", "/v2/models/identity_bool/infer", {"inputs": [{"name": "INPUT0", "shape": [1, 1], "datatype": "BOOL", "data": [1]}]}, None, 400, "not BOOL"),
    ("number-into-bytes", "POST", "/v2/models/identity_bytes/infer", {"inputs": [{"name": "INPUT0", "shape": [1, 1], "datatype": "BYTES", "data": [1]}]}, None, 400, "must hold strings"),
    ("bytes-truncated", "POST", "/v2/models/identity_bytes/infer", *binary_request([("INPUT0", "BYTES", [1, 2], struct.pack("<I", 3) + b"abc" + struct.pack("<I", 9) + b"de")]), 400, "past the end"),
    ("bytes-too-few", "POST", "/v2/models/identity_bytes/infer", *binary_request([("INPUT0", "BYTES", [1, 2], struct.pack("<I", 1) + b"a")]), 400, "ends after 1 of 2"),
    ("bytes-extra", "POST", "/v2/models/identity_bytes/infer", *binary_request([("INPUT0", "BYTES", [1, 1], struct.pack("<I", 1) + b"ab")]), 400, "1 bytes after"),
    ("bytes-not-utf8-as-json", "POST", "/v2/models/identity_bytes/infer", *binary_request([("INPUT0", "BYTES", [1, 1], struct.pack("<I", 1) + b"\xff")]), 400, "not UTF-8"),
    ("generate-unknown-model", "POST", "/v2/models/nope/generate_stream", {"text_input": "hi"}, None, 404, "unknown model"),
    ("generate-on-identity", "POST", "/v2/models/identity_fp32/generate", {"text_input": "hi"}, None, 400, "does not support generate"),
    ("generate-no-text", "POST", "/v2/models/mlp/generate", {"parameters": {}}, None, 400, "'text_input'"),
    ("generate-bad-max-tokens", "POST", "/v2/models/mlp/generate_stream", {"text_input": "hi", "parameters": {"max_tokens": 0}}, None, 400, "max_tokens"),
    ("generate-bad-interval", "POST", "/v2/models/mlp/generate_stream", {"text_input": "hi", "parameters": {"token_interval_ms": "5"}}, None, 400, "token_interval_ms"),
    ("generate-malformed", "POST", "/v2/models/mlp/generate", "{", None, 400, "not valid JSON"),
    ("echo-wrong-method", "GET", "/v2/debug/echo", None, None, 405, "Method Not Allowed"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_error_is_json_with_status(
    server: Server, method: str, path: str, body: object, headers: dict[str, str] | None, status: int, message: str
) -> None:
    result = server.request(method, path, body, headers)
    assert result.status == status, result.body
    assert result.headers["Content-Type"] == "application/json"
    payload = result.json()
    assert list(payload) == ["error"]
    assert message in payload["error"]
    assert "Traceback" not in payload["error"]


def test_server_keeps_serving_after_errors(server: Server) -> None:
    server.request("POST", INFER, "{")
    assert server.request("POST", INFER, infer_body(sample_input(1))).status == 200


async def _call(app, path: str) -> tuple[int, bytes]:
    """Drives the ASGI app in-process, for handlers no HTTP request of the real routes reaches."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2),
    }  # fmt: skip
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except RuntimeError:
        pass  # Starlette re-raises unhandled errors after answering, for the server to log.
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_validation_and_unexpected_errors_use_the_error_shape() -> None:
    lines: list[bytes] = []
    app = create_app(Config(), sink=lines.append)
    fastapi_app = app.app

    @fastapi_app.get("/typed/{number}")
    async def typed(number: int) -> dict:
        return {"number": number}

    @fastapi_app.get("/boom")
    async def boom(_: Request) -> dict:
        raise RuntimeError("secret internal detail")

    status, body = asyncio.run(_call(app, "/typed/abc"))
    assert status == 400
    assert list(json.loads(body)) == ["error"]
    assert "number" in json.loads(body)["error"]

    status, body = asyncio.run(_call(app, "/boom"))
    assert status == 500
    assert json.loads(body) == {"error": "internal error: RuntimeError"}
    assert json.loads(lines[-1])["status"] == 500
