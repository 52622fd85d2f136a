"""The logs role: the access log as a file (PRIMARY_ACCESS_LOG_FILE) with run and seq in every
line, bursts of long and non-ASCII lines, rename+create and copytruncate rotation under a
burst with no line lost or repeated, and a last line at shutdown."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgi_client import InProcessServer
from conftest import HttpResult, Server, wait_ready

from kserve_primary.app import create_app
from kserve_primary.config import Config, ConfigError
from kserve_primary.log_file import AccessLogFile

RUN = "run-7f3a"
# Quote, backslash, control characters, a non-BMP emoji, accents, CJK, a right-to-left mark:
# everything a shipper that re-encodes or splits lines would damage.
TRICKY_MSG = 'say "hi" \\ back\\slash\n\ttab \x01 \u00e9t\u00e9 \u4e2d\u6587 \U0001f680 \u200f end'


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def rotated_then_current(path: Path) -> list[Path]:
    """access.log.3, .2, .1 (those that exist), then access.log: oldest lines first."""
    rotated = [Path(f"{path}.{i}") for i in (3, 2, 1)]
    return [p for p in rotated if p.exists()] + [path]


class FileApp:
    """The app in-process with its access log in a file; stdout lines are collected apart."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.path = tmp_path / "access.log"
        self.stdout: list[bytes] = []
        config = Config.from_env({"PRIMARY_ACCESS_LOG_FILE": str(self.path), "PRIMARY_RUN_ID": RUN, **env})
        self.server = InProcessServer(create_app(config, sink=self.stdout.append))

    def post_json(self, path: str, value: object) -> tuple[int, dict]:
        result = self.server.request("POST", path, json.dumps(value).encode())
        return result.status, json.loads(result.body)


@pytest.fixture
def file_app(tmp_path: Path) -> Iterator[FileApp]:
    app = FileApp(tmp_path)
    app.server.start()
    yield app
    app.server.close()


def test_file_lines_carry_run_and_gapless_seq(file_app: FileApp) -> None:
    for _ in range(5):
        file_app.server.request("GET", "/v2/health/live")
    lines = file_app.path.read_bytes().splitlines()
    assert all(line.startswith(b'{"run":"run-7f3a","ts":') for line in lines)
    seqs = [r["seq"] for r in map(json.loads, lines)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert file_app.stdout == []  # the file replaces stdout


def test_run_field_on_stdout_without_a_file() -> None:
    lines: list[bytes] = []
    server = InProcessServer(create_app(Config.from_env({"PRIMARY_RUN_ID": RUN}), sink=lines.append))
    server.start()
    server.close()
    assert lines and all(json.loads(line)["run"] == RUN for line in lines)
    # Only the file gets a shutdown line: stdout keeps exactly one line per request.
    assert all("path" in json.loads(line) for line in lines)


def test_log_state_and_the_shutdown_line(tmp_path: Path) -> None:
    app = FileApp(tmp_path)
    app.server.start()
    try:
        state = json.loads(app.server.request("GET", "/v2/debug/log").body)
    finally:
        app.server.close()
    assert state == {"file": str(app.path), "run": RUN, "last_seq": state["last_seq"], "rotations": 0}
    # last_seq is the line before the asking request's own, written once it was answered.
    assert records(app.path)[-2]["seq"] == state["last_seq"] + 1
    assert records(app.path)[-2]["path"] == "/v2/debug/log"
    last = records(app.path)[-1]
    assert last["event"] == "shutdown"
    assert (last["run"], last["seq"]) == (RUN, state["last_seq"] + 2)  # after the GET's own line


def test_long_and_unicode_burst_lines_round_trip(file_app: FileApp) -> None:
    pad_bytes = 20_000
    status, answer = file_app.post_json(
        "/v2/debug/log/burst", {"lines": 5, "msg": TRICKY_MSG, "pad_bytes": pad_bytes, "gap_ms": 0}
    )
    assert status == 200
    raw_lines = file_app.path.read_bytes().splitlines()
    burst = [(raw, json.loads(raw)) for raw in raw_lines if b'"event":"burst"' in raw]
    assert [r["seq"] for _, r in burst] == list(range(answer["first_seq"], answer["last_seq"] + 1))
    assert len(burst) == 5
    for raw, record in burst:
        assert record["msg"] == TRICKY_MSG
        assert record["run"] == RUN
        assert len(raw) >= pad_bytes
        assert set(record["pad"]) == {"x"}
        # Non-ASCII is written as UTF-8, not \\u escapes; control characters are escaped.
        assert "\u4e2d\u6587 \U0001f680".encode() in raw
        assert b"\\n\\ttab \\u0001" in raw
        assert b"\n" not in raw


def test_burst_lines_without_padding_are_not_padded(file_app: FileApp) -> None:
    status, answer = file_app.post_json("/v2/debug/log/burst", {"lines": 2, "msg": "short"})
    assert status == 200 and answer["last_seq"] == answer["first_seq"] + 1
    burst = [r for r in records(file_app.path) if r.get("event") == "burst"]
    assert [(r["msg"], r["pad"]) for r in burst] == [("short", ""), ("short", "")]


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "lines=None"),
        ({"lines": 0}, "lines=0"),
        ({"lines": True}, "lines=True"),
        ({"lines": 1, "msg": 5}, "msg: expected a string"),
        ({"lines": 1, "pad_bytes": -1}, "pad_bytes=-1"),
        ({"lines": 1, "gap_ms": 10_001}, "gap_ms=10001"),
        ({"lines": 1_000_000, "pad_bytes": 4096}, "lines x pad_bytes"),
        ({"lines": 100_000, "gap_ms": 10}, "lines x gap_ms"),
        ([1], "expected a JSON object"),
    ],
)
def test_burst_rejects_bad_requests(file_app: FileApp, body: object, message: str) -> None:
    status, answer = file_app.post_json("/v2/debug/log/burst", body)
    assert status == 400
    assert message in answer["error"]


