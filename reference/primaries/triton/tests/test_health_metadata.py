"""Health, server and model metadata, the repository index, statistics and metrics."""

from __future__ import annotations

import re

from conftest import Triton

IDENTITY_MODELS = {
    "identity_fp32": "FP32",
    "identity_fp64": "FP64",
    "identity_int32": "INT32",
    "identity_int64": "INT64",
    "identity_uint8": "UINT8",
    "identity_bool": "BOOL",
    "identity_bytes": "BYTES",
}


def test_live_and_ready(triton: Triton) -> None:
    assert triton.request("GET", "/v2/health/live").status == 200
    assert triton.request("GET", "/v2/health/ready").status == 200
    for model in ["mlp", "token_stream", *IDENTITY_MODELS]:
        assert triton.request("GET", f"/v2/models/{model}/ready").status == 200, model
    assert triton.request("GET", "/v2/models/nope/ready").status == 400


def test_server_metadata_names_triton_and_its_version(triton: Triton) -> None:
    metadata = triton.request("GET", "/v2").json()
    assert metadata["name"] == "triton"
    assert metadata["version"] == "2.51.0"  # primary.yaml's metadata.version
    assert {"binary_tensor_data", "statistics"} <= set(metadata["extensions"])


def test_mlp_metadata_is_the_fastapi_primarys(triton: Triton) -> None:
    metadata = triton.request("GET", "/v2/models/mlp").json()
    assert metadata["name"] == "mlp"
    assert metadata["versions"] == ["1"]
    assert metadata["inputs"] == [{"name": "INPUT0", "datatype": "FP32", "shape": [-1, 64]}]
    assert metadata["outputs"] == [{"name": "OUTPUT0", "datatype": "FP32", "shape": [-1, 10]}]


def test_identity_models_declare_their_datatype(triton: Triton) -> None:
    for model, datatype in IDENTITY_MODELS.items():
        metadata = triton.request("GET", f"/v2/models/{model}").json()
        assert metadata["inputs"] == [{"name": "INPUT0", "datatype": datatype, "shape": [-1, -1]}], model
        assert metadata["outputs"] == [{"name": "OUTPUT0", "datatype": datatype, "shape": [-1, -1]}], model


def test_repository_index_lists_every_model_ready(triton: Triton) -> None:
    index = triton.request("POST", "/v2/repository/index", {}).json()
    assert {entry["name"]: entry["state"] for entry in index} == {name: "READY" for name in ["mlp", "token_stream", *IDENTITY_MODELS]}


def test_statistics_count_inferences(triton: Triton) -> None:
    # perf_analyzer reads this API: it is why the manifest starts tritonserver, not PyTriton.
    def count() -> int:
        stats = triton.request("GET", "/v2/models/identity_int32/stats").json()["model_stats"]
        return stats[0]["inference_count"]

    before = count()
    body = {"inputs": [{"name": "INPUT0", "datatype": "INT32", "shape": [1, 2], "data": [1, 2]}]}
    for _ in range(3):
        assert triton.request("POST", "/v2/models/identity_int32/infer", body).status == 200
    assert count() == before + 3


def test_metrics_port_serves_prometheus_inference_counts(triton: Triton) -> None:
    body = {"inputs": [{"name": "INPUT0", "datatype": "FP64", "shape": [1, 1], "data": [0.5]}]}
    assert triton.request("POST", "/v2/models/identity_fp64/infer", body).status == 200
    result = triton.request("GET", "/metrics", port=triton.metrics_port)
    assert result.status == 200
    match = re.search(r'^nv_inference_count\{model="identity_fp64",version="1"\} (\d+)$', result.body.decode(), re.MULTILINE)
    assert match is not None and int(match.group(1)) >= 1
