"""Where cast names occur in a syntax tree: declarations, mentions in prose, cues and framing subjects."""

from __future__ import annotations

from collections.abc import Iterator

from .. import ir
from .. import nodes as n
from ..source import Span

__all__ = ["Occurrence", "occurrences", "at_offset", "member_names"]


class Occurrence:
    __slots__ = ("name", "span", "role")

    def __init__(self, name: str, span: Span, role: str) -> None:
        self.name, self.span, self.role = name, span, role  # role: declaration, mention, cue, subject


def member_names(scene: ir.Scene | None) -> set[str]:
    return {member.name for member in scene.members} if scene is not None else set()


def occurrences(scene_file: n.SceneFile, names: set[str]) -> Iterator[Occurrence]:
    """Every occurrence of a name in `names` (the cast the scene resolved), in file order."""
    for item in scene_file.cast:
        if isinstance(item, n.Member) and item.name.text in names:
            yield Occurrence(item.name.text, item.name.span, "declaration")
    for paragraph in scene_file.paragraphs:
        for line in paragraph.lines:
            yield from _in_line(line, names)


def _in_line(line: n.Line, names: set[str]) -> Iterator[Occurrence]:
    if isinstance(line, (n.Action, n.Heading)):
        yield from _mentions(line.segments, names)
    elif isinstance(line, n.Dialogue):
        if line.cue.text in names:
            yield Occurrence(line.cue.text, line.cue.span, "cue")
        for part in line.parts:
            if isinstance(part, n.Parenthetical):
                yield from _mentions(part.segments, names)
    elif isinstance(line, (n.Framing, n.Transition)):
        spec = line.spec
        if spec is None:
            return
        # A name alone on a line parses as a framing; resolve reads it as a shot of that member.
        words = ((spec.framing,) if spec.framing else ()) + spec.subjects
        for word in words:
            if word.text in names:
                yield Occurrence(word.text, word.span, "subject")


def _mentions(segments: tuple[n.Segment, ...], names: set[str]) -> Iterator[Occurrence]:
    for segment in segments:
        if isinstance(segment, n.Mention) and segment.name in names:
            yield Occurrence(segment.name, segment.span, "mention")


def at_offset(scene_file: n.SceneFile, names: set[str], offset: int) -> Occurrence | None:
    for occurrence in occurrences(scene_file, names):
        if occurrence.span.start <= offset <= occurrence.span.end:
            return occurrence
        if occurrence.span.start > offset:
            return None
    return None
