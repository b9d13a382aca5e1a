"""The fake service's error answer, shared by the request rules (shapes.py) and the HTTP side (server.py)."""

from __future__ import annotations


class ApiError(Exception):
    """An error answer, rendered as DashScope JSON or as OSS XML depending on the endpoint."""

    def __init__(self, status: int, code: str, message: str, **extra: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def invalid(message: str) -> ApiError:
    """DashScope's answer to a body it refuses: 400 InvalidParameter, the message naming the field."""
    return ApiError(400, "InvalidParameter", message)
