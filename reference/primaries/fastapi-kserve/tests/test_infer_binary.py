"""Triton's binary tensor data extension, byte by byte (tritonclient is tested separately)."""

from __future__ import annotations

import gzip
import json
import struct
import zlib

import numpy as np
import pytest

from conftest import Server, binary_request, infer_body, reference_mlp, sample_input, split_binary_response

BINARY_OUT = [{"name": "OUTPUT0", "parameters": {"binary_data": True}}]


def bytes_tensor(items: list[bytes]) -> bytes:
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


def test_binary_input_and_output(server: Server) -> None:
    x = sample_input(5)
    body, headers = binary_request([("INPUT0", "FP32", [5, 64], x.tobytes())], BINARY_OUT, id="bin-1")
    result = server.request("POST", "/v2/models/mlp/infer", body, headers)
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/octet-stream"
    header, data = split_binary_response(result)
    assert header["id"] == "bin-1"
    [output] = header["outputs"]
    assert output == {
        "name": "OUTPUT0",
        "datatype": "FP32",
        "shape": [5, 10],
        "parameters": {"binary_data_size": 5 * 10 * 4},
    }
    assert len(data) == 200
    got = np.frombuffer(data, dtype="<f4").reshape(5, 10)
    np.testing.assert_allclose(got, reference_mlp(x), rtol=1e-5, atol=1e-7)


def test_binary_and_json_outputs_are_the_same_numbers(server: Server) -> None:
    x = sample_input(3)
    body, headers = binary_request([("INPUT0", "FP32", [3, 64], x.tobytes())], BINARY_OUT)
    _, data = split_binary_response(server.request("POST", "/v2/models/mlp/infer", body, headers))
    json_out = server.request("POST", "/v2/models/mlp/infer", infer_body(x)).json()["outputs"][0]["data"]
    np.testing.assert_array_equal(np.frombuffer(data, dtype="<f4"), np.array(json_out, dtype=np.float32))


def test_binary_input_json_output(server: Server) -> None:
    x = sample_input(2)
    body, headers = binary_request([("INPUT0", "FP32", [2, 64], x.tobytes())])
    result = server.request("POST", "/v2/models/mlp/infer", body, headers)
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/json"
    assert "Inference-Header-Content-Length" not in result.headers
    got = np.array(result.json()["outputs"][0]["data"], dtype=np.float32).reshape(2, 10)
    np.testing.assert_allclose(got, reference_mlp(x), rtol=1e-5, atol=1e-7)


def test_request_level_binary_data_output(server: Server) -> None:
    x = sample_input(1)
    result = server.request("POST", "/v2/models/mlp/infer", infer_body(x, parameters={"binary_data_output": True}))
    header, data = split_binary_response(result)
    assert header["outputs"][0]["parameters"] == {"binary_data_size": 40}
    np.testing.assert_allclose(np.frombuffer(data, "<f4").reshape(1, 10), reference_mlp(x), rtol=1e-5, atol=1e-7)
    # A per-output binary_data overrides the request-level default.
    body = infer_body(
        x,
        parameters={"binary_data_output": True},
        outputs=[{"name": "OUTPUT0", "parameters": {"binary_data": False}}],
    )
    assert "data" in server.request("POST", "/v2/models/mlp/infer", body).json()["outputs"][0]


def test_json_header_alone_with_header_length(server: Server) -> None:
    # A header length equal to the whole body is a valid request with no binary part.
    body = json.dumps(infer_body(sample_input(1))).encode()
    result = server.request("POST", "/v2/models/mlp/infer", body, {"Inference-Header-Content-Length": str(len(body))})
    assert result.status == 200


@pytest.mark.parametrize(
    ("datatype", "array"),
    [
        ("FP64", np.array([[1.0, -2.5], [np.pi, 1e300]], dtype="<f8")),
        ("FP16", np.array([[1.0, -2.5], [0.1, 65504]], dtype="<f2")),
        ("INT32", np.array([[1, -2], [2**31 - 1, -(2**31)]], dtype="<i4")),
        ("INT64", np.array([[1, -2], [2**63 - 1, -(2**63)]], dtype="<i8")),
        ("UINT8", np.array([[0, 255], [7, 8]], dtype="u1")),
        ("BOOL", np.array([[True, False], [True, True]])),
    ],
)
def test_identity_round_trips_binary_bytes_exactly(server: Server, datatype: str, array: np.ndarray) -> None:
    raw = array.tobytes()
    body, headers = binary_request([("INPUT0", datatype, [2, 2], raw)], BINARY_OUT)
    header, data = split_binary_response(
        server.request("POST", f"/v2/models/identity_{datatype.lower()}/infer", body, headers)
    )
    assert header["outputs"][0]["datatype"] == datatype
    assert data == raw


def test_bytes_tensor_round_trip(server: Server) -> None:
    items = [b"alpha", b"", b"\x00\xffbinary\x01", "ünï".encode()]
    raw = bytes_tensor(items)
    body, headers = binary_request([("INPUT0", "BYTES", [2, 2], raw)], BINARY_OUT)
    header, data = split_binary_response(server.request("POST", "/v2/models/identity_bytes/infer", body, headers))
    assert header["outputs"][0]["parameters"]["binary_data_size"] == len(raw)
    assert data == raw


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress)],
)
def test_compressed_request_body(server: Server, encoding: str, compress) -> None:
    # Inference-Header-Content-Length counts bytes of the decompressed body, as in Triton.
    x = sample_input(2)
    body, headers = binary_request([("INPUT0", "FP32", [2, 64], x.tobytes())], BINARY_OUT)
    result = server.request("POST", "/v2/models/mlp/infer", compress(body), {**headers, "Content-Encoding": encoding})
    assert result.status == 200, result.body
    _, data = split_binary_response(result)
    np.testing.assert_allclose(np.frombuffer(data, "<f4").reshape(2, 10), reference_mlp(x), rtol=1e-5, atol=1e-7)


def test_sixteen_mebibyte_binary_body(server: Server) -> None:
    batch = 16 * 1024 * 1024 // (64 * 4)
    x = sample_input(batch, seed=11)
    body, headers = binary_request([("INPUT0", "FP32", [batch, 64], x.tobytes())], BINARY_OUT)
    assert len(body) > 16 * 1024 * 1024
    result = server.request("POST", "/v2/models/mlp/infer", body, headers, timeout_s=120)
    assert result.status == 200
    header, data = split_binary_response(result)
    assert header["outputs"][0]["shape"] == [batch, 10]
    got = np.frombuffer(data, "<f4").reshape(batch, 10)
    np.testing.assert_allclose(got[:: batch // 64], reference_mlp(x[:: batch // 64]), rtol=1e-4, atol=1e-6)
