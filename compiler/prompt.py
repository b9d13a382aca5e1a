"""Prompt rendering: a resolved scene to the prompt text, through the jinja2 templates shipped in compiler/templates."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from types import SimpleNamespace as View  # attribute access is jinja's fast path; dict keys are not

from . import ir
from .perf import gc_paused
from .targets import Naming, naming_of, target_of
from .timeline import plan, segment_text
from .vocabulary import TRANSITIONS, framing_entry

TYPE_CHECKING = False  # typing itself is not imported: check loads this module and starts in ~30 ms
if TYPE_CHECKING:
    from collections.abc import Callable

    import jinja2

# Every target's identifier forms: a sentence opening with one keeps its capital ("Image 1", "Audio 2").
_IDENTIFIER_START = re.compile(r"(?:Image|Video|Audio) \d|character\d|<<<")

__all__ = ["render_prompt", "render_shots_alone", "render_shot_alone", "prompt_from_output", "length_bound",
           "shot_views", "shot_segments", "complete_shot_view", "form_view", "project_templates", "TEMPLATE_DIR",
           "TARGET_TEMPLATE_DIR", "PROJECT_TEMPLATE_DIR"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
# A target whose prompts need other wording than the shipped templates' sets Target.template_folder: a template
# of the same name in TARGET_TEMPLATE_DIR/<folder>/ is used instead of the shipped one (a project's still wins).
TARGET_TEMPLATE_DIR = TEMPLATE_DIR / "targets"
# A project overrides a shipped template by putting a file of the same name here, next to its scenec.toml.
PROJECT_TEMPLATE_DIR = "templates"
_environments: dict[tuple[Path | None, str | None], jinja2.Environment] = {}


def _env(overrides: Path | None = None, target_folder: str | None = None) -> jinja2.Environment:
    """The jinja2 environment: the project's templates folder first (when it has one), then the target's (when
    it has one), then the shipped ones."""
    environment = _environments.get((overrides, target_folder))
    if environment is None:
        import jinja2

        loaders: list[jinja2.BaseLoader] = [_project_loader(overrides)] if overrides else []
        if target_folder:
            loaders.append(jinja2.FileSystemLoader(str(TARGET_TEMPLATE_DIR / target_folder)))
        loaders.append(jinja2.FileSystemLoader(str(TEMPLATE_DIR)))
        loader = loaders[0] if len(loaders) == 1 else jinja2.ChoiceLoader(loaders)
        environment = jinja2.Environment(
            loader=loader, autoescape=False, trim_blocks=True,
            lstrip_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
        environment.filters["capitalize_first"] = capitalise
        _environments[(overrides, target_folder)] = environment
    return environment


def _project_loader(folder: Path) -> jinja2.BaseLoader:
    """A loader of the project's templates that refuses a file whose real path (symlinks resolved) leaves the
    folder."""
    import jinja2

    class ProjectLoader(jinja2.FileSystemLoader):
        def get_source(self, environment: jinja2.Environment,
                       template: str) -> tuple[str, str, Callable[[], bool]]:
            found = super().get_source(environment, template)
            if not Path(found[1]).resolve().is_relative_to(folder.resolve()):
                raise jinja2.TemplateNotFound(template)  # the shipped template is used instead
            return found

    return ProjectLoader(str(folder))


def project_templates(scene: ir.Scene) -> Path | None:
    """The project's templates folder: `templates/` beside its scenec.toml, when there is one."""
    project = scene.project
    config = getattr(project, "config", None)
    if config is None:
        return None
    root = Path(config).parent
    folder = root / PROJECT_TEMPLATE_DIR
    # A templates folder that is a symlink out of the project is not the project's.
    return folder if folder.is_dir() and folder.resolve().is_relative_to(root.resolve()) else None


@gc_paused
def render_prompt(scene: ir.Scene, naming: Naming | None = None) -> str:
    """The prompt: one sentence per template line, joined by a space (English) or nothing (Chinese).

    `naming`: what the target calls each reference; by default the naming of the scene's MODEL's target."""
    naming = naming or naming_of(scene)
    output = prompt_template(scene).render(shots=shot_views(scene, naming), **template_context(scene, naming))
    return prompt_from_output(scene, output)


def render_shots_alone(scene: ir.Scene, naming: Naming | None = None) -> list[str]:
    """Each shot's text rendered alone by the scene's template: what the template writes for that shot after its
    opening, lines joined as in the prompt (a shipped template writes each shot from its own view only).  The
    preview shows these and a target with a multi-shot field (Kling) sends them; linear in the scene."""
    naming = naming or naming_of(scene)
    alone = _shot_renderer(scene, naming)
    return [alone(view) for view in shot_views(scene, naming)]


