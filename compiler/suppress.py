"""Suppression comments and the project's select/ignore, applied once a file's diagnostics are all known.

A directive is a whole comment line (the language's comments are lines starting with `--`):

    -- scenec: ignore[unused-member, style]      silences those codes on the next line that is not a comment
    -- scenec: ignore-file[possible-misspelt-name]  silences them in the whole file

Names are codes (slugs) or groups; text after the closing bracket is a reason and is not read.  Errors
are never silenced (compiler/diagnostics.py `Code.suppressible`).  What a directive could not do is
itself a warning: `unused-suppression`, `unknown-suppression-code`, `unsuppressible-code`,
`malformed-suppression` (a `-- scenec:` at the end of a line is prompt text, not a comment).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .config import LintSettings
from .diagnostics import CODES, GROUPS, Diagnostic, Suggestions, make
from .records import Record
from .source import Source

__all__ = ["Directive", "read_directives", "apply_directives", "finish"]

_COMMENT_DIRECTIVE = re.compile(r"--[ \t]*scenec[ \t]*:[ \t]*(?P<rest>.*)$")
_FORM = re.compile(r"(?P<kind>ignore-file|ignore)[ \t]*\[(?P<names>[^\]]*)\](?:[ \t].*)?$")
_TRAILING = re.compile(r"--[ \t]*scenec[ \t]*:")


class Directive(Record):
    """One name of one directive: where it is written (offsets into the text) and which line it covers
    (None: the whole file, 0: no line, as when the file ends after it)."""

    name: str
    start: int
    end: int
    target: int | None


def read_directives(source: Source) -> tuple[list[Directive], list[Diagnostic]]:
    """The directives of a text, and the warnings about those that cannot be read."""
    text = source.text
    if "scenec" not in text:  # nearly every file: nothing to look at
        return [], []
    lines = text.split("\n")
    directives: list[Directive] = []
    problems: list[Diagnostic] = []
    for index, line in enumerate(lines):
        if "scenec" not in line:
            continue
        begin = source.line_starts[index]
        stripped = line.lstrip(" \t")
        if stripped.startswith("--"):
            _comment(source, lines, index, begin + len(line) - len(stripped), directives, problems)
        else:
            _trailing(source, line, begin, problems)
    return directives, problems


def _comment(source: Source, lines: list[str], index: int, at: int, directives: list[Directive],
             problems: list[Diagnostic]) -> None:
    found = _COMMENT_DIRECTIVE.match(source.text, at, source.line_starts[index] + len(lines[index]))
    if found is None:
        return  # an ordinary comment that mentions scenec
    rest = found.group("rest").rstrip("\r")
    form = _FORM.match(rest)
    names = [] if form is None else [(m.group(), m.start()) for m in re.finditer(r"[^,\s]+", form.group("names"))]
    line_end = at + len(found.group().rstrip("\r"))
    if form is None or not names:
        problems.append(make("malformed-suppression", "a directive reads `-- scenec: ignore[code, ...]` or "
                             "`-- scenec: ignore-file[code, ...]` with at least one code or group",
                             source.span(at, line_end), path=source.name))
        return
    target = None if form.group("kind") == "ignore-file" else _next_line(lines, index)
    names_at = found.start("rest") + form.start("names")
    for name, offset in names:
        directives.append(Directive(name.lower(), names_at + offset, names_at + offset + len(name), target))


def _next_line(lines: list[str], index: int) -> int:
    """The 1-based number of the first line after `index` that is not a comment; 0 when there is none."""
    for after in range(index + 1, len(lines)):
        if not lines[after].lstrip(" \t").startswith("--"):
            return after + 1
    return 0


def _trailing(source: Source, line: str, begin: int, problems: list[Diagnostic]) -> None:
    found = _TRAILING.search(line)
    if found is not None:
        problems.append(make("malformed-suppression", "`-- scenec:` after other text is not a comment: it is "
                             "part of the line (prompt text sent to the service) and silences nothing; put the "
                             "directive alone on the line above", source.span(begin + found.start(),
                                                                              begin + len(line.rstrip("\r"))),
                             path=source.name))


def apply_directives(source: Source, diagnostics: Sequence[Diagnostic], *, own: bool = True,
                     directives: tuple[list[Directive], list[Diagnostic]] | None = None) -> list[Diagnostic]:
    """The diagnostics of this source's file that no directive silences, the others untouched; with `own`,
    plus the warnings about its directives (unreadable, unknown, unsuppressible or unused names)."""
    found, problems = directives if directives is not None else read_directives(source)
    if not found and not problems:
        return list(diagnostics)
    used: set[int] = set()
    kept = [d for d in diagnostics if not _silenced(d, source.name, found, used)]
    if own:
        kept += problems + _directive_warnings(source, found, used)
    return kept


def _silenced(diagnostic: Diagnostic, path: str, directives: list[Directive], used: set[int]) -> bool:
    registered = CODES.get(diagnostic.code)
    if diagnostic.path != path or registered is None or not registered.suppressible:
        return False
    line = diagnostic.span.line if diagnostic.span else None
    hit = False
    for number, directive in enumerate(directives):
        if directive.name in (diagnostic.code, registered.group) and (directive.target is None
                                                                        or directive.target == line):
            used.add(number)
            hit = True  # every matching directive counts as used, so none of them is called stale
    return hit


def _directive_warnings(source: Source, directives: list[Directive], used: set[int]) -> list[Diagnostic]:
    out = []
    for number, directive in enumerate(directives):
        span = source.span(directive.start, directive.end)
        name = directive.name
        if name not in CODES and name not in GROUPS:
            nearest = Suggestions([*CODES, *GROUPS])(name, 1)
            hint = f"did you mean {nearest[0]}?" if nearest else "see docs/diagnostics.md for the codes"
            out.append(make("unknown-suppression-code", f"{name} is not a diagnostic code or group",
                            span, path=source.name, hint=hint))
        elif name in CODES and not CODES[name].suppressible:
            out.append(make("unsuppressible-code", f"{name} is an error and cannot be suppressed; it is "
                            "still reported", span, path=source.name))
        elif number not in used:
            where = "in this file" if directive.target is None else (
                f"on line {directive.target}" if directive.target else "(no line follows it)")
            out.append(make("unused-suppression", f"ignore[{name}] silenced nothing {where}", span,
                            path=source.name, hint="remove it, or move it above the line it is meant for"))
    return out


def finish(source: Source, diagnostics: list[Diagnostic], settings: LintSettings,
           other_files: dict[str, Source] | None = None) -> list[Diagnostic]:
    """A file's final diagnostics: select/ignore applied, then the directives of this file (and of the
    files in `other_files`, such as imported cast files, whose directives silence their own diagnostics)."""
    for path, other in (other_files or {}).items():
        if path != source.name:
            diagnostics = apply_directives(other, diagnostics, own=False)
    diagnostics = apply_directives(source, diagnostics)
    if settings.filters:
        diagnostics = [d for d in diagnostics if settings.reports(d.code)]
    return diagnostics


def read_sources(paths: set[str]) -> dict[str, Source]:
    """The texts of other files that diagnostics point into (cast files, the configuration), when readable."""
    from pathlib import Path

    from .parse import MAX_FILE_BYTES
    from .source import InputRefused, read_input

    sources = {}
    for name in paths:
        try:
            text = read_input(Path(name), MAX_FILE_BYTES).decode("utf-8", errors="replace")
        except InputRefused:
            continue
        if "scenec" in text:
            sources[name] = Source(text, Path(name))
    return sources
