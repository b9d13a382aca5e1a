"""The syntax tree of a .scene file: what the writer typed, with a span on every node (output of parse)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from .source import Source, Span

__all__ = [
    "Word", "Text", "Mention", "Segment", "Setting", "MediaSpec", "Member", "CastImport", "Action", "Heading",
    "ShotSpec", "Transition", "Framing", "Parenthetical", "Speech", "Dialogue", "Line", "Paragraph", "SceneFile",
]


@dataclass(frozen=True)
class Word:
    """One token as typed: its text and where it is."""

    text: str
    span: Span


@dataclass(frozen=True)
class Text:
    text: str
    span: Span


@dataclass(frozen=True)
class Mention:
    """A word in capitals inside prose: a reference if it names a cast member, plain text otherwise."""

    name: str
    span: Span


Segment = Union[Text, Mention]


@dataclass(frozen=True)
class Setting:
    key: Word
    value: Word
    span: Span


@dataclass(frozen=True)
class MediaSpec:
    source: Word
    voice: Word | None
    length: Word | None  # e.g. "6s", for reference videos given by URL
    span: Span


@dataclass(frozen=True)
class Member:
    name: Word
    description: Word | None
    role: Word | None
    kind: Word
    media: MediaSpec
    span: Span
    origin: Path | None = None  # the file that declares it (a cast file for imported members)


@dataclass(frozen=True)
class CastImport:
    path: Word
    span: Span


@dataclass(frozen=True)
class Action:
    segments: tuple[Segment, ...]
    span: Span
    forced: bool = False


@dataclass(frozen=True)
class Heading:
    text: str
    segments: tuple[Segment, ...]
    span: Span


@dataclass(frozen=True)
class ShotSpec:
    framing: Word | None
    subjects: tuple[Word, ...]
    timing: Word | None
    span: Span


@dataclass(frozen=True)
class Transition:
    kind: Word          # "CUT TO", "DISSOLVE TO", "FADE IN", "FADE OUT"
    spec: ShotSpec | None
    span: Span


@dataclass(frozen=True)
class Framing:
    spec: ShotSpec
    span: Span


@dataclass(frozen=True)
class Parenthetical:
    text: str
    segments: tuple[Segment, ...]
    span: Span


@dataclass(frozen=True)
class Speech:
    text: str
    span: Span


@dataclass(frozen=True)
class Dialogue:
    cue: Word
    extension: Word | None
    parts: tuple[Parenthetical | Speech, ...]
    span: Span


Line = Union[Action, Heading, Transition, Framing, Dialogue]


@dataclass(frozen=True)
class Paragraph:
    lines: tuple[Line, ...]
    span: Span


@dataclass(frozen=True)
class SceneFile:
    source: Source
    settings: tuple[Setting, ...] = ()
    first_frames: tuple[MediaSpec, ...] = ()
    storyboards: tuple[MediaSpec, ...] = ()
    cast: tuple[Member | CastImport, ...] = ()
    paragraphs: tuple[Paragraph, ...] = field(default=())
