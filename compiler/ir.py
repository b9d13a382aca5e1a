"""The resolved scene (output of resolve, input of check, prompt and emit): names bound to cast members, the
cast in order.  Target-free: what a reference is called in a prompt is the compile target's (Target.naming)."""

from __future__ import annotations

from pathlib import Path

from . import vocabulary as language
from .records import Record
from .source import Span

TYPE_CHECKING = False  # spelled out: importing typing is a start-up cost `scenec check` avoids (records.py)

if TYPE_CHECKING:
    from .project import Project

__all__ = ["MediaSource", "CastMember", "FirstFrame", "Settings", "Ref", "Words", "Piece", "ActionBeat",
           "DialoguePart", "DialogueBeat", "Beat", "Shot", "Scene"]


class MediaSource(Record):
    """Where a medium comes from, as written and as understood."""

    text: str               # as the writer wrote it (quotes removed)
    span: Span
    path: str               # the file that names it
    scheme: str             # "local", "http", "https", "data", or another URL scheme (an error)
    local_path: Path | None = None  # absolute, not symlink-resolved, for local files


class CastMember(Record):
    name: str
    span: Span              # the name in its declaration
    path: str               # the file that declares it
    role: str               # "character" | "object" | "background"
    kind: str               # "image" | "video"
    media: MediaSource
    voice: MediaSource | None
    description: str | None
    length: float | None    # declared length of a reference video, seconds


class FirstFrame(Record):
    media: MediaSource
    voice: MediaSource | None
    span: Span


class Settings(Record):
    title: str | None = None
    # Effective values: the language's defaults unless given, then the target's once it settles them
    # (Target.settle); cost and render read these; a target sends only the `given` ones.
    model: str = language.DEFAULT_MODEL
    resolution: str = language.DEFAULT_RESOLUTION
    ratio: str = language.DEFAULT_RATIO
    duration: int = language.DEFAULT_DURATION
    seed: int | None = None
    watermark: bool = language.DEFAULT_WATERMARK
    prompt_extend: bool = language.DEFAULT_PROMPT_EXTEND
    negative_prompt: str | None = None
    language: str = "en"
    prompt_style: str = "prose"
    atmosphere: str | None = None
    # Prompt forms (docs/language.md, "Prompt forms"); the defaults give the guide's prose.
    dialogue_style: str = "separate"            # "separate": "Image 1 says, '...'"; "joined": "..., and says, '...'"
    quotes: str | None = None                   # "single" | "double"; None: the language's own (en single, zh double)
    stop_after_quote: bool = False              # a full stop after the closing quote: '...'. / “…”。
    storyboard_opener: str = "sentence"         # "sentence": "Reference image."; "comma": "Reference image, ..."
    shot_label: str = "shot"                    # timed style: "Shot 1 [0-3s]:" or "Scene 1 [0-3s]:"
    style_line: str | None = None               # a sentence that opens the prompt (any style)
    given: frozenset[str] = frozenset()          # settings the writer wrote (the rest are defaults)
    # never mutated after resolve builds it (ruff takes a record's field default for a shared class attribute)
    spans: dict[str, Span] = {}  # noqa: RUF012
    value_spans: dict[str, Span] = {}  # noqa: RUF012  # each given setting's value (a fix replaces the value)


class Ref(Record):
    """A cast name used in prose: renders as the member's identifier."""

    name: str
    span: Span


class Words(Record):
    text: str


Piece = Words | Ref  # type alias


class ActionBeat(Record):
    pieces: tuple[Piece, ...]
    span: Span


class DialoguePart(Record):
    kind: str                       # "lead-in" | "delivery" | "manner" | "speech"
    pieces: tuple[Piece, ...]       # for speech: one Words, never rewritten


class DialogueBeat(Record):
    speaker: str
    span: Span
    parts: tuple[DialoguePart, ...]


Beat = ActionBeat | DialogueBeat  # type alias


class Shot(Record):
    number: int
    transition: str | None = None           # "CUT", "DISSOLVE", "FADE IN", "FADE OUT", ...
    framing: str | None = None              # "CLOSE-UP", "WIDE SHOT", ...
    subjects: tuple[Ref, ...] = ()
    timing: tuple[float, float] | None = None
    timing_span: Span | None = None
    heading: tuple[Piece, ...] | None = None
    beats: tuple[Beat, ...] = ()
    span: Span | None = None


class Scene(Record):
    path: str
    project_root: Path | None
    settings: Settings
    members: tuple[CastMember, ...]
    first_frame: FirstFrame | None
    storyboard: CastMember | None           # the multi-panel image, first in the cast order
    shots: tuple[Shot, ...]
    extra_first_frames: tuple[Span, ...] = ()
    project: Project | None = None          # where media may come from

    @property
    def references(self) -> tuple[CastMember, ...]:
        """The cast order: the reference images and videos as declared, the storyboard image first."""
        return ((self.storyboard,) if self.storyboard else ()) + self.members

    def member(self, name: str) -> CastMember | None:
        for member in self.references:
            if member.name == name:
                return member
        return None
