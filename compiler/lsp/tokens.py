"""Semantic tokens (textDocument/semanticTokens/full): what the syntax tree says each word is, for editors that
colour by the server (Neovim 0.9+ does so by itself); cast names are marked only where they name a member."""

from __future__ import annotations

from lsprotocol import types as lsp

from .. import nodes as n
from ..source import Span
from .analysis import Analysis
from .occurrences import member_names, occurrences
from .positions import Encoding, to_range

__all__ = ["LEGEND", "semantic_tokens"]

TYPES = ["property", "string", "variable", "keyword", "type", "number"]
MODIFIERS = ["declaration"]
LEGEND = lsp.SemanticTokensLegend(token_types=TYPES, token_modifiers=MODIFIERS)
DECLARATION = 1 << MODIFIERS.index("declaration")


def semantic_tokens(analysis: Analysis, encoding: Encoding) -> lsp.SemanticTokens:
    """Every token as LSP encodes them: five integers each, relative to the token before."""
    data: list[int] = []
    line, character = 0, 0
    for span, kind, modifiers in _tokens(analysis):
        where = to_range(analysis.source, span, encoding)
        start = where.start
        length = where.end.character - start.character
        if where.end.line != start.line or length <= 0:
            continue  # tokens are single-line words; nothing else is sent
        data += [start.line - line, start.character - character if start.line == line else start.character,
                 length, TYPES.index(kind), modifiers]
        line, character = start.line, start.character
    return lsp.SemanticTokens(data=data)


def _tokens(analysis: Analysis) -> list[tuple[Span, str, int]]:
    """(span, type, modifiers) in document order, a cast name winning over what the line's shape says."""
    tree = analysis.scene_file
    found: dict[int, tuple[Span, str, int]] = {}
    for span, kind in _shapes(tree):
        found[span.start] = (span, kind, 0)
    for occurrence in occurrences(tree, member_names(analysis.scene)):
        modifiers = DECLARATION if occurrence.role == "declaration" else 0
        found[occurrence.span.start] = (occurrence.span, "variable", modifiers)
    return [found[start] for start in sorted(found)]


def _shapes(tree: n.SceneFile) -> list[tuple[Span, str]]:
    """Settings, media sources, cast imports, and the script's transitions, framings and timings."""
    out: list[tuple[Span, str]] = [(setting.key.span, "property") for setting in tree.settings]
    for spec in tree.first_frames + tree.storyboards:
        out += _media(spec)
    for item in tree.cast:
        if isinstance(item, n.Member):
            out += [(word.span, "keyword") for word in (item.role, item.kind) if word is not None]
            out += _media(item.media)
        else:
            out.append((item.path.span, "string"))
    for paragraph in tree.paragraphs:
        for line in paragraph.lines:
            if isinstance(line, n.Transition):
                out.append((line.kind.span, "keyword"))
            if isinstance(line, (n.Transition, n.Framing)) and line.spec is not None:
                out += _shot_spec(line.spec)
    return out


def _media(spec: n.MediaSpec) -> list[tuple[Span, str]]:
    return [(word.span, "string") for word in (spec.source, spec.voice) if word is not None]


def _shot_spec(spec: n.ShotSpec) -> list[tuple[Span, str]]:
    out: list[tuple[Span, str]] = []
    if spec.framing is not None:
        out.append((spec.framing.span, "type"))
    if spec.timing is not None:
        out.append((spec.timing.span, "number"))
    return out
