"""Server configuration, read from the environment once, at the process edge (server.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the variable and what was expected."""


@dataclass(frozen=True)
class Config:
    model_name: str = "mlp"
    input_dim: int = 64
    hidden_dim: int = 256
    layers: int = 2
    output_dim: int = 10
    seed: int = 42
    load_delay_ms: int = 0
    # request-guard, the monolithic integration of the compare scenario (kserve_primary/request_guard.py).
    request_guard: bool = False
    aux_api_key: str = field(default="", repr=False)  # a secret: kept out of reprs and tracebacks
    aux_faults: bool = False
    # Off only to measure what writing the per-request lines costs a runtime (bench/runtime-overhead.ts):
    # docker copies every stdout line through its shim and daemon, the local runtime through one pipe.
    access_log: bool = True

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        defaults = Config()
        name = env.get("PRIMARY_MODEL_NAME", defaults.model_name)
        # The name is a URL path segment and a metrics/log label: keep it to a safe alphabet.
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise ConfigError(
                f"PRIMARY_MODEL_NAME={name!r}: expected a non-empty name of letters, digits, '-', '_' or '.'"
            )
        if name.startswith("identity_"):
            raise ConfigError(f"PRIMARY_MODEL_NAME={name!r}: the prefix 'identity_' is reserved for built-in models")
        # AUX_* are read only when the guard is on: the baseline ignores them, even when the
        # compare scenario sets them for every arm.
        guard = _flag(env, "PRIMARY_REQUEST_GUARD")
        return Config(
            model_name=name,
            input_dim=_int(env, "PRIMARY_INPUT_DIM", defaults.input_dim, minimum=1),
            hidden_dim=_int(env, "PRIMARY_HIDDEN_DIM", defaults.hidden_dim, minimum=1),
            layers=_int(env, "PRIMARY_LAYERS", defaults.layers, minimum=1),
            output_dim=_int(env, "PRIMARY_OUTPUT_DIM", defaults.output_dim, minimum=1),
            seed=_int(env, "PRIMARY_SEED", defaults.seed, minimum=0),
            load_delay_ms=_int(env, "PRIMARY_LOAD_DELAY_MS", defaults.load_delay_ms, minimum=0),
            request_guard=guard,
            aux_api_key=_api_key(env) if guard else "",
            aux_faults=guard and _flag(env, "AUX_FAULTS"),
            access_log=_flag(env, "PRIMARY_ACCESS_LOG", default=True),
        )


def _api_key(env: Mapping[str, str]) -> str:
    key = env.get("AUX_API_KEY", "")
    if not key:
        raise ConfigError("AUX_API_KEY is empty or unset: PRIMARY_REQUEST_GUARD=1 needs the API key clients must send")
    return key


def _flag(env: Mapping[str, str], key: str, *, default: bool = False) -> bool:
    raw = env.get(key, "").strip()
    if raw not in ("", "0", "1"):
        raise ConfigError(f"{key}={raw!r}: expected 1 (on) or 0 (off)")
    return default if raw == "" else raw == "1"


def _int(env: Mapping[str, str], key: str, default: int, *, minimum: int) -> int:
    raw = env.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{key}={raw!r}: expected an integer >= {minimum}") from None
    if value < minimum:
        raise ConfigError(f"{key}={raw!r}: expected an integer >= {minimum}")
    return value