def test_rotate_rejects_an_unknown_mode(file_app: FileApp) -> None:
    status, answer = file_app.post_json("/v2/debug/log/rotate", {"mode": "delete"})
    assert (status, answer) == (400, {"error": "mode='delete': expected one of rename, copytruncate"})


def test_rotate_without_a_file_is_a_conflict() -> None:
    server = InProcessServer(create_app(Config(), sink=lambda _line: None))
    server.start()
    try:
        result = server.request("POST", "/v2/debug/log/rotate", b'{"mode":"rename"}')
        assert result.status == 409
        assert "PRIMARY_ACCESS_LOG_FILE is not set" in json.loads(result.body)["error"]
        state = json.loads(server.request("GET", "/v2/debug/log").body)
        assert (state["file"], state["run"], state["rotations"]) == (None, None, 0)
    finally:
        server.close()


@pytest.mark.parametrize("mode", ["rename", "copytruncate"])
def test_rotation_keeps_three_files(file_app: FileApp, mode: str) -> None:
    answers = []
    for _ in range(4):
        status, answer = file_app.post_json("/v2/debug/log/rotate", {"mode": mode})
        assert status == 200
        answers.append(answer["last_seq_before"])
    path = file_app.path
    assert [p.name for p in rotated_then_current(path)] == [
        "access.log.3",
        "access.log.2",
        "access.log.1",
        "access.log",
    ]
    assert not Path(f"{path}.4").exists()
    # Each rotated file ends with the line before its rotation; the first file was dropped.
    assert [records(Path(f"{path}.{i}"))[-1]["seq"] for i in (3, 2, 1)] == answers[1:]
    assert json.loads(file_app.server.request("GET", "/v2/debug/log").body)["rotations"] == 4


def test_copytruncate_keeps_the_inode_and_rename_replaces_it(file_app: FileApp) -> None:
    path = file_app.path
    inode = path.stat().st_ino
    file_app.post_json("/v2/debug/log/rotate", {"mode": "copytruncate"})
    assert path.stat().st_ino == inode
    file_app.post_json("/v2/debug/log/rotate", {"mode": "rename"})
    assert path.stat().st_ino != inode
    assert Path(f"{path}.1").stat().st_ino == inode


# --- the real server: rotation under a burst, and SIGTERM ---


def _post(server: Server, path: str, value: object, timeout_s: float = 60) -> HttpResult:
    return server.request("POST", path, json.dumps(value), {"Content-Type": "application/json"}, timeout_s=timeout_s)


