"""An in-memory KV version 2 secrets store (Vault's "kv" engine, version 2): versioned
secrets per path, check-and-set writes, and a record of every read (time, path, version
served) — never of the values."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .clock import now_ms

MAX_READS_KEPT = 100_000


def vault_time() -> str:
    """Vault's timestamp format: RFC 3339 in UTC with a Z."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class CasMismatch(Exception):
    pass


@dataclass
class Version:
    data: dict[str, Any]
    created_time: str
    number: int

    def metadata(self) -> dict[str, Any]:
        return {"created_time": self.created_time, "custom_metadata": None, "deletion_time": "",
                "destroyed": False, "version": self.number}


@dataclass
class Secret:
    created_time: str
    updated_time: str
    versions: list[Version] = field(default_factory=list)

    @property
    def current(self) -> Version:
        return self.versions[-1]


@dataclass
class KvStore:
    secrets: dict[str, Secret] = field(default_factory=dict)
    reads: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_READS_KEPT))
    read_count: int = 0

    @staticmethod
    def normalize(path: str) -> str:
        return path.strip("/")

    def write(self, path: str, data: dict[str, Any], cas: int | None = None) -> Version:
        path = self.normalize(path)
        secret = self.secrets.get(path)
        current = len(secret.versions) if secret else 0
        if cas is not None and cas != current:
            raise CasMismatch("check-and-set parameter did not match the current version")
        now = vault_time()
        if secret is None:
            secret = self.secrets[path] = Secret(created_time=now, updated_time=now)
        version = Version(dict(data), now, current + 1)
        secret.versions.append(version)
        secret.updated_time = now
        return version

    def read(self, path: str, version: int | None = None, kind: str = "data") -> Version | None:
        path = self.normalize(path)
        secret = self.secrets.get(path)
        found: Version | None = None
        if secret is not None:
            if version is None or version == 0:
                found = secret.current
            elif 1 <= version <= len(secret.versions):
                found = secret.versions[version - 1]
        self.read_count += 1
        self.reads.append({"at_ms": now_ms(), "path": path, "kind": kind,
                           "version": found.number if found else None, "found": found is not None})
        return found

    def metadata(self, path: str) -> dict[str, Any] | None:
        path = self.normalize(path)
        secret = self.secrets.get(path)
        self.read_count += 1
        self.reads.append({"at_ms": now_ms(), "path": path, "kind": "metadata",
                           "version": secret.current.number if secret else None, "found": secret is not None})
        if secret is None:
            return None
        return {
            "cas_required": False,
            "created_time": secret.created_time,
            "current_version": secret.current.number,
            "custom_metadata": None,
            "delete_version_after": "0s",
            "max_versions": 0,
            "oldest_version": 1,
            "updated_time": secret.updated_time,
            "versions": {str(v.number): {"created_time": v.created_time, "deletion_time": "", "destroyed": False}
                         for v in secret.versions},
        }

    def list_keys(self, prefix: str) -> list[str]:
        """Vault's LIST: the next path segment under `prefix`, folders with a trailing slash."""
        prefix = self.normalize(prefix)
        prefix = f"{prefix}/" if prefix else ""
        keys: set[str] = set()
        for path in self.secrets:
            if path.startswith(prefix):
                head, slash, _ = path[len(prefix):].partition("/")
                keys.add(head + slash)
        return sorted(keys)

    def reads_json(self) -> dict[str, Any]:
        return {"reads": list(self.reads), "count": self.read_count, "kept": len(self.reads),
                "bound": MAX_READS_KEPT}
