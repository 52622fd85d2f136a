"""Models served by the primary: a numpy MLP (the model under test) and identity models.

The identity models (one per datatype) return their input unchanged; they let a proxy
conformance test push every tensor datatype through a sidecar and compare bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .config import Config
from .tensors import DATATYPES

MODEL_VERSION = "1"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str
    shape: tuple[int, ...]  # -1 marks a variable dimension (the batch, first)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


class Model(Protocol):
    name: str
    version: str
    platform: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    # Whether the token-stream endpoints (generate, generate_stream) serve this model.
    generates_text: bool

    def infer(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]: ...


Weights = list[tuple[np.ndarray, np.ndarray]]


def build_mlp_weights(input_dim: int, hidden_dim: int, layers: int, output_dim: int, seed: int) -> Weights:
    """(W, b) per layer, float32, drawn from a fixed seed: the same config gives the same model."""
    rng = np.random.default_rng(seed)
    widths = [input_dim, *([hidden_dim] * layers), output_dim]
    weights: Weights = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
        # He initialisation keeps activations in a sane range through the ReLU layers,
        # so the softmax output is not degenerate (all mass on one class).
        w = rng.standard_normal((fan_in, fan_out), dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        b = rng.standard_normal(fan_out, dtype=np.float32) * np.float32(0.01)
        weights.append((w, b))
    return weights


def mlp_forward(weights: Weights, x: np.ndarray) -> np.ndarray:
    """ReLU hidden layers, softmax over the output layer; float32 throughout."""
    h = x
    for w, b in weights[:-1]:
        h = np.maximum(h @ w + b, np.float32(0))
    w, b = weights[-1]
    logits = h @ w + b
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


class MlpModel:
    platform = "numpy_mlp"
    version = MODEL_VERSION
    generates_text = True

    def __init__(self, config: Config) -> None:
        self.name = config.model_name
        self.inputs = (TensorSpec("INPUT0", "FP32", (-1, config.input_dim)),)
        self.outputs = (TensorSpec("OUTPUT0", "FP32", (-1, config.output_dim)),)
        self._weights = build_mlp_weights(
            config.input_dim, config.hidden_dim, config.layers, config.output_dim, config.seed
        )

    def infer(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"OUTPUT0": mlp_forward(self._weights, inputs["INPUT0"])}


class IdentityModel:
    platform = "identity"
    version = MODEL_VERSION
    generates_text = False

    def __init__(self, datatype: str) -> None:
        self.name = f"identity_{datatype.lower()}"
        self.inputs = (TensorSpec("INPUT0", datatype, (-1, -1)),)
        self.outputs = (TensorSpec("OUTPUT0", datatype, (-1, -1)),)

    def infer(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"OUTPUT0": inputs["INPUT0"]}


def load_models(config: Config) -> dict[str, Model]:
    """Builds every model; the MLP's weight generation is the slow part of startup."""
    # Config reserves the identity_ prefix, so the names cannot collide.
    models: list[Model] = [MlpModel(config), *(IdentityModel(dt) for dt in DATATYPES)]
    return {model.name: model for model in models}
