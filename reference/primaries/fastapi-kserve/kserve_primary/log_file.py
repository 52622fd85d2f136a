"""The access log as a file a log-shipping sidecar tails (PRIMARY_ACCESS_LOG_FILE), rotatable
the two ways logrotate does it: rename + create, and copytruncate.

One os.write per line on an O_APPEND descriptor: a tailer never sees half a line written
by us, and after a copytruncate the next line lands at offset 0 rather than past a hole.
Writes and rotations hold one lock: a line is never written between the copy and the
truncate (it would be lost) nor to a descriptor being swapped. All writers run on the
event loop today; the lock keeps that true for a writer on a worker thread tomorrow.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from typing import Literal

from .config import ConfigError

RotateMode = Literal["rename", "copytruncate"]
ROTATE_MODES: tuple[RotateMode, ...] = ("rename", "copytruncate")
KEEP_ROTATED = 3  # access.log.1 .. access.log.3, as logrotate's `rotate 3`
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
_MODE = 0o644  # readable by a sidecar running as another user


class AccessLogFile:
    def __init__(self, path: str) -> None:
        self.path = path
        self.rotations = 0
        self.write_errors = 0
        self._lock = threading.Lock()
        try:
            self._fd = os.open(path, _FLAGS, _MODE)
        except OSError as error:
            raise ConfigError(
                f"PRIMARY_ACCESS_LOG_FILE={path!r}: cannot open for appending: {error.strerror}"
            ) from None

    def write(self, line: bytes) -> None:
        with self._lock:
            try:
                view = memoryview(line)
                while view:  # a regular file takes it whole unless the disk is full
                    view = view[os.write(self._fd, view) :]
            except OSError as error:
                # A full disk must not fail requests; the first failure is said once on stderr.
                self.write_errors += 1
                if self.write_errors == 1:
                    print(f"access log {self.path}: write failed: {error.strerror}", file=sys.stderr, flush=True)

    def rotate(self, mode: RotateMode) -> None:
        """Rotates the file now. The caller reads the last seq written before it under the
        same event-loop turn, so the split point it reports is exact."""
        with self._lock:
            self._shift_rotated()
            first = f"{self.path}.1"
            if mode == "rename":
                os.rename(self.path, first)
                fd = os.open(self.path, _FLAGS, _MODE)
                os.close(self._fd)
                self._fd = fd
            else:
                # copyfile uses sendfile(2): a 100 MiB log copies in a fraction of a second.
                shutil.copyfile(self.path, first)
                os.ftruncate(self._fd, 0)
            self.rotations += 1

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _shift_rotated(self) -> None:
        # access.log.2 -> .3 (the old .3 is dropped), .1 -> .2
        for index in range(KEEP_ROTATED - 1, 0, -1):
            older = f"{self.path}.{index}"
            if os.path.exists(older):
                os.replace(older, f"{self.path}.{index + 1}")