def render_shot_alone(scene: ir.Scene, index: int, naming: Naming | None = None) -> str:
    """Shot `index` (0-based) rendered alone by the scene's template (render_shots_alone, for one shot)."""
    naming = naming or naming_of(scene)
    segment = shot_segments(scene)[index]
    view = complete_shot_view(scene, scene.shots[index], index, naming.identifiers, segment, naming.voices)
    return _shot_renderer(scene, naming)(view)


def _shot_renderer(scene: ir.Scene, naming: Naming) -> Callable[[View], str]:
    """Renders one shot's view alone: the template's output for it without the opening, lines joined."""
    template = prompt_template(scene)
    context = template_context(scene, naming)
    opening = _output_lines(template.render(shots=[], **context))
    language = scene.settings.language

    def alone(view: View) -> str:
        lines = _output_lines(template.render(shots=[view], **context))
        return join_lines(lines[len(opening):] if lines[:len(opening)] == opening else lines, language)

    return alone


def _output_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def prompt_from_output(scene: ir.Scene, text: str) -> str:
    """The template's output made the prompt: its lines stripped, the empty ones dropped, the rest joined."""
    settings = scene.settings
    language = settings.language
    lines = _output_lines(text)
    if scene.storyboard is not None and settings.storyboard_opener == "comma" and len(lines) > 1:
        # The templates open with "Reference image," here; the sentence it runs into loses its capital.
        lines[1] = lower_first_word(lines[1])
    return join_lines(lines, language)


def prompt_template(scene: ir.Scene) -> jinja2.Template:
    """The template of the scene's style and language (the project's own when it overrides it, else its target's
    when that has one)."""
    settings = scene.settings
    folder = target_of(settings.model).template_folder
    return _env(project_templates(scene), folder).get_template(f"{settings.prompt_style}.{settings.language}.j2")


def template_context(scene: ir.Scene, naming: Naming | None = None) -> dict[str, object]:
    """What every prompt template reads besides the shots (the preview renders shots alone with it)."""
    settings = scene.settings
    ids = identifiers(scene, naming)
    return {"scene": scene, "members": member_views(scene, ids), "atmosphere": settings.atmosphere,
            "storyboard": scene.storyboard is not None, "form": form_view(settings), "style_line": settings.style_line,
            # The opener names the storyboard image as the target does ("Reference image", "Image 1", "character1").
            "storyboard_name": ids.get(scene.storyboard.name) if scene.storyboard else None}


def join_lines(lines: list[str], language: str) -> str:
    """English lines joined by a space, Chinese ones by nothing, except where that would be ambiguous: two
    numbers meeting ("图2" then "2. 中景" must not read "图22") get a space, and an English line ending in a word
    before a numbered line gets a full stop ("the image" then "2. Close-up" must not read "the image 2", a
    reference's name)."""
    out: list[str] = []
    for line in lines:
        runs_into_number = bool(out) and out[-1][-1:].isascii() and out[-1][-1:].isalnum() and line[:1].isdigit()
        if runs_into_number and language != "zh":
            out.append(".")
        if out and (language != "zh" or runs_into_number):
            out.append(" ")
        out.append(line)
    return "".join(out)


def lower_first_word(text: str) -> str:
    """'A girl walks' -> 'a girl walks'; names, acronyms and 'I' keep their capitals ('Image 1', 'INT.', 'I')."""
    word = text.split(" ", 1)[0].rstrip(",.;:!?")
    rest = word[1:]
    ordinary = word[:1].isupper() and word != "I" and (not rest or (rest.isalpha() and rest.islower()))
    return text[:1].lower() + text[1:] if ordinary and not _IDENTIFIER_START.match(text) else text


def form_view(settings: ir.Settings) -> View:
    """The prompt-form choices as the templates read them: quote marks, the stop after a quote, the opener."""
    zh = settings.language == "zh"
    quotes = settings.quotes or ("double" if zh else "single")
    marks = {("single", False): ("'", "'"), ("double", False): ('"', '"'),
             ("single", True): ("‘", "’"), ("double", True): ("“", "”")}[(quotes, zh)]
    return View(open=marks[0], close=marks[1], stop=("。" if zh else ".") if settings.stop_after_quote else "",
                joined=settings.dialogue_style == "joined", opener=settings.storyboard_opener,
                shot_label=settings.shot_label)


