"""Token streams: one SSE event per token, sent when the token exists, not at the end."""

from __future__ import annotations

import time

from conftest import Server, stream_events


def test_stream_format(server: Server) -> None:
    response, events = stream_events(
        server, {"id": "s-1", "text_input": "hello", "parameters": {"max_tokens": 4, "token_interval_ms": 1}}
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache"
    assert [e["index"] for _, e in events] == [0, 1, 2, 3]
    assert [e["final"] for _, e in events] == [False, False, False, True]
    for _, event in events:
        assert event["model_name"] == "mlp"
        assert event["model_version"] == "1"
        assert event["id"] == "s-1"
        assert isinstance(event["text_output"], str) and event["text_output"].strip()


def test_tokens_arrive_spaced_in_time(server: Server) -> None:
    interval_ms, count = 100, 6
    _, events = stream_events(
        server, {"text_input": "timing", "parameters": {"max_tokens": count, "token_interval_ms": interval_ms}}
    )
    arrivals = [t for t, _ in events]
    assert len(arrivals) == count
    span_s = (count - 1) * interval_ms / 1000
    # The schedule holds: the last token cannot come before start + 5 intervals.
    assert arrivals[-1] >= span_s
    # Unbuffered: the first token was read long before the last one was sent...
    assert arrivals[0] < arrivals[-1] - span_s / 2
    # ...and tokens came one by one, not in bursts (a busy machine may delay a read and
    # squeeze a gap, hence "most").
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert sum(gap >= interval_ms / 1000 / 2 for gap in gaps) >= len(gaps) / 2, gaps


def test_default_interval_is_a_few_milliseconds(server: Server) -> None:
    _, events = stream_events(server, {"text_input": "defaults", "parameters": {"max_tokens": 11}})
    assert len(events) == 11
    # 10 intervals of the 5 ms default after the first token; the upper bound only says
    # "milliseconds, not seconds".
    assert 0.05 <= events[-1][0] < 2.0


def test_generate_returns_the_stream_text_at_once(server: Server) -> None:
    body = {"text_input": "same prompt", "parameters": {"max_tokens": 7, "token_interval_ms": 0}}
    _, events = stream_events(server, body)
    result = server.request("POST", "/v2/models/mlp/generate", body)
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/json"
    response = result.json()
    assert response["model_name"] == "mlp"
    assert response["text_output"] == "".join(e["text_output"] for _, e in events)
    assert len(response["text_output"].split(" ")) == 7


def test_generate_takes_the_stream_time(server: Server) -> None:
    start = time.perf_counter()
    server.request(
        "POST", "/v2/models/mlp/generate", {"text_input": "x", "parameters": {"max_tokens": 5, "token_interval_ms": 50}}
    )
    assert time.perf_counter() - start >= 0.19


def test_generation_is_deterministic_per_prompt(server: Server) -> None:
    def text(prompt: str) -> str:
        body = {"text_input": prompt, "parameters": {"max_tokens": 12, "token_interval_ms": 0}}
        return server.request("POST", "/v2/models/mlp/generate", body).json()["text_output"]

    assert text("a") == text("a")
    assert text("a") != text("b")
