"""The script grouped into shots: transitions, framing lines and headings open shots; action and dialogue
lines become their beats, with names bound through the NameBinder and misplaced lines reported."""

from __future__ import annotations

import re

from .. import ir
from .. import nodes as n
from ..diagnostics import did_you_mean
from ..source import Span
from ..vocabulary import framing_entry, known_framings
from .misplaced import caps_line_in_dialogue, malformed_member, misplaced_header, plain_text, swallowed_action
from .names import NameBinder
from .parentheticals import classify_parenthetical, extension_manner, pause, strip_brackets_space
from .reporter import Reporter

# Spelled out rather than imported from typing: `scenec check` runs on every save and does not import
# typing (records.py); checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["read_shots", "ShotBuilder", "ScriptReader"]

TIMING = re.compile(r"^\[\s*(\d+(?:\.\d+)?)\s*s?\s*[-–—~]\s*(\d+(?:\.\d+)?)\s*s?\s*\]$")
TRANSITION_TO = re.compile(r"\s+TO$")


def read_shots(paragraphs: tuple[n.Paragraph, ...], binder: NameBinder, language: str,
               report: Reporter) -> tuple[ir.Shot, ...]:
    """The script's shots, in order."""
    return _Script(binder, language, report).shots(paragraphs)


class _Script:
    """Reads the script's paragraphs in order into a ShotBuilder, binding names and reporting as it goes."""

    def __init__(self, binder: NameBinder, language: str, report: Reporter) -> None:
        self.binder = binder
        self.names = binder.names
        self.language = language
        self.report = report

    def shots(self, paragraphs: tuple[n.Paragraph, ...]) -> tuple[ir.Shot, ...]:
        builder = ShotBuilder()
        for paragraph in paragraphs:
            self.paragraph(paragraph, builder)
        return builder.finish()

    def paragraph(self, paragraph: n.Paragraph, builder: ShotBuilder) -> None:
        """One paragraph's lines into the builder (or reuse.py's recorder of its calls).

        Reads nothing of the other paragraphs: reuse.py relies on it to keep a paragraph's result."""
        pieces, report = self.binder.pieces, self.report
        for line in paragraph.lines:
            if isinstance(line, n.Transition):
                builder.transition(transition_kind(line.kind), line.span)
                if line.spec:
                    self.apply_spec(builder, line.spec, framing_opens=False)
            elif isinstance(line, n.Framing):
                self.lone_name(line.spec)
                if misplaced_header(line.spec.framing.text if line.spec.framing else "", line.span, report):
                    continue
                if self.capitals_action(line):
                    builder.beat(ir.ActionBeat(pieces(line.segments), line.span))
                else:
                    self.apply_spec(builder, line.spec, framing_opens=True)
            elif isinstance(line, n.Heading):
                builder.heading(pieces(line.segments), line.span)
            elif isinstance(line, n.Action):
                # "!" forces action: the line is kept as written (after the "!"), never read as a header line.
                if line.forced or not (misplaced_header(plain_text(line.segments), line.span, report)
                                       or malformed_member(plain_text(line.segments), line.span, report)):
                    builder.beat(ir.ActionBeat(pieces(line.segments), line.span))
            else:
                builder.beat(self.dialogue(line))

    def capitals_action(self, line: n.Framing) -> bool:
        """A capitals line that names no known framing ("BOOM.", "LATER") is a sound or a beat: action.

        A line with ON subjects or a timing is a framing whatever its words; so is a cast name alone
        (lone-name-line).  When the words are close to a known framing, the writer is told which way it went.
        """
        spec = line.spec
        if spec.framing is None or spec.subjects or spec.timing or spec.framing.text in self.names:
            return False
        if framing_entry(spec.framing.text) is not None:
            return False
        # A sound effect repeats ("BOOM."): the vocabulary's cached search works its distances out once.
        close = did_you_mean(spec.framing.text, known_framings())
        if close:
            self.report("unknown-framing", f"{spec.framing.text} is not a framing scenec knows, so the line is "
                        f"action, written as it stands", spec.framing.span,
                        hint=f"did you mean {close[0]}? Start the line with ! to keep it as action")
        return True

    def apply_spec(self, builder: ShotBuilder, spec: n.ShotSpec, *, framing_opens: bool) -> None:
        if spec.framing and spec.framing.text in self.names and not spec.subjects:
            # "LEO" alone on a line (warned as lone-name-line): a shot of LEO, not a framing called "leo".
            spec = spec._replace(framing=None, subjects=(spec.framing,))
        subjects = tuple(ref for ref in (self.binder.subject(w) for w in spec.subjects) if ref)
        timing = self.timing(spec.timing) if spec.timing else None
        builder.framing(spec.framing.text if spec.framing else None, subjects, timing,
                        spec.timing.span if spec.timing else None, spec.span, opens=framing_opens)

    def lone_name(self, spec: n.ShotSpec) -> None:
        if spec.framing and spec.framing.text in self.names and not spec.subjects:
            self.report("lone-name-line", f"{spec.framing.text} alone on a line is read as a framing, not a cue",
                        spec.framing.span, hint="put a blank line before a cue and its dialogue right under it")

    def timing(self, word: n.Word) -> tuple[float, float] | None:
        match = TIMING.match(word.text)
        if not match:
            self.report("timing-malformed", f"cannot read the timing {word.text}", word.span,
                        hint="write [START-END] in seconds, e.g. [0-3s]")
            return None
        return float(match.group(1)), float(match.group(2))

    def dialogue(self, line: n.Dialogue) -> ir.DialogueBeat:
        language = self.language
        speaker = self.binder.speaker(line.cue)
        parts = []
        manner = extension_manner(line.extension, language)
        if manner:
            parts.append(ir.DialoguePart("manner", (ir.Words(manner),)))
        spoken = False
        for part in line.parts:
            if isinstance(part, n.Parenthetical):
                kind = classify_parenthetical(part.text, language)
                pieces = self.binder.pieces(strip_brackets_space(part.segments))
                said = pause(part.text, language)
                parts.append(ir.DialoguePart(kind, (ir.Words(said),) if said else pieces))
            else:
                if not caps_line_in_dialogue(part, speaker, self.report) and spoken:
                    swallowed_action(part, self.names, self.report)
                spoken = True
                parts.append(ir.DialoguePart("speech", (ir.Words(part.text),)))
        return ir.DialogueBeat(speaker, line.cue.span, tuple(parts))


