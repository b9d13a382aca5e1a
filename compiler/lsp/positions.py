"""Positions between the compiler's spans (1-based code-point columns) and LSP's (0-based, in the
negotiated encoding): UTF-16 through compiler.source's one conversion, UTF-32 being code points as they are."""

from __future__ import annotations

import re
from bisect import bisect_left

from lsprotocol import types as lsp

from ..source import Source, Span, column_from_utf16, utf16_column

__all__ = ["Encoding", "to_position", "to_range", "to_offset", "word_at", "SUPPORTED"]

UTF16, UTF32 = lsp.PositionEncodingKind.Utf16, lsp.PositionEncodingKind.Utf32
SUPPORTED = (UTF16, UTF32)  # UTF-8 is not offered: every client must accept UTF-16


class Encoding:
    """The client's position encoding, chosen at initialize."""

    def __init__(self, kind: str = UTF16) -> None:
        self.kind = kind

    def character(self, line_text: str, column: int) -> int:
        return utf16_column(line_text, column) if self.kind == UTF16 else column - 1

    def column(self, line_text: str, character: int) -> int:
        if self.kind == UTF16:
            return column_from_utf16(line_text, character)
        return min(max(character, 0), len(line_text)) + 1


ASTRAL = re.compile("[\U00010000-\U0010FFFF]")  # two UTF-16 units each; every other code point is one


class _Lines:
    """Each line of one Source read once: its length and where its astral characters sit, so that a
    column converts without slicing and re-encoding the line for every position (40,000 diagnostics on
    one long line made that quadratic)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.lines: dict[int, tuple[int, list[int]]] = {}

    def utf16(self, line: int, column: int) -> int:
        """utf16_column(source.line_text(line), column), in O(log n) once the line is read."""
        found = self.lines.get(line)
        if found is None:
            text = self.source.line_text(line)
            found = (len(text), [] if text.isascii() else [m.start() for m in ASTRAL.finditer(text)])
            self.lines[line] = found
        length, astral = found
        kept = len(range(length)[: column - 1])  # the prefix utf16_column slices: text[:column - 1]
        return kept + bisect_left(astral, kept)


_last: _Lines | None = None  # the Source converted last: a document's positions are converted together


def _lines_of(source: Source) -> _Lines:
    global _last
    lines = _last
    if lines is None or lines.source is not source:
        lines = _last = _Lines(source)
    return lines


def to_position(source: Source, line: int, column: int, encoding: Encoding) -> lsp.Position:
    if encoding.kind == UTF16:
        character = _lines_of(source).utf16(line, column)
    else:
        character = column - 1  # UTF-32: code points as they are, whatever the line holds
    return lsp.Position(line=max(line - 1, 0), character=character)


def to_range(source: Source, span: Span | None, encoding: Encoding) -> lsp.Range:
    """The span as an LSP range; a diagnostic about the whole file (no span) sits at its very start."""
    if span is None:
        return lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
    return lsp.Range(start=to_position(source, span.line, span.column, encoding),
                     end=to_position(source, span.end_line, span.end_column, encoding))


def to_offset(source: Source, position: lsp.Position, encoding: Encoding) -> int:
    """Code-point offset of an LSP position, clamped to the text."""
    starts = source.line_starts
    line = min(max(position.line, 0), len(starts) - 1)
    column = encoding.column(source.line_text(line + 1), position.character)
    return min(starts[line] + column - 1, len(source.text))


def word_at(text: str, offset: int) -> tuple[int, int]:
    """Bounds of the name-like word (letters, digits, _) around offset; empty when there is none."""
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = offset
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return start, end
