"""Server configuration, read from the environment once, at the process edge (server.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit


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
    # The telemetry, logs and secrets roles (issue 12). Each is off unless its variable is set,
    # and create_app() adds nothing to the request path for one that is off.
    run_id: str = ""  # PRIMARY_RUN_ID: a `run` field in every access-log line
    access_log_file: str = ""  # PRIMARY_ACCESS_LOG_FILE: access-log lines go to this file, not stdout
    api_key_file: str = ""  # PRIMARY_API_KEY_FILE: watched for changes; only its sha256 is ever shown
    telemetry: bool = False  # PRIMARY_TELEMETRY: count requests (GET /v2/debug/telemetry)
    otlp_endpoint: str = ""  # OTEL_EXPORTER_OTLP_ENDPOINT, read only with PRIMARY_TELEMETRY=1
    otlp_metric_interval_ms: int = 1000  # OTEL_METRIC_EXPORT_INTERVAL (the SDK's own default is 60 s)
    otlp_timeout_ms: int = 2000  # OTEL_EXPORTER_OTLP_TIMEOUT, in ms as the OpenTelemetry spec says
    # PRIMARY_OTLP_SIGNALS: which signals go to the endpoint; a sidecar that forwards metrics
    # only would answer every span export with an error.
    otlp_signals: frozenset[str] = frozenset({"metrics", "traces"})
    metrics: bool = False  # PRIMARY_METRICS: Prometheus GET /metrics
    metrics_textfile: str = ""  # PRIMARY_METRICS_TEXTFILE: the same exposition, written to this file
    metrics_textfile_interval_ms: int = 1000  # PRIMARY_METRICS_TEXTFILE_INTERVAL_MS
    # KServe v2 gRPC (inference.GRPCInferenceService) beside the HTTP app, in the same process;
    # 0 (PRIMARY_GRPC_PORT unset) serves HTTP only and never imports grpc.
    grpc_port: int = 0  # PRIMARY_GRPC_PORT: the manifest templates it from its port named grpc
    grpc_host: str = "127.0.0.1"  # PRIMARY_GRPC_HOST: the address it binds, as uvicorn's --host

    @property
    def counts_requests(self) -> bool:
        """Whether requests are counted: every exporter reads the same counts."""
        return self.telemetry or self.metrics or bool(self.metrics_textfile)

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
        access_log = _flag(env, "PRIMARY_ACCESS_LOG", default=True)
        access_log_file = _path(env, "PRIMARY_ACCESS_LOG_FILE")
        if access_log_file and not access_log:
            raise ConfigError("PRIMARY_ACCESS_LOG_FILE is set but PRIMARY_ACCESS_LOG=0 switches the access log off")
        telemetry = _flag(env, "PRIMARY_TELEMETRY")
        # OTEL_* are read only with PRIMARY_TELEMETRY=1: a scenario may set them for other
        # containers, and the baseline must not start exporting behind the benchmark's back.
        otlp_endpoint = _otlp_endpoint(env) if telemetry else ""
        textfile = _path(env, "PRIMARY_METRICS_TEXTFILE")
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
            access_log=access_log,
            run_id=_run_id(env),
            access_log_file=access_log_file,
            api_key_file=_path(env, "PRIMARY_API_KEY_FILE"),
            telemetry=telemetry,
            otlp_endpoint=otlp_endpoint,
            otlp_metric_interval_ms=(
                _int(env, "OTEL_METRIC_EXPORT_INTERVAL", defaults.otlp_metric_interval_ms, minimum=10)
                if otlp_endpoint
                else defaults.otlp_metric_interval_ms
            ),
            otlp_timeout_ms=(
                _int(env, "OTEL_EXPORTER_OTLP_TIMEOUT", defaults.otlp_timeout_ms, minimum=1)
                if otlp_endpoint
                else defaults.otlp_timeout_ms
            ),
            otlp_signals=_otlp_signals(env) if otlp_endpoint else defaults.otlp_signals,
            metrics=_flag(env, "PRIMARY_METRICS"),
            metrics_textfile=textfile,
            metrics_textfile_interval_ms=(
                _int(env, "PRIMARY_METRICS_TEXTFILE_INTERVAL_MS", defaults.metrics_textfile_interval_ms, minimum=10)
                if textfile
                else defaults.metrics_textfile_interval_ms
            ),
            grpc_port=_port(env, "PRIMARY_GRPC_PORT"),
            grpc_host=_host(env, "PRIMARY_GRPC_HOST", defaults.grpc_host),
        )


_OTLP_SIGNALS = ("metrics", "traces")


def _otlp_signals(env: Mapping[str, str]) -> frozenset[str]:
    raw = env.get("PRIMARY_OTLP_SIGNALS", "").strip()
    if raw == "":
        return frozenset(_OTLP_SIGNALS)
    signals = frozenset(part.strip() for part in raw.split(","))
    if not signals or not signals <= set(_OTLP_SIGNALS) or "" in signals:
        raise ConfigError(f"PRIMARY_OTLP_SIGNALS={raw!r}: expected a comma-separated list of {', '.join(_OTLP_SIGNALS)}")
    return signals


def _api_key(env: Mapping[str, str]) -> str:
    key = env.get("AUX_API_KEY", "")
    if not key:
        raise ConfigError("AUX_API_KEY is empty or unset: PRIMARY_REQUEST_GUARD=1 needs the API key clients must send")
    return key


_MAX_RUN_ID_CHARS = 128


def _run_id(env: Mapping[str, str]) -> str:
    run = env.get("PRIMARY_RUN_ID", "")
    if len(run) > _MAX_RUN_ID_CHARS or not run.isprintable():
        raise ConfigError(f"PRIMARY_RUN_ID={run!r}: expected at most {_MAX_RUN_ID_CHARS} printable characters")
    return run


def _path(env: Mapping[str, str], key: str) -> str:
    """A file path, or "" when unset; its directory must exist (the pod volume is mounted first)."""
    raw = env.get(key, "")
    if raw == "":
        return ""
    if raw.endswith("/") or raw != raw.strip():
        raise ConfigError(f"{key}={raw!r}: expected a file path")
    directory = os.path.dirname(os.path.abspath(raw))
    if not os.path.isdir(directory):
        raise ConfigError(f"{key}={raw!r}: the directory {directory!r} does not exist")
    return raw


def _otlp_endpoint(env: Mapping[str, str]) -> str:
    """The OTLP/HTTP base URL (the SDK appends /v1/metrics and /v1/traces), or "" for none:
    PRIMARY_TELEMETRY=1 alone still counts, for a sidecar that scrapes or reads the textfile."""
    raw = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if raw == "":
        return ""
    parsed = urlsplit(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
        raise ConfigError(f"OTEL_EXPORTER_OTLP_ENDPOINT={raw!r}: expected an http:// or https:// base URL")
    return raw.rstrip("/")


def _port(env: Mapping[str, str], key: str) -> int:
    """A TCP port, or 0 when unset."""
    raw = env.get(key, "").strip()
    if raw == "":
        return 0
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{key}={raw!r}: expected a TCP port from 1 to 65535")
    return int(raw)


def _host(env: Mapping[str, str], key: str, default: str) -> str:
    raw = env.get(key, "").strip()
    if raw == "":
        return default
    if any(c.isspace() or c in "/[]" for c in raw):
        raise ConfigError(f"{key}={raw!r}: expected a host name or IP address")
    return raw


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