def identifiers(scene: ir.Scene, naming: Naming | None = None) -> dict[str, str]:
    """What the prompt calls each cast member: the target's naming (the scene's MODEL's target by default)."""
    return (naming or naming_of(scene)).identifiers


def pieces_text(pieces: tuple[ir.Piece, ...], ids: dict[str, str]) -> str:
    """Prose with every cast name replaced by its identifier; a name opening the text is capitalised."""
    parts: list[str] = []
    for piece in pieces:
        if isinstance(piece, ir.Ref):
            parts.append(ids.get(piece.name, piece.name))
        else:
            parts.append(piece.text)
    text = "".join(parts).strip()
    return capitalise(text) if text[:1].islower() and pieces and isinstance(pieces[0], ir.Ref) else text


def capitalise(text: str) -> str:
    """The first letter capitalised, unless the text opens with an identifier the API reads in its own case
    ("character1" is not "Character1")."""
    return text if _IDENTIFIER_START.match(text) else text[:1].upper() + text[1:]


def member_views(scene: ir.Scene, ids: dict[str, str]) -> list[View]:
    return [View(name=m.name, id=ids.get(m.name, m.name), role=m.role, description=m.description)
            for m in scene.members]


def shot_views(scene: ir.Scene, naming: Naming | None = None) -> list[View]:
    naming = naming or naming_of(scene)
    ids, voices = naming.identifiers, naming.voices
    return [complete_shot_view(scene, shot, index, ids, segment, voices)
            for index, (shot, segment) in enumerate(zip(scene.shots, shot_segments(scene), strict=True))]


def shot_segments(scene: ir.Scene) -> list[str]:
    """Each shot's time segment as the timed templates write it ("0-3s"): the plan of the whole scene."""
    segments, _ = plan([shot.timing for shot in scene.shots], scene.settings.duration)
    unit = "秒" if scene.settings.language == "zh" else "s"
    return [segment_text(segment, unit) for segment in segments]


def complete_shot_view(scene: ir.Scene, shot: ir.Shot, index: int, ids: dict[str, str], segment: str,
                       voices: dict[str, str] | None = None) -> View:
    """What the templates read of one shot: all of it comes from the shot, its index, its segment and the
    scene's settings and cast, named by the target (`ids`; `voices`: the speakers whose voice the prompt names)
    (the language server renders a shot alone from it, compiler/lsp/shot_texts.py)."""
    view = shot_view(shot, index, ids, scene.settings.language == "zh", voices)
    view.segment = segment
    if scene.settings.dialogue_style == "joined":
        join_speech_to_action(view.beats)
    return view


# Chinese for what scenec cannot translate: an unknown framing is "a shot", an unknown transition "a cut"
# (no English in a Chinese prompt; check warns unknown-framing / unknown-transition at the line).
_ZH_UNKNOWN_FRAMING = "镜头"
_ZH_UNKNOWN_TRANSITION = "切换"


def shot_view(shot: ir.Shot, index: int, ids: dict[str, str], zh: bool, voices: dict[str, str] | None = None) -> View:
    entry = framing_entry(shot.framing) if shot.framing else None
    unknown_framing = _ZH_UNKNOWN_FRAMING if zh else (shot.framing.lower() if shot.framing else None)
    framing = (entry[1] if zh else entry[0]) if entry else (unknown_framing if shot.framing else None)
    transition = TRANSITIONS.get(shot.transition or "", None)
    unknown_verb = _ZH_UNKNOWN_TRANSITION if zh else (shot.transition or "").lower()
    verb = (transition[1] if zh else transition[0]) if transition else (
        None if shot.transition is None else unknown_verb)
    timing = None
    if shot.timing:
        start, end = shot.timing
        timing = f"{start:g}-{end:g}秒" if zh else f"{start:g}-{end:g}s"
    return View(
        number=shot.number, first=index == 0, known=entry is not None, transition=shot.transition, verb=verb,
        framing=framing, subjects=[ids.get(ref.name, ref.name) for ref in shot.subjects],
        timing=timing, heading=pieces_text(shot.heading, ids) if shot.heading else None,
        beats=[beat_view(beat, ids, zh, voices) for beat in shot.beats],
    )


_SENTENCE_END = (".", "。")
_OTHER_END = ("!", "?", "！", "？", "…", ":", "：", ";", "；", ",", "，", "'", '"', "”", "’", ")", "）")


