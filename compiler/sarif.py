"""Diagnostics as a SARIF 2.1.0 log, for code scanning (GitHub's upload-sarif, GitLab, IDE viewers).

One run; the rules are the whole registry (id and name: the slug; descriptions and help: its
documentation, the text of docs/diagnostics.md); each result names its rule by id and index.
Artifact URIs are relative to the repository root (the nearest folder above the working directory
holding `.git`, else the working directory), under the base id %SRCROOT%; a file outside it gets an
absolute file: URI.  Columns count code points, as scenec's spans do (`columnKind`
`unicodeCodePoints`), and an end column is the one after the region, as SARIF defines it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import __version__
from .diagnostics import CODES, Diagnostic
from .source import Span

__all__ = ["sarif_log", "repository_root", "SCHEMA_URI", "SRCROOT"]

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"


def repository_root(start: Path | None = None) -> Path:
    """The nearest folder from `start` (the working directory) up that holds `.git`, else `start` itself."""
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if os.path.exists(folder / ".git"):
            return folder
    return here


def sarif_log(diagnostics: Sequence[Diagnostic], root: Path | None = None) -> dict[str, Any]:
    """The SARIF log (a JSON-ready dict) of these diagnostics, paths relative to `root`."""
    root = (root or repository_root()).absolute()
    index = {slug: number for number, slug in enumerate(CODES)}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "scenec", "version": __version__, "rules": [_rule(c) for c in CODES]}},
            "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri() + "/",
                                             "description": {"text": "the repository root"}}},
            "columnKind": "unicodeCodePoints",
            "results": [_result(d, index, root) for d in diagnostics],
        }],
    }


def _rule(slug: str) -> dict[str, Any]:
    from .explain import section

    code = CODES[slug]
    return {
        "id": slug,
        "name": slug,
        "shortDescription": {"text": code.summary},
        "fullDescription": {"text": code.explanation},
        "help": {"text": code.explanation, "markdown": section(code)},
        "defaultConfiguration": {"level": _level(code.severity)},
        "properties": {"tags": [code.group], "group": code.group, "suppressible": code.suppressible},
    }


def _level(severity: str) -> str:
    return "error" if severity == "error" else "warning"


def _result(diagnostic: Diagnostic, index: dict[str, int], root: Path) -> dict[str, Any]:
    # Related spans may lie in another file (a cast file) that the record does not name: they go in the text,
    # as the human format shows them.
    notes = "".join(f" (note: {message}, line {span.line})" for message, span in diagnostic.related)
    text = diagnostic.message + (f" (hint: {diagnostic.hint})" if diagnostic.hint else "") + notes
    result: dict[str, Any] = {"ruleId": diagnostic.code, "level": _level(diagnostic.severity),
                              "message": {"text": text}}
    if diagnostic.code in index:
        result["ruleIndex"] = index[diagnostic.code]
    if diagnostic.path:
        result["locations"] = [{"physicalLocation": _physical(diagnostic, root)}]
    return result


def _physical(diagnostic: Diagnostic, root: Path) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": _artifact(diagnostic.path or "", root)}
    if diagnostic.span is not None:
        location["region"] = _region(diagnostic.span)
    return location


def _region(span: Span) -> dict[str, int]:
    return {"startLine": span.line, "startColumn": span.column, "endLine": span.end_line,
            "endColumn": max(span.end_column, span.column) if span.end_line == span.line else span.end_column}


def _artifact(path: str, root: Path) -> dict[str, str]:
    """A path relative to the root with %SRCROOT%, else an absolute file: URI; percent-encoded either way."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}
