"""What the logs role's checks drive and read: extra lines on demand (burst), rotation of the
access-log file, its state, and a last line at shutdown. Lines written here share the
access log's sequence numbers and sink (run field included), so a shipper sees one stream.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from . import jsonio
from .access_log import AccessLogMiddleware, LineSink
from .errors import bad_request
from .log_file import ROTATE_MODES, AccessLogFile, RotateMode

MAX_BURST_LINES = 1_000_000
MAX_PAD_BYTES = 4 * 1024 * 1024
MAX_GAP_MS = 10_000
MAX_BURST_BYTES = 1 << 30  # lines x pad_bytes: a burst never fills a disk by a typo
MAX_BURST_MS = 600_000  # lines x gap_ms: a burst ends within ten minutes
_PAD_CHAR = "x"  # one byte in UTF-8: the padding is exact


class LogControl:
    def __init__(self, access_log: AccessLogMiddleware, sink: LineSink, log_file: AccessLogFile | None, run_id: str):
        self._access_log = access_log
        self._sink = sink
        self.file = log_file
        self.run_id = run_id

    def _next_seq(self) -> int:
        # The middleware's counter: burst and shutdown lines are numbered in the same sequence.
        self._access_log.seq += 1
        return self._access_log.seq

    def state(self) -> dict[str, object]:
        return {
            "file": None if self.file is None else self.file.path,
            "run": self.run_id or None,
            "last_seq": self._access_log.seq,  # the line of the request asking is written after it
            "rotations": 0 if self.file is None else self.file.rotations,
        }

    def rotate(self, mode: RotateMode) -> int:
        """Rotates and answers the seq of the last line before the split. No await between
        the read and the rotation: no line of this process can come in between."""
        assert self.file is not None
        last_seq_before = self._access_log.seq
        self.file.rotate(mode)
        return last_seq_before

    async def burst(self, lines: int, msg: str, pad_bytes: int, gap_ms: int) -> tuple[int, int]:
        """Writes `lines` burst lines of >= pad_bytes bytes each (newline excluded), yielding to
        the event loop between lines so requests (a rotation, say) are served mid-burst:
        their lines then fall inside [first_seq, last_seq] as well."""
        first_seq = 0
        seq = 0
        for index in range(lines):
            if index:
                await asyncio.sleep(gap_ms / 1000.0)  # sleep(0) when gap_ms is 0: a yield
            seq = self._next_seq()
            first_seq = first_seq or seq
            record = {"ts": _now(), "seq": seq, "event": "burst", "msg": msg, "pad": ""}
            line = jsonio.dumps(record)
            if len(line) < pad_bytes:
                record["pad"] = _PAD_CHAR * (pad_bytes - len(line))
                line = jsonio.dumps(record)
            self._sink(line + b"\n")
        return first_seq, seq

    def write_shutdown_line(self) -> None:
        self._sink(jsonio.dumps({"ts": _now(), "seq": self._next_seq(), "event": "shutdown"}) + b"\n")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def parse_rotate(body: bytes) -> RotateMode:
    request = _json_object(body)
    mode = request.get("mode")
    if mode not in ROTATE_MODES:
        raise bad_request(f"mode={mode!r}: expected one of {', '.join(ROTATE_MODES)}")
    return mode


def parse_burst(body: bytes) -> tuple[int, str, int, int]:
    """(lines, msg, pad_bytes, gap_ms) from {"lines", "msg", "pad_bytes", "gap_ms"}."""
    request = _json_object(body)
    lines = _bounded(request, "lines", 1, MAX_BURST_LINES, None)
    msg = request.get("msg", "")
    if not isinstance(msg, str):
        raise bad_request("msg: expected a string")
    pad_bytes = _bounded(request, "pad_bytes", 0, MAX_PAD_BYTES, 0)
    gap_ms = _bounded(request, "gap_ms", 0, MAX_GAP_MS, 0)
    if lines * pad_bytes > MAX_BURST_BYTES:
        raise bad_request(f"lines x pad_bytes = {lines * pad_bytes}: expected at most {MAX_BURST_BYTES}")
    if lines * gap_ms > MAX_BURST_MS:
        raise bad_request(f"lines x gap_ms = {lines * gap_ms}: expected at most {MAX_BURST_MS}")
    return lines, msg, pad_bytes, gap_ms


def _json_object(body: bytes) -> dict[str, object]:
    try:
        value = jsonio.loads(body or b"{}")
    except jsonio.JSONDecodeError as error:
        raise bad_request(f"request body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise bad_request("request body: expected a JSON object")
    return value


def _bounded(request: dict[str, object], key: str, minimum: int, maximum: int, default: int | None) -> int:
    value = request.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise bad_request(f"{key}={value!r}: expected an integer from {minimum} to {maximum}")
    return value
