"""Health, server and model metadata endpoints."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import Server, infer_body, reference_mlp, sample_input, wait_ready


def test_live_and_ready(server: Server) -> None:
    assert server.request("GET", "/v2/health/live").status == 200
    assert server.request("GET", "/v2/health/ready").status == 200


def test_server_metadata(server: Server) -> None:
    result = server.request("GET", "/v2")
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/json"
    metadata = result.json()
    assert metadata["name"] == "sidecar-bench-fastapi-kserve"
    assert isinstance(metadata["version"], str)
    assert "binary_tensor_data" in metadata["extensions"]


def test_model_metadata_uses_minus_one_for_the_batch(server: Server) -> None:
    result = server.request("GET", "/v2/models/mlp")
    assert result.status == 200
    assert result.json() == {
        "name": "mlp",
        "versions": ["1"],
        "platform": "numpy_mlp",
        "inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [-1, 64]}],
        "outputs": [{"name": "OUTPUT0", "datatype": "FP32", "shape": [-1, 10]}],
    }
    assert server.request("GET", "/v2/models/mlp/versions/1").json() == result.json()


def test_identity_model_metadata(server: Server) -> None:
    metadata = server.request("GET", "/v2/models/identity_int64").json()
    assert metadata["inputs"] == [{"name": "INPUT0", "datatype": "INT64", "shape": [-1, -1]}]
    assert metadata["outputs"] == [{"name": "OUTPUT0", "datatype": "INT64", "shape": [-1, -1]}]


def test_model_ready(server: Server) -> None:
    assert server.request("GET", "/v2/models/mlp/ready").status == 200
    assert server.request("GET", "/v2/models/mlp/versions/1/ready").status == 200
    assert server.request("GET", "/v2/models/identity_fp32/ready").status == 200


def test_unknown_model_and_version_are_404(server: Server) -> None:
    for path in (
        "/v2/models/nope",
        "/v2/models/nope/ready",
        "/v2/models/mlp/versions/2",
        "/v2/models/mlp/versions/2/ready",
    ):
        result = server.request("GET", path)
        assert result.status == 404, path
        assert "error" in result.json()


def test_model_size_comes_from_the_environment(start_server) -> None:
    env = {
        "PRIMARY_MODEL_NAME": "tiny",
        "PRIMARY_INPUT_DIM": "8",
        "PRIMARY_HIDDEN_DIM": "16",
        "PRIMARY_LAYERS": "3",
        "PRIMARY_OUTPUT_DIM": "3",
        "PRIMARY_SEED": "5",
    }
    server = start_server(env=env)
    wait_ready(server)
    metadata = server.request("GET", "/v2/models/tiny").json()
    assert metadata["inputs"][0]["shape"] == [-1, 8]
    assert metadata["outputs"][0]["shape"] == [-1, 3]
    assert server.request("GET", "/v2/models/mlp").status == 404
    x = sample_input(4, width=8)
    output = server.request("POST", "/v2/models/tiny/infer", infer_body(x)).json()["outputs"][0]
    expected = reference_mlp(x, input_dim=8, hidden_dim=16, layers=3, output_dim=3, seed=5)
    np.testing.assert_allclose(np.array(output["data"], dtype=np.float32).reshape(4, 3), expected, rtol=1e-5, atol=1e-7)


def test_invalid_configuration_stops_startup_with_a_clear_message(start_server) -> None:
    with pytest.raises(RuntimeError, match="PRIMARY_INPUT_DIM='wide'"):
        start_server(env={"PRIMARY_INPUT_DIM": "wide"})