def join_speech_to_action(beats: list[View]) -> None:
    """DIALOGUE STYLE: joined.  A speech whose speaker opens the action line just before it joins that line
    ("Image 1 walks in, and says, '...'"), so the speaker is not restated.  A speech with a lead-in, and an
    action line that ends in other punctuation than a full stop, stay as they are."""
    for action, dialogue in itertools.pairwise(beats):
        if action.kind != "action" or dialogue.kind != "dialogue" or not dialogue.utterances:
            continue
        first = dialogue.utterances[0]
        if action.opener != dialogue.speaker or first.lead_in or not first.speech or action.text.endswith(_OTHER_END):
            continue
        action.clause = action.text[:-1] if action.text.endswith(_SENTENCE_END) else action.text
        action.said = first
        dialogue.utterances = dialogue.utterances[1:]


def beat_view(beat: ir.Beat, ids: dict[str, str], zh: bool = False, voices: dict[str, str] | None = None) -> View:
    """An action or a dialogue beat as the templates read it; a dialogue and each of its utterances carry `voice`,
    what the prompt calls the speaker's voice ("Audio 1"), or None where the target names no voice (the phrase is
    then unchanged)."""
    if isinstance(beat, ir.ActionBeat):
        opener = beat.pieces[0] if beat.pieces else None
        return View(kind="action", text=pieces_text(beat.pieces, ids), said=None, clause=None,
                    opener=ids.get(opener.name, opener.name) if isinstance(opener, ir.Ref) else None)
    utterances: list[View] = []
    said: dict[str, str | None] = {"lead_in": None, "delivery": None, "manner": None}  # how the speech is said
    speech: list[str] = []
    voice = voices.get(beat.speaker) if voices else None
    for part in beat.parts:
        if part.kind == "speech":
            speech.append(_spoken(part))
            continue
        if speech:
            utterances.append(View(**said, speech=speech, voice=voice))
            said, speech = {"lead_in": None, "delivery": None, "manner": None}, []
        key = part.kind.replace("-", "_")
        text = pieces_text(part.pieces, ids)
        # Two manners ("(V.O.)" and "(quietly)") are both kept: "says in voice-over, quietly".
        said[key] = f"{said[key]}{'' if zh else ', '}{text}" if key == "manner" and said[key] else text
    if speech or not utterances:
        utterances.append(View(**said, speech=speech, voice=voice))
    return View(kind="dialogue", speaker=ids.get(beat.speaker, beat.speaker), voice=voice, utterances=utterances)


def _spoken(part: ir.DialoguePart) -> str:
    """A speech as written: resolve makes it one Words, never rewritten."""
    return "".join(piece.text for piece in part.pieces if isinstance(piece, ir.Words))


# Fixed text the templates may add, generously counted: a test renders generated scenes and checks
# that the real prompt is never longer than this bound.
_BOUND_FIXED = 200
_BOUND_PER_SHOT = 120
_BOUND_PER_PART = 40
_BOUND_PER_REF = 24
_BOUND_VOICE = len(" in the voice of ") + _BOUND_PER_REF  # per part of a dialogue, where the target names voices


def length_bound(scene: ir.Scene) -> int:
    """An upper bound of len(render_prompt(scene)) computed without the templates (check stays fast).

    A project's own templates, or a target's, may write anything: then there is no bound but the rendered prompt
    itself.  A target that names voices adds "in the voice of Audio 1" to each speech."""
    if project_templates(scene) is not None or target_of(scene.settings.model).template_folder:
        return len(render_prompt(scene))
    voiced = _BOUND_VOICE if naming_of(scene).voices else 0
    total = _BOUND_FIXED + len(scene.settings.atmosphere or "") + len(scene.settings.style_line or "")
    total += sum(len(m.description or "") + _BOUND_PER_PART + _BOUND_PER_REF for m in scene.members)
    for shot in scene.shots:
        total += _BOUND_PER_SHOT + len(shot.framing or "") + _BOUND_PER_REF * len(shot.subjects)
        total += _pieces_bound(shot.heading or ())
        for beat in shot.beats:
            if isinstance(beat, ir.ActionBeat):
                total += _BOUND_PER_PART + _pieces_bound(beat.pieces)
            else:
                total += _BOUND_PER_PART + _BOUND_PER_REF
                total += sum(_BOUND_PER_PART + _pieces_bound(part.pieces) + voiced for part in beat.parts)
    return total


def _pieces_bound(pieces: tuple[ir.Piece, ...]) -> int:
    return sum(_BOUND_PER_REF if isinstance(p, ir.Ref) else len(p.text) for p in pieces)
