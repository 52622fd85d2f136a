"""python -m role_backend --otlp P --syslog P --vault P --control P [--host H]

Binds all four listeners, then prints one line `ready {"otlp": P, ...}` (the ports actually
bound, so port 0 works) and serves until SIGTERM or SIGINT; then the data listeners close at
once and the control port lingers while it is being read (shutdown.py). Env: STORE_TOKEN (required:
the token the KV store accepts), STORE_SEED (optional JSON {path: {key: value}}: the
secrets present at start, version 1 each)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any

from .control_app import create_control_app
from .kv_store import KvStore
from .listener import HttpListener, Listener
from .log_store import LogStore
from .otlp_app import create_otlp_app
from .otlp_store import OtlpStore
from .shutdown import Shutdown, Touching
from .syslog_listener import SyslogListener
from .vault_app import VaultApi, create_vault_app


class ConfigError(Exception):
    pass


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="role_backend", description=__doc__.splitlines()[0])
    parser.add_argument("--otlp", type=int, required=True, help="OTLP/HTTP port (0: any free port)")
    parser.add_argument("--syslog", type=int, required=True, help="syslog/TCP port")
    parser.add_argument("--vault", type=int, required=True, help="Vault-compatible KV v2 port")
    parser.add_argument("--control", type=int, required=True, help="control API port")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--max-log-records", type=int, default=1_000_000)
    parser.add_argument("--max-log-text-bytes", type=int, default=256 * 1024 * 1024)
    parser.add_argument("--max-spans", type=int, default=200_000)
    parser.add_argument("--max-series", type=int, default=100_000)
    parser.add_argument("--max-body-bytes", type=int, default=64 * 1024 * 1024,
                        help="largest OTLP request body, after gzip")
    parser.add_argument("--max-syslog-frame-bytes", type=int, default=16 * 1024 * 1024)
    # Short of the suite's 10 s pod grace period, so a lingering backend is never killed.
    parser.add_argument("--linger-ms", type=int, default=5_000,
                        help="after SIGTERM, the longest the control port keeps answering while it is read")
    parser.add_argument("--linger-idle-ms", type=int, default=500,
                        help="after SIGTERM, the control port closes once this passes without a control request")
    return parser.parse_args(argv)


def seeded_store(environ: dict[str, str]) -> KvStore:
    store = KvStore()
    raw = environ.get("STORE_SEED", "").strip()
    if not raw:
        return store
    try:
        seed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"env STORE_SEED: not JSON ({error})") from error
    if not isinstance(seed, dict):
        raise ConfigError("env STORE_SEED: expected a JSON object {path: {key: value}}")
    for path, data in seed.items():
        if not isinstance(data, dict):
            raise ConfigError(f"env STORE_SEED: {path!r} must map to an object of keys, got {type(data).__name__}")
        store.write(path, data)
    return store


async def serve(args: argparse.Namespace, environ: dict[str, str]) -> None:
    token = environ.get("STORE_TOKEN", "")
    if not token:
        raise ConfigError("env STORE_TOKEN: required (the token the KV store accepts)")
    kv = seeded_store(environ)
    logs = LogStore(args.max_log_records, args.max_log_text_bytes)
    otlp_store = OtlpStore(logs, args.max_series, args.max_spans)
    vault_api = VaultApi(kv, token)

    syslog = SyslogListener(args.host, args.syslog, logs, args.max_syslog_frame_bytes)
    otlp = HttpListener("otlp", args.host, args.otlp)
    otlp.mount(create_otlp_app(otlp_store, otlp, args.max_body_bytes))
    vault = HttpListener("vault", args.host, args.vault)
    # h11: httptools refuses the LIST method that Vault's CLI sends (its Go client sends GET ?list=true).
    vault.mount(create_vault_app(vault_api), http="h11")
    listeners: dict[str, Listener] = {"otlp": otlp, "syslog": syslog, "vault": vault}
    shutdown = Shutdown(args.linger_ms / 1000.0, args.linger_idle_ms / 1000.0)
    control = HttpListener("control", args.host, args.control)
    control.mount(Touching(create_control_app({**listeners, "control": control}, otlp_store, logs, kv, vault_api,
                                              syslog, shutdown), shutdown))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    started: list[Listener] = []
    try:
        for listener in (*listeners.values(), control):
            await listener.up()
            started.append(listener)
        ports: dict[str, Any] = {listener.name: listener.port for listener in started}
        print(f"ready {json.dumps(ports)}", flush=True)
        await stop.wait()
        # Nothing arrives after SIGTERM; what did arrive stays readable while a check reads it.
        shutdown.stopping = True
        for listener in reversed(started):
            if listener is not control:
                await listener.down()
        await shutdown.linger()
    finally:
        for listener in reversed(started):
            await listener.down()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        asyncio.run(serve(args, dict(os.environ)))
    except ConfigError as error:
        print(f"role_backend: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"role_backend: cannot listen: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
