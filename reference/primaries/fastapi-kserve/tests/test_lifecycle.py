"""Readiness separate from liveness, and graceful shutdown on SIGTERM."""

from __future__ import annotations

import signal
import threading
import time

from conftest import Server, infer_body, sample_input, stream_events, wait_ready

# uvicorn drains, then re-raises the signal it caught: the exit status says "ended by
# SIGTERM" (143 in a shell), as for any program that does not handle it.
EXIT_AFTER_SIGTERM = -signal.SIGTERM


def test_live_before_ready_while_the_model_loads(start_server) -> None:
    server = start_server(env={"PRIMARY_LOAD_DELAY_MS": "2500"})
    # launch() returned as soon as the server was live: the model is still loading.
    assert server.request("GET", "/v2/health/live").status == 200
    assert server.request("GET", "/v2/health/ready").status == 503
    assert server.request("GET", "/v2/models/mlp/ready").status == 503
    result = server.request("POST", "/v2/models/mlp/infer", infer_body(sample_input(1)))
    assert result.status == 503
    assert "loading" in result.json()["error"]
    assert server.request("GET", "/v2/debug/pid").json()["model_loaded_at"] is None

    wait_ready(server, timeout_s=15)
    assert server.request("GET", "/v2/models/mlp/ready").status == 200
    assert server.request("POST", "/v2/models/mlp/infer", infer_body(sample_input(1))).status == 200
    info = server.request("GET", "/v2/debug/pid").json()
    assert info["model_loaded_at"] - info["started_at"] >= 2.4


def _in_background(fn) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as error:  # surfaced by the assertions on `out`
            out["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _wait_until_started(server: Server, before: int, in_flight: int) -> None:
    """Waits until the server has begun `in_flight` requests besides these polls."""
    for polls in range(1, 500):
        seen = server.request("GET", "/v2/debug/pid").json()["requests"]
        if seen - before - polls >= in_flight:
            return
        time.sleep(0.01)
    raise AssertionError("the background requests never reached the server")


def test_sigterm_lets_in_flight_requests_complete(start_server) -> None:
    server: Server = start_server()
    wait_ready(server)
    generate_body = {"text_input": "drain", "parameters": {"max_tokens": 11, "token_interval_ms": 100}}
    before = server.request("GET", "/v2/debug/pid").json()["requests"]
    whole, whole_out = _in_background(lambda: server.request("POST", "/v2/models/mlp/generate", generate_body))
    stream, stream_out = _in_background(lambda: stream_events(server, generate_body))
    _wait_until_started(server, before, in_flight=2)  # each then takes ~1 s

    server.process.send_signal(signal.SIGTERM)
    whole.join(10)
    stream.join(10)
    assert server.process.wait(10) == EXIT_AFTER_SIGTERM

    assert "error" not in whole_out, whole_out
    assert whole_out["value"].status == 200
    text = whole_out["value"].json()["text_output"]
    assert len(text.split(" ")) == 11
    assert "error" not in stream_out, stream_out
    _, events = stream_out["value"]
    assert [e["index"] for _, e in events] == list(range(11))
    assert "".join(e["text_output"] for _, e in events) == text
    # Both completed requests made it into the log before exit.
    assert sum(r["path"].startswith("/v2/models/mlp/generate") for r in server.log_records()) == 2


def test_sigterm_on_an_idle_server_exits_promptly(start_server) -> None:
    server: Server = start_server()
    wait_ready(server)
    start = time.monotonic()
    assert server.stop() == EXIT_AFTER_SIGTERM
    assert time.monotonic() - start < 5
