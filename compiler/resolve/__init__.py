"""Stage 2, resolve: syntax tree to resolved scene (ir.Scene): settings typed, cast imported in order, names
bound, shots formed.  Target-free: identifiers are the compile target's (compiler/targets/).

One module per concern, run in this order by `resolve`:

    settings.py        the settings block typed (ir.Settings)
    cast_import.py     CAST FROM files, each read once     (sources.py: media paths and URLs as written)
    cast.py            members, STORYBOARD and FIRST FRAME
    shots.py           the script grouped into shots, through
      names.py           mentions, subjects and speakers bound to the cast; unused members
      parentheticals.py  how a parenthetical or a (V.O.) joins its line
      literals.py        identifiers typed by hand
      misplaced.py       header, member and action lines in the wrong place
    reuse.py           (the language server only) shots read again reusing the unchanged paragraphs
"""

from __future__ import annotations

import sys

from .. import ir
from .. import nodes as n
from ..diagnostics import Diagnostic
from ..perf import gc_paused
from ..project import Project, find_project
from .cast import read_cast, read_first_frame, read_storyboard
from .cast_import import Loader, holds_only_a_cast
from .names import NameBinder, bare_name
from .reporter import Reporter
from .settings import read_settings
from .shots import read_shots

__all__ = ["resolve", "holds_only_a_cast", "bare_name"]


@gc_paused
def resolve(scene_file: n.SceneFile, *, project: Project | None = None,
            loader: Loader | None = None) -> tuple[ir.Scene, list[Diagnostic]]:
    """Type the settings, read the cast in order and bind the script's names to it.  `loader(path)` parses a cast
    file (defaults to parse.parse_file)."""
    path = scene_file.source.path
    if project is None:
        project = find_project(path) if path else None
    report = Reporter(scene_file.source.name)
    return _resolve(scene_file, project, loader, report), report.diagnostics


def project_defaults(project: Project | None) -> dict[str, str] | None:
    """The configuration's model and language (as written), for the settings the scene leaves out."""
    if project is None or project.config is None:
        return None  # the usual case: nothing is read
    found = {key: value for key in ("model", "language") if (value := project.default(key)) is not None}
    return found or None


def _resolve(scene_file: n.SceneFile, project: Project | None, loader: Loader | None, report: Reporter) -> ir.Scene:
    settings = read_settings(scene_file.settings, report, project_defaults(project))
    cast = read_cast(scene_file, project, loader, report)
    storyboard = read_storyboard(scene_file, report)
    # The storyboard image is named by the prompt's opening, not by the writer.
    names = {member.name: member for member in cast.members}
    first_frame = read_first_frame(scene_file)
    binder = NameBinder(names, scene_file.source, report, unchecked=cast.incomplete)
    shots = _read_shots(scene_file.paragraphs, binder, settings.language, report)
    cast_ir = tuple(cast.members)
    binder.report_unused(cast_ir, cast.imported_by)
    root = project.root if project else None
    extra_frames = tuple(spec.span for spec in scene_file.first_frames[1:])
    return ir.Scene(report.path, root, settings, cast_ir, first_frame, storyboard, shots, extra_frames, project)


def _read_shots(paragraphs: tuple[n.Paragraph, ...], binder: NameBinder, language: str,
                report: Reporter) -> tuple[ir.Shot, ...]:
    """read_shots, or the same through the language server's memo of the last version (reuse.py).

    reuse.py is imported by the language server only, so `scenec check` neither loads it nor asks it."""
    reuse = sys.modules.get(f"{__name__}.reuse")
    memo = reuse.current() if reuse is not None else None
    if reuse is None or memo is None:
        return read_shots(paragraphs, binder, language, report)
    shots: tuple[ir.Shot, ...] = reuse.read_shots_reusing(paragraphs, binder, language, report, memo)
    return shots
