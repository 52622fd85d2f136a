"""ASGI entry point: `python -m uvicorn server:app --app-dir reference/primaries/fastapi-kserve ...`.

The process edge: the only place the environment is read.
"""

import os

# One BLAS thread unless told otherwise: OpenBLAS worker threads spin between calls and
# would blur the CPU-per-request figures of the baseline. Must be set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from kserve_primary.app import create_app  # noqa: E402
from kserve_primary.config import Config  # noqa: E402

app = create_app(Config.from_env())
