"""Token generation for Triton's generate extension (`generate`, `generate_stream`).

The "decoder" is synthetic and deterministic (words picked from a fixed vocabulary by a
hash of the prompt); what matters to a sidecar benchmark is the timing: one token every
`token_interval_ms`, each sent as its own SSE event the moment it exists.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from . import jsonio
from .errors import bad_request

DEFAULT_MAX_TOKENS = 16
MAX_TOKENS_LIMIT = 100_000
DEFAULT_TOKEN_INTERVAL_MS = 5.0
MAX_TOKEN_INTERVAL_MS = 60_000.0

_VOCABULARY = (
    "the", "model", "server", "sidecar", "proxy", "token", "stream", "latency", "tensor", "batch",
    "pod", "request", "response", "ready", "probe", "signal", "drain", "budget", "metric", "trace",
    "log", "secret", "rotation", "envoy", "kernel", "socket", "buffer", "queue", "worker", "thread",
    "process", "memory", "cpu", "cache", "weight", "layer", "softmax", "gradient", "vector", "matrix",
    "header", "payload", "frame", "chunk", "event", "window", "rate", "percentile", "sample", "trial",
)  # fmt: skip


@dataclass(frozen=True)
class GenerateRequest:
    text_input: str
    max_tokens: int
    token_interval_s: float
    request_id: str | None


def parse_generate_request(body: bytes) -> GenerateRequest:
    try:
        request = jsonio.loads(body)
    except jsonio.JSONDecodeError as error:
        raise bad_request(f"request body is not valid JSON: {error}") from None
    if not isinstance(request, dict):
        raise bad_request("request body must be a JSON object")
    text_input = request.get("text_input")
    if not isinstance(text_input, str):
        raise bad_request("'text_input' must be a string")
    request_id = request.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise bad_request("'id' must be a string")
    parameters = request.get("parameters", {})
    if not isinstance(parameters, dict):
        raise bad_request("'parameters' must be a JSON object")
    max_tokens = parameters.get("max_tokens", DEFAULT_MAX_TOKENS)
    if type(max_tokens) is not int or not 1 <= max_tokens <= MAX_TOKENS_LIMIT:
        raise bad_request(f"parameters.max_tokens must be an integer from 1 to {MAX_TOKENS_LIMIT}")
    interval_ms = parameters.get("token_interval_ms", DEFAULT_TOKEN_INTERVAL_MS)
    if type(interval_ms) not in (int, float) or not 0 <= interval_ms <= MAX_TOKEN_INTERVAL_MS:
        raise bad_request(f"parameters.token_interval_ms must be a number from 0 to {MAX_TOKEN_INTERVAL_MS:g}")
    return GenerateRequest(text_input, max_tokens, interval_ms / 1000.0, request_id)


def generate_tokens(prompt: str, count: int) -> list[str]:
    """Deterministic tokens for a prompt; joined they read as words separated by spaces."""
    # crc32, not hash(): Python's str hash is salted per process.
    state = zlib.crc32(prompt.encode("utf-8"))
    tokens = []
    for i in range(count):
        state = (state * 1_103_515_245 + 12_345) & 0x7FFF_FFFF
        word = _VOCABULARY[state % len(_VOCABULARY)]
        tokens.append(word if i == 0 else " " + word)
    return tokens


async def paced(tokens: list[str], interval_s: float) -> AsyncIterator[tuple[int, str]]:
    """Yields token i at start + i * interval: the schedule does not drift with event-loop delays."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index, token in enumerate(tokens):
        if index:
            delay = start + index * interval_s - loop.time()
            # sleep(0) still yields, so a zero interval cannot starve other requests.
            await asyncio.sleep(max(delay, 0.0))
        yield index, token


async def sse_stream(model_name: str, model_version: str, request: GenerateRequest) -> AsyncIterator[bytes]:
    tokens = generate_tokens(request.text_input, request.max_tokens)
    last = len(tokens) - 1
    async for index, token in paced(tokens, request.token_interval_s):
        event: dict[str, object] = {"model_name": model_name, "model_version": model_version}
        if request.request_id is not None:
            event["id"] = request.request_id
        event["text_output"] = token
        event["index"] = index
        event["final"] = index == last
        yield b"data: " + jsonio.dumps(event) + b"\n\n"


async def generate_whole(model_name: str, model_version: str, request: GenerateRequest) -> bytes:
    """The same tokens as the stream, returned as one JSON body after the same total time."""
    tokens = generate_tokens(request.text_input, request.max_tokens)
    await asyncio.sleep((len(tokens) - 1) * request.token_interval_s)
    response: dict[str, object] = {"model_name": model_name, "model_version": model_version}
    if request.request_id is not None:
        response["id"] = request.request_id
    response["text_output"] = "".join(tokens)
    return jsonio.dumps(response)
