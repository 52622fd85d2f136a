"""Decoupled token stream: the fastapi-kserve primary's tokens, at its pace, one response each.

Request parameters (the generate request's `parameters` object) as that primary reads
them: max_tokens (default 16) and token_interval_ms (default 5). Each response carries
text_output, index and final, so the SSE events of both primaries have the same fields.

Triton's non-streaming `generate` endpoint accepts exactly one response, and a model
cannot tell which endpoint a request came in on; `parameters.stream: false` (the
convention of Triton's TensorRT-LLM backend) asks for the whole text as one response,
after the same total time, as the FastAPI primary's `generate` returns it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import numpy as np
import triton_python_backend_utils as pb_utils

# models/token_stream/1/model.py -> reference/primaries/fastapi-kserve
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "fastapi-kserve"))

from kserve_primary.generate import (  # noqa: E402
    DEFAULT_MAX_TOKENS,
    DEFAULT_TOKEN_INTERVAL_MS,
    MAX_TOKEN_INTERVAL_MS,
    MAX_TOKENS_LIMIT,
    generate_tokens,
)


class RequestError(ValueError):
    """A request the model refuses; the message says which parameter and what was expected."""


def _parameters(request) -> tuple[int, float, bool]:
    parameters = json.loads(request.parameters() or "{}")
    max_tokens = parameters.get("max_tokens", DEFAULT_MAX_TOKENS)
    if type(max_tokens) is not int or not 1 <= max_tokens <= MAX_TOKENS_LIMIT:
        raise RequestError(f"parameters.max_tokens must be an integer from 1 to {MAX_TOKENS_LIMIT}")
    interval_ms = parameters.get("token_interval_ms", DEFAULT_TOKEN_INTERVAL_MS)
    if type(interval_ms) not in (int, float) or not 0 <= interval_ms <= MAX_TOKEN_INTERVAL_MS:
        raise RequestError(f"parameters.token_interval_ms must be a number from 0 to {MAX_TOKEN_INTERVAL_MS:g}")
    stream = parameters.get("stream", True)
    if type(stream) is not bool:
        raise RequestError("parameters.stream must be true or false")
    return max_tokens, interval_ms / 1000.0, stream


def _prompt(request) -> str:
    value = pb_utils.get_input_tensor_by_name(request, "text_input").as_numpy().reshape(-1)[0]
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _token_response(token: str, index: int, final: bool):
    return pb_utils.InferenceResponse(
        output_tensors=[
            pb_utils.Tensor("text_output", np.array([token.encode("utf-8")], dtype=np.object_)),
            pb_utils.Tensor("index", np.array([index], dtype=np.int32)),
            pb_utils.Tensor("final", np.array([final], dtype=np.bool_)),
        ]
    )


class TritonPythonModel:
    async def execute(self, requests: list) -> None:
        # async execute: the stub runs each call as a coroutine on its event loop, so
        # streams overlap instead of queueing behind one another's sleeps.
        await asyncio.gather(*(self._stream(request) for request in requests))
        return None

    async def _stream(self, request) -> None:
        sender = request.get_response_sender()
        try:
            max_tokens, interval_s, stream = _parameters(request)
            tokens = generate_tokens(_prompt(request), max_tokens)
        except (RequestError, UnicodeDecodeError) as error:
            sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(error))), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            return
        if not stream:
            await asyncio.sleep((len(tokens) - 1) * interval_s)
            sender.send(_token_response("".join(tokens), len(tokens) - 1, True), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            return
        loop = asyncio.get_running_loop()
        start = loop.time()
        last = len(tokens) - 1
        for index, token in enumerate(tokens):
            if index:
                # Token i at start + i * interval: the schedule does not drift with loop delays.
                await asyncio.sleep(max(start + index * interval_s - loop.time(), 0.0))
            if request.is_cancelled():
                sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
                return
            flags = pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL if index == last else 0
            sender.send(_token_response(token, index, index == last), flags=flags)
