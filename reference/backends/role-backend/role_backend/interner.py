"""Shares equal small dicts between records: a million log records that carry the same
syslog header fields or OTLP attributes then cost one dict, not a million."""

from __future__ import annotations

from typing import Any

import orjson


class Interner:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._max_entries = max_entries
        self._entries: dict[bytes, dict[str, Any]] = {}

    def intern(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if not value:
            return None
        key = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        shared = self._entries.get(key)
        if shared is not None:
            return shared
        # Past the bound, values are kept unshared: correct, only bigger.
        if len(self._entries) < self._max_entries:
            self._entries[key] = value
        return value
