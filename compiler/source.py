"""Source text and positions: one convention inside (offsets, 1-based line and column in code points), LSP
conversion in one place."""

from __future__ import annotations

import bisect
import errno
import os
import stat
from pathlib import Path

from .records import Record

TYPE_CHECKING = False  # spelled out: importing typing is a start-up cost `scenec check` avoids (records.py)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    _SpanNew = Callable[[type["Span"], tuple[int, int, int, int, int, int]], "Span"]

__all__ = ["Span", "span_from", "shifted", "Source", "utf16_column", "column_from_utf16", "read_input", "InputRefused",
           "file_kind", "clipped"]


def clipped(text: str, limit: int = 80) -> str:
    """A value the user wrote, cut to `limit` characters with "..." for a message (a 20 KB MODEL is not echoed)."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


class Span(Record):
    """A half-open range of a source text: offsets in code points, lines and columns 1-based.

    A named tuple rather than a dataclass: long scripts create tens of thousands of spans.
    """

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def to_dict(self) -> dict[str, int]:
        return {"start": self.start, "end": self.end, "line": self.line, "column": self.column,
                "end_line": self.end_line, "end_column": self.end_column}


def span_from(fields: tuple[int, int, int, int, int, int]) -> Span:
    """A Span from its six fields in one tuple, without the Python-level constructor (hot in parse)."""
    return _tuple_new(Span, fields)


def shifted(value: Any, by: int, lines: int, holders: frozenset[type]) -> Any:
    """The tuple or record with every span in it moved `by` characters and `lines` lines (columns stay: what
    moves starts a line), descending into the `holders` types; strings, numbers, flags and None are kept.

    One call per record, not per item: the incremental parse and resolve run it over half a long file at
    every edit."""
    out: list[Any] = []
    for item in value:
        kind = type(item)
        if kind is Span:
            start, end, line, column, end_line, end_column = item
            out.append(span_from((start + by, end + by, line + lines, column, end_line + lines, end_column)))
        elif kind in holders:
            out.append(shifted(item, by, lines, holders))
        else:
            out.append(item)
    return tuple.__new__(type(value), out)


# pyright reads the unbound tuple.__new__'s item type as unknown; the annotation says what it does here.
_tuple_new: _SpanNew = tuple.__new__  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]


class Source:
    """A text with a name (its path, shown in diagnostics) and a line index."""

    __slots__ = ("text", "path", "_line_starts")

    def __init__(self, text: str, path: Path | None = None) -> None:
        self.text, self.path = text, path
        self._line_starts: list[int] | None = None  # built on first use: most texts never need it

    @property
    def name(self) -> str:
        return str(self.path) if self.path is not None else "<text>"

    @property
    def line_starts(self) -> list[int]:
        starts = self._line_starts
        if starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        return starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of an offset, clamped to the text."""
        if offset < 0:
            offset = 0
        elif offset > len(self.text):
            offset = len(self.text)
        starts = self.line_starts
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        start = max(0, min(start, len(self.text)))
        end = max(start, min(end, len(self.text)))
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(start, end, line, column, end_line, end_column)

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        if not 1 <= line <= len(starts):
            return ""
        begin = starts[line - 1]
        stop = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[begin:stop].rstrip("\r")


def utf16_column(line_text: str, column: int) -> int:
    """0-based UTF-16 column (what LSP counts) of a 1-based code-point column."""
    prefix = line_text[: column - 1]
    return len(prefix.encode("utf-16-le")) // 2


def column_from_utf16(line_text: str, utf16: int) -> int:
    """1-based code-point column of a 0-based UTF-16 column (inverse of utf16_column)."""
    units = 0
    for index, char in enumerate(line_text):
        if units >= utf16:
            return index + 1
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line_text) + 1


class InputRefused(Exception):
    """An input file scenec did not read, and why, as a sentence for a diagnostic.

    `too_large` tells a refusal by size (its own diagnostic code) from every other one.
    """

    def __init__(self, reason: str, *, too_large: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.too_large = reason, too_large


# Why a file could not be opened, as a writer would say it (strerror is platform wording).
_OPEN_ERRORS = {
    errno.ENOENT: "no such file", errno.ENAMETOOLONG: "a name in the path is too long for the file system",
    errno.EACCES: "permission denied", errno.EPERM: "permission denied", errno.ELOOP: "too many symbolic links",
    errno.EISDIR: "it is a folder", errno.ENOTDIR: "a part of the path is not a folder",
}


def file_kind(mode: int) -> str:
    """What a stat mode is, in words: 'a regular file', 'a folder', 'a FIFO (named pipe)', ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def describe_os_error(error: OSError) -> str:
    return _OPEN_ERRORS.get(error.errno or 0) or error.strerror or str(error)


def read_input(path: Path, limit: int) -> bytes:
    """The bytes of an input file (scene, cast, scenec.toml), read only if it is a regular file of at most
    `limit` bytes; anything else raises InputRefused, never blocks and never reads more than limit + 1 bytes.

    The path is stat-ed (symlinks followed) before opening, so a device is never opened; the file is then
    opened with O_NONBLOCK (a FIFO swapped in meanwhile cannot block the open) and fstat-ed, so what is read
    is what was checked.
    """
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise InputRefused(f"it is {file_kind(mode)}, not a regular file")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        raise InputRefused(describe_os_error(error) if isinstance(error, OSError)
                           else "the path holds a NUL byte") from error
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputRefused(f"it is {file_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise InputRefused(f"it is {info.st_size} bytes, over the {limit}-byte limit", too_large=True)
        return _read_at_most(fd, limit + 1)
    except OSError as error:
        raise InputRefused(describe_os_error(error)) from error
    finally:
        os.close(fd)


def _read_at_most(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
