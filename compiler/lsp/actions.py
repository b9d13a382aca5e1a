"""Quick fixes for fixable diagnostics, from the fix objects `scenec check --fix` applies (compiler/fixes.py):
the "did you mean" replacement, a missing blank line, removing an unused member, and a hand-typed
identifier ("Image 2") replaced by the member's name.  The editor offers every fix; --fix applies only
the safe ones."""

from __future__ import annotations

from lsprotocol import types as lsp

from ..fixes import Fix, fix_for
from .analysis import Analysis
from .positions import Encoding, to_offset, to_range

__all__ = ["code_actions"]


def code_actions(analysis: Analysis, params: lsp.CodeActionParams, encoding: Encoding) -> list[lsp.CodeAction]:
    start = to_offset(analysis.source, params.range.start, encoding)
    end = to_offset(analysis.source, params.range.end, encoding)
    own = str(analysis.path)
    actions = []
    for d in analysis.diagnostics:
        # Only this document's own diagnostics: a member of a shared cast file that this scene does not
        # use may be another scene's lead, so removing it is not offered from here.
        if d.span is None or d.path != own or d.span.end < start or d.span.start > end:
            continue
        fix = fix_for(d, analysis.source, analysis.scene)
        if fix is not None:
            action = _action(analysis, encoding, fix)
            action.diagnostics = [c for c in params.context.diagnostics if c.code == d.code] or None
            actions.append(action)
    return actions


def _action(analysis: Analysis, encoding: Encoding, fix: Fix) -> lsp.CodeAction:
    source = analysis.source
    edits = [lsp.TextEdit(range=to_range(source, source.span(e.start, e.end), encoding), new_text=e.text)
             for e in fix.edits]
    return lsp.CodeAction(title=fix.title, kind=lsp.CodeActionKind.QuickFix, is_preferred=fix.preferred or None,
                          edit=lsp.WorkspaceEdit(changes={analysis.uri: edits}))
