"""The fastapi-kserve primary's MLP served by Triton's Python backend.

The weights and the forward pass are that primary's own code (kserve_primary/model.py,
which imports only numpy and its package's stdlib-only modules), so both primaries return
the same outputs for the same inputs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import triton_python_backend_utils as pb_utils

# models/mlp/1/model.py -> reference/primaries/fastapi-kserve
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "fastapi-kserve"))

from kserve_primary.model import build_mlp_weights, mlp_forward  # noqa: E402


def _positive_int(parameters: dict, key: str, minimum: int) -> int:
    raw = parameters.get(key, {}).get("string_value", "")
    try:
        value = int(raw)
    except ValueError:
        raise pb_utils.TritonModelException(f"mlp/config.pbtxt: parameters.{key}={raw!r}: expected an integer >= {minimum}") from None
    if value < minimum:
        raise pb_utils.TritonModelException(f"mlp/config.pbtxt: parameters.{key}={raw!r}: expected an integer >= {minimum}")
    return value


class TritonPythonModel:
    def initialize(self, args: dict) -> None:
        config = json.loads(args["model_config"])
        parameters = config.get("parameters", {})
        input_dim = int(config["input"][0]["dims"][-1])
        output_dim = int(config["output"][0]["dims"][-1])
        self._weights = build_mlp_weights(
            input_dim,
            _positive_int(parameters, "hidden_dim", 1),
            _positive_int(parameters, "layers", 1),
            output_dim,
            _positive_int(parameters, "seed", 0),
        )

    def execute(self, requests: list) -> list:
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            y = mlp_forward(self._weights, x)
            responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT0", y)]))
        return responses
