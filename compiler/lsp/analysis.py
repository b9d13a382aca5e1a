"""One analysis of one document version: compiler.api's check of the editor's text, and what features read."""

from __future__ import annotations

from pathlib import Path

from .. import api
from ..perf import gc_paused
from ..source import Source
from .documents import CastFiles, encode

__all__ = ["Analysis", "analyse"]


class Analysis:
    """A document version, its check (tree, scene, diagnostics) and the cast files it read."""

    __slots__ = ("uri", "path", "version", "source", "checked", "imports")

    def __init__(self, uri: str, path: Path, version: int, text: str, checked: api.Checked, imports: set[str]):
        self.uri, self.path, self.version = uri, path, version
        self.source = Source(text, path)
        self.checked, self.imports = checked, imports

    @property
    def scene_file(self):
        return self.checked.scene_file

    @property
    def scene(self):
        return self.checked.scene

    @property
    def diagnostics(self):
        return self.checked.diagnostics


@gc_paused  # the whole analysis, not stage by stage: the server's heap (pygls, lsprotocol) is large to re-scan
def analyse(uri: str, path: Path, version: int, text: str, cast_files: CastFiles) -> Analysis:
    """What `scenec check PATH` says of the text, with imported cast files read through the cache."""
    imports: set[str] = set()
    checked = api.check_document(path, encode(text), loader=cast_files.loader(imports))
    return Analysis(uri, path, version, text, checked, imports)
