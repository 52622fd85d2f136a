"""Syslog over TCP framing (RFC 6587), detected once per connection from its first bytes:
octet counting ("<MSG-LEN> SP <SYSLOG-MSG>", what rsyslog's omfwd sends with
TCP_Framing="octet-counted") when the stream starts with a non-zero digit run followed by
a space; otherwise non-transparent framing with LF as the trailer (omfwd's default
"traditional" framing, which appends an LF unless the message already ends with one).

A frame longer than `max_frame_bytes` is skipped and counted, never split into two."""

from __future__ import annotations

from dataclasses import dataclass, field

OCTET_COUNTING = "octet-counting"
LF = "lf"
# MSG-LEN has at most this many digits (well past any max_frame_bytes).
_MAX_LEN_DIGITS = 10


class FramingError(Exception):
    pass


@dataclass
class SyslogFramer:
    max_frame_bytes: int
    mode: str | None = None
    oversize_frames: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    # LF mode: where the search for the next LF resumes (long lines arrive in many reads).
    _scan_from: int = 0
    # Bytes of an oversize frame still to throw away (octet counting), or True while
    # discarding up to the next LF (LF mode).
    _skip_bytes: int = 0
    _skip_line: bool = False

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        if self.mode is None and not self._detect():
            return []
        return self._octet_frames() if self.mode == OCTET_COUNTING else self._lf_frames()

    def finish(self) -> bytes | None:
        """At the end of the stream: the bytes of an incomplete last frame, if any."""
        if self._skip_bytes or self._skip_line or not self._buffer:
            return None
        if self.mode == OCTET_COUNTING:
            header_end = self._buffer.find(b" ")
            return bytes(self._buffer[header_end + 1:]) if header_end >= 0 else None
        return bytes(self._buffer)

    def _detect(self) -> bool:
        digits = 0
        while digits < len(self._buffer) and 0x30 <= self._buffer[digits] <= 0x39:
            digits += 1
        if digits == len(self._buffer) and digits <= _MAX_LEN_DIGITS and (digits == 0 or self._buffer[0] != 0x30):
            return False  # only digits so far (or nothing): wait for the byte that decides
        octet = 0 < digits <= _MAX_LEN_DIGITS and self._buffer[0] != 0x30 and self._buffer[digits] == 0x20
        self.mode = OCTET_COUNTING if octet else LF
        return True

    def _octet_frames(self) -> list[bytes]:
        frames: list[bytes] = []
        while True:
            if self._skip_bytes:
                dropped = min(self._skip_bytes, len(self._buffer))
                del self._buffer[:dropped]
                self._skip_bytes -= dropped
                if self._skip_bytes:
                    return frames
            space = self._buffer.find(b" ", 0, _MAX_LEN_DIGITS + 1)
            if space < 0:
                if len(self._buffer) > _MAX_LEN_DIGITS or not self._buffer.isdigit() and self._buffer:
                    raise FramingError(f"octet counting: expected MSG-LEN SP, got {bytes(self._buffer[:16])!r}")
                return frames
            length_text = bytes(self._buffer[:space])
            if not length_text.isdigit() or length_text.startswith(b"0"):
                raise FramingError(f"octet counting: MSG-LEN {length_text[:16]!r} is not a positive number")
            length = int(length_text)
            if length > self.max_frame_bytes:
                self.oversize_frames += 1
                del self._buffer[:space + 1]
                self._skip_bytes = length
                continue
            if len(self._buffer) < space + 1 + length:
                return frames
            frame = bytes(self._buffer[space + 1:space + 1 + length])
            del self._buffer[:space + 1 + length]
            # A template ending in "\n" (e.g. RSYSLOG_SyslogProtocol23Format) puts the LF inside
            # the counted frame; it is the template's line end, not part of the message.
            frames.append(frame[:-1] if frame.endswith(b"\n") else frame)

    def _lf_frames(self) -> list[bytes]:
        frames: list[bytes] = []
        start = 0
        while True:
            end = self._buffer.find(b"\n", max(start, self._scan_from))
            if end < 0:
                break
            if self._skip_line:
                self._skip_line = False
            else:
                frames.append(bytes(self._buffer[start:end]))
            start = end + 1
            self._scan_from = start
        del self._buffer[:start]
        self._scan_from = len(self._buffer)
        if len(self._buffer) > self.max_frame_bytes:
            if not self._skip_line:
                self.oversize_frames += 1
            self._skip_line = True
            self._buffer.clear()
            self._scan_from = 0
        return frames
