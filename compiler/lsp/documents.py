"""The texts the server reads: open documents (the editor's unsaved text wins) and cast files from disk,
parsed once per version (open) or per modification time and size (on disk)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .. import api
from ..diagnostics import Diagnostic
from ..nodes import SceneFile
from ..source import Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["CastFiles"]

Parsed = tuple[SceneFile, list[Diagnostic]]


class CastFiles:
    """Parses of imported cast files, keyed by path, reused until their text changes.

    `loader` is what resolve calls for each `CAST FROM`; it records which files an analysis read, so
    that an edit of a cast file re-checks the open scenes that import it.
    """

    def __init__(self) -> None:
        self._open: dict[str, tuple[int, str]] = {}          # path -> (version, text)
        self._parsed: dict[str, tuple[object, Parsed]] = {}  # path -> (stamp, parse result)
        self._lock = threading.Lock()

    def set_open(self, path: str, version: int, text: str) -> None:
        with self._lock:
            self._open[path] = (version, text)

    def close(self, path: str) -> None:
        with self._lock:
            self._open.pop(path, None)

    def open_text(self, path: str) -> str | None:
        with self._lock:
            entry = self._open.get(path)
        return entry[1] if entry else None

    def loader(self, read: set[str]) -> Callable[[Path], Parsed]:
        def load(target: Path) -> Parsed:
            key = os.path.abspath(target)
            read.add(key)
            return self.parse(target, key)
        return load

    def parse(self, target: Path, key: str) -> Parsed:
        with self._lock:
            opened = self._open.get(key)
        if opened is not None:
            stamp: object = ("open", opened[0])
        else:
            try:
                status = os.stat(target)
                stamp = ("disk", status.st_mtime_ns, status.st_size)
            except OSError:
                stamp = None  # unreadable: let parse_file say so, uncached
        # Keyed by the path as written: diagnostics carry it, exactly as `scenec check` prints it.
        spelled = os.fspath(target)
        cached = self._parsed.get(spelled)
        if stamp is not None and cached is not None and cached[0] == stamp:
            return cached[1]
        result = api.parse_bytes(encode(opened[1]), target) if opened is not None else api.parse_file(target)
        if stamp is not None:
            self._parsed[spelled] = (stamp, result)
        return result


def encode(text: str) -> bytes:
    """The document as the bytes it would be saved as; lone surrogates stay invalid (not-text), never raise."""
    return text.encode("utf-8", "surrogatepass")


def source_of(cast_files: CastFiles, path: str) -> Source | None:
    """The text a span of `path` points into: the open document, the parsed cast file, else the file on disk."""
    text = cast_files.open_text(os.path.abspath(path))
    if text is not None:
        return Source(text, Path(path))
    cached = cast_files._parsed.get(path)
    if cached is not None:
        return cached[1][0].source
    try:
        return Source(Path(path).read_text(encoding="utf-8", errors="replace"), Path(path))
    except OSError:
        return None
