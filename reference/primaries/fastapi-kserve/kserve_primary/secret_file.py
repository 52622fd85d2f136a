"""The API key the primary reads from a file a secrets sidecar renders (PRIMARY_API_KEY_FILE).

The file is polled (stat every 100 ms: inode, mtime, size, mode) rather than watched with
inotify: a Kubernetes secret volume swaps a symlink, consul-template renames a temp file,
and a plain stat of the path sees all of them. The value itself is kept in memory only:
what this module shows is a sha256, and no message it writes contains the value (reads
hash bytes; nothing is ever decoded or formatted from them).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import sys
import time
from dataclasses import dataclass

POLL_INTERVAL_S = 0.1
MAX_CHANGES = 1000  # the most recent changes are kept; older ones are dropped

StatKey = tuple[int, int, int, int]  # (st_ino, st_mtime_ns, st_size, st_mode)


@dataclass(frozen=True)
class SecretState:
    exists: bool
    mode: str | None  # "0400": the permission bits, four octal digits
    sha256: str | None  # of the value with one trailing "\n" stripped; None when absent or unreadable

    def to_json(self) -> dict[str, object]:
        return {"exists": self.exists, "mode": self.mode, "sha256": self.sha256}


ABSENT = SecretState(exists=False, mode=None, sha256=None)


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


class SecretFile:
    """Loads the file at construction (the state at startup) and on every change seen by poll()."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.loads = 0
        self.changes: list[dict[str, object]] = []
        self._value: bytes | None = None  # the key; never shown, logged or put in a message
        self._key = self._stat_key()
        self.current = self._read()
        self.at_startup = self.current

    def __repr__(self) -> str:  # no value, whatever formats this object
        return f"SecretFile(path={self.path!r}, current={self.current!r})"

    def poll(self) -> None:
        key = self._stat_key()
        if key == self._key:
            return
        self._key = key
        state = self._read() if key is not None else ABSENT
        if key is None:
            self._value = None
        if (state.exists, state.sha256) != (self.current.exists, self.current.sha256):
            self.changes.append({"at_ms": epoch_ms(), "sha256": state.sha256})
            del self.changes[:-MAX_CHANGES]
        self.current = state

    async def run(self) -> None:
        """Polls until cancelled (the app's lifespan)."""
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            self.poll()

    def report(self) -> dict[str, object]:
        return {
            "at_startup": self.at_startup.to_json(),
            "current": self.current.to_json(),
            "loads": self.loads,
            "changes": list(self.changes),
        }

    def _stat_key(self) -> StatKey | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode)

    def _read(self) -> SecretState:
        try:
            with open(self.path, "rb") as file:
                mode = f"{stat.S_IMODE(os.fstat(file.fileno()).st_mode):04o}"
                data = file.read()
        except FileNotFoundError:
            self._value = None
            return ABSENT
        except OSError as error:
            # strerror and the path only: an OSError never carries file content.
            print(f"PRIMARY_API_KEY_FILE {self.path}: cannot read: {error.strerror}", file=sys.stderr, flush=True)
            self._value = None
            return SecretState(exists=True, mode=self._mode_of_path(), sha256=None)
        value = data[:-1] if data.endswith(b"\n") else data
        self._value = value
        self.loads += 1
        return SecretState(exists=True, mode=mode, sha256=hashlib.sha256(value).hexdigest())

    def _mode_of_path(self) -> str | None:
        try:
            return f"{stat.S_IMODE(os.stat(self.path).st_mode):04o}"
        except OSError:
            return None
