"""The Vault-compatible HTTP API over KvStore: what consul-template and Vault Agent call
for a KV v2 secret.

- GET|HEAD /v1/sys/health (no token, as in Vault)
- GET /v1/sys/internal/ui/mounts/<path>: mount "secret/", type kv, options.version "2";
  consul-template probes this to learn that the mount is KV v2 and where it is mounted
- GET /v1/auth/token/lookup-self: a non-renewable token without TTL (so clients do not
  try to renew it); POST /v1/auth/token/renew-self answers that it is not renewable
- GET /v1/secret/data/<path>[?version=N]; PUT|POST /v1/secret/data/<path> {"data": {...},
  "options": {"cas": N}}; GET /v1/secret/metadata/<path>; LIST (or GET ?list=true)

Every call but health needs X-Vault-Token (or Authorization: Bearer) equal to the store's
token, else 403 {"errors":["permission denied"]}. Neither values nor the token are logged."""

from __future__ import annotations

import hmac
import json
import uuid
from collections import deque
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .clock import now_ms
from .kv_store import CasMismatch, KvStore, vault_time

MOUNT = "secret"
MAX_REQUESTS_KEPT = 10_000
# What the store says it is in sys/health; consul-template and Vault Agent only need a 200.
VERSION = "1.15.0+sidecar-bench-reference"


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _errors(status: int, *messages: str) -> Response:
    return _json(status, {"errors": list(messages)})


def _envelope(data: Any) -> dict[str, Any]:
    return {"request_id": str(uuid.uuid4()), "lease_id": "", "renewable": False, "lease_duration": 0,
            "data": data, "wrap_info": None, "warnings": None, "auth": None, "mount_type": "kv"}


def _mount_info() -> dict[str, Any]:
    return {"accessor": "kv_sidecar_bench", "config": {"default_lease_ttl": 0, "force_no_cache": False,
            "max_lease_ttl": 0}, "description": "key/value secret storage (sidecar-bench reference backend)",
            "external_entropy_access": False, "local": False, "options": {"version": "2"},
            "path": f"{MOUNT}/", "plugin_version": "", "running_plugin_version": "", "running_sha256": "",
            "seal_wrap": False, "type": "kv", "uuid": "00000000-0000-4000-8000-000000000002"}


class VaultApi:
    def __init__(self, store: KvStore, token: str) -> None:
        self.store = store
        self._token = token.encode("utf-8")
        self._started = vault_time()
        self.requests: deque[dict[str, Any]] = deque(maxlen=MAX_REQUESTS_KEPT)

    def _authorized(self, request: Request) -> bool:
        offered = request.headers.get("x-vault-token")
        if offered is None:
            authorization = request.headers.get("authorization", "")
            if authorization.lower().startswith("bearer "):
                offered = authorization[7:].strip()
        return offered is not None and hmac.compare_digest(offered.encode("utf-8"), self._token)

    async def handle(self, request: Request, path: str) -> Response:
        method = request.method.upper()
        response = await self._route(request, method, path.strip("/"))
        # The path only (a secret's name is no secret); never headers or bodies.
        self.requests.append({"at_ms": now_ms(), "method": method, "path": f"/v1/{path}",
                              "status": response.status_code})
        return response

    async def _route(self, request: Request, method: str, path: str) -> Response:
        if path == "sys/health" and method in ("GET", "HEAD"):
            return self._health()
        if not self._authorized(request):
            return _errors(403, "permission denied")
        if path == "sys/internal/ui/mounts" and method == "GET":
            return _json(200, _envelope({"auth": {"token/": {"type": "token", "options": None}},
                                         "secret": {f"{MOUNT}/": _mount_info()}}))
        if path.startswith("sys/internal/ui/mounts/") and method == "GET":
            target = path[len("sys/internal/ui/mounts/"):].strip("/")
            if target == MOUNT or target.startswith(f"{MOUNT}/"):
                return _json(200, _envelope(_mount_info()))
            return _errors(400, f"no mount found for path {target!r}")
        if path == "auth/token/lookup-self" and method in ("GET", "POST"):
            return _json(200, _envelope(self._token_info()))
        if path == "auth/token/renew-self" and method in ("POST", "PUT"):
            # What Vault answers for a root-like token without a lease; consul-template (renew_token
            # on by default) calls this first and logs a WARN, as it does against a Vault dev server.
            return _errors(400, "lease not found or lease is not renewable")
        if path.startswith(f"{MOUNT}/data/"):
            return await self._data(request, method, path[len(f"{MOUNT}/data/"):])
        if path == f"{MOUNT}/metadata" or path.startswith(f"{MOUNT}/metadata/"):
            return self._metadata(request, method, path[len(f"{MOUNT}/metadata"):])
        return _errors(404, f"no handler for route {path!r}")

    def _health(self) -> Response:
        return _json(200, {"initialized": True, "sealed": False, "standby": False, "performance_standby": False,
                           "replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
                           "server_time_utc": int(now_ms() // 1000), "version": VERSION,
                           "cluster_name": "sidecar-bench-reference",
                           "cluster_id": "00000000-0000-4000-8000-000000000001"})

    def _token_info(self) -> dict[str, Any]:
        return {"accessor": "sidecar-bench-reference-accessor", "creation_time": 0, "creation_ttl": 0,
                "display_name": "token", "entity_id": "", "expire_time": None, "explicit_max_ttl": 0,
                # Vault answers a token's own lookup with its id; this goes to its holder only.
                "id": self._token.decode("utf-8"), "issue_time": self._started, "meta": None, "num_uses": 0,
                "orphan": True, "path": "auth/token/create", "policies": ["root"], "renewable": False,
                "ttl": 0, "type": "service"}

    async def _data(self, request: Request, method: str, path: str) -> Response:
        if not path.strip("/"):
            return _errors(404, "no handler for route")
        if method == "GET":
            raw_version = request.query_params.get("version")
            try:
                version = int(raw_version) if raw_version not in (None, "") else None
            except ValueError:
                return _errors(400, f"version {raw_version!r} is not an integer")
            found = self.store.read(path, version)
            if found is None:
                return _errors(404)
            return _json(200, _envelope({"data": found.data, "metadata": found.metadata()}))
        if method in ("PUT", "POST"):
            try:
                body = json.loads(await request.body() or b"{}")
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                return _errors(400, f"body is not JSON: {error}")
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, dict):
                return _errors(400, "no data provided")
            options = body.get("options") or {}
            cas = options.get("cas") if isinstance(options, dict) else None
            if cas is not None and not isinstance(cas, int):
                return _errors(400, "options.cas must be an integer")
            try:
                version = self.store.write(path, data, cas)
            except CasMismatch as error:
                return _errors(400, str(error))
            return _json(200, _envelope(version.metadata()))
        return _errors(405, f"{method} is not supported on {MOUNT}/data/")

    def _metadata(self, request: Request, method: str, path: str) -> Response:
        listing = method == "LIST" or request.query_params.get("list") == "true"
        if listing:
            keys = self.store.list_keys(path)
            return _json(200, _envelope({"keys": keys})) if keys else _errors(404)
        if method != "GET":
            return _errors(405, f"{method} is not supported on {MOUNT}/metadata/")
        metadata = self.store.metadata(path)
        return _json(200, _envelope(metadata)) if metadata is not None else _errors(404)


def create_vault_app(api: VaultApi) -> Starlette:
    async def handler(request: Request) -> Response:
        return await api.handle(request, request.path_params["path"])

    return Starlette(routes=[Route("/v1/{path:path}", handler, methods=["GET", "HEAD", "PUT", "POST", "LIST", "DELETE"])])
