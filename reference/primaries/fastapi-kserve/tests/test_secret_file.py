"""The secrets role: the API key file (PRIMARY_API_KEY_FILE) recorded at startup, re-read when
a sidecar rotates it, reported only as a sha256, and never written to any output."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import time
from pathlib import Path

import pytest
from asgi_client import InProcessServer
from conftest import Server, wait_ready
from otlp_capture import wait_for

from kserve_primary.app import create_app
from kserve_primary.config import Config, ConfigError
from kserve_primary.secret_file import SecretFile


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def write_secret(path: Path, value: str, mode: int = 0o400) -> None:
    """As consul-template and Vault Agent render: a temporary file renamed over the target."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(value)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


def test_rotation_is_seen_and_the_value_never_leaves_the_process(start_server, tmp_path: Path) -> None:
    key_path = tmp_path / "api-key"
    log_path = tmp_path / "access.log"
    first, second, third = (f"sk-{secrets.token_hex(16)}" for _ in range(3))
    write_secret(key_path, f"{first}\n")
    server: Server = start_server(
        env={"PRIMARY_API_KEY_FILE": str(key_path), "PRIMARY_ACCESS_LOG_FILE": str(log_path), "PRIMARY_RUN_ID": "r"}
    )
    wait_ready(server)
    bodies: list[bytes] = []

    def report() -> dict:
        result = server.request("GET", "/v2/debug/secret")
        assert result.status == 200
        bodies.append(result.body)
        return result.json()

    started = report()
    assert started == {
        "at_startup": {"exists": True, "mode": "0400", "sha256": sha(first)},
        "current": {"exists": True, "mode": "0400", "sha256": sha(first)},
        "loads": 1,
        "changes": [],
    }

    before = epoch_ms()
    write_secret(key_path, second)  # no trailing newline: the same value either way
    seen = wait_for(report, lambda r: r["current"]["sha256"] == sha(second), 2, "rotation")
    after = epoch_ms()
    [change] = seen["changes"]
    assert change["sha256"] == sha(second)
    assert before <= change["at_ms"] <= after  # epoch milliseconds, comparable with the harness's clock
    assert seen["at_startup"]["sha256"] == sha(first)
    assert seen["loads"] == 2

    # In place, same size, same inode: only the mtime tells. One write(2), no truncation,
    # so no poll can catch the file half-written.
    in_place = third[::-1]
    assert len(in_place) == len(second)
    key_path.chmod(0o600)  # writable when not run as root (a mode change alone is no change)
    fd = os.open(key_path, os.O_WRONLY)
    try:
        os.write(fd, in_place.encode())
    finally:
        os.close(fd)
    wait_for(report, lambda r: r["current"]["sha256"] == sha(in_place), 2, "in-place rewrite")

    key_path.unlink()
    gone = wait_for(report, lambda r: not r["current"]["exists"], 2, "removal")
    assert gone["current"] == {"exists": False, "mode": None, "sha256": None}
    assert gone["changes"][-1]["sha256"] is None

    write_secret(key_path, f"{third}\n")
    back = wait_for(report, lambda r: r["current"]["sha256"] == sha(third), 2, "re-creation")
    assert [c["sha256"] for c in back["changes"]] == [sha(second), sha(in_place), None, sha(third)]
    at_ms = [c["at_ms"] for c in back["changes"]]
    assert at_ms == sorted(at_ms)
    assert back["loads"] == 4

    assert server.stop() == -15
    everything = [
        *server.stdout_lines,
        *server.stderr_lines,
        *(b.decode() for b in bodies),
        *(p.read_text() for p in tmp_path.glob("access.log*")),
    ]
    assert everything, "expected some output to scan"
    for value in (first, second, third, in_place):
        assert not any(value in text for text in everything)


def test_a_file_absent_at_startup_is_recorded_then_loaded(tmp_path: Path) -> None:
    key_path = tmp_path / "api-key"
    watched = SecretFile(str(key_path))
    assert watched.report() == {
        "at_startup": {"exists": False, "mode": None, "sha256": None},
        "current": {"exists": False, "mode": None, "sha256": None},
        "loads": 0,
        "changes": [],
    }
    write_secret(key_path, "late", mode=0o440)
    watched.poll()
    assert watched.current.to_json() == {"exists": True, "mode": "0440", "sha256": sha("late")}
    assert [c["sha256"] for c in watched.changes] == [sha("late")]
    assert watched.loads == 1


def test_a_mode_change_updates_current_but_is_no_change_of_secret(tmp_path: Path) -> None:
    key_path = tmp_path / "api-key"
    write_secret(key_path, "same")
    watched = SecretFile(str(key_path))
    key_path.chmod(0o644)
    watched.poll()
    assert watched.current.mode == "0644"
    assert watched.at_startup.mode == "0400"
    assert watched.changes == []
    assert watched.loads == 2  # re-read: the stat changed


def test_an_unchanged_file_is_not_re_read(tmp_path: Path) -> None:
    key_path = tmp_path / "api-key"
    write_secret(key_path, "steady")
    watched = SecretFile(str(key_path))
    for _ in range(5):
        watched.poll()
    assert watched.loads == 1


def test_an_unreadable_file_reports_no_hash_and_no_content(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Root reads any mode, so a directory stands in for a file that cannot be read.
    key_path = tmp_path / "api-key"
    write_secret(key_path, "readable-secret")
    watched = SecretFile(str(key_path))
    key_path.unlink()
    key_path.mkdir()
    watched.poll()
    assert watched.current.exists is True
    assert watched.current.sha256 is None
    assert [c["sha256"] for c in watched.changes] == [None]
    err = capsys.readouterr().err
    assert f"PRIMARY_API_KEY_FILE {key_path}: cannot read:" in err
    assert "readable-secret" not in err
    assert "readable-secret" not in repr(watched)


def test_the_poll_runs_in_the_app(tmp_path: Path) -> None:
    key_path = tmp_path / "api-key"
    write_secret(key_path, "one")
    server = InProcessServer(create_app(Config.from_env({"PRIMARY_API_KEY_FILE": str(key_path)}), sink=lambda _: None))
    server.start()
    try:
        write_secret(key_path, "two")
        server.loop.run_until_complete(asyncio.sleep(0.3))  # three polls
        report = json.loads(server.request("GET", "/v2/debug/secret").body)
        assert report["current"]["sha256"] == sha("two")
    finally:
        server.close()


def test_debug_secret_is_404_without_the_variable() -> None:
    server = InProcessServer(create_app(Config(), sink=lambda _: None))
    server.start()
    try:
        result = server.request("GET", "/v2/debug/secret")
        assert result.status == 404
        assert "PRIMARY_API_KEY_FILE is not set" in json.loads(result.body)["error"]
    finally:
        server.close()


def test_secret_config_needs_an_existing_directory(tmp_path: Path) -> None:
    assert Config.from_env({"PRIMARY_API_KEY_FILE": str(tmp_path / "absent-yet")}).api_key_file.endswith("absent-yet")
    with pytest.raises(ConfigError, match="PRIMARY_API_KEY_FILE='/no/such/dir/api-key'"):
        Config.from_env({"PRIMARY_API_KEY_FILE": "/no/such/dir/api-key"})
