"""The line at which a too-long prompt crosses the limit, remembered from one version of a document to the next.

check finds that line by rendering the scene cut after a line, about 2·log2(k) times (~14 ms on a
2,000-line scene). The prompt of a cut depends only on the shots up to the cut and on the rest of the scene
(settings, cast, first frame, storyboard), so while those are unchanged, as after an edit further down
the script, the crossing is the same line and no cut is rendered again. The server installs this in
check's place once at start-up, as it does the cached media probe; the command line keeps the plain one.
"""

from __future__ import annotations

import threading

from .. import check, ir
from ..limits import Limits
from ..prompt import project_templates
from ..records import Record
from ..source import Span

__all__ = ["install", "remembered_crossing", "forget", "stats"]



class Remembered(Record):
    """The crossing found for a scene: at the cut of shot number `shot` (0-based) with its first `beats` beats."""

    frame: tuple[object, ...]       # _frame(scene) then
    limit: int
    shot: int
    beats: int
    cut: tuple[ir.Shot, ...]        # the shots of that cut, compared with the next version's
    span: Span


_plain_crossing = check._crossing_span
_last: dict[str, Remembered] = {}  # by scene path: the last version's
_lock = threading.Lock()
stats = {"hits": 0, "misses": 0}


def remembered_crossing(scene: ir.Scene, limit: int, limits: Limits | None = None) -> Span | None:
    """check._crossing_span's answer, reused when the cut it was found at is unchanged."""
    if project_templates(scene) is not None:  # a project's own templates may change on disk between versions
        return _plain_crossing(scene, limit, limits)
    frame = _frame(scene)
    with _lock:
        memo = _last.get(scene.path)
    if memo is not None and memo.frame == frame and memo.limit == limit and \
            _cut_unchanged(scene, memo.shot, memo.beats, memo.cut):
        stats["hits"] += 1
        return memo.span
    stats["misses"] += 1
    span: Span | None = _plain_crossing(scene, limit, limits)
    step = _step_of(scene, span)
    if step is not None and span is not None:
        index, count = step
        with _lock:
            _last[scene.path] = Remembered(frame, limit, index, count, _cut(scene, index, count), span)
    return span


def _frame(scene: ir.Scene) -> tuple[object, ...]:
    """Everything but the shots that a cut's prompt reads."""
    return (scene.project_root, scene.settings, scene.members, scene.first_frame, scene.storyboard,
            scene.extra_first_frames)


def _cut(scene: ir.Scene, index: int, count: int) -> tuple[ir.Shot, ...]:
    shot = scene.shots[index]
    return scene.shots[:index] + (shot._replace(beats=shot.beats[:count]),)


def _cut_unchanged(scene: ir.Scene, index: int, count: int, cut: tuple[ir.Shot, ...]) -> bool:
    return len(scene.shots) > index and len(scene.shots[index].beats) >= count and _cut(scene, index, count) == cut


def _step_of(scene: ir.Scene, span: Span | None) -> tuple[int, int] | None:
    """The last (shot, beats) cut whose final line has this span: a longer cut than the one found is a
    stricter condition for reuse, so a shot whose span equals its first beat's is not a problem."""
    found = None
    for index, shot in enumerate(scene.shots):
        if shot.span == span:
            found = (index, 0)
        for count, beat in enumerate(shot.beats, 1):
            if beat.span == span:
                found = (index, count)
    return found if span is not None else None


def forget(path: str) -> None:
    """Drop what was remembered of a scene whose document closed."""
    with _lock:
        _last.pop(path, None)


def install() -> None:
    check._crossing_span = remembered_crossing
