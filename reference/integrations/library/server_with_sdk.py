"""ASGI entry point of the library integration: the reference primary's app, built exactly as
reference/primaries/fastapi-kserve/server.py builds it, wrapped in request-guard-sdk.

    python -m uvicorn server_with_sdk:app --app-dir reference/integrations/library ...

The process edge: the only place the environment is read (PRIMARY_* as the primary reads
them; AUX_API_KEY and AUX_FAULTS for request-guard).
"""

import os
import sys
from collections.abc import Mapping
from pathlib import Path

# One BLAS thread unless told otherwise, as in the primary's server.py: set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# The primary is a source tree run with --app-dir, not an installed package; this puts it on
# the import path the way --app-dir would, wherever the process was started from.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "primaries" / "fastapi-kserve"))

from kserve_primary.app import create_app  # noqa: E402
from kserve_primary.config import Config, ConfigError  # noqa: E402
from request_guard_sdk import RequestGuard  # noqa: E402


def _aux_settings(env: Mapping[str, str]) -> tuple[str, bool]:
    key = env.get("AUX_API_KEY", "")
    if not key:
        raise ConfigError("AUX_API_KEY is empty or unset: request-guard needs the API key clients must send")
    faults = env.get("AUX_FAULTS", "").strip()
    if faults not in ("", "0", "1"):
        raise ConfigError(f"AUX_FAULTS={faults!r}: expected 1 (on) or 0 (off)")
    return key, faults == "1"


config = Config.from_env()
if config.request_guard:
    # Two guards would count, log and time every request twice: not the library arm any more.
    raise ConfigError(
        "PRIMARY_REQUEST_GUARD=1 turns on the monolithic request-guard; the library integration adds its own"
    )
api_key, faults = _aux_settings(os.environ)
app = RequestGuard(create_app(config), api_key=api_key, integration="library", faults=faults)