ScriptReader = _Script  # reuse.py reads paragraph by paragraph


def transition_kind(word: n.Word) -> str:
    """'CUT TO:' -> 'CUT'."""
    return TRANSITION_TO.sub("", word.text.rstrip(":.").strip())


class ShotBuilder:
    """Groups script lines into shots: a transition or a framing line after content opens a new shot.

    Fields accumulate in a dict and each Shot is built once (a copy per line was the
    hot spot of long scripts).
    """

    def __init__(self) -> None:
        self.done: list[ir.Shot] = []
        self.fields: dict[str, Any] = {}
        self.beats: list[ir.Beat] = []

    def _has_content(self) -> bool:
        fields = self.fields
        return bool(self.beats or fields.get("framing") or fields.get("transition") or fields.get("subjects"))

    def _close(self) -> None:
        self.done.append(ir.Shot(len(self.done) + 1, beats=tuple(self.beats), **self.fields))
        self.fields, self.beats = {}, []

    def _open(self, **fields: Any) -> None:
        if self._has_content():
            self._close()
        elif "heading" in self.fields:
            fields.setdefault("heading", self.fields["heading"])
            fields["span"] = self.fields.get("span") or fields.get("span")
        self.fields = fields

    def transition(self, kind: str, span: Span) -> None:
        self._open(transition=kind, span=span)

    def framing(self, framing: str | None, subjects: tuple[ir.Ref, ...], timing: tuple[float, float] | None,
                timing_span: Span | None, span: Span, *, opens: bool) -> None:
        fields = self.fields
        fresh = not self.beats and not fields.get("framing") and not fields.get("subjects") and not fields.get("timing")
        if opens and not fresh:
            self._open(span=span)
        self.fields.update(framing=framing, subjects=subjects, timing=timing, timing_span=timing_span)
        self.fields.setdefault("span", span)

    def heading(self, pieces: tuple[ir.Piece, ...], span: Span) -> None:
        if self.beats:
            self._open(span=span)
        self.fields["heading"] = pieces
        if self.fields.get("span") is None:
            self.fields["span"] = span

    def beat(self, beat: ir.Beat) -> None:
        self.beats.append(beat)
        if self.fields.get("span") is None:
            self.fields["span"] = beat.span

    def finish(self) -> tuple[ir.Shot, ...]:
        if self._has_content() or "heading" in self.fields:
            self._close()
        return tuple(self.done)
