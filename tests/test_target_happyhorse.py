"""The happyhorse-1.0-r2v target (compiler/targets/happyhorse.py) on small resolved scenes: characterN naming,
refusals of what it cannot take at the writer's line, its defaults, its request body and request model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from compiler import ir
from compiler.targets.happyhorse import TARGET, cjk_count  # re-exported from compiler.limits
from tests.targets_support import IMAGE, VIDEO, VOICE, body_for, cast_text, refusal_lines, resolved_for, validated

NAMES = [f"P{n}" for n in range(1, 20)]
MODEL = "happyhorse-1.0-r2v"


def scene_of(text: str) -> ir.Scene:
    return resolved_for(MODEL, text)


def cast(*specs: str, header: str = "") -> str:
    return cast_text(specs, NAMES[:len(specs)], header=header)


def refused(scene: ir.Scene) -> list[tuple[int, str]]:
    return refusal_lines(TARGET, scene)


def body_of(scene: ir.Scene, prompt: str = "A prompt.") -> dict[str, object]:
    return body_for(TARGET, scene, prompt)


def validate(body: object, *, local: bool = True) -> None:
    validated(TARGET, body, local=local)


# --- naming ----------------------------------------------------------------------------------------------

def test_references_are_character_n_by_media_position() -> None:
    naming = TARGET.naming(scene_of(cast(IMAGE, IMAGE, IMAGE)))
    assert naming.identifiers == {"P1": "character1", "P2": "character2", "P3": "character3"}
    assert naming.media_index == {"P1": 0, "P2": 1, "P3": 2}
    assert naming.voices == {}


def test_a_single_reference_and_a_chinese_scene_keep_the_api_s_word() -> None:
    assert TARGET.naming(scene_of(cast(IMAGE))).identifiers == {"P1": "character1"}
    assert TARGET.naming(scene_of(cast(IMAGE, header="LANGUAGE: zh\n"))).identifiers == {"P1": "character1"}


def test_a_storyboard_is_refused_at_its_line() -> None:
    # Its references are characters [hh]: a panel sheet would be sent as "character1" and read as a person.
    scene = scene_of("STORYBOARD: https://example.com/s.png\n\nA girl walks.\n")
    assert scene.storyboard is not None
    ((line, message),) = refused(scene)
    assert line == 1 and message.startswith("happyhorse-1.0-r2v takes no STORYBOARD image (each reference is one "
                                            "character, not panels)")


# --- refusals --------------------------------------------------------------------------------------------

def test_an_image_only_scene_is_not_refused() -> None:
    scene = scene_of(cast(IMAGE, IMAGE, header="RESOLUTION: 720P\nRATIO: 3:4\nDURATION: 15s\nSEED: 3\n"))
    assert refused(scene) == []


def test_a_video_member_is_refused_at_its_media() -> None:
    scene = scene_of(cast(IMAGE, VIDEO))
    ((line, message),) = refused(scene)
    assert line == 3 and message.startswith("happyhorse-1.0-r2v takes reference images only, and P2 is a video")


def test_a_voice_is_refused_at_the_voice() -> None:
    scene = scene_of(cast(IMAGE, IMAGE + VOICE))
    (found,) = TARGET.refusals(scene)
    assert scene.members[1].voice is not None and found.span == scene.members[1].voice.span
    assert "takes no voices" in found.message


def test_a_first_frame_is_refused_at_its_line() -> None:
    scene = scene_of(cast(IMAGE, header="TITLE: t\nFIRST FRAME: https://example.com/f.jpg\n"))
    ((line, message),) = refused(scene)
    assert line == 2 and "takes no FIRST FRAME" in message


@pytest.mark.parametrize("setting", ["NEGATIVE PROMPT: blur", "PROMPT EXTEND: on"])
def test_settings_it_lacks_are_refused_at_their_line(setting: str) -> None:
    scene = scene_of(cast(IMAGE, header=f"TITLE: t\n{setting}\n"))
    ((line, message),) = refused(scene)
    assert line == 2 and f"takes no {setting.split(':')[0]}" in message


def test_a_resolution_it_does_not_take_is_refused_at_its_line() -> None:
    scene = scene_of(cast(IMAGE, header="TITLE: t\nRESOLUTION: 480P\n"))
    ((line, message),) = refused(scene)
    assert line == 2 and message == "happyhorse-1.0-r2v takes RESOLUTION 720P, 1080P, not 480P: choose one of them"


def test_a_data_uri_image_is_refused_at_its_line() -> None:
    scene = scene_of(cast(IMAGE, "image data:image/png;base64,iVBORw0KGgo="))
    ((line, message),) = refused(scene)
    assert line == 3 and "not data URIs" in message


def test_every_refusal_of_one_scene_is_reported() -> None:
    scene = scene_of(cast(VIDEO + VOICE, IMAGE, header="FIRST FRAME: https://example.com/f.jpg\n"
                                                        "NEGATIVE PROMPT: blur\n"))
    assert [line for line, _ in refused(scene)] == [1, 4, 4, 2]


# --- defaults ----------------------------------------------------------------------------------------------

def test_settle_gives_a_watermark_unless_the_writer_turned_it_off() -> None:
    settled = TARGET.settle(scene_of(cast(IMAGE)).settings)
    assert (settled.watermark, settled.resolution, settled.ratio, settled.duration) == (True, "1080P", "16:9", 5)
    off = TARGET.settle(scene_of(cast(IMAGE, header="WATERMARK: off\nDURATION: 9s\n")).settings)
    assert (off.watermark, off.duration) == (False, 9)


# --- the request body ---------------------------------------------------------------------------------------

def test_the_body_holds_reference_images_and_only_the_given_parameters() -> None:
    scene = scene_of(cast(IMAGE, "image media/b.png", header="WATERMARK: off\nRATIO: 9:16\n"))
    body = body_of(scene)
    assert body == {"model": "happyhorse-1.0-r2v", "input": {"prompt": "A prompt.", "media": [
        {"type": "reference_image", "url": "https://example.com/P1.jpg"},
        {"type": "reference_image", "url": "media/b.png"}]}, "parameters": {"ratio": "9:16", "watermark": False}}
    validate(body)
    with pytest.raises(ValidationError):
        validate(body, local=False)


def _good() -> dict[str, object]:
    return {"model": "happyhorse-1.0-r2v", "input": {"prompt": "character1 waves.", "media": [
        {"type": "reference_image", "url": "https://example.com/a.jpg"}]}, "parameters": {}}


@pytest.mark.parametrize("change", [
    lambda b: b["input"].update(negative_prompt="blur"),
    lambda b: b["parameters"].update(prompt_extend=True),
    lambda b: b["parameters"].update(size="1280*720"),
    lambda b: b["parameters"].update(resolution="480P"),
    lambda b: b["parameters"].update(duration=2),
    lambda b: b["parameters"].update(duration=16),
    lambda b: b.update(model="wan2.7-r2v"),
    lambda b: b["input"]["media"][0].update(type="reference_video"),
    lambda b: b["input"]["media"][0].update(reference_voice="https://example.com/v.mp3"),
    lambda b: b["input"]["media"][0].update(url="data:image/png;base64,iVBORw0KGgo="),
    lambda b: b["input"]["media"].extend([{"type": "reference_image", "url": "https://example.com/b.jpg"}] * 9),
    lambda b: b["input"].update(media=[]),
    lambda b: b["input"].update(prompt="x" * 5001),
    lambda b: b["input"].update(prompt="雨" * 2501),
], ids=["negative_prompt", "prompt_extend", "size", "resolution", "duration-low", "duration-high", "model",
        "video", "voice-field", "data-uri", "ten-images", "no-image", "prompt-length", "chinese-prompt-length"])
def test_the_request_model_refuses_what_the_api_does_not_take(change: object) -> None:
    validate(_good(), local=False)
    body = _good()
    change(body)  # type: ignore[operator]
    with pytest.raises(ValidationError):
        validate(body, local=False)


def test_the_request_model_takes_the_api_s_full_ranges() -> None:
    body = _good()
    body["parameters"] = {"resolution": "720P", "ratio": "1:1", "duration": 15, "watermark": False,
                          "seed": 2_147_483_647}
    body["input"] = {"prompt": "雨" * 2000 + "x" * 1000,
                     "media": [{"type": "reference_image", "url": "https://example.com/i.jpg"}] * 9}
    validate(body, local=False)


def test_cjk_count_counts_chinese_japanese_korean_and_full_width_punctuation() -> None:
    assert cjk_count("character1 说：“你好。”かな 한국 abc") == 9


# --- the Chinese prompt limit (Limits.prompt_length: a CJK character counts as two, in check and the model) -------

def _long_script(language: str, lines: int, line: str | None = None) -> str:
    line = line or (("雨" * 99 + "。") if language == "zh" else ("Rain falls. " * 9 + "Rain."))
    body = "\n\n".join(f"P1 waits {n}. {line}" for n in range(lines))
    return f"LANGUAGE: {language}\nCAST\nP1: {IMAGE.format('P1')}\n\n{body}\n"


def test_a_chinese_prompt_over_the_limit_is_too_long_where_it_crosses() -> None:
    from compiler.check import check
    from compiler.prompt import render_prompt

    scene = scene_of(_long_script("zh", 30))
    (found,) = [d for d in check(scene, TARGET, probe=False) if d.code == "prompt-too-long"]
    assert "over the limit of 5000" in found.message and "counting as 2" in found.message
    # It points at the paragraph whose prompt first passes the limit (paragraph n is at line 5 + 2n).
    counted = [TARGET.limits.prompt_length(render_prompt(scene, TARGET.naming(scene))) for scene in
               (scene_of(_long_script("zh", count)) for count in (22, 23))]
    assert counted[0] <= 5000 < counted[1]
    assert found.span is not None and found.span.line == 5 + 2 * 22


def test_the_weighted_count_fills_the_limit_at_5000_latin_or_2500_cjk_characters() -> None:
    limits = TARGET.limits
    assert limits.prompt_length("a" * 5000) == 5000 == limits.prompt_length("雨" * 2500)
    assert limits.prompt_length("雨" * 2000 + "a" * 1000) == 5000
    assert limits.prompt_length("雨" * 2501) > 5000


def test_an_english_prompt_of_the_same_length_is_within_the_limit() -> None:
    from compiler.check import check

    scene = scene_of(_long_script("en", 30))
    assert [d.code for d in check(scene, TARGET, probe=False) if d.code == "prompt-too-long"] == []


@pytest.mark.parametrize(("language", "lines"), [("en", 22), ("en", 23), ("zh", 22), ("zh", 23)])
def test_check_refuses_exactly_what_the_request_model_refuses(language: str, lines: int) -> None:
    # Chinese text in a scene of either LANGUAGE: a CI gate on `scenec check` must not pass a scene compile refuses.
    from compiler.check import check
    from compiler.prompt import render_prompt

    scene = scene_of(_long_script(language, lines, "雨" * 99 + "。"))
    prompt = render_prompt(scene, TARGET.naming(scene))
    refused_by_check = any(d.code == "prompt-too-long" for d in check(scene, TARGET, probe=False))
    try:
        validate(body_of(scene, prompt))
        refused_by_model = False
    except ValidationError:
        refused_by_model = True
    assert refused_by_check == refused_by_model


@pytest.mark.parametrize("style", ["prose", "shots", "timed"])
def test_the_prompt_keeps_character_n_lower_case_at_a_sentence_start(style: str) -> None:
    from compiler.prompt import render_prompt

    scene = scene_of(f"PROMPT STYLE: {style}\nCAST\nMAYA (a girl): {IMAGE.format('m')}\nLEO: {IMAGE.format('l')}\n\n"
                     "MAYA waves at LEO.\n\nLEO\nHello.\n")
    prompt = render_prompt(scene, TARGET.naming(scene))
    assert "character1 waves at character2." in prompt and "character2 says, 'Hello.'" in prompt
    assert "Character1" not in prompt and "Character2" not in prompt
