"""Document symbols (settings, cast, shots) for the outline, and folding ranges (the cast, each paragraph)."""

from __future__ import annotations

from lsprotocol import types as lsp

from .. import nodes as n
from ..source import Span
from .analysis import Analysis
from .positions import Encoding, to_range

__all__ = ["symbols", "folding_ranges"]


def _symbol(analysis: Analysis, name: str, detail: str | None, kind: lsp.SymbolKind, span: Span, selection: Span,
            encoding: Encoding, children: list[lsp.DocumentSymbol] | None = None) -> lsp.DocumentSymbol:
    whole = to_range(analysis.source, span, encoding)
    return lsp.DocumentSymbol(name=name or "?", detail=detail, kind=kind, range=whole,
                              selection_range=to_range(analysis.source, selection, encoding),
                              children=children)


def symbols(analysis: Analysis, encoding: Encoding) -> list[lsp.DocumentSymbol]:
    tree = analysis.scene_file
    out = [_symbol(analysis, s.key.text, s.value.text, lsp.SymbolKind.Property, s.span, s.key.span, encoding)
           for s in tree.settings]
    members = [item for item in tree.cast if isinstance(item, n.Member)]
    if tree.cast:
        children = [_symbol(analysis, m.name.text, _member_detail(analysis, m), lsp.SymbolKind.Variable, m.span,
                            m.name.span, encoding) for m in members]
        children += [_symbol(analysis, f"CAST FROM {i.path.text}", None, lsp.SymbolKind.Module, i.span, i.path.span,
                             encoding) for i in tree.cast if isinstance(i, n.CastImport)]
        span = analysis.source.span(tree.cast[0].span.start, tree.cast[-1].span.end)
        out.append(_symbol(analysis, "CAST", f"{len(members)} members", lsp.SymbolKind.Namespace, span,
                           tree.cast[0].span, encoding, children))
    out += _shots(analysis, encoding)
    return out


def _member_detail(analysis: Analysis, member: n.Member) -> str:
    resolved = analysis.scene.member(member.name.text) if analysis.scene else None
    kind = member.kind.text if member.kind else "image"
    if resolved is None or analysis.scene is None:
        return kind
    from ..targets import naming_of

    identifier = naming_of(analysis.scene).identifiers.get(resolved.name)
    return f"{kind} · {identifier}" if identifier else kind


def _shots(analysis: Analysis, encoding: Encoding) -> list[lsp.DocumentSymbol]:
    scene = analysis.scene
    if scene is None:
        return []
    starts = [shot.span for shot in scene.shots]
    end = analysis.scene_file.paragraphs[-1].span.end if analysis.scene_file.paragraphs else None
    out = []
    for index, shot in enumerate(scene.shots):
        if shot.span is None or end is None:
            continue
        following = next((s for s in starts[index + 1:] if s is not None), None)
        stop = following.start if following else end
        span = analysis.source.span(shot.span.start, max(shot.span.start, stop))
        label = " ".join(filter(None, [shot.transition and f"{shot.transition} TO", shot.framing,
                                       ", ".join(ref.name for ref in shot.subjects)])) or "action"
        out.append(_symbol(analysis, f"Shot {shot.number}", label, lsp.SymbolKind.Event, _trim(analysis, span),
                           shot.span, encoding))
    return out


def _trim(analysis: Analysis, span: Span) -> Span:
    """Without the blank lines that end it."""
    text = analysis.source.text[span.start:span.end]
    return analysis.source.span(span.start, span.start + len(text.rstrip()))


def folding_ranges(analysis: Analysis) -> list[lsp.FoldingRange]:
    tree = analysis.scene_file
    spans = []
    if tree.cast:
        spans.append(analysis.source.span(tree.cast[0].span.start, tree.cast[-1].span.end))
    spans += [_trim(analysis, p.span) for p in tree.paragraphs]
    return [lsp.FoldingRange(start_line=s.line - 1, end_line=s.end_line - 1, kind=lsp.FoldingRangeKind.Region)
            for s in spans if s.end_line > s.line]
