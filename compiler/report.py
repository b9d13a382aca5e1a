"""Diagnostics as text for people (source line and caret), for machines (JSON) and for GitHub annotations."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from .diagnostics import Diagnostic

__all__ = ["human", "github", "as_json", "summary"]


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


MAX_SHOWN = 120  # characters of a source line shown around the caret (a data URI line can be megabytes)


def _window(visible: str, start: int, stop: int) -> tuple[str, int, int]:
    """The part of a long line around columns start:stop, with "…" where it was cut; short lines unchanged."""
    if len(visible) <= MAX_SHOWN:
        return visible, start, stop
    stop = min(max(stop, start + 1), start + MAX_SHOWN - 20)
    begin = max(0, min(start - 20, len(visible) - MAX_SHOWN))
    end = min(len(visible), begin + MAX_SHOWN)
    head = "…" if begin > 0 else ""
    tail = "…" if end < len(visible) else ""
    offset = len(head) - begin
    return head + visible[begin:end] + tail, start + offset, min(stop, end) + offset


def human(diagnostic: Diagnostic, line_text: str | None) -> str:
    """path:line:col: CODE severity: message, then the source line with a caret under the span."""
    span = diagnostic.span
    where = f"{diagnostic.path}:{span.line}:{span.column}" if span else f"{diagnostic.path}"
    lines = [f"{where}: {diagnostic.code} {diagnostic.severity}: {diagnostic.message}"]
    if span and line_text is not None:
        visible = line_text.expandtabs(1)
        start = span.column - 1
        stop = span.end_column - 1 if span.end_line == span.line else len(visible)
        visible, start, stop = _window(visible, start, stop)
        pad = _display_width(visible[:start])
        width = max(1, _display_width(visible[start:max(stop, start + 1)]))
        lines.append(f"    {visible}")
        lines.append("    " + " " * pad + "^" * width)
    if diagnostic.hint:
        lines.append(f"    hint: {diagnostic.hint}")
    for message, related in diagnostic.related:
        lines.append(f"    note: {message} (line {related.line})")
    return "\n".join(lines)


def github(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command, so CI shows the diagnostic on the line."""
    level = "error" if diagnostic.severity == "error" else "warning"
    fields = [f"file={diagnostic.path}"]
    if diagnostic.span:
        span = diagnostic.span
        fields += [f"line={span.line}", f"col={span.column}", f"endLine={span.end_line}", f"endColumn={span.end_column}"]
    fields.append(f"title={diagnostic.code}")
    message = diagnostic.message + (f" (hint: {diagnostic.hint})" if diagnostic.hint else "")
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{level} {','.join(fields)}::{escaped}"


def as_json(files: list[str], diagnostics: list[Diagnostic]) -> str:
    import json

    return json.dumps({"files": files, "diagnostics": [d.to_dict() for d in diagnostics]}, ensure_ascii=False, indent=2)


def summary(files: int, diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    return f"{files} file{'s' * (files != 1)} checked: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def read_line(path: str | None, line: int, cache: dict) -> str | None:
    if path is None:
        return None
    if path not in cache:
        try:
            cache[path] = Path(path).read_text(encoding="utf-8", errors="replace").split("\n")
        except OSError:
            cache[path] = []
    lines = cache[path]
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else None
