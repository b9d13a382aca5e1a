"""Properties of every compile target (issue 15): every line the writer wrote reaches the request or has a
diagnostic at its line; the cross-target property (same cast mentions in the same places) compares on every
target, voices and timed scenes included; Kling's per-shot prompts mention the cast as the whole prompt's shots do.

The strategies draw scenes a target can take (`fits`) and scenes with what it cannot express, so that each
property compares real request bodies on every target rather than passing on errors."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.api import Compiled, compile_text
from compiler.prompt import render_prompt
from compiler.targets import DEFAULT_MODEL, TARGETS, Target
from compiler.targets.kling import MAX_IMAGES_WITH_VIDEO, MULTI_SHOTS
from compiler.targets.kling import TARGET as KLING

NAMES = ["MAYA", "LEO", "ALLEY", "RIO", "NOVA", "TRAY"]
FRAMING_PHRASES = {"WIDE": "wide shot of", "CLOSE-UP": "close-up of", "MEDIUM SHOT": "medium shot of"}
# No "g": a writer's "image" before the shots style's next number ("... the image 2. Close-up ...") reads as the
# name "Image 2" (in the report of this file's branch); the words here are prose, never a name.
WORDS = st.text(alphabet="abcdefhij klmnop,.'", min_size=1, max_size=30).map(str.strip).filter(
    lambda w: any(c.isalpha() for c in w))
# Values no target takes as its default, so a setting dropped from a body cannot pass as the service's default
# (happyhorse's watermark default is on, the others' off: WATERMARK is drawn both ways and read from the body).
SETTING_VALUES: dict[str, tuple[str, list[Any]]] = {
    "RESOLUTION": ("resolution", ["720P", "480P"]),
    "RATIO": ("ratio", ["9:16", "1:1", "4:3", "3:4"]),
    "SEED": ("seed", [0, 7, 2147483647]),
    "WATERMARK": ("watermark", [True, False]),
    "PROMPT EXTEND": ("prompt_extend", [False]),
}
SPOKEN = {True: "on", False: "off"}


@dataclass(frozen=True)
class Allowed:
    """What a drawn scene may ask for."""

    most: int                 # cast members
    videos: int               # of which videos
    voice: bool
    first_frame: bool
    negative: bool
    seed: bool
    prompt_extend: bool
    resolutions: tuple[str, ...]
    ratios: tuple[str, ...]

    def __and__(self, other: Allowed) -> Allowed:
        """What two targets both take."""
        return Allowed(min(self.most, other.most), min(self.videos, other.videos), self.voice and other.voice,
                       self.first_frame and other.first_frame, self.negative and other.negative,
                       self.seed and other.seed, self.prompt_extend and other.prompt_extend,
                       tuple(r for r in self.resolutions if r in other.resolutions),
                       tuple(r for r in self.ratios if r in other.ratios))


def _fits(target: Target) -> Allowed:
    """What a scene drawn to fit `target` may ask for."""
    caps = target.capabilities
    return Allowed(most=min(target.limits.max_references, len(NAMES), MAX_IMAGES_WITH_VIDEO if target is KLING else 99),
                   videos=caps.max_reference_videos if caps.reference_video else 0, voice=caps.voice,
                   # Kling takes a first frame beside a video cast only: a fitted scene leaves it out there.
                   first_frame=caps.first_frame and caps.first_frame_with_references and target is not KLING,
                   negative=caps.negative_prompt, seed=caps.seed, prompt_extend=caps.prompt_extend,
                   resolutions=target.resolutions, ratios=target.ratios)


ANYTHING = Allowed(most=len(NAMES), videos=len(NAMES), voice=True, first_frame=True, negative=True, seed=True,
                   prompt_extend=True, resolutions=("480P", "720P", "1080P"),
                   ratios=("16:9", "9:16", "1:1", "4:3", "3:4"))
# (line number, kind, what the line should put in the request): kinds "text", "cue", "speech", "framing"
# (framing, subject, timing or None), "prose" (text), "negative" (text), "media" (role, URL), "setting"
# (effective parameter, value), "lost" (never in the request: a diagnostic must be at the line).
Expected = tuple[int, str, Any]


class Lines:
    """The scene's text, built line by line, with what each checked line should put in the request."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.expected: list[Expected] = []

    def add(self, text: str, kind: str | None = None, what: Any = None) -> None:
        self.text.append(text)
        if kind is not None:
            self.expected.append((len(self.text), kind, what))


