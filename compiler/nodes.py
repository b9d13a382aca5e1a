"""The syntax tree of a .scene file: what the writer typed, with a span on every node (output of parse)."""

from __future__ import annotations

from pathlib import Path

from .records import Record
from .source import Source, Span

__all__ = [
    "Word", "Text", "Mention", "Segment", "Setting", "MediaSpec", "Member", "CastImport", "Action", "Heading",
    "ShotSpec", "Transition", "Framing", "Parenthetical", "Speech", "Dialogue", "Line", "Paragraph", "SceneFile",
]


class Word(Record):
    """One token as typed: its text and where it is."""

    text: str
    span: Span


class Text(Record):
    text: str
    span: Span


class Mention(Record):
    """A word in capitals inside prose: a reference if it names a cast member, plain text otherwise."""

    name: str
    span: Span


Segment = Text | Mention  # a type alias (types.UnionType at run time: no typing import)


class Setting(Record):
    key: Word
    value: Word
    span: Span


class MediaSpec(Record):
    source: Word
    voice: Word | None
    length: Word | None  # e.g. "6s", for reference videos given by URL
    span: Span


class Member(Record):
    name: Word
    description: Word | None
    role: Word | None
    kind: Word
    media: MediaSpec
    span: Span
    origin: Path | None = None  # the file that declares it (a cast file for imported members)


class CastImport(Record):
    """CAST FROM path, optionally ': NAME, NAME' (only those members; empty: the whole cast)."""

    path: Word
    span: Span
    names: tuple[Word, ...] = ()


class Action(Record):
    segments: tuple[Segment, ...]
    span: Span
    forced: bool = False


class Heading(Record):
    text: str
    segments: tuple[Segment, ...]
    span: Span


class ShotSpec(Record):
    framing: Word | None
    subjects: tuple[Word, ...]
    timing: Word | None
    span: Span


class Transition(Record):
    kind: Word          # "CUT TO", "DISSOLVE TO", "FADE IN", "FADE OUT"
    spec: ShotSpec | None
    span: Span


class Framing(Record):
    spec: ShotSpec
    span: Span
    segments: tuple[Segment, ...] = ()  # the line as prose: resolve reads "BOOM." as action when no framing is known


class Parenthetical(Record):
    text: str
    segments: tuple[Segment, ...]
    span: Span


class Speech(Record):
    text: str
    span: Span


class Dialogue(Record):
    cue: Word
    extension: Word | None
    parts: tuple[Parenthetical | Speech, ...]
    span: Span


Line = Action | Heading | Transition | Framing | Dialogue  # type alias


class Paragraph(Record):
    lines: tuple[Line, ...]
    span: Span


class SceneFile(Record):
    source: Source
    settings: tuple[Setting, ...] = ()
    first_frames: tuple[MediaSpec, ...] = ()
    storyboards: tuple[MediaSpec, ...] = ()
    cast: tuple[Member | CastImport, ...] = ()
    paragraphs: tuple[Paragraph, ...] = ()
