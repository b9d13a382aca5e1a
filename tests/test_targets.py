"""What the pipeline asks of every registered compile target, and what the front-end does for all of them:
the literal-identifier lint knows each target's identifier forms, the prompt writes a target's voice names,
renders a shot alone, keeps identifiers' capitals, and takes a target's own template folder."""

from __future__ import annotations

import pytest

from compiler import ir, prompt
from compiler.api import compile_text, parse_text, resolve
from compiler.resolve.literals import LITERAL_IDENTIFIER
from compiler.targets import TARGETS, Naming, Target
from compiler.targets.wan27 import TARGET as WAN27

# Scenes that exercise every naming rule: kinds mixed, one reference, Chinese, a first frame, a storyboard, voices.
SCENES = {
    "mixed": "CAST\nMAYA: image https://e.com/m.jpg\nLEO: video https://e.com/l.mp4\nRIO: image https://e.com/r.jpg\n"
             "\nMAYA, LEO and RIO wait.\n",
    "one": "CAST\nMAYA: image https://e.com/m.jpg\n\nMAYA waits.\n",
    "zh": "LANGUAGE: zh\nCAST\nMAYA: image https://e.com/m.jpg\nLEO: video https://e.com/l.mp4\n\nMAYA和LEO等待。\n",
    "first frame": "FIRST FRAME: https://e.com/f.jpg\nCAST\nMAYA: image https://e.com/m.jpg\n"
                   "LEO: image https://e.com/l.jpg\n\nMAYA waits for LEO.\n",
    "storyboard": "STORYBOARD: https://e.com/p.png\n\nA girl walks.\n",
    "voices": "CAST\nMAYA: image https://e.com/m.jpg, voice https://e.com/m.mp3\n"
              "LEO: image https://e.com/l.jpg, voice https://e.com/l.mp3\n\nMAYA\nHello.\n\nLEO\nHi.\n",
}


def scene_of(text: str) -> ir.Scene:
    tree, syntax = parse_text(text)
    assert syntax == []
    return resolve(tree)[0]


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
@pytest.mark.parametrize("name", SCENES)
def test_the_literal_lint_matches_every_identifier_a_target_names(target: Target, name: str) -> None:
    scene = scene_of(SCENES[name])
    naming = target.naming(scene)
    assert set(naming.identifiers) == {member.name for member in scene.references}
    for written in [*naming.identifiers.values(), *naming.voices.values()]:
        assert LITERAL_IDENTIFIER.fullmatch(written), f"{target.name} names {written!r}: extend resolve/literals.py"


@pytest.mark.parametrize("typed", ["Image 1", "video2", "Audio 3", "图1", "视频2", "音频1", "character4", "Character 2",
                                   "<<<image_1>>>", "<<<video_1>>>", "<<<element_3>>>", "reference image", "参考视频"])
def test_every_targets_identifier_typed_by_hand_is_warned(typed: str) -> None:
    result = compile_text(f"CAST\nMAYA: image https://e.com/m.jpg\n\nMAYA looks at {typed}.\n")
    assert [d.code for d in result.diagnostics] == ["literal-identifier"]


def test_ordinary_words_are_not_identifiers() -> None:
    assert not LITERAL_IDENTIFIER.search("an image of a video with audio, a character of note, <<<>>>, 1 image")


# --- the prompt with a target's naming -------------------------------------------------------------------------

def named(scene: ir.Scene, voices: dict[str, str]) -> Naming:
    """wan2.7's identifiers with voices named in the prompt, as a target that names voices gives them."""
    naming = WAN27.naming(scene)
    return naming._replace(voices=voices)


@pytest.mark.parametrize(("text", "expected"), [
    ("CAST\nMAYA: image a.jpg\nLEO: image b.jpg\n\nMAYA\nHello.\n\nLEO\n(quietly)\nHi.\n",
     "Image 1 says in the voice of Audio 1, 'Hello.' Image 2 says quietly in the voice of Audio 2, 'Hi.'"),
    ("DIALOGUE STYLE: joined\nCAST\nMAYA: image a.jpg\nLEO: image b.jpg\n\nMAYA waves to LEO.\n\nMAYA\nHello.\n",
     "Image 1 waves to Image 2, and says in the voice of Audio 1, 'Hello.'"),
    ("LANGUAGE: zh\nCAST\nMAYA: image a.jpg\nLEO: image b.jpg\n\nMAYA\n你好。\n\nLEO\n（轻声）\n嗨。\n",
     "图1用音频1的声音说：“你好。”图2轻声用音频2的声音说：“嗨。”"),
])
def test_dialogue_names_the_speakers_voice_where_the_target_does(text: str, expected: str) -> None:
    scene = scene_of(text)
    audio = "音频" if scene.settings.language == "zh" else "Audio "
    assert prompt.render_prompt(scene, named(scene, {"MAYA": f"{audio}1", "LEO": f"{audio}2"})) == expected


