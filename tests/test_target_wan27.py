"""The wan2.7-r2v target (compiler/targets/wan27.py): its naming (docs/language.md, "Media order and numbering"),
its refusals, its settled defaults and its request body, called directly on resolved scenes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from compiler import ir
from compiler.api import compile_text, parse_text, resolve
from compiler.payload import LOCAL_CONTEXT
from compiler.targets import all_models, for_model, target_of
from compiler.targets.wan27 import API_DEFAULTS, TARGET

IMAGE = "image https://example.com/{}.jpg"
VIDEO = "video https://example.com/{}.mp4"


def resolved(text: str) -> ir.Scene:
    tree, syntax = parse_text(text)
    assert syntax == []
    scene, diagnostics = resolve(tree)
    assert diagnostics == []
    return scene


def cast(*kinds: str, header: str = "") -> str:
    """A scene whose cast has one member per kind (named MAYA, LEO, RIO, ...), all named in one action line."""
    names = ["MAYA", "LEO", "RIO", "NOVA", "TRAY", "JUNE"][:len(kinds)]
    members = "".join(f"{name}: {(IMAGE if kind == 'image' else VIDEO).format(name)}\n"
                      for name, kind in zip(names, kinds, strict=True))
    return f"{header}CAST\n{members}\n{' and '.join(names)} wait.\n"


def test_the_registry_takes_wan27_by_each_of_its_models_in_any_case() -> None:
    assert {"wan2.7-r2v", "wan2.7-r2v-2026-06-12"} <= set(all_models())
    assert for_model(" WAN2.7-R2V ") is TARGET and for_model("wan9") is None
    assert target_of("wan9") is TARGET  # an unknown model is checked as the default's (check reports it)


# --- naming -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kinds", "language", "identifiers"), [
    (("image", "video", "image"), "en", ["Image 1", "Video 1", "Image 2"]),
    (("video", "video", "image"), "en", ["Video 1", "Video 2", "Image 1"]),
    (("image",), "en", ["reference image"]),
    (("video",), "en", ["reference video"]),
    (("image", "video"), "zh", ["图1", "视频1"]),
    (("image",), "zh", ["参考图片"]),
    (("video",), "zh", ["参考视频"]),
])
def test_images_and_videos_are_counted_separately(kinds: tuple[str, ...], language: str,
                                                  identifiers: list[str]) -> None:
    scene = resolved(cast(*kinds, header=f"LANGUAGE: {language}\n"))
    naming = TARGET.naming(scene)
    assert [naming.identifiers[member.name] for member in scene.members] == identifiers
    assert naming.voices == {}


def test_media_indices_follow_the_cast_order() -> None:
    naming = TARGET.naming(resolved(cast("image", "video", "image")))
    assert naming.media_index == {"MAYA": 0, "LEO": 1, "RIO": 2}


def test_the_first_frame_comes_first_unnamed_and_does_not_count_as_a_reference() -> None:
    naming = TARGET.naming(resolved(cast("image", header="FIRST FRAME: https://example.com/f.jpg\n")))
    assert (naming.media_index, naming.identifiers) == ({"MAYA": 1}, {"MAYA": "reference image"})


def test_a_storyboard_is_the_one_reference_image() -> None:
    scene = resolved("STORYBOARD: https://example.com/p.png\n\nA girl walks.\n")
    naming = TARGET.naming(scene)
    assert (naming.identifiers, naming.media_index) == ({"STORYBOARD": "reference image"}, {"STORYBOARD": 0})


# --- refusals and settling ----------------------------------------------------------------------------------

def test_480p_is_refused_at_the_resolution_line() -> None:
    scene = resolved(cast("image", header="TITLE: t\nRESOLUTION: 480P\n"))
    (refusal,) = TARGET.refusals(scene)
    assert refusal.code == "unsupported-by-target" and refusal.span is not None and refusal.span.line == 2
    assert "wan2.7-r2v" in refusal.message and "720P, 1080P" in refusal.message


def test_nothing_else_is_refused() -> None:
    text = ("FIRST FRAME: https://example.com/f.jpg, voice https://example.com/f.mp3\nNEGATIVE PROMPT: blur\n"
            "SEED: 3\nCAST\nMAYA: video https://example.com/m.mp4, voice https://example.com/m.mp3\n\nMAYA waits.\n")
    assert TARGET.refusals(resolved(text)) == []


def test_settle_fills_only_what_the_writer_left_out() -> None:
    scene = resolved(cast("image", header="DURATION: 7s\n"))
    settled = TARGET.settle(scene.settings)
    assert (settled.duration, settled.resolution, settled.ratio) == (7, API_DEFAULTS.resolution, API_DEFAULTS.ratio)
    assert (settled.prompt_extend, settled.watermark) == (API_DEFAULTS.prompt_extend, API_DEFAULTS.watermark)


# --- the request body -----------------------------------------------------------------------------------------

def test_the_body_sends_only_the_parameters_given_and_validates() -> None:
    scene = resolved(cast("image", "video", header="RESOLUTION: 720P\nSEED: 9\n"))
    body = TARGET.payload_dict(scene, "MAYA and LEO wait.", TARGET.naming(scene))
    assert body["parameters"] == {"resolution": "720P", "seed": 9}
    assert [entry["type"] for entry in body["input"]["media"]] == ["reference_image", "reference_video"]
    TARGET.request_model().model_validate(body, context=LOCAL_CONTEXT)


@pytest.mark.parametrize("change", [
    {"extra": 1},
    {"parameters": {"resolution": "480P"}},
    {"parameters": {"duration": 11}},  # with a reference video, at most 10 s
    {"input": {"prompt": "x", "media": [{"type": "reference_image", "url": "media/a.jpg"}]}},  # local, as sent
])
def test_the_request_model_refuses_what_the_api_refuses(change: dict[str, object]) -> None:
    scene = resolved(cast("image", "video"))
    body = {**TARGET.payload_dict(scene, "x", TARGET.naming(scene)), **change}
    with pytest.raises(ValidationError):
        TARGET.request_model().model_validate(body)


def test_an_unknown_model_is_reported_at_its_line_with_a_suggestion() -> None:
    result = compile_text(cast("image", header="MODEL: wan2.7-r2x\n"))
    (found,) = [d for d in result.diagnostics if d.code == "bad-setting-value"]
    assert found.span is not None and found.span.line == 1 and found.hint == "did you mean wan2.7-r2v?"
    assert result.payload is None


def test_model_is_read_in_any_case_and_sent_as_the_target_spells_it() -> None:
    result = compile_text(cast("image", header="MODEL: WAN2.7-R2V\n"))
    assert result.payload is not None and result.payload.model_dump()["model"] == "wan2.7-r2v"


def test_the_command_lines_model_wins_and_an_unknown_one_is_an_error() -> None:
    text = cast("image", header="MODEL: wan2.7-r2v\n")
    chosen = compile_text(text, model="wan2.7-r2v-2026-06-12")
    assert chosen.payload is not None and chosen.payload.model_dump()["model"] == "wan2.7-r2v-2026-06-12"
    wrong = compile_text(text, model="nope")
    assert wrong.payload is None and [d.code for d in wrong.diagnostics] == ["bad-setting-value"]
