"""The errors a DashScope call can end in, as one tree whose messages never carry the API key.

```
DashScopeError(Exception)            code, message, request_id, status (HTTP status or None);
│                                    str() never contains the API key
├── AuthError                        401/403: InvalidApiKey, AccessDenied
├── ThrottledError                   429: Throttling, Throttling.RateQuota, Throttling.AllocationQuota
│                                    (retry_after: float | None)
├── InvalidParameterError            400 InvalidParameter (and other 4xx not listed)
├── ContentInspectionError           400 DataInspectionFailed
├── ServerError                      5xx
├── TaskFailedError                  task ended FAILED / CANCELED / UNKNOWN (task_id, task_status)
├── NetworkError                     connection problems; attribute `sent: bool` = whether the request may
│                                    have reached the server
└── DeadlineExceeded                 polling passed its deadline (task_id, last_status)
```
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Self

REDACTED = "***"

# Tokens that look like credentials even when we were not told the exact secret:
# an echoed Authorization header, or a DashScope-style key ("sk-" + 6 or more characters).
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
_SK_TOKEN = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}")


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace each secret, and any Bearer token or sk-... key, in `text` with ***."""
    # Longest first, so a secret that contains another is replaced whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _SK_TOKEN.sub(REDACTED, text)


class DashScopeError(Exception):
    """Any failure of a DashScope call; every text field is redacted on the way in."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
    ) -> None:
        self.message = redact(message, ())
        self.code = None if code is None else redact(code, ())
        self.request_id = None if request_id is None else redact(request_id, ())
        self.status = status
        super().__init__(self.message)

    def redact_secrets(self, secrets: Iterable[str]) -> Self:
        """Remove the given secrets from every text field, in place (the server may echo them)."""
        keep = tuple(secrets)
        self.message = redact(self.message, keep)
        self.code = None if self.code is None else redact(self.code, keep)
        self.request_id = None if self.request_id is None else redact(self.request_id, keep)
        self.args = (self.message,)
        return self

    def _details(self) -> dict[str, object]:
        return {"code": self.code, "status": self.status, "request_id": self.request_id}

    def __str__(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self._details().items() if v is not None)
        return f"{self.message} ({extra})" if extra else self.message

    def __repr__(self) -> str:
        fields = {"message": self.message, **self._details()}
        inner = ", ".join(f"{k}={v!r}" for k, v in fields.items())
        return f"{type(self).__name__}({inner})"


class AuthError(DashScopeError):
    """The key is wrong or lacks access (401/403)."""


class ThrottledError(DashScopeError):
    """Too many requests or quota exhausted (429); `retry_after` is the server's hint in seconds."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, request_id=request_id, status=status)
        self.retry_after = retry_after

    def _details(self) -> dict[str, object]:
        return {**super()._details(), "retry_after": self.retry_after}


class InvalidParameterError(DashScopeError):
    """The request was refused as malformed (400 InvalidParameter and other unlisted 4xx)."""


class ContentInspectionError(DashScopeError):
    """Content moderation refused the input or the output (400 DataInspectionFailed)."""


class ServerError(DashScopeError):
    """The service failed (5xx) or answered something that is not an answer."""


class TaskFailedError(DashScopeError):
    """The task ended FAILED, CANCELED or UNKNOWN."""

    def __init__(
        self,
        message: str,
        *,
        task_id: str,
        task_status: str,
        code: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, code=code, request_id=request_id, status=status)
        self.task_id = task_id
        self.task_status = task_status

    def _details(self) -> dict[str, object]:
        return {"task_id": self.task_id, "task_status": self.task_status, **super()._details()}


class NetworkError(DashScopeError):
    """The exchange broke; `sent` says whether the request may have reached the server."""

    def __init__(
        self,
        message: str,
        *,
        sent: bool,
        code: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, code=code, request_id=request_id, status=status)
        self.sent = sent

    def _details(self) -> dict[str, object]:
        return {**super()._details(), "sent": self.sent}


class DeadlineExceeded(DashScopeError):
    """Polling a task passed its deadline; the task itself may still finish."""

    def __init__(self, message: str, *, task_id: str, last_status: str | None) -> None:
        super().__init__(message, code="DeadlineExceeded")
        self.task_id = task_id
        self.last_status = last_status

    def _details(self) -> dict[str, object]:
        return {"task_id": self.task_id, "last_status": self.last_status, **super()._details()}