def _header(draw: st.DrawFn, lines: Lines, allowed: Allowed, duration: int | None, language: str) -> None:
    if language != "en":  # the script checks of property 1 read English phrases: only properties 2 and 3 use it
        lines.add(f"LANGUAGE: {language}")
    if duration is not None:
        lines.add(f"DURATION: {duration}s", "setting", ("duration", duration))
    lines.add(f"PROMPT STYLE: {draw(st.sampled_from(['prose', 'shots', 'timed']))}")
    takes = {"RESOLUTION": allowed.resolutions, "RATIO": allowed.ratios, "SEED": allowed.seed,
             "PROMPT EXTEND": allowed.prompt_extend, "WATERMARK": True}
    for key, (field, values) in SETTING_VALUES.items():
        taken = takes[key]
        choices = [v for v in values if v in taken] if isinstance(taken, tuple) else values if taken else []
        given: bool = bool(choices) and draw(st.booleans())
        if given:
            value = draw(st.sampled_from(choices))
            written = SPOKEN.get(value, value) if isinstance(value, bool) else value
            lines.add(f"{key}: {written}", "setting", (field, value))
    if allowed.negative and draw(st.booleans()):
        text = draw(WORDS)
        lines.add(f"NEGATIVE PROMPT: {text}", "negative", text)
    for key in ("ATMOSPHERE", "STYLE LINE"):
        if draw(st.integers(0, 3)) == 0:
            text = draw(WORDS)
            lines.add(f"{key}: {text}", "prose", text)


def _cast(draw: st.DrawFn, lines: Lines, allowed: Allowed, least: int = 1) -> list[str]:
    count = draw(st.integers(min(least, allowed.most), allowed.most))
    videos = draw(st.integers(0, min(count, allowed.videos)))
    kinds = draw(st.permutations(["video"] * videos + ["image"] * (count - videos)))
    names = NAMES[:count]
    if allowed.first_frame and draw(st.integers(0, 3)) == 0:
        frame, frame_voice = "https://example.com/first.jpg", "https://example.com/first.mp3"
        # A voice on the first frame has a warning of its own (the vendor advises against it): still sent.
        voiced = allowed.voice and draw(st.booleans())
        lines.add(f"FIRST FRAME: {frame}" + (f", voice {frame_voice}" if voiced else ""), "media",
                  ("first frame", frame))
        if voiced:
            lines.expected.append((len(lines.text), "media", ("voice", frame_voice)))
    lines.add("CAST")
    for index, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        url = f"https://example.com/{index}.{'jpg' if kind == 'image' else 'mp4'}"
        voice = f"https://example.com/{index}.mp3" if allowed.voice and draw(st.booleans()) else None
        description = draw(st.sampled_from(["", " (someone)"]))
        lines.add(f"{name}{description}: {kind} {url}" + (f", voice {voice}" if voice else ""), "media", (kind, url))
        if voice:
            lines.expected.append((len(lines.text), "media", ("voice", voice)))
    lines.add("")
    return names


