"""Token streams through Triton's generate extension: the fastapi-kserve primary's tokens,
fields and pacing, from the decoupled token_stream model; and the same model over gRPC streaming."""

from __future__ import annotations

import queue
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tritonclient.grpc as grpcclient
from kserve_primary.generate import generate_tokens

from conftest import Triton, stream_events


def test_stream_events_carry_the_fastapi_fields(triton: Triton) -> None:
    response, events = stream_events(triton.http_port, {"id": "s-1", "text_input": "hello", "parameters": {"max_tokens": 4, "token_interval_ms": 1}})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert [e["index"] for _, e in events] == [0, 1, 2, 3]
    assert [e["final"] for _, e in events] == [False, False, False, True]
    assert [e["text_output"] for _, e in events] == generate_tokens("hello", 4)
    for _, event in events:
        assert event["model_name"] == "token_stream"
        assert event["model_version"] == "1"
        assert event["id"] == "s-1"


def test_tokens_arrive_spaced_in_time(triton: Triton) -> None:
    interval_ms, count = 100, 6
    _, events = stream_events(triton.http_port, {"text_input": "timing", "parameters": {"max_tokens": count, "token_interval_ms": interval_ms}})
    arrivals = [t for t, _ in events]
    assert len(arrivals) == count
    span_s = (count - 1) * interval_ms / 1000
    assert arrivals[-1] >= span_s
    # Streamed, not buffered: the first token came long before the last was sent...
    assert arrivals[0] < arrivals[-1] - span_s / 2
    # ...and one by one (a busy machine may squeeze a gap, hence "most").
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert sum(gap >= interval_ms / 1000 / 2 for gap in gaps) >= len(gaps) / 2, gaps


def test_streams_overlap(triton: Triton) -> None:
    # async execute: four 0.5 s streams on the one model instance take about 0.5 s, not 2 s.
    body = {"text_input": "overlap", "parameters": {"max_tokens": 6, "token_interval_ms": 100}}
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: stream_events(triton.http_port, body), range(4)))
    elapsed_s = time.perf_counter() - start
    assert all(len(events) == 6 for _, events in results)
    assert elapsed_s < 1.5, elapsed_s


def test_defaults_are_the_fastapi_primarys(triton: Triton) -> None:
    _, events = stream_events(triton.http_port, {"text_input": "defaults"})
    assert [e["text_output"] for _, e in events] == generate_tokens("defaults", 16)  # DEFAULT_MAX_TOKENS


def test_generate_whole_text_with_stream_false(triton: Triton) -> None:
    body = {"text_input": "whole", "parameters": {"max_tokens": 5, "token_interval_ms": 20, "stream": False}}
    result = triton.request("POST", "/v2/models/token_stream/generate", body)
    assert result.status == 200, result.body
    assert result.json()["text_output"] == "".join(generate_tokens("whole", 5))


def test_bad_parameters_end_the_stream_with_an_error(triton: Triton) -> None:
    _, events = stream_events(triton.http_port, {"text_input": "x", "parameters": {"max_tokens": 0}})
    assert [e for _, e in events] == [{"error": "parameters.max_tokens must be an integer from 1 to 100000"}]
    _, events = stream_events(triton.http_port, {"text_input": "x", "parameters": {"token_interval_ms": -1}})
    assert "token_interval_ms" in events[0][1]["error"]


def test_grpc_stream_infer(triton: Triton) -> None:
    results: queue.Queue = queue.Queue()
    client = grpcclient.InferenceServerClient(url=triton.grpc_url)
    try:
        client.start_stream(callback=lambda result, error: results.put((result, error)))
        text = grpcclient.InferInput("text_input", [1], "BYTES")
        text.set_data_from_numpy(np.array([b"grpc"], dtype=np.object_))
        client.async_stream_infer("token_stream", [text], parameters={"max_tokens": 3, "token_interval_ms": 1})
        tokens = []
        for _ in range(3):
            result, error = results.get(timeout=10)
            assert error is None, error
            tokens.append(result.as_numpy("text_output")[0].decode())
        assert tokens == generate_tokens("grpc", 3)
    finally:
        client.stop_stream()
        client.close()
