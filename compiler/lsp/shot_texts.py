"""The prompt rendered again after an edit, reusing the text each unchanged shot rendered to the last time.

A shipped template writes an opening (style line, atmosphere, cast lines), then one block per shot that
reads only that shot's view (prompt.complete_shot_view: the shot, its index, its time segment and the
scene's settings and cast), and nothing after the shots. So its output is the opening followed by each
shot's block, and a shot's block is what the template writes for that shot alone, after the opening. The
server keeps, per scene, each block by its shot (and by its view's text, for a shot that only moved), and
renders only the shots it has not seen, one at a time; the prompt is then made from the joined output by
prompt.prompt_from_output, as render_prompt makes it from the whole output: the same text.

A project's own templates may be written otherwise: they are rendered whole, as are the shipped ones when
the opening is not the start of a shot's rendering. check (the prompt-length diagnostic and the search for
the line that crosses the limit) and hover read the prompt through render_prompt, which the server
replaces once at start-up, as it does the media probe and the crossing search.
"""

from __future__ import annotations

import threading

from .. import ir, prompt
from ..perf import gc_paused
from ..targets import Naming, naming_of

__all__ = ["install", "remembered_render", "forget", "stats"]

_plain_render = prompt.render_prompt
_lock = threading.Lock()
stats = {"rendered": 0, "reused": 0}


class _Blocks:
    """One scene's rendered shot blocks, valid for one template and frame (everything but the shots).

    Two generations of each table: lookups read both, a rendering adds to the newer, and when the newer holds
    more than twice the most shots rendered it becomes the older (the oldest is dropped). Memory stays
    bounded, and what the last renderings used (the whole scene's blocks, while the crossing search renders
    shorter cuts of it) is kept."""

    __slots__ = ("frame", "opening", "most", "by_shot", "by_view", "older_by_shot", "older_by_view")

    def __init__(self, frame: tuple[object, ...], opening: str) -> None:
        self.frame, self.opening, self.most = frame, opening, 0
        self.by_shot: dict[ShotKey, tuple[str, str]] = {}       # -> its block, and the repr of its view
        self.by_view: dict[str, str] = {}                        # repr of its view -> its block
        self.older_by_shot: dict[ShotKey, tuple[str, str]] = {}
        self.older_by_view: dict[str, str] = {}

    def shot(self, key: ShotKey) -> tuple[str, str] | None:
        return self.by_shot.get(key) or self.older_by_shot.get(key)

    def view(self, seen: str) -> str | None:
        found = self.by_view.get(seen)
        return found if found is not None else self.older_by_view.get(seen)

    def keep(self, by_shot: dict[ShotKey, tuple[str, str]], by_view: dict[str, str], shots: int) -> None:
        """Add one rendering's blocks."""
        self.most = max(self.most, shots)
        self.by_shot.update(by_shot)
        self.by_view.update(by_view)
        if len(self.by_shot) > 2 * self.most + 64:
            self.older_by_shot, self.by_shot = self.by_shot, {}
        if len(self.by_view) > 2 * self.most + 64:
            self.older_by_view, self.by_view = self.by_view, {}


ShotKey = tuple[int, ir.Shot, str]  # index, shot, time segment
_blocks: dict[str, _Blocks] = {}  # by scene path


@gc_paused
def remembered_render(scene: ir.Scene, naming: Naming | None = None) -> str:
    """prompt.render_prompt(scene, naming), rendering only the shots not rendered before."""
    if prompt.project_templates(scene) is not None:
        return _plain_render(scene, naming)
    naming = naming or naming_of(scene)
    with _lock:
        output = _output(scene, naming)
    return _plain_render(scene, naming) if output is None else prompt.prompt_from_output(scene, output)


def _output(scene: ir.Scene, naming: Naming) -> str | None:
    """The template's whole output for the scene, from blocks; None if the template does not split so."""
    template = prompt.prompt_template(scene)
    context = prompt.template_context(scene, naming)
    frame = (template.name, scene.project_root, scene.settings, scene.members, scene.first_frame,
             scene.storyboard, scene.extra_first_frames, naming)
    blocks = _blocks.get(scene.path)
    if blocks is None or blocks.frame != frame:
        blocks = _blocks[scene.path] = _Blocks(frame, template.render(shots=[], **context))
    opening = blocks.opening
    ids = prompt.identifiers(scene, naming)
    parts = [opening]
    by_shot: dict[ShotKey, tuple[str, str]] = {}
    by_view: dict[str, str] = {}
    for index, (shot, segment) in enumerate(zip(scene.shots, prompt.shot_segments(scene), strict=True)):
        key = (index, shot, segment)
        known = blocks.shot(key)
        if known is None:
            view = prompt.complete_shot_view(scene, shot, index, ids, segment)
            seen = repr(view)  # every attribute, nested views included: all the template can read of the shot
            block = blocks.view(seen)
            if block is None:
                alone = template.render(shots=[view], **context)
                if not alone.startswith(opening):
                    return None
                block = alone[len(opening):]
                stats["rendered"] += 1
            known = (block, seen)
        else:
            stats["reused"] += 1
        by_shot[key] = known
        by_view[known[1]] = known[0]
        parts.append(known[0])
    blocks.keep(by_shot, by_view, len(scene.shots))
    return "".join(parts)


def forget(path: str) -> None:
    """Drop a scene's blocks (its document was closed)."""
    with _lock:
        _blocks.pop(path, None)


def install() -> None:
    prompt.render_prompt = remembered_render
