"""The syslog/TCP receiver end to end: both framings, both header formats, messages exact."""

from __future__ import annotations

import json
import random
import socket
import time

from conftest import Backend, send_tcp

NON_ASCII = 'json {"msg":"caf\u00e9 \u65e5\u672c\u8a9e \U0001f680 \\"quoted\\" \\\\ tab\\t"}'


def octet(message: bytes) -> bytes:
    return str(len(message)).encode() + b" " + message


def long_message(size_bytes: int) -> str:
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 \u00e9\u00fc\u65e5\U0001f600"
    text = "".join(rng.choice(alphabet) for _ in range(size_bytes // 2))
    while len(text.encode()) < size_bytes:
        text += "x" * 1024
    return text


def test_lf_framing_with_rfc3164_headers_keeps_messages_exact(backend: Backend) -> None:
    messages = ["first", NON_ASCII, long_message(70 * 1024), "  two leading spaces"]
    stream = b"".join(f"<13>Oct  1 09:05:01 pod-a primary: {m}\n".encode() for m in messages)
    send_tcp(backend.ports["syslog"], stream, chunk_bytes=1000)
    records = backend.wait_logs(len(messages))
    assert [r["message"] for r in records] == messages
    assert {r["via"] for r in records} == {"syslog"}
    assert [r["index"] for r in records] == list(range(len(messages)))
    assert records[0]["syslog"] == {"framing": "lf", "header": "rfc3164", "pri": 13, "hostname": "pod-a",
                                    "app_name": "primary"}


def test_octet_counting_with_rfc5424_headers_keeps_messages_exact(backend: Backend) -> None:
    messages = [NON_ASCII, long_message(200 * 1024), "ends with spaces  ", "has\nnewline inside"]
    stream = b"".join(octet(f"<14>1 2024-05-01T10:00:00.5Z pod-a primary 1 - - {m}".encode()) for m in messages)
    send_tcp(backend.ports["syslog"], stream, chunk_bytes=4096)
    records = backend.wait_logs(len(messages))
    assert [r["message"] for r in records] == messages
    assert records[1]["syslog"]["framing"] == "octet-counting"
    assert records[1]["syslog"]["header"] == "rfc5424"


def test_msg_only_template_lines_arrive_as_sent_in_both_framings(backend: Backend) -> None:
    # What rsyslog's omfwd sends with template "%msg%": the bare line, LF-terminated
    # ("traditional") or octet-counted.
    lines = [json.dumps({"seq": i, "run": "r1", "msg": NON_ASCII}, ensure_ascii=False) for i in range(50)]
    send_tcp(backend.ports["syslog"], b"".join(line.encode() + b"\n" for line in lines))
    send_tcp(backend.ports["syslog"], b"".join(octet(line.encode()) for line in lines))
    records = backend.wait_logs(100)
    assert [r["message"] for r in records] == lines + lines
    assert [r["syslog"]["framing"] for r in records] == ["lf"] * 50 + ["octet-counting"] * 50
    assert {r["syslog"]["header"] for r in records} == {"none"}


def test_incomplete_last_frame_is_stored_flagged_partial(backend: Backend) -> None:
    send_tcp(backend.ports["syslog"], b"whole\ncut in the mid")
    records = backend.wait_logs(2)
    assert [(r["message"], r.get("partial", False)) for r in records] == [("whole", False), ("cut in the mid", True)]
    assert backend.control("/syslog/stats")["partial_frames"] == 1


def test_invalid_utf8_is_replaced_and_flagged(backend: Backend) -> None:
    send_tcp(backend.ports["syslog"], b"bad \xff byte\n")
    [record] = backend.wait_logs(1)
    assert record["message"] == "bad \ufffd byte"
    assert record["invalid_utf8"] is True


def test_many_connections_interleave_but_each_stays_in_order(backend: Backend) -> None:
    sockets = [socket.create_connection(("127.0.0.1", backend.ports["syslog"]), timeout=10) for _ in range(3)]
    try:
        for seq in range(30):
            for index, sock in enumerate(sockets):
                sock.sendall(f"c{index} {seq}\n".encode())
    finally:
        for sock in sockets:
            sock.close()
    records = backend.wait_logs(90)
    for index in range(3):
        mine = [r["message"] for r in records if r["message"].startswith(f"c{index} ")]
        assert mine == [f"c{index} {seq}" for seq in range(30)]


def test_log_bounds_drop_and_report(start_backend) -> None:
    backend = start_backend(["--max-log-records", "5"])
    send_tcp(backend.ports["syslog"], b"".join(f"line {i}\n".encode() for i in range(8)))
    deadline = time.monotonic() + 10
    page = backend.logs()
    while page["dropped"]["records"] < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
        page = backend.logs()
    assert page["total"] == 5
    assert page["dropped"]["records"] == 3
    assert page["bounds"]["records"] == 5
    assert [r["message"] for r in page["records"]] == [f"line {i}" for i in range(5)]
    assert backend.logs(3)["records"][0]["index"] == 3
