"""Identifiers typed by hand ('Image 1', '图2', 'reference image'): they would not follow the cast order."""

from __future__ import annotations

import re

from .. import nodes as n
from ..source import Source
from .reporter import Reporter

__all__ = ["report_literal_identifiers", "LITERAL_IDENTIFIER"]

LITERAL_IDENTIFIER = re.compile(
    r"\b(?:Image|Video)\s?\d+\b|图\d+|视频\d+|\breference (?:image|video)\b|参考(?:图片|视频)", re.IGNORECASE)


def report_literal_identifiers(text: n.Text, source: Source, report: Reporter) -> None:
    """Warn at each identifier the writer typed in plain text."""
    for match in LITERAL_IDENTIFIER.finditer(text.text):
        start = text.span.start + match.start()
        span = source.span(start, start + len(match.group()))
        report("literal-identifier", f"{match.group()!r} typed by hand will not follow the cast order",
               span, hint="write the cast member's name instead")
