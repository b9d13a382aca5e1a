"""Quick fixes for fixable diagnostics: the "did you mean" replacement, a missing blank line, removing an
unused member, and a hand-typed identifier ("Image 2") replaced by the member's name."""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from ..diagnostics import Diagnostic
from .analysis import Analysis
from .positions import Encoding, to_offset, to_range

__all__ = ["code_actions"]

DID_YOU_MEAN = re.compile(r"did you mean (?P<word>.+?)\?$")
# Codes whose span is wider than the typed word: where the message names that word.
TYPED_IN_MESSAGE = {"unknown-framing": re.compile(r"the framing (?P<word>.+)$"),
                    "unknown-transition": re.compile(r"the transition (?P<word>.+)$")}
BLANK_LINE_BEFORE = {"lone-name-line", "caps-line-in-dialogue"}


def code_actions(analysis: Analysis, params: lsp.CodeActionParams, encoding: Encoding):
    start = to_offset(analysis.source, params.range.start, encoding)
    end = to_offset(analysis.source, params.range.end, encoding)
    own = str(analysis.path)
    actions = []
    for d in analysis.diagnostics:
        # Only this document's own diagnostics: a member of a shared cast file that this scene does not
        # use may be another scene's lead, so removing it is not offered from here.
        if d.span is None or d.path != own or d.span.end < start or d.span.start > end:
            continue
        action = _fix(d, analysis, encoding)
        if action is not None:
            action.diagnostics = [c for c in params.context.diagnostics if c.code == d.code] or None
            actions.append(action)
    return actions


def _fix(d: Diagnostic, analysis: Analysis, encoding: Encoding) -> lsp.CodeAction | None:
    if d.code == "unused-member":
        return _remove_line(d, analysis, encoding)
    if d.code in BLANK_LINE_BEFORE:
        line_start = analysis.source.line_starts[d.span.line - 1]
        return _edit(analysis, encoding, f"Add a blank line before line {d.span.line}", d,
                     line_start, line_start, "\n")
    if d.code == "literal-identifier":
        return _named(d, analysis, encoding)
    suggestion = DID_YOU_MEAN.search(d.hint or "")
    if suggestion:
        return _replace_typed(d, analysis, encoding, suggestion.group("word"))
    return None


def _edit(analysis: Analysis, encoding: Encoding, title: str, d: Diagnostic, start: int, end: int, text: str,
          preferred: bool = True) -> lsp.CodeAction:
    where = to_range(analysis.source, analysis.source.span(start, end), encoding)
    return lsp.CodeAction(title=title, kind=lsp.CodeActionKind.QuickFix, is_preferred=preferred,
                          edit=lsp.WorkspaceEdit(changes={analysis.uri: [lsp.TextEdit(range=where, new_text=text)]}))


def _replace_typed(d: Diagnostic, analysis: Analysis, encoding: Encoding, word: str) -> lsp.CodeAction | None:
    covered = analysis.source.text[d.span.start:d.span.end]
    start, typed = d.span.start, covered
    pattern = TYPED_IN_MESSAGE.get(d.code)
    if pattern:
        named = pattern.search(d.message)
        found = covered.find(named.group("word")) if named else -1
        if found < 0:
            return None
        start, typed = d.span.start + found, named.group("word")
    return _edit(analysis, encoding, f"Replace {typed} by {word}", d, start, start + len(typed), word)


def _named(d: Diagnostic, analysis: Analysis, encoding: Encoding) -> lsp.CodeAction | None:
    typed = analysis.source.text[d.span.start:d.span.end]
    wanted = " ".join(typed.split()).lower()
    for member in analysis.scene.references if analysis.scene else ():
        if member.identifier.lower() == wanted or member.identifier.replace(" ", "").lower() == wanted.replace(" ", ""):
            if member.role == "storyboard":
                return None
            return _edit(analysis, encoding, f"Write {member.name} instead of {typed}", d,
                         d.span.start, d.span.end, member.name)
    return None


def _remove_line(d: Diagnostic, analysis: Analysis, encoding: Encoding) -> lsp.CodeAction | None:
    source = analysis.source
    starts = source.line_starts
    begin = starts[d.span.line - 1]
    end = starts[d.span.line] if d.span.line < len(starts) else len(source.text)
    name = source.text[d.span.start:d.span.end]
    where = to_range(source, source.span(begin, end), encoding)
    return lsp.CodeAction(title=f"Remove the unused member {name}", kind=lsp.CodeActionKind.QuickFix,
                          edit=lsp.WorkspaceEdit(changes={analysis.uri: [lsp.TextEdit(range=where, new_text="")]}))
