"""Media paths and URLs as the writer wrote them (cast members, FIRST FRAME, STORYBOARD, CAST FROM)."""

from __future__ import annotations

import re
from pathlib import Path

from .. import ir
from .. import nodes as n

__all__ = ["media_source"]

SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def media_source(word: n.Word, origin: Path | None, path: str) -> ir.MediaSource:
    """A media path or URL as written: its scheme, and for a local path the file it names (relative to
    the file that wrote it)."""
    quoted = word.text.startswith('"') and word.text.endswith('"') and len(word.text) >= 2
    text = word.text[1:-1] if quoted else word.text
    scheme_match = SCHEME.match(text)
    if scheme_match and len(scheme_match.group(1)) > 1:
        return ir.MediaSource(text, word.span, path, scheme_match.group(1).lower())
    base = origin.parent if origin else Path.cwd()
    return ir.MediaSource(text, word.span, path, "local", (base / text) if text else base)
