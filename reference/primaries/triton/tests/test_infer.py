"""Inference with tritonclient, HTTP (JSON and binary tensors) and gRPC: the MLP's outputs
are the fastapi-kserve primary's model (its own weight code, in this test's process), and
every identity model returns its input."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from kserve_primary.model import build_mlp_weights, mlp_forward
from tritonclient.utils import InferenceServerException

from conftest import Triton, sample_input

# primary.yaml of fastapi-kserve: PRIMARY_INPUT_DIM 64, PRIMARY_HIDDEN_DIM 256, PRIMARY_LAYERS 2; Config's output 10, seed 42.
WEIGHTS = build_mlp_weights(64, 256, 2, 10, 42)
# float32 matmuls in another numpy (.venv-triton pins numpy 1.26) may round differently in the last bits.
TOLERANCE = {"rtol": 1e-5, "atol": 1e-7}


@pytest.fixture
def http_client(triton: Triton) -> Iterator[httpclient.InferenceServerClient]:
    client = httpclient.InferenceServerClient(url=triton.http_url)
    yield client
    client.close()


@pytest.fixture
def grpc_client(triton: Triton) -> Iterator[grpcclient.InferenceServerClient]:
    client = grpcclient.InferenceServerClient(url=triton.grpc_url)
    yield client
    client.close()


def http_infer(client: httpclient.InferenceServerClient, model: str, x: np.ndarray, datatype: str, binary: bool) -> np.ndarray:
    tensor = httpclient.InferInput("INPUT0", list(x.shape), datatype)
    tensor.set_data_from_numpy(x, binary_data=binary)
    result = client.infer(model, [tensor], outputs=[httpclient.InferRequestedOutput("OUTPUT0", binary_data=binary)])
    return result.as_numpy("OUTPUT0")


def grpc_infer(client: grpcclient.InferenceServerClient, model: str, x: np.ndarray, datatype: str) -> np.ndarray:
    tensor = grpcclient.InferInput("INPUT0", list(x.shape), datatype)
    tensor.set_data_from_numpy(x)
    return client.infer(model, [tensor]).as_numpy("OUTPUT0")


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_mlp_over_http_is_the_fastapi_model(http_client: httpclient.InferenceServerClient, binary: bool) -> None:
    x = sample_input(5)
    y = http_infer(http_client, "mlp", x, "FP32", binary)
    assert y.dtype == np.float32 and y.shape == (5, 10)
    np.testing.assert_allclose(y, mlp_forward(WEIGHTS, x), **TOLERANCE)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_mlp_over_grpc_is_the_fastapi_model(grpc_client: grpcclient.InferenceServerClient) -> None:
    assert grpc_client.is_server_ready() and grpc_client.is_model_ready("mlp")
    x = sample_input(3, seed=11)
    y = grpc_infer(grpc_client, "mlp", x, "FP32")
    np.testing.assert_allclose(y, mlp_forward(WEIGHTS, x), **TOLERANCE)


def test_json_request_without_tritonclient(triton: Triton) -> None:
    x = sample_input(1, seed=3)
    body = {"id": "r-1", "inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 64], "data": x.reshape(-1).tolist()}]}
    result = triton.request("POST", "/v2/models/mlp/infer", body)
    assert result.status == 200
    response = result.json()
    assert response["id"] == "r-1" and response["model_name"] == "mlp" and response["model_version"] == "1"
    [output] = response["outputs"]
    assert output["name"] == "OUTPUT0" and output["datatype"] == "FP32" and output["shape"] == [1, 10]
    np.testing.assert_allclose(np.array(output["data"], dtype=np.float32).reshape(1, 10), mlp_forward(WEIGHTS, x), **TOLERANCE)


def test_wrong_input_width_is_a_client_error(http_client: httpclient.InferenceServerClient, triton: Triton) -> None:
    with pytest.raises(InferenceServerException, match="INPUT0"):
        http_infer(http_client, "mlp", np.zeros((1, 63), dtype=np.float32), "FP32", binary=True)
    body = {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 63], "data": [0.0] * 63}]}
    assert triton.request("POST", "/v2/models/mlp/infer", body).status == 400


IDENTITY_CASES = [
    ("identity_fp32", "FP32", np.array([[1.5, -2.25, np.inf], [0.0, -0.0, 3.4e38]], dtype=np.float32)),
    ("identity_fp64", "FP64", np.array([[1e-300, -2.5, 7.0]], dtype=np.float64)),
    ("identity_int32", "INT32", np.array([[-(2**31), 0, 2**31 - 1]], dtype=np.int32)),
    ("identity_int64", "INT64", np.array([[-(2**63), 1, 2**63 - 1]], dtype=np.int64)),
    ("identity_uint8", "UINT8", np.arange(256, dtype=np.uint8).reshape(2, 128)),
    ("identity_bool", "BOOL", np.array([[True, False], [False, True]])),
    ("identity_bytes", "BYTES", np.array([[b"a", b"\x00\xff", "é".encode(), b"\r\n"]], dtype=np.object_)),
]


@pytest.mark.parametrize(("model", "datatype", "x"), IDENTITY_CASES, ids=[case[0] for case in IDENTITY_CASES])
@pytest.mark.parametrize("protocol", ["json", "binary", "grpc"])
def test_identity_round_trip(
    http_client: httpclient.InferenceServerClient, grpc_client: grpcclient.InferenceServerClient, model: str, datatype: str, x: np.ndarray, protocol: str
) -> None:
    if protocol == "json" and datatype == "BYTES":
        x = np.array([[b"a", b"text", "é".encode()]], dtype=np.object_)  # JSON carries BYTES as UTF-8 strings
    y = grpc_infer(grpc_client, model, x, datatype) if protocol == "grpc" else http_infer(http_client, model, x, datatype, protocol == "binary")
    assert y.shape == x.shape
    if datatype == "BYTES":
        # tritonclient hands back JSON BYTES outputs as str, binary ones as bytes.
        assert [[v.encode() if isinstance(v, str) else v for v in row] for row in y.tolist()] == x.tolist()
    else:
        assert y.dtype == x.dtype
        assert y.tobytes() == x.tobytes()
