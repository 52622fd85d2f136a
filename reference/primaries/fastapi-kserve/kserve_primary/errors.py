"""The one error type the request path raises; handlers turn it into `{"error": "..."}`."""

from __future__ import annotations


class ApiError(Exception):
    """A client-visible failure: HTTP status plus a message that says what was wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)
