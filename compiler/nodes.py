"""The syntax tree of a .scene file: what the writer typed, with a span on every node (output of parse)."""

from __future__ import annotations

from typing import NamedTuple
from pathlib import Path

from .source import Source, Span

__all__ = [
    "Word", "Text", "Mention", "Segment", "Setting", "MediaSpec", "Member", "CastImport", "Action", "Heading",
    "ShotSpec", "Transition", "Framing", "Parenthetical", "Speech", "Dialogue", "Line", "Paragraph", "SceneFile",
]


class Word(NamedTuple):
    """One token as typed: its text and where it is."""

    text: str
    span: Span


class Text(NamedTuple):
    text: str
    span: Span


class Mention(NamedTuple):
    """A word in capitals inside prose: a reference if it names a cast member, plain text otherwise."""

    name: str
    span: Span


Segment = "Text | Mention"  # type alias, as a string: no typing.Union at import


class Setting(NamedTuple):
    key: Word
    value: Word
    span: Span


class MediaSpec(NamedTuple):
    source: Word
    voice: Word | None
    length: Word | None  # e.g. "6s", for reference videos given by URL
    span: Span


class Member(NamedTuple):
    name: Word
    description: Word | None
    role: Word | None
    kind: Word
    media: MediaSpec
    span: Span
    origin: Path | None = None  # the file that declares it (a cast file for imported members)


class CastImport(NamedTuple):
    path: Word
    span: Span


class Action(NamedTuple):
    segments: tuple[Segment, ...]
    span: Span
    forced: bool = False


class Heading(NamedTuple):
    text: str
    segments: tuple[Segment, ...]
    span: Span


class ShotSpec(NamedTuple):
    framing: Word | None
    subjects: tuple[Word, ...]
    timing: Word | None
    span: Span


class Transition(NamedTuple):
    kind: Word          # "CUT TO", "DISSOLVE TO", "FADE IN", "FADE OUT"
    spec: ShotSpec | None
    span: Span


class Framing(NamedTuple):
    spec: ShotSpec
    span: Span


class Parenthetical(NamedTuple):
    text: str
    segments: tuple[Segment, ...]
    span: Span


class Speech(NamedTuple):
    text: str
    span: Span


class Dialogue(NamedTuple):
    cue: Word
    extension: Word | None
    parts: tuple[Parenthetical | Speech, ...]
    span: Span


Line = "Action | Heading | Transition | Framing | Dialogue"  # type alias


class Paragraph(NamedTuple):
    lines: tuple[Line, ...]
    span: Span


class SceneFile(NamedTuple):
    source: Source
    settings: tuple[Setting, ...] = ()
    first_frames: tuple[MediaSpec, ...] = ()
    storyboards: tuple[MediaSpec, ...] = ()
    cast: tuple[Member | CastImport, ...] = ()
    paragraphs: tuple[Paragraph, ...] = ()
