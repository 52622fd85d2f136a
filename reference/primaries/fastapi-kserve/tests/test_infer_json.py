"""JSON tensors on /infer, checked against an independent numpy computation."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import Server, infer_body, reference_mlp, sample_input


@pytest.mark.parametrize("batch", [1, 3, 32])
def test_mlp_output_matches_numpy(server: Server, batch: int) -> None:
    x = sample_input(batch)
    result = server.request("POST", "/v2/models/mlp/infer", infer_body(x))
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/json"
    assert "Inference-Header-Content-Length" not in result.headers
    response = result.json()
    assert response["model_name"] == "mlp"
    assert response["model_version"] == "1"
    [output] = response["outputs"]
    assert output["name"] == "OUTPUT0"
    assert output["datatype"] == "FP32"
    assert output["shape"] == [batch, 10]
    got = np.array(output["data"], dtype=np.float32).reshape(batch, 10)
    np.testing.assert_allclose(got, reference_mlp(x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)


def test_large_batch_goes_through_the_thread_pool_path(server: Server) -> None:
    # > 64 KiB of JSON body: decoded and computed off the event loop.
    x = sample_input(1024)
    result = server.request("POST", "/v2/models/mlp/infer", infer_body(x))
    assert result.status == 200
    got = np.array(result.json()["outputs"][0]["data"], dtype=np.float32).reshape(1024, 10)
    np.testing.assert_allclose(got, reference_mlp(x), rtol=1e-5, atol=1e-7)


def test_request_id_is_echoed(server: Server) -> None:
    response = server.request("POST", "/v2/models/mlp/infer", infer_body(sample_input(1), id="req-42")).json()
    assert response["id"] == "req-42"
    assert "id" not in server.request("POST", "/v2/models/mlp/infer", infer_body(sample_input(1))).json()


def test_nested_data_is_accepted(server: Server) -> None:
    x = sample_input(2)
    body = {"inputs": [{"name": "INPUT0", "shape": [2, 64], "datatype": "FP32", "data": x.tolist()}]}
    flat = server.request("POST", "/v2/models/mlp/infer", infer_body(x)).json()
    assert server.request("POST", "/v2/models/mlp/infer", body).json() == flat


def test_results_are_deterministic(server: Server) -> None:
    body = infer_body(sample_input(4))
    first = server.request("POST", "/v2/models/mlp/infer", body).body
    assert all(server.request("POST", "/v2/models/mlp/infer", body).body == first for _ in range(3))


def test_versioned_infer_path(server: Server) -> None:
    body = infer_body(sample_input(1))
    assert (
        server.request("POST", "/v2/models/mlp/versions/1/infer", body).body
        == server.request("POST", "/v2/models/mlp/infer", body).body
    )


def test_requested_output_as_json(server: Server) -> None:
    body = infer_body(sample_input(1), outputs=[{"name": "OUTPUT0", "parameters": {"binary_data": False}}])
    result = server.request("POST", "/v2/models/mlp/infer", body)
    assert result.status == 200
    assert len(result.json()["outputs"][0]["data"]) == 10


@pytest.mark.parametrize(
    ("datatype", "data"),
    [
        ("FP32", [[1.5, -2.25], [0.0, 3e38]]),
        ("FP64", [[1e-300, 2.5], [-7.0, 1e300]]),
        ("FP16", [[0.5, -1.0], [2.0, 65504.0]]),
        ("INT8", [[-128, 127], [0, 1]]),
        ("INT16", [[-32768, 32767], [0, 1]]),
        ("INT32", [[-2147483648, 2147483647], [0, 1]]),
        ("INT64", [[-9223372036854775808, 9223372036854775807], [0, 1]]),
        ("UINT8", [[0, 255], [1, 2]]),
        ("UINT16", [[0, 65535], [1, 2]]),
        ("UINT32", [[0, 4294967295], [1, 2]]),
        ("UINT64", [[0, 18446744073709551615], [1, 2]]),
        ("BOOL", [[True, False], [False, True]]),
        ("BYTES", [["a", "héllo"], ["", "x y"]]),
    ],
)
def test_identity_round_trips_every_datatype_as_json(server: Server, datatype: str, data: list) -> None:
    body = {"inputs": [{"name": "INPUT0", "shape": [2, 2], "datatype": datatype, "data": data}]}
    result = server.request("POST", f"/v2/models/identity_{datatype.lower()}/infer", body)
    assert result.status == 200, result.body
    [output] = result.json()["outputs"]
    assert output == {
        "name": "OUTPUT0",
        "datatype": datatype,
        "shape": [2, 2],
        "data": [v for row in data for v in row],
    }
