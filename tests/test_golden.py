"""Golden cases: every example and test scene compiles to its expected payload and diagnostics (make golden)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import regen_golden  # noqa: E402

CASES = regen_golden.cases()


@pytest.mark.parametrize("scene", CASES, ids=[regen_golden.golden_name(c) for c in CASES])
def test_golden(scene: Path) -> None:
    for suffix, actual in regen_golden.expected_outputs(scene).items():
        expected_path = regen_golden.GOLDEN / f"{regen_golden.golden_name(scene)}{suffix}"
        assert expected_path.exists(), f"no golden file {expected_path.name}: run make golden"
        assert actual == expected_path.read_text(encoding="utf-8"), (
            f"{expected_path.name} differs: run make golden and review")


TARGET_CASES = [(model, scene) for model in regen_golden.other_targets() for scene in CASES]


@pytest.mark.parametrize(("model", "scene"), TARGET_CASES,
                         ids=[f"{model}:{regen_golden.golden_name(scene)}" for model, scene in TARGET_CASES])
def test_golden_under_every_other_target(model: str, scene: Path) -> None:
    """Every example under every other registered target: its payload, or the errors when it refuses the scene."""
    name, actual = regen_golden.expected_target_output(scene, model)
    expected_path = regen_golden.target_folder(model) / name
    assert expected_path.exists(), f"no golden file {model}/{name}: run make golden"
    assert actual == expected_path.read_text(encoding="utf-8"), f"{model}/{name} differs: run make golden and review"


def test_no_target_golden_is_left_over() -> None:
    """Each file under tests/golden/targets is one a registered target and a case still produce."""
    expected = {regen_golden.target_folder(model) / regen_golden.expected_target_output(scene, model)[0]
                for model, scene in TARGET_CASES}
    found = {path for path in regen_golden.TARGET_GOLDEN.rglob("*") if path.is_file()}
    assert found <= expected, f"left over: {sorted(str(p) for p in found - expected)}: run make golden"


GUIDE_PROMPT = (
    "Video 1 walks in from the deep left side of the frame. Then the shot cuts to a close-up of Image 1. "
    "Video 1 is leaning against the rusty wall on the right side from Image 2. Hearing the footsteps, she slowly "
    "turns her head. After seeing Image 1, Video 1 says, 'Why did you still come?' Image 1 replies, 'Let's talk.'"
)


def test_guide_dialogue_example_compiles_to_the_guides_request() -> None:
    """The vendor guide's dialogue example: its prompt text, and video+voice, image+voice, background image."""
    from compiler.api import compile_file

    result = compile_file(ROOT / "scenes" / "alley.scene")
    assert result.ok, result.diagnostics
    body = result.payload.model_dump(exclude_none=True)
    assert body["input"]["prompt"] == GUIDE_PROMPT
    media = body["input"]["media"]
    assert [(m["type"], m["url"], m.get("reference_voice")) for m in media] == [
        ("reference_video", "media/girl.mp4", "media/girl.mp3"),
        ("reference_image", "media/boy.jpg", "media/boy.mp3"),
        ("reference_image", "media/alley.jpg", None),
    ]
    assert body["model"] == "wan2.7-r2v"