def test_without_voices_the_dialogue_is_unchanged() -> None:
    scene = scene_of("CAST\nMAYA: image a.jpg\nLEO: image b.jpg\n\nMAYA\nHello.\n\nLEO\nHi.\n")
    assert prompt.render_prompt(scene, named(scene, {})) == "Image 1 says, 'Hello.' Image 2 says, 'Hi.'"


@pytest.mark.parametrize("style", ["prose", "shots", "timed"])
def test_each_shot_rendered_alone_is_its_part_of_the_prompt(style: str) -> None:
    scene = scene_of(f"PROMPT STYLE: {style}\nDURATION: 9s\nCAST\nMAYA: image a.jpg\nLEO: video b.mp4\n\n"
                     "WIDE ON MAYA [0-3s]\nMAYA waits.\n\nCLOSE ON LEO\nLEO looks up.\n\nLEO\nHello.\n\n"
                     "DISSOLVE TO:\nMAYA leaves.\n")
    whole = prompt.render_prompt(scene)
    alone = prompt.render_shots_alone(scene)
    assert len(alone) == 3 and all(alone)
    assert alone == [prompt.render_shot_alone(scene, index) for index in range(3)]
    cursor = 0
    for text in alone:  # each in order, none overlapping the one before
        cursor = whole.index(text, cursor) + len(text)
    assert whole.endswith(alone[-1])


@pytest.mark.parametrize("identifier", ["Image 1", "Video 2", "Audio 1", "character1", "<<<image_1>>>"])
def test_lowering_a_first_word_keeps_every_identifier_form(identifier: str) -> None:
    assert prompt.lower_first_word(f"{identifier} waits.") == f"{identifier} waits."
    assert prompt.lower_first_word("A girl waits.") == "a girl waits."


def test_a_targets_template_folder_overrides_a_shipped_template_by_name(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "prose.en.j2").write_text("{% for shot in shots %}Own {{ shot.number }}.\n{% endfor %}", encoding="utf-8")
    monkeypatch.setattr(prompt, "TARGET_TEMPLATE_DIR", tmp_path)
    monkeypatch.setattr(type(WAN27), "template_folder", "mine")
    monkeypatch.setattr(prompt, "_environments", {})
    scene = scene_of(SCENES["one"])
    assert prompt.render_prompt(scene) == "Own 1."
    zh = scene_of(SCENES["zh"])  # a template the folder lacks is the shipped one
    assert prompt.render_prompt(zh) == "图1和视频1等待。"


def test_a_mistyped_model_in_the_header_is_told_the_models_it_most_likely_means() -> None:
    from compiler.api import compile_text

    for written, meant in (("kling", "kling/kling-v3-omni-video-generation"), ("happyhorse", "happyhorse-1.0-r2v"),
                           ("wan2.7r2v", "wan2.7-r2v")):
        compiled = compile_text(f"MODEL: {written}\nCAST\nLEO: image https://example.com/l.png\n\nLEO waits.\n")
        [wrong] = [d for d in compiled.diagnostics if d.code == "bad-setting-value"]
        assert wrong.span is not None and wrong.span.line == 1 and meant in (wrong.hint or "")


# A first frame with a voice and no cast (wan3.0 takes a first frame only without one; a missing reference is
# no-reference's business).
VOICED_FIRST_FRAME = "FIRST FRAME: https://e.com/f.jpg, voice https://e.com/f.mp3\n\nThe rain falls.\n"


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_a_first_frames_voice_is_warned_where_taken_and_only_refused_where_not(target: Target) -> None:
    found = [(d.code, d.span.line if d.span else 0)
             for d in compile_text(VOICED_FIRST_FRAME, model=target.name).diagnostics
             if d.code in ("voice-on-first-frame", "unsupported-by-target")]
    caps = target.capabilities
    if caps.first_frame_voice:       # wan2.7: taken, not recommended
        assert found == [("voice-on-first-frame", 1)]
    elif caps.first_frame:           # wan3.0, Kling: the voice is refused, and nothing else is said of it
        [refusal] = target.refusals(scene_of(VOICED_FIRST_FRAME))
        assert "cannot give a first frame a voice" in refusal.message and found == [("unsupported-by-target", 1)]
    else:                            # HappyHorse, wan2.6: FIRST FRAME itself is refused, once
        assert found == [("unsupported-by-target", 1)]


def test_a_huge_mistyped_model_is_cut_in_the_message() -> None:
    from compiler.api import compile_text

    compiled = compile_text("MODEL: " + "x" * 20_000 + "\nCAST\nLEO: image https://example.com/l.png\n\nLEO waits.\n")
    [wrong] = [d for d in compiled.diagnostics if d.code == "bad-setting-value"]
    assert len(wrong.message) < 500 and "xxx...'" in wrong.message
