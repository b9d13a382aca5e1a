"""The wan2.6-r2v(-flash) target (compiler/targets/wan26.py): naming, refusals at their lines, the request body
and its model, the renderer's media slots and the effective parameters.

Each test resolves a small scene with the front-end and calls the target's methods directly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from pydantic import ValidationError

from compiler import ir
from compiler.api import compile_text
from compiler.targets import for_model
from compiler.targets.base import get_at, set_at
from compiler.targets.wan26 import SIZES, TARGET
from tests.targets_support import IMAGE, VIDEO, body_for, cast_text, resolved_for, scene_texts, validated
from tests.targets_support import refusal_lines as target_refusals

NAMES = ["MAYA", "LEO", "RIO", "NOVA", "TRAY", "JUNE"]


def scene_of(text: str, *, path: Path | None = None, model: str = "wan2.6-r2v") -> ir.Scene:
    return resolved_for(model, text, path=path)


def cast(*kinds: str, header: str = "", script: str = "") -> str:
    return cast_text([IMAGE if kind == "image" else VIDEO for kind in kinds], NAMES[:len(kinds)], header=header,
                     script=script)


def body_of(scene: ir.Scene, prompt: str = "character1 waits.") -> dict[str, object]:
    return body_for(TARGET, scene, prompt)


def validate(body: dict[str, object], *, local: bool = False) -> dict[str, object]:
    return validated(TARGET, body, local=local)


def refusal_lines(scene: ir.Scene) -> list[tuple[int, str]]:
    return target_refusals(TARGET, scene)


def test_the_registry_finds_both_models() -> None:
    assert for_model("wan2.6-r2v") is TARGET
    assert for_model("wan2.6-r2v-flash") is TARGET


# --- naming ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["en", "zh"])
def test_references_are_numbered_character1_on_in_reference_order_across_kinds(language: str) -> None:
    scene = scene_of(cast("video", "image", "image", header=f"LANGUAGE: {language}\n"))
    naming = TARGET.naming(scene)
    assert naming.identifiers == {"MAYA": "character1", "LEO": "character2", "RIO": "character3"}
    assert naming.media_index == {"MAYA": 0, "LEO": 1, "RIO": 2}
    assert naming.voices == {}


def test_a_single_reference_is_still_character1() -> None:
    assert TARGET.naming(scene_of(cast("image"))).identifiers == {"MAYA": "character1"}


# --- the request body --------------------------------------------------------------------------------------

def test_references_go_to_reference_urls_in_order_and_nothing_unset_is_sent() -> None:
    body = body_of(scene_of(cast("video", "image")))
    assert body == {"model": "wan2.6-r2v",
                    "input": {"prompt": "character1 waits.",
                              "reference_urls": ["https://example.com/MAYA.mp4", "https://example.com/LEO.jpg"]},
                    "parameters": {}}
    assert validate(body) == body


def test_the_model_named_by_the_scene_is_sent() -> None:
    body = body_of(scene_of(cast("image"), model="wan2.6-r2v-flash"))
    assert body["model"] == "wan2.6-r2v-flash"
    validate(body)


@pytest.mark.parametrize(("resolution", "ratio"), sorted(SIZES))
def test_resolution_and_ratio_become_one_size(resolution: str, ratio: str) -> None:
    scene = scene_of(cast("image", header=f"RESOLUTION: {resolution}\nRATIO: {ratio}\n"))
    body = body_of(scene)
    assert body["parameters"] == {"size": SIZES[(resolution, ratio)]}
    assert validate(body)["parameters"] == {"size": SIZES[(resolution, ratio)]}
    width, height = (int(side) for side in SIZES[(resolution, ratio)].split("*"))
    wide, high = (int(side) for side in ratio.split(":"))
    assert abs(width / height - wide / high) < 0.05  # the size has the ratio's shape
    assert min(width, height) >= (720 if resolution == "720P" else 1080) * 0.9


def test_a_ratio_alone_takes_the_default_tier() -> None:
    assert body_of(scene_of(cast("image", header="RATIO: 9:16\n")))["parameters"] == {"size": "1080*1920"}
    assert body_of(scene_of(cast("image", header="RESOLUTION: 720P\n")))["parameters"] == {"size": "1280*720"}


def test_the_other_settings_map_to_their_parameters_in_api_order() -> None:
    header = "SEED: 7\nWATERMARK: on\nPROMPT EXTEND: off\nDURATION: 8s\nNEGATIVE PROMPT: blur\n"
    body = body_of(scene_of(cast("image", header=header)))
    assert list(body["parameters"].items()) == [  # type: ignore[attr-defined]
        ("duration", 8), ("prompt_extend", False), ("watermark", True), ("seed", 7)]
    assert body["input"]["negative_prompt"] == "blur"  # type: ignore[index]
    assert validate(body) == body


def test_several_shots_ask_for_a_multi_shot_video_and_one_shot_does_not() -> None:
    two_shots = cast("image", script="MAYA waits.\n\nCUT TO:\n\nMAYA leaves.")
    scene = scene_of(two_shots)
    assert len(scene.shots) == 2
    assert body_of(scene)["parameters"] == {"shot_type": "multi"}
    one_shot = scene_of(cast("image"))
    assert len(one_shot.shots) == 1
    assert "shot_type" not in body_of(one_shot)["parameters"]  # type: ignore[operator]


def test_the_pipeline_compiles_for_wan26_with_its_names_and_refuses_at_the_line() -> None:
    result = compile_text("MODEL: wan2.6-r2v-flash\nRATIO: 1:1\n" + cast("video", "image"))
    assert result.diagnostics == []
    assert result.prompt == "character1 and character2 wait."  # lower case, glued, also opening a sentence
    assert result.payload is not None
    assert result.payload.parameters.size == "1440*1440"  # type: ignore[attr-defined]
    refused = compile_text("MODEL: wan2.6-r2v\n" + cast("image", header="FIRST FRAME: https://example.com/f.jpg\n"))
    assert [(d.code, d.span.line if d.span else 0) for d in refused.diagnostics] == [("unsupported-by-target", 2)]
    assert refused.payload is None


def test_a_local_file_is_a_project_relative_path_accepted_only_under_local_context(tmp_path: Path) -> None:
    (tmp_path / "scenec.toml").write_text("")
    scene = scene_of("CAST\nMAYA: image media/maya.jpg\n\nMAYA waits.\n", path=tmp_path / "a.scene")
    body = body_of(scene)
    assert body["input"]["reference_urls"] == ["media/maya.jpg"]  # type: ignore[index]
    validate(body, local=True)
    with pytest.raises(ValidationError, match="http"):
        validate(body)


SPOKEN = "MAYA waits.\n\nMAYA\nWhy did you come?"


def test_flash_asks_for_sound_when_anyone_speaks_and_wan26_r2v_never_sends_audio() -> None:
    flash = body_of(scene_of(cast("image", script=SPOKEN), model="wan2.6-r2v-flash"))
    assert flash["parameters"] == {"audio": True}
    validate(flash)
    assert TARGET.effective_parameters(flash)["audio"] is True
    assert "audio" not in body_of(scene_of(cast("image"), model="wan2.6-r2v-flash"))["parameters"]  # type: ignore[operator]
    plain = body_of(scene_of(cast("image", script=SPOKEN)))  # wan2.6-r2v: no switch, always with sound [inf]
    assert plain["parameters"] == {}
    assert "audio" not in TARGET.effective_parameters(plain)
    plain["parameters"] = {"audio": True}
    with pytest.raises(ValidationError, match=r"only wan2\.6-r2v-flash takes audio"):
        validate(plain)


# --- the request model refuses what the API would ----------------------------------------------------------

def good_body() -> dict[str, object]:
    return {"model": "wan2.6-r2v", "input": {"prompt": "character1 waits.",
                                              "reference_urls": ["https://example.com/a.jpg"]},
            "parameters": {"size": "1280*720", "duration": 5, "shot_type": "single"}}


@pytest.mark.parametrize(("path", "value", "message"), [
    (("model",), "wan2.7-r2v", "wan2.6-r2v"),
    (("input", "media"), [], "Extra inputs"),
    (("parameters", "resolution"), "720P", "Extra inputs"),
    (("input", "reference_urls"), [], "at least 1"),
    (("input", "reference_urls"), ["https://example.com/a.jpg"] * 6, "at most 5"),
    (("input", "reference_urls"), ["data:image/png;base64,AAAA"], "http"),
    (("input", "reference_urls"), ["ftp://example.com/a.jpg"], "http"),
    (("input", "prompt"), "x" * 1501, "at most 1500"),
    (("input", "negative_prompt"), "x" * 501, "at most 500"),
    (("parameters", "size"), "1280x720", "1280\\*720"),
    (("parameters", "size"), "", "1280\\*720"),
    (("parameters", "duration"), 11, "less than or equal to 10"),
    (("parameters", "duration"), 1, "greater than or equal to 2"),
    (("parameters", "shot_type"), "intelligence", "single"),
    (("parameters", "seed"), -1, "greater than or equal to 0"),
])
def test_the_request_model_refuses_a_body_the_api_would(path: tuple[str, ...], value: object, message: str) -> None:
    body = good_body()
    validate(body)
    set_at(body, path, value)
    with pytest.raises(ValidationError, match=message):
        validate(body)


# --- refusals, at the line that asks ------------------------------------------------------------------------

def test_a_voice_is_refused_at_the_voice() -> None:
    text = ("CAST\nMAYA: image https://example.com/m.jpg\n"
            "LEO: image https://example.com/l.jpg, voice https://example.com/l.mp3\n\nMAYA and LEO wait.\n")
    [(line, message)] = refusal_lines(scene_of(text))
    assert line == 3
    assert message.startswith("wan2.6-r2v takes no voices") and "wan2.7-r2v" in message


def test_a_first_frame_is_refused_at_its_line() -> None:
    text = "FIRST FRAME: https://example.com/f.jpg\n" + cast("image")
    [(line, message)] = refusal_lines(scene_of(text, model="wan2.6-r2v-flash"))
    assert line == 1
    assert message.startswith("wan2.6-r2v-flash takes no FIRST FRAME")


def test_a_storyboard_is_refused_at_its_line() -> None:
    text = "TITLE: panels\nSTORYBOARD: https://example.com/panels.jpg\n\nThe panels play out.\n"
    [(line, message)] = refusal_lines(scene_of(text))
    assert line == 2
    assert "STORYBOARD" in message


def test_a_data_uri_is_refused_at_its_member() -> None:
    text = "CAST\nMAYA: image https://example.com/m.jpg\nLEO: image data:image/png;base64,AAAA\n\nMAYA and LEO wait.\n"
    [(line, message)] = refusal_lines(scene_of(text))
    assert line == 3
    assert "data URI" in message


def test_a_fourth_video_is_refused_at_that_member() -> None:
    [(line, message)] = refusal_lines(scene_of(cast("video", "image", "video", "video", "video")))
    assert line == 6  # CAST is line 1: the fourth video is the fifth member
    assert "at most 3 reference videos" in message
    assert refusal_lines(scene_of(cast("video", "video", "video", "image", "image"))) == []


def test_a_resolution_with_no_size_is_refused_at_resolution() -> None:
    [(line, message)] = refusal_lines(scene_of(cast("image", header="TITLE: t\nRESOLUTION: 480P\nRATIO: 1:1\n")))
    assert line == 2
    assert "takes RESOLUTION 720P, 1080P, not 480P" in message


def test_every_resolution_and_ratio_it_takes_has_a_size() -> None:
    # So refusing the values it does not take is refusing every pair with no size.
    assert set(SIZES) == {(r, q) for r in TARGET.resolutions for q in TARGET.ratios}


def test_a_scene_it_can_take_has_no_refusal() -> None:
    header = "RESOLUTION: 720P\nRATIO: 3:4\nNEGATIVE PROMPT: blur\nSEED: 3\nPROMPT EXTEND: off\n"
    assert TARGET.refusals(scene_of(cast("video", "image", header=header))) == []


def test_every_refusal_is_an_error_with_the_scene_path() -> None:
    text = "FIRST FRAME: https://example.com/f.jpg\nCAST\nMAYA: image data:image/png;base64,AAAA\n\nMAYA waits.\n"
    refusals = TARGET.refusals(scene_of(text))
    assert len(refusals) == 2
    assert {(d.code, d.severity) for d in refusals} == {("unsupported-by-target", "error")}


# --- settings, slots, effective parameters ------------------------------------------------------------------

def test_settle_fills_only_what_the_writer_left_out() -> None:
    settings = TARGET.settle(scene_of(cast("image", header="RATIO: 1:1\nDURATION: 7s\n")).settings)
    assert (settings.resolution, settings.ratio, settings.duration) == ("1080P", "1:1", 7)
    assert (settings.prompt_extend, settings.watermark) == (True, False)


def test_media_slots_name_each_reference_url_with_its_role() -> None:
    body = body_of(scene_of(cast("image", "video")))
    slots = TARGET.media_slots(body)
    assert [(slot.path, slot.role, slot.url) for slot in slots] == [
        (("input", "reference_urls", 0), "image", "https://example.com/MAYA.jpg"),
        (("input", "reference_urls", 1), "video", "https://example.com/LEO.mp4")]
    for slot in slots:
        assert get_at(body, slot.path) == slot.url
        set_at(body, slot.path, "oss://bucket/" + slot.url.rsplit("/", 1)[1])
    validate(body)  # the body with uploaded URLs is what is sent


def test_effective_parameters_read_the_size_back_and_fill_the_defaults() -> None:
    sent = body_of(scene_of(cast("image", header="RESOLUTION: 720P\nRATIO: 4:3\nSEED: 9\n")))
    assert TARGET.effective_parameters(sent) == {
        "size": "1088*832", "resolution": "720P", "ratio": "4:3", "duration": 5, "shot_type": "single",
        "prompt_extend": True, "watermark": False, "seed": 9}
    unset = TARGET.effective_parameters(body_of(scene_of(cast("image"))))
    assert (unset["size"], unset["resolution"], unset["ratio"]) == ("1920*1080", "1080P", "16:9")


# --- a region's own rule: US (Virginia) makes 5 or 10 s only [w27] ----------------------------------------

def test_us_takes_five_or_ten_seconds_and_the_other_regions_the_whole_range() -> None:
    seven = scene_of(cast("image", header="DURATION: 7s\n"), model="wan2.6-r2v-flash")
    assert TARGET.region_refusal(seven, "us") == (
        "wan2.6-r2v-flash in us (Virginia) makes videos of 5 or 10 s only, not 7 s: set DURATION to one of them, "
        "or pass --region beijing")
    assert TARGET.region_refusal(seven, "beijing") is None
    assert TARGET.region_refusal(seven, None) is None  # an endpoint of no known region: not judged
    assert TARGET.region_refusal(scene_of(cast("image", header="DURATION: 10s\n")), "us") is None
    assert TARGET.region_refusal(scene_of(cast("image")), "us") is None  # DURATION left out: the default 5 s


def test_render_refuses_a_duration_us_does_not_make_before_submitting(tmp_path: Path) -> None:
    from compiler.render.planning import RenderOptions, plan

    scene = tmp_path / "seven.scene"
    scene.write_text("MODEL: wan2.6-r2v\nDURATION: 7s\n\nCAST\nLEO: image https://example.com/lead.png\n\n"
                     "LEO waits.\n", encoding="utf-8")
    for base_url in ("https://dashscope-us.aliyuncs.com/api/v1", "https://ws-1.us-east-1.maas.aliyuncs.com/api/v1"):
        [refused] = plan([scene], RenderOptions(base_url=base_url))
        assert refused.action == "invalid" and refused.job is None
        assert refused.problem == ("wan2.6-r2v in us (Virginia) makes videos of 5 or 10 s only, not 7 s: set "
                                   "DURATION to one of them, or pass --region beijing; nothing submitted")
    [planned] = plan([scene], RenderOptions(base_url="https://dashscope.aliyuncs.com/api/v1"))
    assert planned.action == "submit", planned.problem


# --- any scene: refused at a line, or a body the request model takes ------------------------------------------

@given(scene_texts())
def test_any_scene_is_refused_at_a_line_or_compiles_to_a_valid_body(text: str) -> None:
    result = compile_text(text, model="wan2.6-r2v")
    codes = {d.code for d in result.diagnostics}
    assert "invalid-payload" not in codes, text  # every gap between refusals and the request model is a bug
    assert (result.payload is None) == any(d.severity == "error" for d in result.diagnostics)
    assert all(d.span is not None for d in result.diagnostics if d.code == "unsupported-by-target")



# --- a -flash scene is named as such -----------------------------------------------------------------------

def test_messages_about_a_flash_scene_name_wan26_r2v_flash() -> None:
    from compiler.check import check
    from compiler.render.results import scene_cost

    scene = scene_of(cast(*["image"] * 6, header="RESOLUTION: 480P\n"), model="wan2.6-r2v-flash")
    found = {d.code: d.message for d in check(scene, TARGET, probe=False)}
    assert "wan2.6-r2v-flash takes at most 5" in found["too-many-references"]
    assert found["unsupported-by-target"].startswith("wan2.6-r2v-flash takes RESOLUTION")
    assert scene_cost(scene, "beijing").model == "wan2.6-r2v-flash"
    plain = scene_of(cast(*["image"] * 6), model="wan2.6-r2v")
    assert "wan2.6-r2v takes at most 5" in {d.code: d.message for d in check(plain, TARGET, probe=False)}[
        "too-many-references"]

