"""Identifiers typed by hand ('Image 1', '图2', 'character3', '<<<image_1>>>', 'reference image'): they would not
follow the cast order.  The forms are every compile target's (a test checks each registered target's naming
against this pattern); the pattern stays here, in the front-end, so resolve imports no target."""

from __future__ import annotations

import re

from .. import nodes as n
from ..source import Source
from .reporter import Reporter

__all__ = ["report_literal_identifiers", "LITERAL_IDENTIFIER"]

LITERAL_IDENTIFIER = re.compile(
    r"\b(?:Image|Video|Audio)\s?\d+\b"                  # wan2.7, Wan 3.0: Image 1, Video 2, Audio 1
    r"|图\d+|视频\d+|音频\d+"                            # their Chinese forms
    r"|\bcharacter\s?\d+\b"                             # HappyHorse, wan2.6: character1
    r"|<<<\s*(?:image|video|element)_\d+\s*>>>"         # Kling: <<<image_1>>>
    r"|\breference (?:image|video)\b|参考(?:图片|视频)",  # the one reference of wan2.7
    re.IGNORECASE)


def report_literal_identifiers(text: n.Text, source: Source, report: Reporter) -> None:
    """Warn at each identifier the writer typed in plain text."""
    for match in LITERAL_IDENTIFIER.finditer(text.text):
        start = text.span.start + match.start()
        span = source.span(start, start + len(match.group()))
        report("literal-identifier", f"{match.group()!r} typed by hand is sent as written: it follows neither "
               "the cast order nor the chosen model's own names", span, hint="write the cast member's name instead")
