"""request-guard-sdk: request-guard as pure-ASGI middleware for a Python model server.

    from request_guard_sdk import RequestGuard
    app = RequestGuard(app, api_key=os.environ["AUX_API_KEY"])

The function is specified in reference/integrations/README.md (the request-guard contract).
"""

__version__ = "1.0.0"

from .guard import BUCKETS, UNAUTHORIZED_BODY, LineSink, RequestGuard, stdout_sink  # noqa: E402

__all__ = ["BUCKETS", "UNAUTHORIZED_BODY", "LineSink", "RequestGuard", "__version__", "stdout_sink"]
