"""The compiler's diagnostics as LSP diagnostics: same code, severity, span and message as `scenec check`.

A diagnostic in an imported cast file is shown on the scene's CAST FROM line, its exact place given as
related information; the hint (an LSP diagnostic has no field for it) is related information too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lsprotocol import types as lsp

from .. import nodes as n
from ..diagnostics import Diagnostic
from ..source import Source, Span
from .analysis import Analysis
from .positions import Encoding, to_range

__all__ = ["to_lsp_diagnostics", "uri_of"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    SourceOf = Callable[[str], Source | None]  # the text a path's spans point into, if it can be read

SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}
# "MAYA first declared here (cast/leads.cast)": the related span lies in the file named at the end.
IN_FILE = re.compile(r"\(([^()]+)\)$")


def uri_of(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri()


def to_lsp_diagnostics(analysis: Analysis, encoding: Encoding, source_of: SourceOf) -> list[lsp.Diagnostic]:
    own = str(analysis.path)
    return [convert(d, analysis, encoding, source_of) if d.path in (own, None)
            else foreign(d, analysis, encoding, source_of) for d in analysis.diagnostics]


def convert(d: Diagnostic, analysis: Analysis, encoding: Encoding, source_of: SourceOf) -> lsp.Diagnostic:
    where = to_range(analysis.source, d.span, encoding)
    return lsp.Diagnostic(range=where, message=d.message, severity=SEVERITY.get(d.severity), code=d.code,
                          source="scenec", related_information=related(d, analysis, encoding, source_of) or None,
                          data=data_of(d))


def foreign(d: Diagnostic, analysis: Analysis, encoding: Encoding, source_of: SourceOf) -> lsp.Diagnostic:
    """A diagnostic of an imported file, placed on the CAST FROM line that brings that file in."""
    assert d.path is not None  # to_lsp_diagnostics sends here only diagnostics of another path
    where = to_range(analysis.source, import_span(analysis, d.path), encoding)
    source = source_of(d.path)
    place = f"{Path(d.path).name}:{d.span.line}" if d.span else Path(d.path).name
    exact = [lsp.DiagnosticRelatedInformation(location=lsp.Location(uri=uri_of(d.path), range=to_range(
        source, d.span, encoding)), message=d.message)] if source is not None else []
    return lsp.Diagnostic(range=where, message=f"{place}: {d.message}", severity=SEVERITY.get(d.severity),
                          code=d.code, source="scenec",
                          related_information=(exact + related(d, analysis, encoding, source_of)) or None,
                          data=data_of(d))


def related(d: Diagnostic, analysis: Analysis, encoding: Encoding,
            source_of: SourceOf) -> list[lsp.DiagnosticRelatedInformation]:
    out = []
    for message, span in d.related:
        named = IN_FILE.search(message)
        path = named.group(1) if named and source_of(named.group(1)) is not None else (d.path or str(analysis.path))
        source = analysis.source if path == str(analysis.path) else source_of(path)
        if source is not None:
            out.append(lsp.DiagnosticRelatedInformation(
                location=lsp.Location(uri=uri_of(path), range=to_range(source, span, encoding)), message=message))
    if d.hint:
        source = analysis.source if d.path in (None, str(analysis.path)) else source_of(d.path)
        if source is not None:
            out.append(lsp.DiagnosticRelatedInformation(location=lsp.Location(
                uri=uri_of(d.path or str(analysis.path)), range=to_range(source, d.span, encoding)),
                message=f"hint: {d.hint}"))
    return out


def data_of(d: Diagnostic) -> dict[str, object]:
    """What a quick fix needs, carried back by the client in codeAction requests."""
    return {"path": d.path, "hint": d.hint, "span": d.span.to_dict() if d.span else None}


def import_span(analysis: Analysis, path: str | None) -> Span | None:
    imports = [item for item in analysis.scene_file.cast if isinstance(item, n.CastImport)]
    if not imports:
        return None
    base = analysis.path.parent
    wanted = os.path.abspath(path) if path else None
    for item in imports:
        if os.path.abspath(base / item.path.text.strip('"')) == wanted:
            return item.span
    return imports[0].span
