"""The wan3.0-video target (compiler/targets/wan30.py) on small resolved scenes: its naming (Image/Video/Audio N),
its refusals at the writer's line, its defaults, its request body and the request model's rules."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from pydantic import ValidationError

from compiler import ir
from compiler.check import check
from compiler.targets.wan30 import TARGET
from tests.targets_support import IMAGE, VIDEO, VOICE, body_for, cast_text, refusal_lines, resolved_for, validated
from tests.test_media import make_mp4

NAMES = [f"P{n}" for n in range(1, 20)]
MODEL = "wan3.0-video"


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

def test_images_videos_and_voices_are_numbered_per_type_in_cast_order() -> None:
    scene = scene_of(cast(IMAGE + VOICE, VIDEO, IMAGE, VIDEO + VOICE))
    naming = TARGET.naming(scene)
    assert naming.identifiers == {"P1": "Image 1", "P2": "Video 1", "P3": "Image 2", "P4": "Video 2"}
    assert naming.media_index == {"P1": 0, "P2": 1, "P3": 2, "P4": 3}
    assert naming.voices == {"P1": "Audio 1", "P4": "Audio 2"}


def test_a_single_reference_is_image_1_not_reference_image() -> None:
    assert TARGET.naming(scene_of(cast(IMAGE))).identifiers == {"P1": "Image 1"}


def test_the_storyboard_is_an_image_like_any_other() -> None:
    scene = scene_of("STORYBOARD: https://example.com/s.png\n\nA girl walks.\n")
    assert scene.storyboard is not None
    assert TARGET.naming(scene).identifiers == {scene.storyboard.name: "Image 1"}
    assert refused(scene) == []
    assert body_of(scene)["input"] == {"prompt": "A prompt.", "media": [
        {"type": "reference_image", "url": "https://example.com/s.png"}]}


def test_chinese_forms() -> None:
    scene = scene_of(cast(IMAGE + VOICE, VIDEO, header="LANGUAGE: zh\n"))
    naming = TARGET.naming(scene)
    assert naming.identifiers == {"P1": "图1", "P2": "视频1"}
    assert naming.voices == {"P1": "音频1"}


# --- refusals --------------------------------------------------------------------------------------------

def test_a_scene_it_can_take_is_not_refused() -> None:
    scene = scene_of(cast(VIDEO + ", 6s long" + VOICE, IMAGE + VOICE, IMAGE,
                          header="RESOLUTION: 720P\nDURATION: 20s\n"))
    assert refused(scene) == []


@pytest.mark.parametrize(("setting", "line"), [("NEGATIVE PROMPT: blur", 2), ("PROMPT EXTEND: off", 2)])
def test_removed_settings_are_refused_at_their_line(setting: str, line: int) -> None:
    scene = scene_of(cast(IMAGE, header=f"TITLE: t\n{setting}\n"))
    ((found_line, message),) = refused(scene)
    assert found_line == line
    assert message.startswith("wan3.0-video takes no " + setting.split(":")[0])


def test_a_first_frame_with_references_is_refused_at_first_frame() -> None:
    scene = scene_of(cast(IMAGE, header="TITLE: t\nFIRST FRAME: https://example.com/f.jpg\n"))
    ((line, message),) = refused(scene)
    assert line == 2 and "FIRST FRAME together with reference" in message


def test_a_first_frame_alone_is_taken_and_sent_without_ratio() -> None:
    scene = scene_of("FIRST FRAME: https://example.com/f.jpg\nRATIO: 1:1\nDURATION: 8s\n\nRain falls.\n")
    assert refused(scene) == []
    body = body_of(scene)
    assert body["input"] == {"prompt": "A prompt.", "media": [{"type": "first_frame",
                                                                 "url": "https://example.com/f.jpg"}]}
    assert body["parameters"] == {"duration": 8}
    validate(body, local=False)


def test_the_eleventh_image_is_refused_at_its_line() -> None:
    scene = scene_of(cast(*[IMAGE] * 11))
    ((line, message),) = refused(scene)
    assert line == 12  # CAST is line 1
    assert "at most 10 reference images, and P11 is number 11" in message


def test_the_sixth_video_is_refused_at_its_line() -> None:
    scene = scene_of(cast(IMAGE, *[VIDEO] * 6))
    ((line, message),) = refused(scene)
    assert line == 8 and "P7 is number 6" in message


def test_the_sixth_voice_is_refused_at_its_voice() -> None:
    scene = scene_of(cast(*[IMAGE + VOICE] * 6))
    (found,) = TARGET.refusals(scene)
    assert found.span is not None and found.span.line == 7
    assert scene.members[5].voice is not None and found.span == scene.members[5].voice.span


def totals(scene: ir.Scene, *, probe: bool = True) -> list[tuple[int, str]]:
    """The media-duration findings of check (the totals live there, with the probed lengths)."""
    return [(d.span.line if d.span else 0, d.message) for d in check(scene, TARGET, probe=probe)
            if d.code == "media-duration"]


def test_reference_videos_over_15_seconds_are_refused_at_the_video_that_crosses() -> None:
    scene = scene_of(cast(VIDEO + ", 6s long", VIDEO, VIDEO + ", 6s long", VIDEO + ", 4s long", VIDEO + ", 1s long"))
    assert refused(scene) == []  # one home for the rule: check.py
    ((line, message),) = totals(scene)
    assert line == 5 and "P4: the reference videos last 16s together" in message and "at most 15s" in message


def local_scene(tmp_path: Path, specs: list[str]) -> ir.Scene:
    (tmp_path / "scenec.toml").write_text("")
    path = tmp_path / "s.scene"
    text = cast_text(specs, NAMES[:len(specs)])
    path.write_text(text)
    return resolved_for(MODEL, text, path=path)


def test_local_videos_are_measured_against_the_total(tmp_path: Path) -> None:
    # Five local clips of 4 s (no declared length): 16 s at the fourth, refused there, before any upload.
    for name in "abcde":
        (tmp_path / f"{name}.mp4").write_bytes(make_mp4(duration=4000))
    scene = local_scene(tmp_path, [f"video {name}.mp4" for name in "abcde"])
    ((line, message),) = totals(scene)
    assert line == 5 and "P4: the reference videos last 16s together" in message
    assert totals(scene, probe=False) == []  # unprobed and undeclared: unknown, not counted


def test_voices_over_15_seconds_together_are_refused_at_the_voice_that_crosses(tmp_path: Path) -> None:
    for name in "ab":
        with wave.open(str(tmp_path / f"{name}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(1)
            out.setframerate(8000)
            out.writeframes(b"\x80" * 8000 * 9)
    scene = local_scene(tmp_path, [f"image https://example.com/{name}.jpg, voice {name}.wav" for name in "ab"])
    ((line, message),) = totals(scene)
    assert scene.members[1].voice is not None and line == scene.members[1].voice.span.line
    assert "P2: the voices last 18s together" in message


def test_the_totals_are_the_targets_own() -> None:
    # wan2.7 has no total: five declared 6 s videos are not refused for it.
    from compiler.targets.wan27 import TARGET as WAN27

    scene = scene_of(cast(*[VIDEO + ", 6s long"] * 3))
    assert totals(scene) != []
    assert [d for d in check(scene, WAN27, probe=False) if d.code == "media-duration"] == []


def test_a_data_uri_image_is_refused_at_its_line() -> None:
    scene = scene_of(cast(IMAGE, "image data:image/png;base64,iVBORw0KGgo="))
    ((line, message),) = refused(scene)
    assert line == 3 and "not data URIs" in message


def test_a_resolution_it_does_not_take_is_refused() -> None:
    scene = scene_of(cast(IMAGE, header="RESOLUTION: 720P\n"))
    scene = scene._replace(settings=scene.settings._replace(resolution="4K"))
    ((line, message),) = refused(scene)
    assert line == 1 and message == "wan3.0-video takes RESOLUTION 480P, 720P, 1080P, not 4K: choose one of them"


# --- defaults ----------------------------------------------------------------------------------------------

def test_settle_fills_what_the_writer_left_out_with_this_target_s_defaults() -> None:
    scene = scene_of(cast(IMAGE, header="DURATION: 12s\nWATERMARK: on\n"))
    settled = TARGET.settle(scene.settings)
    assert (settled.duration, settled.watermark, settled.resolution, settled.ratio) == (12, True, "1080P", "16:9")
    assert settled.prompt_extend is False  # no prompt extension in 3.0
    assert settled.given == scene.settings.given


# --- the request body ---------------------------------------------------------------------------------------

def test_voices_follow_all_references_as_reference_audio_entries() -> None:
    scene = scene_of(cast(IMAGE + VOICE, VIDEO, IMAGE + VOICE, header="RESOLUTION: 480P\nSEED: 7\n"))
    body = body_of(scene)
    assert body["model"] == "wan3.0-video"
    assert body["input"] == {"prompt": "A prompt.", "media": [
        {"type": "reference_image", "url": "https://example.com/P1.jpg"},
        {"type": "reference_video", "url": "https://example.com/P2.mp4"},
        {"type": "reference_image", "url": "https://example.com/P3.jpg"},
        {"type": "reference_audio", "url": "https://example.com/P1.mp3"},
        {"type": "reference_audio", "url": "https://example.com/P3.mp3"}]}
    assert body["parameters"] == {"resolution": "480P", "seed": 7}
    validate(body, local=False)


def test_local_media_are_project_relative_and_valid_only_under_the_local_context(tmp_path: object) -> None:
    scene = scene_of(cast("image media/a.jpg, voice media/a.mp3"))
    body = body_of(scene)
    media = body["input"]["media"]  # type: ignore[index]
    assert [item["url"] for item in media] == ["media/a.jpg", "media/a.mp3"]
    validate(body)
    with pytest.raises(ValidationError):
        validate(body, local=False)


def test_media_slots_name_each_url_and_its_role() -> None:
    scene = scene_of(cast(IMAGE + VOICE, VIDEO))
    slots = TARGET.media_slots(body_of(scene))
    assert [(s.path, s.role, s.url) for s in slots] == [
        (("input", "media", 0, "url"), "image", "https://example.com/P1.jpg"),
        (("input", "media", 1, "url"), "video", "https://example.com/P2.mp4"),
        (("input", "media", 2, "url"), "voice", "https://example.com/P1.mp3")]


def _good() -> dict[str, object]:
    return {"model": "wan3.0-video", "input": {"prompt": "Image 1 waves.", "media": [
        {"type": "reference_image", "url": "https://example.com/a.jpg"}]}, "parameters": {}}


@pytest.mark.parametrize("change", [
    lambda b: b["input"].update(negative_prompt="blur"),
    lambda b: b["parameters"].update(prompt_extend=True),
    lambda b: b["parameters"].update(resolution="4K"),
    lambda b: b["parameters"].update(duration=31),
    lambda b: b["parameters"].update(duration=1),
    lambda b: b.update(model="wan2.7-r2v"),
    lambda b: b["input"]["media"][0].update(reference_voice="https://example.com/v.mp3"),
    lambda b: b["input"]["media"][0].update(url="data:image/png;base64,iVBORw0KGgo="),
    lambda b: b["input"]["media"].extend([{"type": "reference_image", "url": "https://example.com/b.jpg"}] * 10),
    lambda b: b["input"]["media"].extend([{"type": "reference_audio", "url": "https://example.com/b.mp3"}] * 6),
    lambda b: b["input"]["media"].append({"type": "first_frame", "url": "https://example.com/f.jpg"}),
    lambda b: b["input"].update(prompt="x" * 20_001),
], ids=["negative_prompt", "prompt_extend", "resolution", "duration-high", "duration-low", "model", "voice-field",
        "data-uri", "eleven-images", "six-audios", "first-frame-with-reference", "prompt-length"])
def test_the_request_model_refuses_what_the_api_does_not_take(change: object) -> None:
    validate(_good(), local=False)
    body = _good()
    change(body)  # type: ignore[operator]
    with pytest.raises(ValidationError):
        validate(body, local=False)


def test_the_request_model_takes_the_api_s_full_ranges() -> None:
    body = _good()
    body["parameters"] = {"resolution": "480P", "ratio": "3:4", "duration": 30, "watermark": True, "seed": 0}
    body["input"]["media"] = ([{"type": "reference_image", "url": "https://example.com/i.jpg"}] * 10  # type: ignore[index]
                              + [{"type": "reference_video", "url": "https://example.com/v.mp4"}] * 5
                              + [{"type": "reference_audio", "url": "https://example.com/a.mp3"}] * 5)
    body["input"]["prompt"] = "x" * 20_000  # type: ignore[index]
    validate(body, local=False)


def test_check_reports_a_negative_prompt_once_as_refused() -> None:
    from compiler.check import check

    scene = scene_of(cast(IMAGE, header="NEGATIVE PROMPT: blur\n"))
    assert [d.code for d in check(scene, TARGET, probe=False)] == ["unsupported-by-target"]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Image 1 says in the voice of Audio 1, 'Hello.' Video 1 says, 'Hi.' Image 2 says in the voice of Audio 2, "
           "'Bye.'"),
    ("zh", "图1用音频1的声音说：“Hello.”视频1说：“Hi.”图2用音频2的声音说：“Bye.”"),
])
def test_the_prompt_ties_each_voice_to_its_speaker(language: str, expected: str) -> None:
    from compiler.prompt import render_prompt

    scene = scene_of(f"LANGUAGE: {language}\nCAST\nMAYA: {IMAGE.format('m')}{VOICE.format('m')}\n"
                     f"LEO: {VIDEO.format('l')}\nRIO: {IMAGE.format('r')}{VOICE.format('r')}\n\n"
                     "MAYA\nHello.\n\nLEO\nHi.\n\nRIO\nBye.\n")
    assert render_prompt(scene, TARGET.naming(scene)) == expected


def test_check_takes_a_first_frame_alone_but_not_with_a_cast() -> None:
    from compiler.check import check

    alone = scene_of("FIRST FRAME: https://example.com/f.jpg\n\nRain falls.\n")
    assert check(alone, TARGET, probe=False) == []
    with_cast = scene_of(cast(IMAGE, header="FIRST FRAME: https://example.com/f.jpg\n"))
    assert [d.code for d in check(with_cast, TARGET, probe=False)] == ["unsupported-by-target"]