def _script_item(draw: st.DrawFn, lines: Lines, names: list[str], shapes: list[str]) -> None:
    """One paragraph of the script, as a writer might get it right or wrong (tests/test_properties.py's shapes)."""
    name = draw(st.sampled_from(names))
    shape = draw(st.sampled_from(shapes))
    if shape == "action":
        lines.add(f"{name} {draw(WORDS)}", "text")
    elif shape == "forced":
        lines.add(f"!{name} ENTERS.", "text")
    elif shape == "effect":
        lines.add(draw(st.sampled_from(["BANG!", "BOOM.", "LATER", "CRASH!!", "THE END"])), "text")
    elif shape in ("dialogue", "swallowed"):
        lines.add(name, "cue")
        paren = draw(st.sampled_from(["", "softly", "replies", f"after seeing {draw(st.sampled_from(names))}"]))
        if paren:
            lines.add(f"({paren})", "text")
        lines.add(draw(WORDS), "speech")
        if shape == "swallowed":
            lines.add(f"{name} sits down.", "speech")
    elif shape == "framing":
        framing = draw(st.sampled_from(sorted(FRAMING_PHRASES)))
        lines.add(f"{framing} ON {name}", "framing", (framing, name, None))
    elif shape == "transition":
        lines.add(f"CUT TO CLOSE-UP ON {name}.", "framing", ("CLOSE-UP", name, None))
    elif shape == "malformed":
        lines.add(draw(st.sampled_from(["Leo: image media/a.jpg", "LEO-2: image a.jpg", "老王: image c.jpg",
                                        "LEO - image d.jpg"])), "lost")
    elif shape == "setting":
        lines.add(draw(st.sampled_from(["WATERMARK: on", "Seed: 4", "FIRST FRAME: a.jpg"])), "lost")
    else:
        lines.add("-- a note the prompt never sees")
    lines.add("")


SHAPES = ["action", "forced", "effect", "dialogue", "swallowed", "framing", "transition", "malformed", "setting",
          "comment"]
IN_SHOT = [shape for shape in SHAPES if shape not in ("framing", "transition")]
CORRECT = [shape for shape in SHAPES if shape not in ("malformed", "setting")]
CORRECT_IN_SHOT = [shape for shape in IN_SHOT if shape in CORRECT]


def _segments(draw: st.DrawFn, duration: int) -> list[tuple[int, int]]:
    """2 to 6 whole-second shots from 0 to `duration` (Kling's multi-shot bounds)."""
    count = draw(st.integers(MULTI_SHOTS[0], min(MULTI_SHOTS[1], duration)))
    cuts = sorted(draw(st.lists(st.integers(1, duration - 1), min_size=count - 1, max_size=count - 1,
                                unique=True)))
    ends = [0, *cuts, duration]
    return list(itertools.pairwise(ends))


def _script(draw: st.DrawFn, lines: Lines, names: list[str], segments: list[tuple[int, int]] | None,
            mistakes: bool) -> None:
    shapes, in_shot = (SHAPES, IN_SHOT) if mistakes else (CORRECT, CORRECT_IN_SHOT)
    if segments is None:
        for _ in range(draw(st.integers(1, 8))):
            _script_item(draw, lines, names, shapes)
    else:
        for start, end in segments:
            framing, subject = draw(st.sampled_from(sorted(FRAMING_PHRASES))), draw(st.sampled_from(names))
            lines.add(f"{framing} ON {subject} [{start}-{end}s]", "framing", (framing, subject, (start, end)))
            lines.add("")
            for _ in range(draw(st.integers(0, 2))):
                _script_item(draw, lines, names, in_shot)
    for name in names:
        lines.add(f"{name} waits.", "text")
        lines.add("")


@st.composite
def target_scenes(draw: st.DrawFn, target: Target, timed: bool | None = None, fits: bool | None = None,
                  also: Target | None = None, languages: tuple[str, ...] = ("en",)) -> tuple[str, list[Expected]]:
    """A scene (text, expectations): fitted to `target`'s capabilities (and then without a writer's mistakes) or
    asking for anything; timed shots (every shot a whole-second segment, as Kling's multi_prompt takes) or free
    script lines.  `also`: fitted to that target too."""
    fitted = draw(st.booleans()) if fits is None else fits
    allowed = (_fits(target) & _fits(also) if also else _fits(target)) if fitted else ANYTHING
    timed = draw(st.booleans()) if timed is None else timed
    duration = draw(st.integers(3, 10)) if timed or draw(st.booleans()) else None
    lines = Lines()
    _header(draw, lines, allowed, duration, draw(st.sampled_from(languages)))
    if not fitted and draw(st.integers(0, 7)) == 0:
        url = "https://example.com/panels.jpg"  # a storyboard works alone: no cast, no names in the script
        lines.add(f"STORYBOARD: {url}", "media", ("image", url))
        lines.add("")
        for _ in range(draw(st.integers(1, 3))):
            lines.add(f"a girl {draw(WORDS)}", "text")
        return "\n".join(lines.text), lines.expected
    names = _cast(draw, lines, allowed, least=2 if fitted else 1)  # fitted: two members at least, to compare order
    _script(draw, lines, names, _segments(draw, duration) if timed and duration else None, mistakes=not fitted)
    return "\n".join(lines.text), lines.expected


