"""Log records in arrival order, whichever way they came (syslog or OTLP).

Bounded: past `max_records` records or `max_text_bytes` bytes of message text, new records
are not stored but counted as dropped, so a check can tell "lost by the sidecar" from
"not kept by the fixture". Indexes are arrival positions and never change, so a check
pages with `?from=<index>` and never sees a record twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .clock import now_ms

# A page of /logs stops after this much message text (it always holds at least one record).
PAGE_TEXT_BYTES = 16 * 1024 * 1024
PAGE_RECORDS_DEFAULT = 10_000
PAGE_RECORDS_MAX = 100_000


@dataclass
class LogStore:
    max_records: int
    max_text_bytes: int
    # (via, message, received_ms, extra or None): tuples, not dicts, since a million of them
    # must fit in a few hundred MiB.
    _records: list[tuple[str, str, float, dict[str, Any] | None]] = field(default_factory=list)
    text_bytes: int = 0
    dropped_records: int = 0
    dropped_text_bytes: int = 0

    def add(self, via: str, message: str, extra: dict[str, Any] | None = None) -> int | None:
        """Stores one record; returns its index, or None when it was dropped by the bounds."""
        size = len(message.encode("utf-8", "surrogatepass"))
        if len(self._records) >= self.max_records or self.text_bytes + size > self.max_text_bytes:
            self.dropped_records += 1
            self.dropped_text_bytes += size
            return None
        self._records.append((via, message, now_ms(), extra))
        self.text_bytes += size
        return len(self._records) - 1

    @property
    def stored(self) -> int:
        return len(self._records)

    def page(self, start: int, limit: int = PAGE_RECORDS_DEFAULT) -> dict[str, Any]:
        start = max(0, start)
        limit = max(1, min(limit, PAGE_RECORDS_MAX))
        records: list[dict[str, Any]] = []
        text = 0
        index = start
        while index < len(self._records) and len(records) < limit:
            via, message, received_ms, extra = self._records[index]
            if records and text + len(message) > PAGE_TEXT_BYTES:
                break
            record: dict[str, Any] = {"index": index, "via": via, "message": message, "received_ms": received_ms}
            if extra:
                record.update(extra)
            records.append(record)
            text += len(message)
            index += 1
        return {
            "records": records,
            "from": start,
            "next": index,
            # Every record stored so far; `next < total` means another page is waiting.
            "total": len(self._records),
            "dropped": {"records": self.dropped_records, "text_bytes": self.dropped_text_bytes},
            "bounds": {"records": self.max_records, "text_bytes": self.max_text_bytes},
        }
