"""Reading the script's shots again after an edit, reusing what each unchanged paragraph gave the last time.

Used only by the language server (compiler/lsp/analysis.py), around its call of compiler.api:

    memo = ShotMemo(previous.memo if previous else None)
    with remembering(memo):
        checked = api.check_document(...)

Reading a paragraph (shots.py, ScriptReader.paragraph) gives calls of the ShotBuilder, diagnostics and the
names it uses, and reads nothing but the paragraph's nodes and the context (the cast's names, the language,
whether a cast file could not be read, the scene's path). Past the first paragraph, a paragraph's nodes are
the same for the same text, spans moved (the incremental parse rests on this, see parse.reparse_text). So a
paragraph whose text and context are unchanged gives the same result, with its spans moved by as much as
the paragraph moved: it is replayed instead of read again. The first paragraph, whose nodes follow what
comes before it, is always read; a memo whose context differs is not used at all.

The caller gives no previous memo when the parse had diagnostics (its nodes then depend on the lines it
silenced, not on the text alone).
"""

from __future__ import annotations

import contextlib
import contextvars

from .. import ir
from .. import nodes as n
from ..diagnostics import Diagnostic
from ..records import Record
from ..source import Span, shifted
from .names import NameBinder
from .reporter import Reporter
from .shots import ScriptReader, ShotBuilder

TYPE_CHECKING = False  # spelled out: typing is not imported at run time (records.py)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

__all__ = ["ShotMemo", "remembering", "current", "read_shots_reusing"]


class Read(Record):
    """What reading one paragraph gave, at the place it was read."""

    start: int                      # the paragraph's offset and line then
    line: int
    calls: tuple[tuple[str, tuple[Any, ...]], ...]   # ShotBuilder method and arguments, in order
    diagnostics: tuple[Diagnostic, ...]
    used: frozenset[str]


Context = tuple[str, str, bool, dict[str, ir.CastMember]]


class ShotMemo:
    """One document version's reads, by paragraph text and place; filled by read_shots_reusing.

    `previous` is the memo of the version before (None: read every paragraph). A memo is filled once and
    then only read, so a version's memo stays valid while the next one is being made."""

    __slots__ = ("previous", "context", "at", "by_text", "reused", "read")

    def __init__(self, previous: ShotMemo | None = None) -> None:
        self.previous = previous
        self.context: Context | None = None
        self.at: dict[tuple[str, int, int], Read] = {}     # (text, offset, line) -> its read
        self.by_text: dict[tuple[str, int], Read] = {}     # (text, column) -> a read of that text
        self.reused = self.read = 0                        # paragraphs replayed and read (for the tests)


_current: contextvars.ContextVar[ShotMemo | None] = contextvars.ContextVar("scenec_shot_memo", default=None)


@contextlib.contextmanager
def remembering(memo: ShotMemo) -> Iterator[ShotMemo]:
    """Resolve reads the script's shots through `memo` in this block (this thread's resolves only)."""
    token = _current.set(memo)
    try:
        yield memo
    finally:
        _current.reset(token)


def current() -> ShotMemo | None:
    """The memo resolve fills now, if any: only inside `remembering`."""
    return _current.get()


def read_shots_reusing(paragraphs: tuple[n.Paragraph, ...], binder: NameBinder, language: str,
                       report: Reporter, memo: ShotMemo) -> tuple[ir.Shot, ...]:
    """read_shots(paragraphs, binder, language, report) exactly, reusing memo.previous's reads."""
    memo.context = (report.path, language, binder.unchecked, dict(binder.names))
    previous = memo.previous
    old = previous if previous is not None and previous.context == memo.context else None
    memo.previous = None  # one version back is all that is needed: older memos are freed
    text = binder.source.text
    reader = ScriptReader(binder, language, report)
    builder = ShotBuilder()
    for index, paragraph in enumerate(paragraphs):
        span = paragraph.span
        if index == 0:  # its nodes follow the lines before it: read, never remembered
            reader.paragraph(paragraph, builder)
            continue
        words = text[span.start:span.end]
        found = _recall(old, words, span) if old is not None else None
        if found is None:
            found = _read(reader, paragraph, span)
            memo.read += 1
        else:
            memo.reused += 1
        _replay(found, builder, report, binder)
        memo.at[words, span.start, span.line] = found
        memo.by_text[words, span.column] = found
    return builder.finish()


def _recall(old: ShotMemo, words: str, span: Span) -> Read | None:
    """The previous version's read of this text, moved to where the paragraph is now."""
    same_place = old.at.get((words, span.start, span.line))
    if same_place is not None:
        return same_place
    elsewhere = old.by_text.get((words, span.column))
    if elsewhere is None:
        return None
    return _moved(elsewhere, span.start - elsewhere.start, span.line - elsewhere.line)


def _read(reader: ScriptReader, paragraph: n.Paragraph, span: Span) -> Read:
    """Read the paragraph with its own reporter, set of used names and recording builder."""
    binder, report, used = reader.binder, reader.report, reader.binder.used
    own_report, own_used = Reporter(report.path), set[str]()
    recorder = _Recorder()
    reader.report = binder.report = own_report
    binder.used = own_used
    try:
        reader.paragraph(paragraph, recorder)
    finally:
        reader.report = binder.report = report
        binder.used = used
    return Read(span.start, span.line, tuple(recorder.calls), tuple(own_report.diagnostics), frozenset(own_used))


def _replay(found: Read, builder: ShotBuilder, report: Reporter, binder: NameBinder) -> None:
    for method, arguments in found.calls:
        if method == "framing":
            *given, opens = arguments
            builder.framing(*given, opens=opens)
        else:
            getattr(builder, method)(*arguments)
    report.diagnostics += found.diagnostics
    binder.used |= found.used


class _Recorder(ShotBuilder):
    """Records the calls a paragraph makes, to replay them into the real builder."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def transition(self, kind: str, span: Span) -> None:
        self.calls.append(("transition", (kind, span)))

    def framing(self, framing: str | None, subjects: tuple[ir.Ref, ...], timing: tuple[float, float] | None,
                timing_span: Span | None, span: Span, *, opens: bool) -> None:
        self.calls.append(("framing", (framing, subjects, timing, timing_span, span, opens)))

    def heading(self, pieces: tuple[ir.Piece, ...], span: Span) -> None:
        self.calls.append(("heading", (pieces, span)))

    def beat(self, beat: ir.Beat) -> None:
        self.calls.append(("beat", (beat,)))


def _moved(found: Read, by: int, lines: int) -> Read:
    """The read with every span moved `by` characters and `lines` lines (columns stay: a paragraph starts a
    line, and every span of its read lies inside it)."""
    if not by and not lines:
        return found
    return Read(found.start + by, found.line + lines, shifted(found.calls, by, lines, _HOLDERS),
                shifted(found.diagnostics, by, lines, _HOLDERS), found.used)


_HOLDERS = frozenset({tuple, ir.Ref, ir.ActionBeat, ir.DialoguePart, ir.DialogueBeat, Diagnostic})
