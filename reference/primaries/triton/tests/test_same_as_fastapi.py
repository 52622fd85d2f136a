"""The two reference primaries side by side: the same MLP outputs for the same inputs, and
the same token stream, each reached with the same client code."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import tritonclient.http as httpclient

from conftest import PRIMARY_DIR, Triton, sample_input, stream_events

FASTAPI_TESTS = PRIMARY_DIR.parent / "fastapi-kserve" / "tests"
# fastapi-kserve/primary.yaml's model settings.
FASTAPI_ENV = {"PRIMARY_MODEL_NAME": "mlp", "PRIMARY_INPUT_DIM": "64", "PRIMARY_HIDDEN_DIM": "256", "PRIMARY_LAYERS": "2"}


def _fastapi_fixtures() -> ModuleType:
    """That suite's conftest (how it starts its server), under a name that does not clash with ours."""
    spec = importlib.util.spec_from_file_location("fastapi_kserve_conftest", FASTAPI_TESTS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fastapi() -> Iterator[object]:
    fixtures = _fastapi_fixtures()
    server = fixtures.launch(env=FASTAPI_ENV)
    try:
        fixtures.wait_ready(server)
        yield server
    finally:
        server.stop()


def infer(url: str, x: np.ndarray) -> np.ndarray:
    client = httpclient.InferenceServerClient(url=url)
    try:
        tensor = httpclient.InferInput("INPUT0", list(x.shape), "FP32")
        tensor.set_data_from_numpy(x, binary_data=True)
        return client.infer("mlp", [tensor]).as_numpy("OUTPUT0")
    finally:
        client.close()


@pytest.mark.parametrize("batch", [1, 16])
def test_both_primaries_return_the_same_mlp_outputs(triton: Triton, fastapi, batch: int) -> None:
    x = sample_input(batch, seed=100 + batch)
    from_triton, from_fastapi = infer(triton.http_url, x), infer(fastapi.url, x)
    assert from_triton.shape == from_fastapi.shape == (batch, 10)
    # float32 arithmetic in two numpy versions (2.4 in .venv, 1.26 in .venv-triton).
    assert np.allclose(from_triton, from_fastapi, rtol=1e-5, atol=1e-7)
    # Not trivially equal: the outputs depend on the input.
    assert not np.allclose(from_triton[0], infer(triton.http_url, x[:1] * 2)[0])


def test_both_primaries_stream_the_same_tokens(triton: Triton, fastapi) -> None:
    body = {"id": "both", "text_input": "same client", "parameters": {"max_tokens": 5, "token_interval_ms": 1}}
    fields = ("id", "index", "final", "text_output")
    _, from_triton = stream_events(triton.http_port, body, model="token_stream")
    _, from_fastapi = stream_events(fastapi.port, body, model="mlp")
    assert [{k: e[k] for k in fields} for _, e in from_triton] == [{k: e[k] for k in fields} for _, e in from_fastapi]
    assert len(from_triton) == 5

