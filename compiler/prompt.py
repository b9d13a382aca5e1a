"""Prompt rendering: a resolved scene to the prompt text, through the jinja2 templates shipped in compiler/templates."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace as View  # attribute access is jinja's fast path; dict keys are not

from . import ir
from .vocabulary import TRANSITIONS, framing_entry
from .perf import gc_paused

__all__ = ["render_prompt", "length_bound", "shot_views", "TEMPLATE_DIR"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
_environment = None


def _env():
    global _environment
    if _environment is None:
        import jinja2

        _environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=False, trim_blocks=True,
            lstrip_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
        _environment.filters["capitalize_first"] = capitalise
    return _environment


@gc_paused
def render_prompt(scene: ir.Scene) -> str:
    """The prompt: one sentence per template line, joined by a space (English) or nothing (Chinese)."""
    language = scene.settings.language
    template = _env().get_template(f"{scene.settings.prompt_style}.{language}.j2")
    text = template.render(scene=scene, shots=shot_views(scene), members=member_views(scene),
                           atmosphere=scene.settings.atmosphere, storyboard=scene.storyboard is not None)
    joiner = "" if language == "zh" else " "
    return joiner.join(line.strip() for line in text.splitlines() if line.strip())


def identifiers(scene: ir.Scene) -> dict[str, str]:
    return {member.name: member.identifier for member in scene.references}


def pieces_text(pieces, ids: dict[str, str]) -> str:
    """Prose with every cast name replaced by its identifier; a name opening the text is capitalised."""
    parts = []
    for piece in pieces:
        if isinstance(piece, ir.Ref):
            parts.append(ids.get(piece.name, piece.name))
        else:
            parts.append(piece.text)
    text = "".join(parts).strip()
    return text[:1].upper() + text[1:] if text[:1].islower() and pieces and isinstance(pieces[0], ir.Ref) else text


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def member_views(scene: ir.Scene) -> list[View]:
    return [View(name=m.name, id=m.identifier, role=m.role, description=m.description) for m in scene.members]


def shot_views(scene: ir.Scene) -> list[View]:
    ids = identifiers(scene)
    zh = scene.settings.language == "zh"
    return [shot_view(shot, index, ids, zh) for index, shot in enumerate(scene.shots)]


def shot_view(shot: ir.Shot, index: int, ids: dict[str, str], zh: bool) -> View:
    entry = framing_entry(shot.framing) if shot.framing else None
    framing = (entry[1] if zh else entry[0]) if entry else (shot.framing.lower() if shot.framing else None)
    transition = TRANSITIONS.get(shot.transition or "", None)
    verb = (transition[1] if zh else transition[0]) if transition else (
        None if shot.transition is None else shot.transition.lower())
    timing = None
    if shot.timing:
        start, end = shot.timing
        timing = f"{start:g}-{end:g}秒" if zh else f"{start:g}-{end:g}s"
    return View(
        number=shot.number, first=index == 0, known=entry is not None, transition=shot.transition, verb=verb,
        framing=framing, subjects=[ids.get(ref.name, ref.name) for ref in shot.subjects],
        timing=timing, heading=pieces_text(shot.heading, ids) if shot.heading else None,
        beats=[beat_view(beat, ids, zh) for beat in shot.beats],
    )


def beat_view(beat: ir.Beat, ids: dict[str, str], zh: bool = False) -> View:
    if isinstance(beat, ir.ActionBeat):
        return View(kind="action", text=pieces_text(beat.pieces, ids))
    utterances = []
    current = {"lead_in": None, "delivery": None, "manner": None, "speech": []}
    for part in beat.parts:
        if part.kind == "speech":
            current["speech"].append(part.pieces[0].text)
            continue
        if current["speech"]:
            utterances.append(current)
            current = {"lead_in": None, "delivery": None, "manner": None, "speech": []}
        key = part.kind.replace("-", "_")
        text = pieces_text(part.pieces, ids)
        # Two manners ("(V.O.)" and "(quietly)") are both kept: "says in voice-over, quietly".
        current[key] = f"{current[key]}{'' if zh else ', '}{text}" if key == "manner" and current[key] else text
    if current["speech"] or not utterances:
        utterances.append(current)
    return View(kind="dialogue", speaker=ids.get(beat.speaker, beat.speaker),
                utterances=[View(**u) for u in utterances])


# Fixed text the templates may add, generously counted: a test renders generated scenes and checks
# that the real prompt is never longer than this bound.
_BOUND_FIXED = 200
_BOUND_PER_SHOT = 120
_BOUND_PER_PART = 40
_BOUND_PER_REF = 24


def length_bound(scene: ir.Scene) -> int:
    """An upper bound of len(render_prompt(scene)) computed without the templates (check stays fast)."""
    total = _BOUND_FIXED + len(scene.settings.atmosphere or "")
    total += sum(len(m.description or "") + _BOUND_PER_PART + _BOUND_PER_REF for m in scene.members)
    for shot in scene.shots:
        total += _BOUND_PER_SHOT + len(shot.framing or "") + _BOUND_PER_REF * len(shot.subjects)
        total += _pieces_bound(shot.heading or ())
        for beat in shot.beats:
            if isinstance(beat, ir.ActionBeat):
                total += _BOUND_PER_PART + _pieces_bound(beat.pieces)
            else:
                total += _BOUND_PER_PART + _BOUND_PER_REF
                total += sum(_BOUND_PER_PART + _pieces_bound(part.pieces) for part in beat.parts)
    return total


def _pieces_bound(pieces) -> int:
    return sum(_BOUND_PER_REF if isinstance(p, ir.Ref) else len(p.text) for p in pieces)
