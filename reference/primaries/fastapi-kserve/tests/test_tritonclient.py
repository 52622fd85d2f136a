"""The real Triton HTTP client against the server: the protocol as clients in the wild speak it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from conftest import Server, reference_mlp, sample_input


@pytest.fixture
def client(server: Server) -> Iterator[httpclient.InferenceServerClient]:
    client = httpclient.InferenceServerClient(url=server.url)
    yield client
    client.close()


def mlp_input(x: np.ndarray, binary: bool) -> httpclient.InferInput:
    tensor = httpclient.InferInput("INPUT0", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x, binary_data=binary)
    return tensor


def test_health_and_metadata(client: httpclient.InferenceServerClient) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready("mlp")
    assert not client.is_model_ready("nope")
    server_metadata = client.get_server_metadata()
    assert "binary_tensor_data" in server_metadata["extensions"]
    model_metadata = client.get_model_metadata("mlp")
    assert model_metadata["name"] == "mlp"
    assert model_metadata["inputs"] == [{"name": "INPUT0", "datatype": "FP32", "shape": [-1, 64]}]
    assert model_metadata["outputs"] == [{"name": "OUTPUT0", "datatype": "FP32", "shape": [-1, 10]}]
    assert client.get_model_metadata("mlp", model_version="1") == model_metadata


def test_infer_json_inputs_and_outputs(client: httpclient.InferenceServerClient) -> None:
    x = sample_input(4)
    outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=False)]
    result = client.infer("mlp", [mlp_input(x, binary=False)], outputs=outputs, request_id="tc-json")
    assert result.get_response()["id"] == "tc-json"
    assert "data" in result.get_output("OUTPUT0")
    np.testing.assert_allclose(result.as_numpy("OUTPUT0"), reference_mlp(x), rtol=1e-5, atol=1e-7)


def test_infer_binary_inputs_and_outputs(client: httpclient.InferenceServerClient) -> None:
    x = sample_input(8)
    outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=True)]
    result = client.infer("mlp", [mlp_input(x, binary=True)], outputs=outputs)
    assert result.get_output("OUTPUT0")["parameters"]["binary_data_size"] == 8 * 10 * 4
    output = result.as_numpy("OUTPUT0")
    assert output.dtype == np.float32
    assert output.shape == (8, 10)
    np.testing.assert_allclose(output, reference_mlp(x), rtol=1e-5, atol=1e-7)


def test_infer_without_requested_outputs_returns_binary(client: httpclient.InferenceServerClient) -> None:
    # No outputs given: the client sets binary_data_output, as Triton expects.
    x = sample_input(2)
    result = client.infer("mlp", [mlp_input(x, binary=True)], model_version="1")
    assert "parameters" in result.get_output("OUTPUT0")
    np.testing.assert_allclose(result.as_numpy("OUTPUT0"), reference_mlp(x), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("compression", ["gzip", "deflate"])
def test_infer_with_request_compression(client: httpclient.InferenceServerClient, compression: str) -> None:
    x = sample_input(3)
    result = client.infer(
        "mlp",
        [mlp_input(x, binary=True)],
        request_compression_algorithm=compression,
        response_compression_algorithm=compression,  # may be ignored by the server; the client copes
    )
    np.testing.assert_allclose(result.as_numpy("OUTPUT0"), reference_mlp(x), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "array",
    [
        np.array([[1.0, -2.0, 3.5]], dtype=np.float32),
        np.array([[1.0, -2.0], [np.pi, 1e300]], dtype=np.float64),
        np.array([[0.5, -1.0]], dtype=np.float16),
        np.array([[1, -2], [2**31 - 1, -(2**31)]], dtype=np.int32),
        np.array([[2**63 - 1, -(2**63)]], dtype=np.int64),
        np.array([[0, 255]], dtype=np.uint8),
        np.array([[True, False]], dtype=np.bool_),
        np.array([[b"alpha", b"\x00\xff"], [b"", b"omega"]], dtype=np.object_),
    ],
    ids=lambda a: str(a.dtype),
)
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_identity_models_round_trip(client: httpclient.InferenceServerClient, array: np.ndarray, binary: bool) -> None:
    from tritonclient.utils import np_to_triton_dtype

    datatype = np_to_triton_dtype(array.dtype)
    if datatype == "BYTES" and not binary:
        array = np.array([[b"alpha", b"beta"], [b"", b"omega"]], dtype=np.object_)  # JSON needs UTF-8
    tensor = httpclient.InferInput("INPUT0", list(array.shape), datatype)
    tensor.set_data_from_numpy(array, binary_data=binary)
    outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=binary)]
    result = client.infer(f"identity_{datatype.lower()}", [tensor], outputs=outputs)
    got = result.as_numpy("OUTPUT0")
    if datatype == "BYTES":
        # JSON outputs come back as str, binary ones as bytes.
        assert [v if isinstance(v, bytes) else v.encode() for v in got.reshape(-1)] == list(array.reshape(-1))
    else:
        assert got.dtype == array.dtype
        np.testing.assert_array_equal(got, array)


def test_errors_raise_with_status_and_message(client: httpclient.InferenceServerClient) -> None:
    x = sample_input(1, width=32)
    with pytest.raises(InferenceServerException) as error:
        client.infer("mlp", [mlp_input(x, binary=True)])
    assert error.value.status() == "400"
    assert "expects [-1, 64]" in error.value.message()

    with pytest.raises(InferenceServerException) as error:
        client.get_model_metadata("nope")
    assert error.value.status() == "404"
    assert "unknown model 'nope'" in error.value.message()