# --- 1. every line reaches the request or has a diagnostic at its line --------------------------------------


def _strings(value: object) -> Iterator[str]:
    """Every string in a request body."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _substituted(text: str, ids: Mapping[str, str]) -> str:
    """The line as the prompt should carry it: '!' and parentheses gone, cast names as identifiers."""
    text = text[1:] if text.startswith("!") else text
    text = text[1:-1] if text.startswith("(") else text
    return re.sub(r"@?[\w\-]*\w", lambda m: ids.get(m.group().lstrip("@"), m.group()), text)


def _fragment(kind: str, what: Any, written: str, ids: Mapping[str, str]) -> str:
    """What the prompt carries of a script line (tests/test_properties.py's reading, timings added)."""
    if kind == "cue":
        return ids[written]
    if kind == "framing":
        framing, subject, _ = what
        return f"{FRAMING_PHRASES[framing]} {ids[subject]}"
    return _substituted(written, ids)


def _reaches(result: Compiled, body: Mapping[str, Any] | None, kind: str, what: Any, written: str) -> bool:
    """Whether a checked line is in the request: the prompt (or any text of the body), a media slot, a parameter."""
    assert result.naming is not None and result.target is not None
    texts = [s.casefold() for s in _strings(body)] if body is not None else [(result.prompt or "").casefold()]
    if kind in ("text", "cue", "speech", "framing", "prose"):
        fragment = what if kind == "prose" else _fragment(kind, what, written, result.naming.identifiers)
        if not any(str(fragment).casefold() in text for text in texts):
            return False
        if kind == "framing" and what[2] is not None:
            start, end = what[2]
            return any(re.search(rf"\b{start}\s*-\s*{end}\s*(s|秒)", text) for text in texts)
        return True
    if body is None:
        return True  # nothing is sent from a scene with errors; its body lines are judged on valid scenes
    if kind == "negative":
        return str(what).casefold() in texts
    if kind == "media":
        role, url = what
        return any(slot.role == role and slot.url == url for slot in result.target.media_slots(body))
    if kind == "setting":
        field, value = what
        return bool(result.target.effective_parameters(body).get(field) == value)
    raise AssertionError(kind)


def _lost_lines(text: str, expected: list[Expected], model: str) -> list[tuple[int, str, str]]:
    result = compile_text(text, model=model)
    written = text.split("\n")
    flagged = {d.span.line for d in result.diagnostics if d.span}
    refused = {d.span.line for d in result.diagnostics if d.span and d.severity == "error"}
    body = result.payload.model_dump(mode="json", exclude_none=True) if result.payload is not None else None
    lost = []
    for line, kind, what in expected:
        # A medium is excused by an error only: a warning at its line (voice-on-first-frame) still sends it.
        if line in (refused if kind == "media" else flagged):
            continue
        if kind == "lost" or not _reaches(result, body, kind, what, written[line - 1].strip()):
            lost.append((line, kind, written[line - 1]))
    return lost


# Every registered target is here; a target that loses a line is left out and its example is in the report.
LINE_TARGETS = [target.name for target in TARGETS]


@pytest.mark.parametrize("model", LINE_TARGETS)
@settings(max_examples=120)
@given(data=st.data())
def test_every_line_reaches_the_request_or_has_a_diagnostic(model: str, data: st.DataObject) -> None:
    """Every line the writer wrote is in the request (its prompt or text fields, a media slot of the target's own
    body shape, a parameter the service will use) or has a diagnostic at that line, on every target."""
    target = next(t for t in TARGETS if t.name == model)
    text, expected = data.draw(target_scenes(target))
    assert _lost_lines(text, expected, model) == [], text


# --- 2. same cast mentions in the same places, compared on every target -------------------------------------


def mentions(prompt: str, identifiers: Mapping[str, str]) -> list[str]:
    """The cast names in the order the prompt mentions them, read through a naming's identifiers
    (tests/test_properties.py's reading)."""
    by_identifier = {identifier.lower(): name for name, identifier in identifiers.items()}
    alternatives = "|".join(re.escape(i) for i in sorted(by_identifier, key=len, reverse=True))
    pattern = re.compile(rf"(?:{alternatives})(?![0-9])", re.IGNORECASE)
    return [by_identifier[match.group().lower()] for match in pattern.finditer(prompt)]


def _typed(body: Mapping[str, Any], kind: str) -> list[str]:
    """The URLs of the body's input.media entries of one type, in order."""
    return [entry["url"] for entry in body["input"].get("media", []) if entry["type"] == kind]


def _only_reference(body: Mapping[str, Any], kind: str) -> list[str]:
    references = _typed(body, "reference_image") + _typed(body, "reference_video")
    assert len(references) == 1, "a 'reference image/video' name in a body of several references"
    return references if _typed(body, f"reference_{kind}") else []


# Each target's reading of its own names, kept apart from its `naming` on purpose (as tests/fakescope keeps its
# own limits): a name -> the media it binds to in the body the service receives (targets.md, each section).
# pattern group 1 selects the list, group 2 the 1-based position in it (no group 2: the list's only entry).
Listed = Callable[[Mapping[str, Any]], list[str]]
READINGS: dict[str, list[tuple[str, Listed]]] = {
    "wan2.7-r2v": [
        (r"(Image |图)(\d+)(?![0-9])", lambda body: _typed(body, "reference_image")),
        (r"(Video |视频)(\d+)(?![0-9])", lambda body: _typed(body, "reference_video")),
        (r"(reference image|参考图片)", lambda body: _only_reference(body, "image")),
        (r"(reference video|参考视频)", lambda body: _only_reference(body, "video")),
    ],
    "wan3.0-video": [
        (r"(Image |图)(\d+)(?![0-9])", lambda body: _typed(body, "reference_image")),
        (r"(Video |视频)(\d+)(?![0-9])", lambda body: _typed(body, "reference_video")),
        (r"(Audio |音频)(\d+)(?![0-9])", lambda body: _typed(body, "reference_audio")),
    ],
    "happyhorse-1.0-r2v": [(r"(character)(\d+)(?![0-9])", lambda body: _typed(body, "reference_image"))],
    "wan2.6-r2v": [(r"(character)(\d+)(?![0-9])", lambda body: list(body["input"]["reference_urls"]))],
    "kling/kling-v3-omni-video-generation": [
        (r"<<<(image)_(\d+)>>>", lambda body: _typed(body, "refer")),
        (r"<<<(video)_(\d+)>>>", lambda body: _typed(body, "feature")),
    ],
}


def bound_urls(model: str, prompt: str, body: Mapping[str, Any]) -> list[str]:
    """The media URLs the prompt's names bind to, in the order the prompt names them, by the target's reading."""
    readings = READINGS[model]
    pattern = re.compile("|".join(f"(?:{regex})" for regex, _ in readings), re.IGNORECASE)
    found = []
    for match in pattern.finditer(prompt):
        for regex, listed in readings:
            own = re.fullmatch(regex, match.group(), re.IGNORECASE)
            if own:
                urls = listed(body)
                position = int(own.group(2)) if own.re.groups >= 2 else 1
                assert 1 <= position <= len(urls), (match.group(), urls)
                found.append(urls[position - 1])
                break
    return found


def bound_members(result: Compiled, prompt: str | None = None) -> list[str]:
    """The cast members (by name; a voice as 'voice:NAME') a compiled request's prompt binds to, through the
    URLs of its body: what the service would show, whatever the target's `naming` says."""
    assert result.payload is not None and result.scene is not None and result.target is not None
    owners = {member.media.text: member.name for member in result.scene.references}
    owners.update({member.voice.text: f"voice:{member.name}" for member in result.scene.references if member.voice})
    body = result.payload.model_dump(mode="json", exclude_none=True)
    text = body["input"]["prompt"] if prompt is None else prompt
    return [owners[url] for url in bound_urls(result.target.name, text, body)]


def _probe_mentions(result: Compiled) -> list[str]:
    """The mentions (a voice as 'voice:NAME') the prompt stage writes for the scene, read through unique tokens
    instead of the target's names."""
    assert result.scene is not None and result.naming is not None
    tokens = {name: f"Q{index}Q" for index, name in enumerate(result.naming.identifiers)}
    voices = {name: f"V{index}V" for index, name in enumerate(result.naming.voices)}
    probe = render_prompt(result.scene, result.naming._replace(identifiers=tokens, voices=voices))
    return mentions(probe, {**tokens, **{f"voice:{name}": token for name, token in voices.items()}})


OTHER_TARGETS = [target.name for target in TARGETS if target.name != DEFAULT_MODEL]


def test_every_target_has_a_reading_of_its_names() -> None:
    assert set(READINGS) == {target.name for target in TARGETS}


@pytest.mark.parametrize("model", OTHER_TARGETS)
@settings(max_examples=40)
@given(data=st.data())
def test_a_scene_fitted_to_a_target_binds_the_cast_as_the_default_does(model: str, data: st.DataObject) -> None:
    """tests/test_properties.py's cross-target property, on scenes drawn to fit both this target and the default
    (happyhorse's images only, Kling's one video and timed shots, Wan 3.0's voices, Chinese prompts), so that
    every example compares; the prompt's names are read through the body the service gets (`bound_members`),
    so a naming out of step with the media order fails too."""
    target = next(t for t in TARGETS if t.name == model)
    default_target = next(t for t in TARGETS if t.name == DEFAULT_MODEL)
    text, _ = data.draw(target_scenes(target, fits=True, also=default_target, languages=("en", "zh")))
    here, default = compile_text(text, model=model), compile_text(text, model=DEFAULT_MODEL)
    assert here.ok, (text, here.diagnostics)
    assert default.ok, (text, default.diagnostics)
    assert here.prompt is not None and here.naming is not None
    expected = _probe_mentions(default)
    assert len(set(expected)) >= 2
    assert bound_members(default) == expected, text
    probed = _probe_mentions(here)  # with the voices this target names (Wan 3.0's "Audio N")
    assert bound_members(here) == probed, text
    assert [name for name in probed if not name.startswith("voice:")] == expected, text
    assert mentions(here.prompt, here.naming.identifiers) == expected, text


# --- 3. Kling's multi_prompt: the shots, one prompt each, mention the cast as the whole prompt does ----------


@settings(max_examples=60)
@given(target_scenes(KLING, timed=True, fits=True, languages=("en", "zh")))
def test_kling_shot_prompts_mention_the_cast_as_the_whole_prompt_shots_do(drawn: tuple[str, list[Expected]]) -> None:
    """Each multi_prompt item mentions the members the scene's opening mentions (every item carries the opening:
    the service reads no input.prompt then), then those its shot mentions in the whole prompt, in the same order;
    the whole prompt's opening and shots are read by rendering its first 0, 1, 2 ... shots (the prompt stage, not
    Kling's code)."""
    text, _ = drawn
    result = compile_text(text, model=KLING.name)
    assert result.ok and result.payload is not None and result.scene is not None, (text, result.diagnostics)
    assert result.naming is not None and result.prompt is not None
    body = result.payload.model_dump(mode="json", exclude_none=True)
    items = body["input"]["multi_prompt"]
    scene, ids = result.scene, result.naming.identifiers
    assert [item["duration"] for item in items] == [int(shot.timing[1] - shot.timing[0]) for shot in scene.shots
                                                    if shot.timing is not None]
    prefixes = [mentions(render_prompt(scene._replace(shots=scene.shots[:count]), result.naming), ids)
                for count in range(len(scene.shots) + 1)]
    assert prefixes[-1] == bound_members(result), text
    for before, after, item in zip(prefixes[:-1], prefixes[1:], items, strict=True):
        assert after[:len(before)] == before, text
        assert bound_members(result, item["prompt"]) == prefixes[0] + after[len(before):], (text, item)
    joined = [name for item in items for name in bound_members(result, item["prompt"])[len(prefixes[0]):]]
    assert len(set(joined)) >= 1 and joined == prefixes[-1][len(prefixes[0]):], text
