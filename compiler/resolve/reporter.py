"""The diagnostics one resolve run collects: every concern reports through the same Reporter."""

from __future__ import annotations

from collections.abc import Iterable

from ..diagnostics import Diagnostic, make
from ..source import Span

__all__ = ["Reporter"]


class Reporter:
    """Collects diagnostics in the order they are found; a diagnostic names the scene unless told otherwise."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    def __call__(self, code: str, message: str, span: Span | None, *, path: str | None = None,
                 hint: str | None = None, severity: str | None = None,
                 related: Iterable[tuple[str, Span]] = ()) -> None:
        self.diagnostics.append(make(code, message, span, path=path or self.path, hint=hint, severity=severity,
                                     related=related))

    def as_is(self, diagnostic: Diagnostic) -> None:
        """Pass on a diagnostic another stage made (a cast file's own parse errors)."""
        self(diagnostic.code, diagnostic.message, diagnostic.span, path=diagnostic.path,
             hint=diagnostic.hint, related=diagnostic.related, severity=diagnostic.severity)
