"""The Kling V3 Omni target (compiler/targets/kling.py): <<<image_N>>>/<<<video_1>>> naming, refusals at their
lines, the request body (refer/feature media, mode and aspect_ratio, timed shots as multi_prompt) and its model,
the renderer's media slots and the effective parameters.

Each test resolves a small scene with the front-end and calls the target's methods directly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from compiler import ir
from compiler.api import choose_target, compile_text, parse_text, resolve
from compiler.check import check
from compiler.prompt import render_shot_alone
from compiler.targets import for_model
from compiler.targets.base import get_at, set_at
from compiler.targets.kling import SHOT_PROMPT_CHARS, TARGET, shot_bound, shot_prompts
from tests.targets_support import IMAGE, VIDEO, body_for, cast_text, resolved_for, scene_texts, validated
from tests.targets_support import refusal_lines as target_refusals
from tests.test_properties import scenes

MODEL = "kling/kling-v3-omni-video-generation"
NAMES = ["MAYA", "LEO", "RIO", "NOVA", "TRAY", "JUNE", "ZED", "KAI"]


def scene_of(text: str, *, path: Path | None = None) -> ir.Scene:
    return resolved_for(MODEL, text, path=path)


def cast(*kinds: str, header: str = "", script: str = "") -> str:
    return cast_text([IMAGE if kind == "image" else VIDEO for kind in kinds], NAMES[:len(kinds)], header=header,
                     script=script)


def timed(*timings: str, duration: int = 6, line: str = "MAYA waits.", kinds: tuple[str, ...] = ("image",)) -> str:
    """A scene of one shot per timing ("0-3s"), each a framing line with the timing and one action line."""
    shots = "\n".join(f"CLOSE-UP ON MAYA [{timing}]\n{line}\n" for timing in timings)
    return cast(*kinds, header=f"DURATION: {duration}s\n", script=shots)


def body_of(scene: ir.Scene, prompt: str = "<<<image_1>>> waits.") -> dict[str, object]:
    return body_for(TARGET, scene, prompt)


def validate(body: dict[str, object], *, local: bool = False) -> dict[str, object]:
    return validated(TARGET, body, local=local)


def refusal_lines(scene: ir.Scene) -> list[tuple[int, str]]:
    return target_refusals(TARGET, scene)


def test_the_registry_finds_the_model() -> None:
    assert for_model(MODEL) is TARGET


# --- naming ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["en", "zh"])
def test_images_and_the_video_are_numbered_per_kind_in_media_order(language: str) -> None:
    naming = TARGET.naming(scene_of(cast("image", "video", "image", header=f"LANGUAGE: {language}\n")))
    assert naming.identifiers == {"MAYA": "<<<image_1>>>", "LEO": "<<<video_1>>>", "RIO": "<<<image_2>>>"}
    assert naming.media_index == {"MAYA": 0, "LEO": 1, "RIO": 2}
    assert naming.voices == {}


def test_a_storyboard_is_refused_at_its_line() -> None:
    scene = scene_of("TITLE: panels\nSTORYBOARD: https://example.com/panels.jpg\n\nThe panels play out.\n")
    [(line, message)] = refusal_lines(scene)
    assert line == 2
    assert "takes no STORYBOARD" in message


# --- the request body --------------------------------------------------------------------------------------

def test_images_are_refer_and_the_video_feature_in_cast_order() -> None:
    body = body_of(scene_of(cast("image", "video", "image")))
    assert body == {"model": MODEL,
                    "input": {"prompt": "<<<image_1>>> waits.",
                              "media": [{"type": "refer", "url": "https://example.com/MAYA.jpg"},
                                        {"type": "feature", "url": "https://example.com/LEO.mp4"},
                                        {"type": "refer", "url": "https://example.com/RIO.jpg"}]},
                    "parameters": {"aspect_ratio": "16:9"}}  # required for reference-to-video [kl]
    assert validate(body) == body


def test_the_settings_map_to_kling_names() -> None:
    header = "RESOLUTION: 720P\nRATIO: 9:16\nDURATION: 12s\nWATERMARK: on\nNEGATIVE PROMPT: blur\n"
    body = body_of(scene_of(cast("image", header=header)))
    assert list(body["parameters"].items()) == [  # type: ignore[attr-defined]
        ("mode", "std"), ("aspect_ratio", "9:16"), ("duration", 12), ("watermark", True)]
    assert body["input"]["negative_prompt"] == "blur"  # type: ignore[index]
    assert validate(body) == body
    assert body_of(scene_of(cast("image", header="RESOLUTION: 1080P\n")))["parameters"] == {
        "mode": "pro", "aspect_ratio": "16:9"}


def test_a_first_frame_goes_last_and_gives_the_aspect() -> None:
    text = "FIRST FRAME: https://example.com/first.jpg\n" + cast("video")
    body = body_of(scene_of(text))
    assert body["input"]["media"] == [  # type: ignore[index]
        {"type": "feature", "url": "https://example.com/MAYA.mp4"},
        {"type": "first_frame", "url": "https://example.com/first.jpg"}]
    assert body["parameters"] == {}
    validate(body)
    assert body_of(scene_of("RATIO: 1:1\n" + text))["parameters"] == {}  # check warns ratio-with-first-frame


def test_a_scene_without_references_sends_no_media() -> None:
    body = body_of(scene_of("A paper boat drifts down the street.\n"), "A paper boat drifts.")
    assert "media" not in body["input"]  # type: ignore[operator]
    validate(body)


@pytest.mark.parametrize("text", ["A paper boat drifts down the street.\n",
                                  "FIRST FRAME: https://example.com/f.jpg\n\nThe boat drifts.\n"])
def test_the_pipeline_takes_a_scene_with_no_cast(text: str) -> None:
    # The Omni model also works from text or a first frame alone (limits.min_references 0) [kl].
    result = compile_text(text, model=MODEL)
    assert result.diagnostics == []
    assert result.payload is not None
    assert [item.type for item in result.payload.input.media or []] == (  # type: ignore[attr-defined]
        ["first_frame"] if "FIRST FRAME" in text else [])


def test_the_pipeline_compiles_for_kling_with_its_names_and_refuses_at_the_line() -> None:
    result = compile_text("MODEL: " + MODEL + "\n" + cast("image", "video"))
    assert result.diagnostics == []
    assert result.prompt == "<<<image_1>>> and <<<video_1>>> wait."
    refused = compile_text("MODEL: " + MODEL + "\nSEED: 4\n" + cast("image"))
    assert [(d.code, d.span.line if d.span else 0) for d in refused.diagnostics] == [("unsupported-by-target", 2)]
    assert refused.payload is None


def test_a_local_file_is_a_project_relative_path_accepted_only_under_local_context(tmp_path: Path) -> None:
    (tmp_path / "scenec.toml").write_text("")
    body = body_of(scene_of("CAST\nMAYA: image media/maya.jpg\n\nMAYA waits.\n", path=tmp_path / "a.scene"))
    assert body["input"]["media"] == [{"type": "refer", "url": "media/maya.jpg"}]  # type: ignore[index]
    validate(body, local=True)
    with pytest.raises(ValidationError, match="http"):
        validate(body)


SPOKEN = "MAYA waits.\n\nMAYA\nWhy did you come?"


def test_a_scene_with_dialogue_asks_for_sound_and_a_silent_one_sends_no_audio() -> None:
    # Kling's video is silent unless audio is true [kl]: the dialogue would be lost without it.
    spoken = body_of(scene_of(cast("image", script=SPOKEN)))
    assert spoken["parameters"] == {"aspect_ratio": "16:9", "audio": True}
    assert validate(spoken)["parameters"]["audio"] is True  # type: ignore[index]
    assert TARGET.effective_parameters(spoken)["audio"] is True
    voice_over = body_of(scene_of(cast("image", script="MAYA waits.\n\nMAYA (V.O.)\n(sighs)\nNothing.")))
    assert voice_over["parameters"]["audio"] is True  # type: ignore[index]  # a voice-over is dialogue too
    assert "audio" not in body_of(scene_of(cast("image")))["parameters"]  # type: ignore[operator]


# --- timed shots: multi_prompt ------------------------------------------------------------------------------

def test_timed_shots_become_multi_prompt_items_written_as_each_shot_alone() -> None:
    scene = scene_of(timed("0-2s", "2-6s"))
    naming = TARGET.naming(scene)
    body = TARGET.payload_dict(scene, "the whole prompt", naming)
    inputs = body["input"]
    assert (inputs["multi_shot"], inputs["shot_type"]) == (True, "customize")  # type: ignore[index]
    assert [(item["index"], item["duration"]) for item in inputs["multi_prompt"]] == [(1, 2), (2, 4)]  # type: ignore[index]
    assert [item["prompt"] for item in inputs["multi_prompt"]] == shot_prompts(scene, naming)  # type: ignore[index]
    assert all("<<<image_1>>> waits." in item["prompt"] for item in inputs["multi_prompt"])  # type: ignore[index]
    assert inputs["prompt"] == "the whole prompt"  # type: ignore[index]
    assert TARGET.refusals(scene) == []
    validate(body)


HEADER = "STYLE LINE: 1970s film grain\nATMOSPHERE: cold rain at night, no music\nDURATION: 10s\n"
TWO_SHOTS = ("CAST\nMAYA (a nurse): image https://example.com/a.png\nLEO: image https://example.com/b.png\n\n"
             "WIDE ON MAYA [0-4s]\nMAYA waits.\n\nCLOSE-UP ON LEO [4-10s]\nLEO smiles.\n")


@pytest.mark.parametrize("style", ["prose", "shots", "timed"])
def test_every_multi_prompt_item_carries_the_scene_opening_and_no_whole_scene_clock(style: str) -> None:
    # With multi_shot the service ignores input.prompt [kl-3p]: the style line, atmosphere and the cast's
    # descriptions must reach the model through every item, and "(4-10s)" would contradict the item's duration.
    scene = scene_of(f"PROMPT STYLE: {style}\n{HEADER}\n{TWO_SHOTS}")
    items = TARGET.payload_dict(scene, "the whole prompt", TARGET.naming(scene))["input"]["multi_prompt"]  # type: ignore[index]
    for item in items:
        assert "1970s film grain" in item["prompt"] and "old rain at night, no music" in item["prompt"]
        assert "4-10s" not in item["prompt"]  # the timed template's segment is the item's own, from 0
    assert "0-4s" not in items[0]["prompt"] or style == "timed"
    if style == "shots":  # the template that lists the cast's descriptions
        assert all("<<<image_1>>> is a nurse" in item["prompt"] for item in items)
    assert "<<<image_1>>> waits." in items[0]["prompt"] and "<<<image_2>>> smiles." in items[1]["prompt"]
    assert "smiles" not in items[0]["prompt"] and "waits" not in items[1]["prompt"]


def test_the_whole_prompt_of_a_multi_shot_scene_is_not_held_to_its_limit_but_each_item_is() -> None:
    # Each shot fits in 512 with the opening, the whole prompt is over 2500: the service reads only the items.
    line = "MAYA " + "walks along the wet street, " * 12
    shots = "\n".join(f"CLOSE-UP ON MAYA [{n}-{n + 1}s]\n{line.strip()}.\n" for n in range(6))
    scene = scene_of(cast("image", header="DURATION: 6s\n", script=shots))
    naming = TARGET.naming(scene)
    prompt = " ".join(shot_prompts(scene, naming)) * 2
    assert len(prompt) > TARGET.limits.prompt_chars
    assert all(len(text) <= SHOT_PROMPT_CHARS for text in shot_prompts(scene, naming))
    assert [d for d in check(scene, TARGET, probe=False, prompt_length=len(prompt)) if d.severity == "error"] == []
    validate(body_of(scene, prompt))
    untimed = scene_of(cast("image", header="DURATION: 6s\n", script="MAYA waits."))
    with pytest.raises(ValidationError, match="at most 2500 characters"):
        validate(body_of(untimed, prompt))


def test_the_opening_counts_in_each_items_limit() -> None:
    # Shots that fit alone, pushed over 512 by a long style line the items now carry.
    scene = scene_of(timed("0-3s", "3-6s", line="MAYA waits.").replace(
        "DURATION: 6s\n", "DURATION: 6s\nSTYLE LINE: " + "grainy, " * 60 + "\n"))
    assert all(len(render_shot_alone(scene, n, TARGET.naming(scene))) < SHOT_PROMPT_CHARS for n in range(2))
    found = refusal_lines(scene)
    assert [line for line, _ in found] == [shot.span.line for shot in scene.shots]  # type: ignore[union-attr]
    assert all(f"at most {SHOT_PROMPT_CHARS} characters per shot" in message for _, message in found)


@pytest.mark.parametrize("script", [
    "MAYA waits.\n\nCUT TO:\n\nMAYA leaves.",                    # no timings
    "CLOSE-UP ON MAYA [0-3s]\nMAYA waits.\n\nCUT TO:\n\nMAYA leaves.",  # one shot untimed
    "CLOSE-UP ON MAYA [0-6s]\nMAYA waits.",                       # one timed shot
])
def test_a_scene_not_wholly_timed_is_one_prompt(script: str) -> None:
    body = body_of(scene_of(cast("image", header="DURATION: 6s\n", script=script)))
    assert {"multi_shot", "shot_type", "multi_prompt"}.isdisjoint(body["input"])  # type: ignore[arg-type]
    validate(body)


def test_a_seventh_timed_shot_is_refused_at_its_timing() -> None:
    scene = scene_of(timed(*(f"{n}-{n + 1}s" for n in range(7)), duration=7))
    [(line, message)] = refusal_lines(scene)
    assert line == scene.shots[6].timing_span.line  # type: ignore[union-attr]
    assert "at most 6 timed shots" in message


def test_timings_that_miss_the_duration_are_refused_at_the_last_timing() -> None:
    scene = scene_of(timed("0-2s", "2-4s", duration=6))
    [(line, message)] = refusal_lines(scene)
    assert line == scene.shots[1].timing_span.line  # type: ignore[union-attr]
    assert "add up to DURATION (6 s), not 4 s" in message
    with pytest.raises(ValidationError, match="add up to the duration"):
        validate(body_of(scene))


def test_a_fractional_shot_is_refused_at_its_timing() -> None:
    scene = scene_of(timed("0-2.5s", "2.5-6s"))
    found = refusal_lines(scene)
    assert [line for line, _ in found] == [shot.timing_span.line for shot in scene.shots]  # type: ignore[union-attr]
    assert all("whole seconds" in message for _, message in found)


def test_a_shot_prompt_over_the_limit_is_refused_at_the_shot() -> None:
    long_line = "MAYA " + "walks slowly along the wet street under the lamps, " * 12
    scene = scene_of(timed("0-3s", "3-6s", line=long_line.strip() + "."))
    found = refusal_lines(scene)
    assert len(shot_prompts(scene, TARGET.naming(scene))[0]) > SHOT_PROMPT_CHARS
    assert [line for line, _ in found] == [shot.span.line for shot in scene.shots]  # type: ignore[union-attr]
    assert all(f"at most {SHOT_PROMPT_CHARS} characters per shot" in message for _, message in found)


# --- the request model refuses what the API would ----------------------------------------------------------

def good_body() -> dict[str, object]:
    return {"model": MODEL,
            "input": {"prompt": "<<<image_1>>> waits.",
                      "media": [{"type": "refer", "url": "https://example.com/a.jpg"}],
                      "multi_shot": True, "shot_type": "customize",
                      "multi_prompt": [{"index": 1, "prompt": "a", "duration": 2},
                                       {"index": 2, "prompt": "b", "duration": 3}]},
            "parameters": {"mode": "pro", "aspect_ratio": "16:9", "duration": 5}}


def _refers(count: int) -> list[dict[str, str]]:
    return [{"type": "refer", "url": f"https://example.com/{n}.jpg"} for n in range(count)]


_FEATURE = {"type": "feature", "url": "https://example.com/v.mp4"}
_FIRST = {"type": "first_frame", "url": "https://example.com/f.jpg"}


@pytest.mark.parametrize(("path", "value", "message"), [
    (("model",), "wan2.7-r2v", "kling"),
    (("parameters", "seed"), 1, "Extra inputs"),
    (("parameters", "resolution"), "720P", "Extra inputs"),
    (("input", "reference_urls"), [], "Extra inputs"),
    (("parameters", "mode"), "hd", "pro"),
    (("parameters", "aspect_ratio"), "4:3", "16:9"),
    (("parameters", "duration"), 16, "less than or equal to 15"),
    (("input", "media"), [_FEATURE, _FEATURE], "one feature video"),
    (("input", "media"), _refers(8), "at most 7 refer"),
    (("input", "media"), [_FEATURE, *_refers(5)], "at most 4 refer images beside"),
    (("input", "media"), [*_refers(1), _FIRST], "not with refer images"),
    (("input", "media"), [_FEATURE, _FIRST, _FIRST], "at most one first_frame"),
    (("input", "media"), [{"type": "refer", "url": "data:image/png;base64,AAAA"}], "http"),
    (("input", "media"), [{"type": "reference_image", "url": "https://example.com/a.jpg"}], "refer"),
    (("input", "shot_type"), None, "needs multi_shot true and shot_type customize"),
    (("input", "multi_prompt", 1, "index"), 3, "count 1, 2, 3"),
    (("input", "multi_prompt", 1, "duration"), 4, "add up to the duration"),
    (("input", "multi_prompt", 1, "prompt"), "x" * 513, "at most 512"),
    (("input", "multi_prompt"), [{"index": 1, "prompt": "a", "duration": 5}], "at least 2"),
])
def test_the_request_model_refuses_a_body_the_api_would(path: tuple[str | int, ...], value: object,
                                                        message: str) -> None:
    body = good_body()
    validate(body)
    set_at(body, path, value)
    with pytest.raises(ValidationError, match=message):
        validate(body)


def test_a_feature_video_caps_the_duration_at_ten() -> None:
    body = good_body()
    body["input"] = {"prompt": "<<<video_1>>> waits.", "media": [_FEATURE]}
    body["parameters"] = {"duration": 10}
    validate(body)
    body["parameters"] = {"duration": 11}
    with pytest.raises(ValidationError, match="at most 10 s with a feature video"):
        validate(body)


# --- refusals, at the line that asks ------------------------------------------------------------------------

def test_a_voice_is_refused_at_the_voice() -> None:
    text = "CAST\nMAYA: image https://example.com/m.jpg, voice https://example.com/m.mp3\n\nMAYA waits.\n"
    [(line, message)] = refusal_lines(scene_of(text))
    assert line == 2
    assert message.startswith(f"{MODEL} takes no voices")


def test_a_second_video_is_refused_at_that_member() -> None:
    [(line, message)] = refusal_lines(scene_of(cast("video", "image", "video")))
    assert line == 4
    assert "one reference video" in message


def test_a_fifth_image_beside_a_video_is_refused_at_that_image() -> None:
    [(line, message)] = refusal_lines(scene_of(cast("image", "video", "image", "image", "image", "image")))
    assert line == 7  # CAST is line 1; the fifth image is the sixth member
    assert "at most 4 reference images beside a reference video" in message
    assert refusal_lines(scene_of(cast("image", "image", "image", "image", "image", "image", "image"))) == []


def test_a_first_frame_with_reference_images_is_refused_at_the_first_frame() -> None:
    text = "TITLE: t\nFIRST FRAME: https://example.com/f.jpg\n" + cast("image")
    [(line, message)] = refusal_lines(scene_of(text))
    assert line == 2
    assert "with a reference video only" in message
    assert refusal_lines(scene_of("FIRST FRAME: https://example.com/f.jpg\n" + cast("video"))) == []


def test_a_voice_on_the_first_frame_and_data_uris_are_refused_at_their_lines() -> None:
    text = ("FIRST FRAME: data:image/png;base64,AAAA, voice https://example.com/f.mp3\n"
            "CAST\nMAYA: video https://example.com/m.mp4\n\nMAYA waits.\n")
    found = refusal_lines(scene_of(text))
    assert [line for line, _ in found] == [1, 1]
    assert any("cannot give a first frame a voice" in message for _, message in found)
    assert any("data URIs" in message for _, message in found)
    member = scene_of("CAST\nMAYA: image https://example.com/m.jpg\nLEO: image data:image/png;base64,AAAA\n\n"
                      "MAYA and LEO wait.\n")
    [(line, message)] = refusal_lines(member)
    assert (line, "data URIs" in message) == (3, True)


@pytest.mark.parametrize(("header", "words"), [
    ("RATIO: 4:3\n", "takes RATIO 16:9, 9:16, 1:1, not 4:3"),
    ("RATIO: 3:4\n", "not 3:4"),
    ("RESOLUTION: 480P\n", "takes RESOLUTION 720P, 1080P, not 480P"),
    ("SEED: 5\n", "takes no SEED"),
    ("PROMPT EXTEND: off\n", "takes no PROMPT EXTEND"),
])
def test_a_setting_it_cannot_send_is_refused_at_the_setting(header: str, words: str) -> None:
    [(line, message)] = refusal_lines(scene_of("TITLE: t\n" + header + cast("image")))
    assert line == 2
    assert words in message


def test_a_scene_it_can_take_has_no_refusal() -> None:
    header = "RESOLUTION: 720P\nRATIO: 1:1\nDURATION: 10s\nWATERMARK: off\nNEGATIVE PROMPT: blur\n"
    assert TARGET.refusals(scene_of(cast("video", "image", "image", "image", "image", header=header))) == []


# --- slots and effective parameters --------------------------------------------------------------------------

def test_media_slots_name_each_url_with_its_role() -> None:
    text = "FIRST FRAME: https://example.com/first.jpg\n" + cast("video")
    body = body_of(scene_of(text))
    slots = TARGET.media_slots(body)
    assert [(slot.path, slot.role) for slot in slots] == [
        (("input", "media", 0, "url"), "video"), (("input", "media", 1, "url"), "first frame")]
    for slot in slots:
        assert get_at(body, slot.path) == slot.url
        set_at(body, slot.path, "oss://bucket/" + slot.url.rsplit("/", 1)[1])
    validate(body)
    assert TARGET.media_slots(body_of(scene_of("A boat drifts.\n"))) == []


def test_effective_parameters_fill_the_defaults_and_read_mode_back() -> None:
    sent = body_of(scene_of(cast("image", header="RESOLUTION: 720P\nDURATION: 8s\n")))
    assert TARGET.effective_parameters(sent) == {
        "mode": "std", "resolution": "720P", "aspect_ratio": "16:9", "ratio": "16:9", "duration": 8,
        "audio": False, "watermark": False}
    unset = TARGET.effective_parameters(body_of(scene_of("FIRST FRAME: https://example.com/f.jpg\nA boat.\n")))
    assert (unset["mode"], unset["resolution"], unset["duration"]) == ("pro", "1080P", 5)


@given(scene_texts())
def test_any_scene_is_refused_at_a_line_or_compiles_to_a_valid_body(text: str) -> None:
    result = compile_text(text, model=MODEL)
    codes = {d.code for d in result.diagnostics}
    assert "invalid-payload" not in codes, text  # every gap between refusals and the request model is a bug
    assert (result.payload is None) == any(d.severity == "error" for d in result.diagnostics)
    assert all(d.span is not None for d in result.diagnostics if d.code == "unsupported-by-target")


@st.composite
def styled_scenes(draw: st.DrawFn) -> str:
    """The properties' scenes (prose and shots, English and Chinese, dialogue) or this file's (timed or not), the
    latter in any prompt style and language."""
    if draw(st.booleans()):
        return str(draw(scenes()))
    style = draw(st.sampled_from(["prose", "shots", "timed"]))
    language = draw(st.sampled_from(["en", "zh"]))
    return f"PROMPT STYLE: {style}\nLANGUAGE: {language}\n" + draw(scene_texts())


@given(styled_scenes())
def test_a_shots_bound_holds_for_its_prompt_alone(text: str) -> None:
    # The refusal of a long shot renders the templates only past this bound: it must never be below the item.
    tree, _ = parse_text(text)
    scene = choose_target(resolve(tree)[0], MODEL)[0]
    for shot, item in zip(scene.shots, shot_prompts(scene, TARGET.naming(scene)), strict=True):
        bound = shot_bound(scene, shot)
        assert bound is not None
        assert len(item) <= bound



# --- the aspect bound is for images only ([kl-3p] states none for videos) ---------------------------------------

def test_an_elongated_video_within_the_sides_is_taken_and_an_elongated_image_is_not(tmp_path: Path) -> None:
    from PIL import Image

    from tests.test_media import make_mp4, trak

    (tmp_path / "scenec.toml").write_text("")
    (tmp_path / "wide.mp4").write_bytes(make_mp4(duration=5000, tracks=(trak(b"vide", 2160, 720),)))
    Image.new("RGB", (1500, 500), "white").save(tmp_path / "wide.png")
    text = "CAST\nMAYA: video wide.mp4\nLEO: image wide.png\n\nMAYA waits for LEO.\n"
    (tmp_path / "s.scene").write_text(text)
    scene = scene_of(text, path=tmp_path / "s.scene")
    found = [(d.span.line if d.span else 0, d.message) for d in check(scene, TARGET)
             if d.code == "media-dimensions"]
    assert found == [(3, "LEO: wide.png is 1500x500, more elongated than 1:2.5")]
