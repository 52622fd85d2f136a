"""The syslog/TCP receiver: frames (syslog_framing), headers off (syslog_header), MSG into
the LogStore as text exactly as sent (UTF-8; invalid bytes replaced and flagged)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any

from .interner import Interner
from .listener import Listener, reset
from .log_store import LogStore
from .syslog_framing import FramingError, SyslogFramer
from .syslog_header import parse_frame

READ_BYTES = 256 * 1024


@dataclass
class SyslogCounts:
    connections: int = 0
    frames: int = 0
    oversize_frames: int = 0
    framing_errors: int = 0
    # An incomplete last frame when the client closed: stored, flagged "partial".
    partial_frames: int = 0
    # Incomplete frames cut by our own `down`: not stored (the client was reset).
    cut_by_down: int = 0
    invalid_utf8: int = 0


class SyslogListener(Listener):
    def __init__(self, host: str, port: int, logs: LogStore, max_frame_bytes: int) -> None:
        super().__init__("syslog", host, port)
        self.logs = logs
        self.max_frame_bytes = max_frame_bytes
        self.counts = SyslogCounts()
        self._writers: set[asyncio.StreamWriter] = set()
        self._interner = Interner()

    async def _serve(self, sock: socket.socket) -> asyncio.base_events.Server:
        return await asyncio.start_server(self._connection, sock=sock)

    def _abort_connections(self) -> None:
        for writer in list(self._writers):
            reset(writer.transport)

    def _store(self, frame: bytes, framing: str, partial: bool = False) -> None:
        parsed = parse_frame(frame)
        try:
            text = parsed.msg.decode("utf-8")
            invalid = False
        except UnicodeDecodeError:
            text = parsed.msg.decode("utf-8", "replace")
            invalid = True
            self.counts.invalid_utf8 += 1
        syslog: dict[str, Any] = {"framing": framing, "header": parsed.header}
        if parsed.pri is not None:
            syslog["pri"] = parsed.pri
        if parsed.hostname is not None:
            syslog["hostname"] = parsed.hostname
        if parsed.app_name is not None:
            syslog["app_name"] = parsed.app_name
        extra: dict[str, Any] = {"syslog": syslog}
        if partial:
            extra["partial"] = True
        if invalid:
            extra["invalid_utf8"] = True
        self.counts.frames += 1
        self.logs.add("syslog", text, self._interner.intern(extra))

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        generation = self.generation
        self._writers.add(writer)
        self.counts.connections += 1
        framer = SyslogFramer(self.max_frame_bytes)
        try:
            while True:
                if not await self.pause(generation):
                    break
                try:
                    data = await reader.read(READ_BYTES)
                except ConnectionError:
                    break
                if not data or generation != self.generation:
                    break
                before = framer.oversize_frames
                try:
                    frames = framer.feed(data)
                except FramingError:
                    self.counts.framing_errors += 1
                    writer.transport.abort()  # no way to find the next frame: drop the connection
                    return
                self.counts.oversize_frames += framer.oversize_frames - before
                for frame in frames:
                    self._store(frame, framer.mode or "")
            rest = framer.finish()
            if rest is not None:
                if generation == self.generation:
                    self.counts.partial_frames += 1
                    self._store(rest, framer.mode or "", partial=True)
                else:
                    self.counts.cut_by_down += 1
        finally:
            self._writers.discard(writer)
            if generation != self.generation:
                reset(writer.transport)
            else:
                writer.close()

    def stats(self) -> dict[str, Any]:
        return {**self.counts.__dict__, "open_connections": len(self._writers), "max_frame_bytes": self.max_frame_bytes}
