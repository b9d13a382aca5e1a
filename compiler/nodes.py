"""The syntax tree of a .scene file: what the writer typed, with a span on every node (output of parse)."""

from __future__ import annotations

from pathlib import Path

from .records import record
from .source import Source, Span

__all__ = [
    "Word", "Text", "Mention", "Segment", "Setting", "MediaSpec", "Member", "CastImport", "Action", "Heading",
    "ShotSpec", "Transition", "Framing", "Parenthetical", "Speech", "Dialogue", "Line", "Paragraph", "SceneFile",
]


@record
class Word:
    """One token as typed: its text and where it is."""

    text: str
    span: Span


@record
class Text:
    text: str
    span: Span


@record
class Mention:
    """A word in capitals inside prose: a reference if it names a cast member, plain text otherwise."""

    name: str
    span: Span


Segment = "Text | Mention"  # type alias, as a string: no typing.Union at import


@record
class Setting:
    key: Word
    value: Word
    span: Span


@record
class MediaSpec:
    source: Word
    voice: Word | None
    length: Word | None  # e.g. "6s", for reference videos given by URL
    span: Span


@record
class Member:
    name: Word
    description: Word | None
    role: Word | None
    kind: Word
    media: MediaSpec
    span: Span
    origin: Path | None = None  # the file that declares it (a cast file for imported members)


@record
class CastImport:
    """CAST FROM path, optionally ': NAME, NAME' (only those members; empty: the whole cast)."""

    path: Word
    span: Span
    names: tuple[Word, ...] = ()


@record
class Action:
    segments: tuple[Segment, ...]
    span: Span
    forced: bool = False


@record
class Heading:
    text: str
    segments: tuple[Segment, ...]
    span: Span


@record
class ShotSpec:
    framing: Word | None
    subjects: tuple[Word, ...]
    timing: Word | None
    span: Span


@record
class Transition:
    kind: Word          # "CUT TO", "DISSOLVE TO", "FADE IN", "FADE OUT"
    spec: ShotSpec | None
    span: Span


@record
class Framing:
    spec: ShotSpec
    span: Span
    segments: tuple[Segment, ...] = ()  # the line as prose: resolve reads "BOOM." as action when no framing is known


@record
class Parenthetical:
    text: str
    segments: tuple[Segment, ...]
    span: Span


@record
class Speech:
    text: str
    span: Span


@record
class Dialogue:
    cue: Word
    extension: Word | None
    parts: tuple[Parenthetical | Speech, ...]
    span: Span


Line = "Action | Heading | Transition | Framing | Dialogue"  # type alias


@record
class Paragraph:
    lines: tuple[Line, ...]
    span: Span


@record
class SceneFile:
    source: Source
    settings: tuple[Setting, ...] = ()
    first_frames: tuple[MediaSpec, ...] = ()
    storyboards: tuple[MediaSpec, ...] = ()
    cast: tuple[Member | CastImport, ...] = ()
    paragraphs: tuple[Paragraph, ...] = ()
