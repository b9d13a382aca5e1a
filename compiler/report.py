"""Diagnostics as text for people (source line and caret), for machines (JSON) and for GitHub annotations.

Paths, messages and source lines come from files other people write, so every format shows them as
text: control characters (ESC, CR, BEL, C1, bidi overrides) become visible escapes in human output,
GitHub annotations escape their properties and data, and JSON escapes what a terminal could act on.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from .diagnostics import Diagnostic

__all__ = ["human", "github", "as_json", "summary", "visible", "json_safe", "JSON_SCHEMA_VERSION"]

# Characters a terminal acts on instead of showing: C0 (with ESC, CR, BEL), DEL, C1 (0x9b is a CSI on
# some terminals), the bidi embeddings, overrides and isolates, and Unicode's line separators.
_ACTIVE = [*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
           0x2028, 0x2029]
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_VISIBLE = {c: _NAMED.get(c) or (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _ACTIVE}
_JSON_SAFE = {c: f"\\u{c:04x}" for c in _ACTIVE if c >= 0x7F}  # json.dumps already escapes C0


def visible(text: str) -> str:
    """The text with every control and bidi character written as an escape (ESC as \\x1b, RLO as \\u202e)."""
    return text.translate(_VISIBLE)


def json_safe(text: str) -> str:
    """JSON text (from json.dumps) with DEL, C1 and bidi characters as \\u escapes: the same JSON value."""
    return text.translate(_JSON_SAFE)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


MAX_SHOWN = 120  # characters of a source line shown around the caret (a data URI line can be megabytes)


def _window(line: str, start: int, stop: int) -> tuple[str, int, int]:
    """The part of a long line around columns start:stop, with "…" where it was cut; short lines unchanged."""
    if len(line) <= MAX_SHOWN:
        return line, start, stop
    stop = min(max(stop, start + 1), start + MAX_SHOWN - 20)
    begin = max(0, min(start - 20, len(line) - MAX_SHOWN))
    end = min(len(line), begin + MAX_SHOWN)
    head = "…" if begin > 0 else ""
    tail = "…" if end < len(line) else ""
    offset = len(head) - begin
    return head + line[begin:end] + tail, start + offset, min(stop, end) + offset


def human(diagnostic: Diagnostic, line_text: str | None) -> str:
    """path:line:col: CODE severity: message, then the source line with a caret under the span."""
    span = diagnostic.span
    path = visible(str(diagnostic.path))
    where = f"{path}:{span.line}:{span.column}" if span else path
    lines = [f"{where}: {diagnostic.code} {diagnostic.severity}: {visible(diagnostic.message)}"]
    if span and line_text is not None:
        start = span.column - 1
        stop = span.end_column - 1 if span.end_line == span.line else len(line_text)
        # Cut first, then widen tabs (one space each, so columns hold): the whole line is never copied per
        # diagnostic, which made 40,000 diagnostics on one long line quadratic.
        text, start, stop = _window(line_text, start, stop)
        text = text.expandtabs(1)
        pad = _display_width(visible(text[:start]))
        width = max(1, _display_width(visible(text[start:max(stop, start + 1)])))
        lines.append(f"    {visible(text)}")
        lines.append("    " + " " * pad + "^" * width)
    if diagnostic.hint:
        lines.append(f"    hint: {visible(diagnostic.hint)}")
    for message, related in diagnostic.related:
        lines.append(f"    note: {visible(message)} (line {related.line})")
    return "\n".join(lines)


def github(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command, so CI shows the diagnostic on the line."""
    level = "error" if diagnostic.severity == "error" else "warning"
    fields = [f"file={_github_property(str(diagnostic.path))}"]
    if diagnostic.span:
        span = diagnostic.span
        fields += [f"line={span.line}", f"col={span.column}", f"endLine={span.end_line}",
                   f"endColumn={span.end_column}"]
    fields.append(f"title={_github_property(diagnostic.code)}")
    message = diagnostic.message + (f" (hint: {diagnostic.hint})" if diagnostic.hint else "")
    return f"::{level} {','.join(fields)}::{_github_data(message)}"


def _github_data(text: str) -> str:
    """A command's message, escaped as GitHub's toolkit does (escapeData)."""
    return visible(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """A command's property value (escapeProperty): also ':' and ',', which would end it."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


# The JSON report's shape (docs/ci.md): 1 = {"schema_version", "files", "diagnostics"[, "statistics"]}.
# Raised when a key changes meaning or goes away; a new key does not raise it.
JSON_SCHEMA_VERSION = 1


def as_json(files: list[str], diagnostics: list[Diagnostic], extra: dict[str, object] | None = None) -> str:
    import json

    body = {"schema_version": JSON_SCHEMA_VERSION, "files": files, "diagnostics": [d.to_dict() for d in diagnostics]}
    return json_safe(json.dumps({**body, **(extra or {})}, ensure_ascii=False, indent=2))


def summary(files: int, diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    return (f"{files} file{'s' * (files != 1)} checked: {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}")


def read_line(path: str | None, line: int, cache: dict[str, list[str]]) -> str | None:
    if path is None:
        return None
    if path not in cache:
        # The same guarded reader as parsing: a file swapped for a FIFO or device since then cannot block.
        from .parse import MAX_FILE_BYTES
        from .source import InputRefused, read_input

        try:
            cache[path] = read_input(Path(path), MAX_FILE_BYTES).decode("utf-8", errors="replace").split("\n")
        except InputRefused:
            cache[path] = []
    lines = cache[path]
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else None
