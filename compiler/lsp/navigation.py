"""Go to definition, find references and rename of a cast member, across a scene, the cast files it
imports and the other open scenes that import them."""

from __future__ import annotations

import os
import re

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from .. import ir
from ..nodes import SceneFile
from ..source import Source, Span
from .analysis import Analysis
from .convert import uri_of
from .occurrences import Occurrence, at_offset, member_names, occurrences
from .positions import Encoding, to_offset, to_range

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .convert import SourceOf

__all__ = ["View", "definition", "references", "prepare_rename", "rename"]

NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")  # what the grammar takes as a cast name


class View:
    """What navigation reads of the server: open analyses, the encoding, and texts of other files."""

    def __init__(self, analyses: list[Analysis], encoding: Encoding, source_of: SourceOf,
                 parse_cast: Callable[[str], SceneFile | None]) -> None:
        self.analyses, self.encoding, self.source_of, self.parse_cast = analyses, encoding, source_of, parse_cast


def _member_at(analysis: Analysis, position: lsp.Position, view: View) -> tuple[Occurrence, ir.CastMember] | None:
    """(occurrence, member) under the cursor, when it is a cast name."""
    if analysis.scene is None:
        return None
    offset = to_offset(analysis.source, position, view.encoding)
    occurrence = at_offset(analysis.scene_file, member_names(analysis.scene), offset)
    if occurrence is None:
        return None
    member = analysis.scene.member(occurrence.name)
    return (occurrence, member) if member is not None else None


def definition(view: View, analysis: Analysis, position: lsp.Position) -> lsp.Location | None:
    found = _member_at(analysis, position, view)
    if found is None:
        return None
    member = found[1]
    source = analysis.source if member.path == str(analysis.path) else view.source_of(member.path)
    if source is None:
        return None
    return lsp.Location(uri=uri_of(member.path), range=to_range(source, member.span, view.encoding))


def _locations(view: View, analysis: Analysis, name: str, declared_in: str,
               include_declaration: bool) -> list[tuple[str, Source, Span]]:
    """(path, source, span) of every occurrence of the member `name` declared in file `declared_in`."""
    home = os.path.abspath(declared_in)
    seen: set[tuple[str, int]] = set()
    out: list[tuple[str, Source, Occurrence]] = []
    readers = [a for a in view.analyses if a.scene is not None and
               (os.path.abspath(a.path) == home or home in a.imports)]
    if analysis not in readers and analysis.scene is not None:
        readers.append(analysis)
    for reader in readers:
        scene = reader.scene
        if scene is None:
            continue
        if os.path.abspath(reader.path) != home:
            member = scene.member(name)
            if member is None or os.path.abspath(member.path) != home:
                continue  # no NAME in this scene, or its NAME is another member, declared elsewhere
        for occurrence in occurrences(reader.scene_file, {name}):
            key = (os.path.abspath(reader.path), occurrence.span.start)
            if key not in seen:
                seen.add(key)
                out.append((str(reader.path), reader.source, occurrence))
    if not any(os.path.abspath(path) == home for path, _, _ in out):
        parsed = view.parse_cast(declared_in)  # the cast file is not open: read it as saved
        if parsed is not None:
            out += [(declared_in, parsed.source, occurrence) for occurrence in occurrences(parsed, {name})]
    return [(path, source, occurrence.span) for path, source, occurrence in out
            if include_declaration or occurrence.role != "declaration"]


def references(view: View, analysis: Analysis, position: lsp.Position,
               include_declaration: bool = True) -> list[lsp.Location] | None:
    found = _member_at(analysis, position, view)
    if found is None:
        return None
    member = found[1]
    return [lsp.Location(uri=uri_of(path), range=to_range(source, span, view.encoding))
            for path, source, span in _locations(view, analysis, member.name, member.path, include_declaration)]


def prepare_rename(view: View, analysis: Analysis,
                   position: lsp.Position) -> lsp.PrepareRenamePlaceholder | None:
    found = _member_at(analysis, position, view)
    if found is None:
        return None
    return lsp.PrepareRenamePlaceholder(range=to_range(analysis.source, found[0].span, view.encoding),
                                        placeholder=found[1].name)


def rename(view: View, analysis: Analysis, position: lsp.Position, new_name: str) -> lsp.WorkspaceEdit | None:
    found = _member_at(analysis, position, view)
    if found is None:
        return None
    if not NAME.match(new_name):
        raise JsonRpcInvalidParams(f"{new_name!r} is not a cast name: capitals, digits and _, starting with a capital")
    member = found[1]
    changes: dict[str, list[lsp.TextEdit]] = {}
    for path, source, span in _locations(view, analysis, member.name, member.path, True):
        changes.setdefault(uri_of(path), []).append(
            lsp.TextEdit(range=to_range(source, span, view.encoding), new_text=new_name))
    return lsp.WorkspaceEdit(changes=changes)