@pytest.mark.parametrize("mode", ["rename", "copytruncate"])
def test_rotation_under_a_burst_loses_and_repeats_nothing(start_server, tmp_path: Path, mode: str) -> None:
    path = tmp_path / "access.log"
    server: Server = start_server(env={"PRIMARY_ACCESS_LOG_FILE": str(path), "PRIMARY_RUN_ID": RUN})
    wait_ready(server)
    inode = path.stat().st_ino
    lines = 1500
    burst: dict[str, HttpResult] = {}
    thread = threading.Thread(
        target=lambda: burst.setdefault(
            "result", _post(server, "/v2/debug/log/burst", {"lines": lines, "msg": "b", "pad_bytes": 512, "gap_ms": 1})
        )
    )
    thread.start()
    split_points = []
    start_seq = json.loads(server.request("GET", "/v2/debug/log").body)["last_seq"]
    for progress in (300, 900):
        deadline = time.monotonic() + 20
        while json.loads(server.request("GET", "/v2/debug/log").body)["last_seq"] < start_seq + progress:
            assert time.monotonic() < deadline, "the burst did not progress"
            time.sleep(0.01)
        result = _post(server, "/v2/debug/log/rotate", {"mode": mode})
        assert result.status == 200
        split_points.append(result.json()["last_seq_before"])
    thread.join(60)
    answer = burst["result"].json()
    assert server.stop() == -15

    files = rotated_then_current(path)
    assert [p.name for p in files] == ["access.log.2", "access.log.1", "access.log"]
    per_file = [records(p) for p in files]
    every = [r for file_records in per_file for r in file_records]
    # Exactly once, in order, across the files: no line lost at a split, none copied twice.
    assert [r["seq"] for r in every] == list(range(1, len(every) + 1))
    assert all(r["run"] == RUN for r in every)
    assert [file_records[-1]["seq"] for file_records in per_file[:2]] == split_points
    burst_seqs = [r["seq"] for r in every if r.get("event") == "burst"]
    assert len(burst_seqs) == lines
    assert (burst_seqs[0], burst_seqs[-1]) == (answer["first_seq"], answer["last_seq"])
    # The rotations happened mid-burst: burst lines are in all three files.
    assert all(any(r.get("event") == "burst" for r in file_records) for file_records in per_file)
    assert every[-1]["event"] == "shutdown"
    assert (path.stat().st_ino == inode) == (mode == "copytruncate")


def test_sigterm_writes_the_shutdown_line_last(start_server, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    server: Server = start_server(env={"PRIMARY_ACCESS_LOG_FILE": str(path), "PRIMARY_RUN_ID": RUN})
    wait_ready(server)
    server.request("GET", "/v2/models/mlp", headers={"X-Request-Id": "before-exit"})
    assert server.stop() == -15
    *earlier, last = records(path)
    assert earlier[-1]["request_id"] == "before-exit"
    assert last == {"run": RUN, "ts": last["ts"], "seq": earlier[-1]["seq"] + 1, "event": "shutdown"}
    assert server.stdout_lines == []  # every line went to the file


# --- configuration and the file sink ---


def test_log_config_values_and_errors(tmp_path: Path) -> None:
    config = Config.from_env({"PRIMARY_ACCESS_LOG_FILE": str(tmp_path / "a.log"), "PRIMARY_RUN_ID": RUN})
    assert (config.access_log_file, config.run_id) == (str(tmp_path / "a.log"), RUN)
    with pytest.raises(ConfigError, match="PRIMARY_ACCESS_LOG_FILE='/no/such/dir/a.log'"):
        Config.from_env({"PRIMARY_ACCESS_LOG_FILE": "/no/such/dir/a.log"})
    with pytest.raises(ConfigError, match="PRIMARY_ACCESS_LOG_FILE=.*expected a file path"):
        Config.from_env({"PRIMARY_ACCESS_LOG_FILE": f"{tmp_path}/"})
    with pytest.raises(ConfigError, match="PRIMARY_ACCESS_LOG=0"):
        Config.from_env({"PRIMARY_ACCESS_LOG_FILE": str(tmp_path / "a.log"), "PRIMARY_ACCESS_LOG": "0"})
    with pytest.raises(ConfigError, match="PRIMARY_RUN_ID="):
        Config.from_env({"PRIMARY_RUN_ID": "a\nb"})
    with pytest.raises(ConfigError, match="PRIMARY_RUN_ID="):
        Config.from_env({"PRIMARY_RUN_ID": "r" * 129})


def test_an_unopenable_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "dir.log").mkdir()
    with pytest.raises(ConfigError, match="PRIMARY_ACCESS_LOG_FILE=.*cannot open for appending"):
        AccessLogFile(str(tmp_path / "dir.log"))


def test_writes_from_threads_never_interleave_with_a_rotation(tmp_path: Path) -> None:
    # Not the server's case today (all its writers run on the event loop), but the lock's.
    log = AccessLogFile(str(tmp_path / "access.log"))
    per_thread = 2000
    lines = [f'{{"t":{t},"i":{i},"pad":"{"y" * 300}"}}\n'.encode() for t in range(4) for i in range(per_thread)]

    def writer(t: int) -> None:
        for line in lines[t * per_thread : (t + 1) * per_thread]:
            log.write(line)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for mode in ("rename", "copytruncate", "rename"):  # three: within what is kept
        time.sleep(0.005)
        log.rotate(mode)
    for thread in threads:
        thread.join(10)
    log.close()
    written = []
    for name in ["access.log.3", "access.log.2", "access.log.1", "access.log"]:
        written += (tmp_path / name).read_bytes().splitlines(keepends=True)
    # Every line whole, once, across the four files.
    assert sorted(written) == sorted(lines)
    assert all((tmp_path / name).stat().st_size > 0 for name in ["access.log.3", "access.log.2", "access.log.1"])
