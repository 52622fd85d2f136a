"""The Vault-compatible KV v2 store: the calls consul-template and Vault Agent make."""

from __future__ import annotations

import json

from conftest import TOKEN, Backend

SEED = {"sidecar-bench/primary": {"api_key": "seeded-secret-91c2"}}


def test_health_needs_no_token_and_says_unsealed(backend: Backend) -> None:
    result = backend.vault("GET", "/v1/sys/health", token=None)
    assert result.status == 200
    assert (result.json()["initialized"], result.json()["sealed"]) == (True, False)
    assert backend.vault("HEAD", "/v1/sys/health", token=None).status == 200


def test_every_other_call_needs_the_store_token(backend: Backend) -> None:
    for method, path in (("GET", "/v1/secret/data/a"), ("PUT", "/v1/secret/data/a"), ("GET", "/v1/secret/metadata/a"),
                         ("GET", "/v1/auth/token/lookup-self"), ("GET", "/v1/sys/internal/ui/mounts/secret/a")):
        for token in (None, "wrong", TOKEN + "x"):
            result = backend.vault(method, path, {"data": {"k": "v"}} if method == "PUT" else None, token=token)
            assert result.status == 403, (method, path, token)
            assert result.json() == {"errors": ["permission denied"]}
    bearer = backend.request("vault", "GET", "/v1/auth/token/lookup-self", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status == 200


def test_mount_probe_says_kv_version_2_at_secret(backend: Backend) -> None:
    result = backend.vault("GET", "/v1/sys/internal/ui/mounts/secret/sidecar-bench/primary")
    assert result.status == 200
    data = result.json()["data"]
    # What consul-template's KV v2 detection reads: data.options.version == "2" and data.path.
    assert (data["type"], data["options"], data["path"]) == ("kv", {"version": "2"}, "secret/")
    assert backend.vault("GET", "/v1/sys/internal/ui/mounts/other/x").status == 400


def test_token_lookup_is_not_renewable_and_has_no_ttl(backend: Backend) -> None:
    data = backend.vault("GET", "/v1/auth/token/lookup-self").json()["data"]
    assert (data["renewable"], data["ttl"], data["expire_time"]) == (False, 0, None)
    assert backend.vault("POST", "/v1/auth/token/renew-self").status == 400


def test_seeded_secret_versions_writes_and_metadata(start_backend) -> None:
    backend = start_backend(env={"STORE_SEED": json.dumps(SEED)})
    first = backend.vault("GET", "/v1/secret/data/sidecar-bench/primary")
    assert first.status == 200
    body = first.json()
    assert body["data"]["data"] == {"api_key": "seeded-secret-91c2"}
    assert body["data"]["metadata"]["version"] == 1
    assert (body["lease_duration"], body["renewable"]) == (0, False)

    written = backend.vault("PUT", "/v1/secret/data/sidecar-bench/primary", {"data": {"api_key": "rotated-2"}})
    assert written.status == 200
    assert written.json()["data"]["version"] == 2
    posted = backend.vault("POST", "/v1/secret/data/sidecar-bench/primary",
                           {"data": {"api_key": "rotated-3"}, "options": {"cas": 2}})
    assert posted.json()["data"]["version"] == 3
    stale = backend.vault("POST", "/v1/secret/data/sidecar-bench/primary",
                          {"data": {"api_key": "lost"}, "options": {"cas": 1}})
    assert stale.status == 400

    assert backend.vault("GET", "/v1/secret/data/sidecar-bench/primary").json()["data"]["data"]["api_key"] == "rotated-3"
    old = backend.vault("GET", "/v1/secret/data/sidecar-bench/primary?version=1").json()["data"]
    assert (old["data"]["api_key"], old["metadata"]["version"]) == ("seeded-secret-91c2", 1)
    assert backend.vault("GET", "/v1/secret/data/sidecar-bench/primary?version=9").status == 404
    missing = backend.vault("GET", "/v1/secret/data/nope")
    assert (missing.status, missing.json()) == (404, {"errors": []})

    metadata = backend.vault("GET", "/v1/secret/metadata/sidecar-bench/primary").json()["data"]
    assert metadata["current_version"] == 3
    assert sorted(metadata["versions"]) == ["1", "2", "3"]
    listing = backend.vault("LIST", "/v1/secret/metadata/sidecar-bench")
    assert listing.json()["data"]["keys"] == ["primary"]
    assert backend.vault("GET", "/v1/secret/metadata/?list=true").json()["data"]["keys"] == ["sidecar-bench/"]

    reads = backend.control("/vault/reads")
    data_reads = [r for r in reads["reads"] if r["kind"] == "data"]
    assert [(r["path"], r["version"]) for r in data_reads] == [
        ("sidecar-bench/primary", 1), ("sidecar-bench/primary", 3), ("sidecar-bench/primary", 1),
        ("sidecar-bench/primary", None), ("nope", None)]
    assert all(r["at_ms"] > 0 for r in reads["reads"])
    assert reads["count"] == len(reads["reads"])
    requests = backend.control("/vault/requests")["requests"]
    assert requests[0] == {**requests[0], "method": "GET", "path": "/v1/secret/data/sidecar-bench/primary", "status": 200}

    # Neither the secret values nor the token reach the backend's own output.
    assert backend.stop() == 0
    output = backend.output()
    for secret in ("seeded-secret-91c2", "rotated-2", "rotated-3", TOKEN):
        assert secret not in output


def test_bad_writes_are_refused(backend: Backend) -> None:
    assert backend.vault("PUT", "/v1/secret/data/a", {"nodata": 1}).status == 400
    assert backend.request("vault", "PUT", "/v1/secret/data/a", b"{oops",
                           {"X-Vault-Token": TOKEN, "Content-Type": "application/json"}).status == 400
    assert backend.vault("GET", "/v1/secret/data/a").status == 404


def test_bad_seed_and_missing_token_stop_startup_with_the_field_named(start_backend) -> None:
    for env, expected in (({"STORE_SEED": "{bad"}, "STORE_SEED"), ({"STORE_SEED": '{"p": "v"}'}, "STORE_SEED"),
                          ({"STORE_TOKEN": ""}, "STORE_TOKEN")):
        try:
            start_backend(env=env)
        except RuntimeError as error:
            assert expected in str(error)
        else:
            raise AssertionError(f"backend started with {env}")
