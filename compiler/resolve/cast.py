"""The cast: members declared in the scene or imported with CAST FROM, each once, plus the STORYBOARD image
and the FIRST FRAME, as IR with their media sources, in the cast order (what a target calls each is its own)."""

from __future__ import annotations

from .. import ir
from .. import nodes as n
from ..project import Project
from .cast_import import CastImports, Loader
from .names import COMMON_WORDS, bare_name
from .reporter import Reporter
from .sources import media_source

__all__ = ["Cast", "read_cast", "read_storyboard", "read_first_frame"]


class Cast:
    """The members in media order, the CAST FROM line that brought each imported one, and whether a cast
    file could not be read (then a name missing from the cast may be in it)."""

    def __init__(self, members: list[ir.CastMember], imported_by: dict[str, n.CastImport], incomplete: bool) -> None:
        self.members = members
        self.imported_by = imported_by
        self.incomplete = incomplete


def read_cast(scene_file: n.SceneFile, project: Project | None, loader: Loader | None, report: Reporter) -> Cast:
    """Every member once: a name declared twice is reported at the second declaration and dropped."""
    importer = CastImports(scene_file, project, loader, report)
    members: list[ir.CastMember] = []
    declared: dict[str, ir.CastMember] = {}
    imported_by: dict[str, n.CastImport] = {}
    for node, path, via in importer.members():
        member = _member(node, path)
        if member.name in declared:
            first = declared[member.name]
            report("duplicate-member", f"{member.name} is already in the cast", member.span, path=path,
                   related=[(f"{member.name} first declared here ({first.path})", first.span)])
            continue
        declared[member.name] = member
        members.append(member)
        if via is not None:
            imported_by[member.name] = via
        _common_word(member, report)
    return Cast(members, imported_by, importer.incomplete)


def read_storyboard(scene_file: n.SceneFile, report: Reporter) -> ir.CastMember | None:
    """The STORYBOARD image, which works alone: a second one or a cast beside it is reported."""
    if not scene_file.storyboards:
        return None
    spec = scene_file.storyboards[0]
    for extra in scene_file.storyboards[1:]:
        report("duplicate-setting", "STORYBOARD is set twice: the multi-panel mode takes one image", extra.span)
    if scene_file.cast:
        report("storyboard-with-cast", "a STORYBOARD image works alone: remove the cast or the storyboard",
               spec.source.span)
    origin, path = scene_file.source.path, scene_file.source.name
    voice = media_source(spec.voice, origin, path) if spec.voice else None
    return ir.CastMember("STORYBOARD", spec.source.span, path, "storyboard", "image",
                         media_source(spec.source, origin, path), voice, None, None)


def read_first_frame(scene_file: n.SceneFile) -> ir.FirstFrame | None:
    """The first FIRST FRAME (check reports any more)."""
    if not scene_file.first_frames:
        return None
    spec = scene_file.first_frames[0]
    origin, path = scene_file.source.path, scene_file.source.name
    voice = media_source(spec.voice, origin, path) if spec.voice else None
    return ir.FirstFrame(media_source(spec.source, origin, path), voice, spec.span)


def _member(node: n.Member, path: str) -> ir.CastMember:
    kind = node.kind.text if node.kind else "image"
    voice = media_source(node.media.voice, node.origin, path) if node.media.voice else None
    length = float(node.media.length.text.rstrip("s")) if node.media.length else None
    return ir.CastMember(
        name=bare_name(node.name.text), span=node.name.span, path=path,
        role=node.role.text if node.role else "character",
        kind=kind, media=media_source(node.media.source, node.origin, path), voice=voice,
        description=node.description.text if node.description else None, length=length)


def _common_word(member: ir.CastMember, report: Reporter) -> None:
    if len(member.name) == 1 or member.name in COMMON_WORDS:
        report("common-word-name", f"{member.name} is also an ordinary word: wherever it is written in "
               f"capitals in the script it names this reference", member.span, path=member.path,
               hint="choose a name that is not a word, e.g. a character's own name")


