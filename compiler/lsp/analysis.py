"""One analysis of one document version: compiler.api's check of the editor's text, and what features read."""

from __future__ import annotations

import gc
from pathlib import Path

from .. import api, ir
from ..diagnostics import Diagnostic
from ..nodes import SceneFile
from ..parse import MAX_FILE_BYTES, reparse_text
from ..perf import gc_paused
from ..resolve.reuse import ShotMemo, remembering
from ..source import Source
from .documents import CastFiles, encode

__all__ = ["Analysis", "analyse"]

Parsed = tuple[SceneFile, list[Diagnostic]]


class Analysis:
    """A document version, its parse, its check (tree, scene, diagnostics) and the cast files it read."""

    __slots__ = ("uri", "path", "version", "source", "parsed", "checked", "imports", "memo")

    def __init__(self, uri: str, path: Path, version: int, text: str, parsed: Parsed, checked: api.Checked,
                 imports: set[str], memo: ShotMemo | None = None) -> None:
        self.uri, self.path, self.version = uri, path, version
        # The parse's own Source when it read this text (its line index is then built once, not twice).
        same = parsed[0].source.text == text and parsed[0].source.path == path
        self.source = parsed[0].source if same else Source(text, path)
        self.parsed, self.checked, self.imports = parsed, checked, imports
        self.memo = memo  # what resolve read of each script paragraph, for the next version (resolve/reuse.py)

    @property
    def scene_file(self) -> SceneFile:
        tree: SceneFile = self.checked.scene_file
        return tree

    @property
    def scene(self) -> ir.Scene | None:
        scene: ir.Scene | None = self.checked.scene
        return scene

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.checked.diagnostics


@gc_paused  # the whole analysis, not stage by stage: the server's heap (pygls, lsprotocol) is large to re-scan
def analyse(uri: str, path: Path, version: int, text: str, cast_files: CastFiles,
            previous: Analysis | None = None) -> Analysis:
    """What `scenec check PATH` says of the text, with imported cast files read through the cache, and the
    parse and resolve reusing the paragraphs the edits since `previous` (an earlier version) did not touch."""
    imports: set[str] = set()
    data = encode(text)
    parsed = _parse(path, text, data, previous)
    # Paragraphs are reused by their text only when the parse's nodes follow from the text (no syntax errors).
    memo = ShotMemo(previous.memo if previous is not None and not parsed[1] else None)
    with remembering(memo):
        checked = api.check_document(path, data, loader=cast_files.loader(imports), parsed=parsed)
    analysis = Analysis(uri, path, version, text, parsed, checked, imports, memo if not parsed[1] else None)
    _freeze()
    return analysis


_analyses = 0
COLLECT_EVERY = 256  # analyses between two full collections of what was frozen


def _freeze() -> None:
    """Move everything alive into the collector's permanent generation: an analysis leaves ~10^5 objects
    (the tree, the scene) that would otherwise be scanned by the next collections, in the middle of the next
    edit's latency. Analyses make no reference cycles (their objects are freed by reference counting), but
    the protocol's objects may, so every COLLECT_EVERY analyses a full collection runs first."""
    global _analyses
    _analyses += 1
    if _analyses % COLLECT_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def _parse(path: Path, text: str, data: bytes, previous: Analysis | None) -> Parsed:
    """parse_bytes(data, path), incrementally when the text is UTF-8 that parse_bytes would read as `text`."""
    if previous is None or len(data) > MAX_FILE_BYTES or not _valid_utf8(data):
        return api.parse_bytes(data, path)
    return reparse_text(*previous.parsed, text, path)


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
