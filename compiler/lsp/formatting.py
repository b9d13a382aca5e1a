"""textDocument/formatting: `scenec fmt`'s layout as one edit (no layout decision of its own)."""

from __future__ import annotations

from lsprotocol import types as lsp

from ..fmt import format_text
from .analysis import Analysis
from .positions import Encoding, to_range

__all__ = ["format_edits"]


def format_edits(analysis: Analysis, encoding: Encoding) -> list[lsp.TextEdit]:
    """The whole document replaced by its canonical layout; no edit when it is canonical or has syntax errors
    (those are already shown as diagnostics, and fmt leaves such a file untouched)."""
    source = analysis.source
    result = format_text(source.text, analysis.path)
    if not result.changed:
        return []
    whole = to_range(source, source.span(0, len(source.text)), encoding)
    return [lsp.TextEdit(range=whole, new_text=result.text)]
