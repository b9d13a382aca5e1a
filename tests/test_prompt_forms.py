"""Prompt forms (docs/language.md, "Prompt forms") and the parameters policy ("Parameters: what is sent")."""

import itertools
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.api import compile_text
from compiler.prompt import join_lines, length_bound, render_prompt
from compiler.targets.wan27 import API_DEFAULTS
from compiler.timeline import plan

ROOT = Path(__file__).resolve().parent.parent
CAST = "CAST\nMAYA: image https://example.com/a.jpg\nLEO: image https://example.com/b.jpg\n\n"


def compiled(text: str, path: Path | None = None):
    return compile_text(text, path or ROOT / "scenes" / "example.scene", probe=False)


def prompt_of(settings: str, script: str) -> str:
    result = compiled(settings + CAST + script)
    assert result.ok, result.diagnostics
    return result.prompt


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


# --- defaults keep today's prompts ----------------------------------------------------------------

DEFAULT_FORMS = ("DIALOGUE STYLE: separate\nQUOTES: single\nSTOP AFTER QUOTE: off\nSTORYBOARD OPENER: sentence\n"
                 "SHOT LABEL: shot\n")


@pytest.mark.parametrize("scene", ["alley", "teahouse", "night-shift"])
def test_writing_the_defaults_out_changes_no_prompt(scene: str) -> None:
    text = (ROOT / "scenes" / f"{scene}.scene").read_text(encoding="utf-8")
    forms = DEFAULT_FORMS.replace("QUOTES: single", "QUOTES: double") if scene == "teahouse" else DEFAULT_FORMS
    plain = compiled(text, ROOT / "scenes" / f"{scene}.scene").prompt
    assert compiled(forms + text, ROOT / "scenes" / f"{scene}.scene").prompt == plain


# --- dialogue, quotes, stops ----------------------------------------------------------------------

def test_joined_dialogue_joins_the_speakers_own_action_line() -> None:
    prompt = prompt_of("DIALOGUE STYLE: joined\n", "MAYA walks in.\n\nMAYA\nHello.\n")
    assert prompt == "Image 1 walks in, and says, 'Hello.'"


def test_joined_dialogue_keeps_the_delivery_and_manner() -> None:
    prompt = prompt_of("DIALOGUE STYLE: joined\n", "LEO sits down\n\nLEO\n(replies softly)\nFine.\n")
    assert prompt == "Image 2 sits down, and replies softly, 'Fine.'"


@pytest.mark.parametrize("script", [
    "LEO walks in.\n\nMAYA\nHello.\n",                      # another speaker's action
    "MAYA walks in!\n\nMAYA\nHello.\n",                     # the action ends in other punctuation
    "MAYA walks in.\n\nMAYA\n(after a pause)\nHello.\n",   # a lead-in needs its own sentence
    "The door opens. MAYA walks in.\n\nMAYA\nHello.\n",    # the speaker does not open the line
])
def test_joined_dialogue_leaves_a_speech_alone_when_it_cannot_join(script: str) -> None:
    assert prompt_of("DIALOGUE STYLE: joined\n", script) == prompt_of("", script)


def test_joined_dialogue_in_chinese_uses_bing_shuodao() -> None:
    prompt = prompt_of("LANGUAGE: zh\nDIALOGUE STYLE: joined\n", "MAYA拿起杯子走到窗边。\n\nMAYA\n你来了？\n")
    assert prompt == "图1拿起杯子走到窗边，并说道：“你来了？”"


@pytest.mark.parametrize(("settings", "said"), [
    ("", "Image 1 says, 'Hi.'"),
    ("QUOTES: double\n", 'Image 1 says, "Hi."'),
    ("QUOTES: double\nSTOP AFTER QUOTE: on\n", 'Image 1 says, "Hi.".'),
    ("LANGUAGE: zh\n", "图1说：“Hi.”"),
    ("LANGUAGE: zh\nQUOTES: single\n", "图1说：‘Hi.’"),
    ("LANGUAGE: zh\nSTOP AFTER QUOTE: on\n", "图1说：“Hi.”。"),
])
def test_quote_marks_and_the_stop_after_them(settings: str, said: str) -> None:
    assert prompt_of(settings, "MAYA\nHi.\n") == said


@pytest.mark.parametrize(("line", "hint"), [
    ("DIALOGUE STYLE: joind\n", "did you mean joined?"),
    ("QUOTES: dubble\n", "did you mean double?"),
    ("PROMPT STYLE: timd\n", "did you mean timed?"),
])
def test_a_misspelt_value_gets_did_you_mean(line: str, hint: str) -> None:
    result = compiled(line + CAST + "MAYA waits.\n")
    assert [(d.code, d.hint) for d in result.diagnostics if d.code != "unused-member"] == [("bad-setting-value", hint)]


def test_a_misspelt_key_gets_did_you_mean() -> None:
    result = compiled("QUOTE: double\n" + CAST + "MAYA waits.\n")
    assert [(d.code, d.hint) for d in result.diagnostics if d.code != "unused-member"] == [
        ("unknown-setting", "did you mean QUOTES?")]


# --- openers, style line, Chinese labels and numbers --------------------------------------------

def storyboard_prompt(settings: str, script: str) -> str:
    result = compiled("STORYBOARD: https://example.com/panels.png\n" + settings + "\n" + script)
    assert result.ok, result.diagnostics
    return result.prompt


@pytest.mark.parametrize(("script", "expected"), [
    ("A girl waits.\n", "Reference image, a girl waits."),
    ("I wait.\n", "Reference image, I wait."),
    ("TV screens flicker.\n", "Reference image, TV screens flicker."),
])
def test_comma_opener_runs_into_the_first_sentence(script: str, expected: str) -> None:
    assert storyboard_prompt("STORYBOARD OPENER: comma\n", script) == expected


def test_sentence_opener_is_the_default() -> None:
    assert storyboard_prompt("", "A girl waits.\n") == "Reference image. A girl waits."


def test_style_line_opens_every_style() -> None:
    for style in ("prose", "shots", "timed"):
        prompt = prompt_of(f"PROMPT STYLE: {style}\nSTYLE LINE: cinematic, warm tones\n", "MAYA waits.\n")
        assert prompt.startswith("Cinematic, warm tones. "), prompt


@pytest.mark.parametrize("style", ["prose", "shots", "timed"])
def test_a_chinese_prompt_has_no_english_labels(style: str) -> None:
    script = "SWOOSH ON MAYA\nMAYA等待。\n\nDUTCH ANGLE ON LEO\nLEO回头。\n\nWHIP TO:\nMAYA离开。\n"
    result = compiled(f"LANGUAGE: zh\nPROMPT STYLE: {style}\n" + CAST + script)
    assert not re.search(r"[A-Za-z]", result.prompt), result.prompt
    assert {"unknown-framing", "unknown-transition"} <= set(codes(result))


def test_chinese_shot_numbers_never_run_into_an_identifier() -> None:
    prompt = prompt_of("LANGUAGE: zh\nPROMPT STYLE: shots\n", "WIDE ON MAYA\nMAYA看向LEO\n\nCLOSE ON LEO\nLEO微笑。\n")
    assert "图2 2. " in prompt and "图22" not in prompt


def test_join_lines_separates_only_numbers_that_meet() -> None:
    assert join_lines(["图2", "2. 中景"], "zh") == "图2 2. 中景"
    assert join_lines(["图2。", "2. 中景"], "zh") == "图2。2. 中景"
    assert join_lines(["视频1在等待", "图1"], "zh") == "视频1在等待图1"
    assert join_lines(["One.", "Two."], "en") == "One. Two."


# --- the timed style --------------------------------------------------------------------------

def test_timed_style_labels_each_shot_with_its_segment() -> None:
    prompt = prompt_of("DURATION: 6s\nPROMPT STYLE: timed\n",
                       "WIDE ON MAYA [0-2s]\nMAYA waits.\n\nCLOSE ON LEO\nLEO turns.\n\nCUT TO:\nMAYA leaves.\n")
    assert prompt == ("Shot 1 [0-2s]: Wide shot of Image 1. Image 1 waits. Shot 2 [2-4s]: Close-up of Image 2. "
                      "Image 2 turns. Shot 3 [4-6s]: Image 1 leaves.")


def test_timed_style_in_chinese_with_the_scene_label() -> None:
    prompt = prompt_of("LANGUAGE: zh\nDURATION: 4s\nPROMPT STYLE: timed\nSHOT LABEL: scene\n",
                       "WIDE ON MAYA\nMAYA等待。\n\nCLOSE ON LEO\nLEO回头。\n")
    assert prompt == "场景1 [0-2秒]：图1的全景。图1等待。场景2 [2-4秒]：图2的特写。图2回头。"


@pytest.mark.parametrize(("timings", "gaps"), [
    ([(0, 3), (3, 10)], []),
    ([None, None, None], []),
    ([(0, 3), (4, 10)], [(3, 4, 1, 0)]),
    ([(0, 3), (3, 8)], [(8, 10, 2, 0)]),
    ([(2, 10)], [(0, 2, 0, 0)]),
    ([(0, 5), None, (5, 10)], [(5, 5, 1, 1)]),
    ([(0, 4), (3, 10)], []),          # an overlap is timing-overlap's, not the plan's
    ([(0, 12)], []),                  # past DURATION: timing-exceeds-duration's
])
def test_plan_reports_what_does_not_add_up(timings, gaps) -> None:
    assert [tuple(gap) for gap in plan(timings, 10)[1]] == gaps


def test_timed_scene_that_does_not_add_up_is_an_error_at_the_shot() -> None:
    result = compiled("DURATION: 10s\nPROMPT STYLE: timed\n" + CAST + "WIDE ON MAYA [0-3s]\nMAYA waits.\n")
    assert [(d.code, d.span.line) for d in result.diagnostics if d.code != "unused-member"] == [
        ("timings-do-not-add-up", 7)]
    assert not result.ok


def test_gaps_matter_only_in_the_timed_style() -> None:
    result = compiled("DURATION: 10s\n" + CAST + "WIDE ON MAYA [0-3s]\nMAYA waits.\n")
    assert result.ok and "timings-do-not-add-up" not in codes(result)


@st.composite
def timings_and_duration(draw):
    duration = draw(st.integers(2, 15))
    cuts = sorted(draw(st.sets(st.integers(1, duration - 1), max_size=6)))
    bounds = [0, *cuts, duration]
    segments = list(itertools.pairwise(bounds))
    timings = [segment if draw(st.booleans()) else None for segment in segments]
    # Untimed shots may come in runs: add some more inside the runs.
    extra = draw(st.lists(st.integers(0, len(timings)), max_size=3))
    for position in sorted(extra, reverse=True):
        if position == len(timings) or timings[position] is None:
            timings.insert(position, None)
    return timings, duration


@given(timings_and_duration())
def test_a_plan_without_gaps_covers_zero_to_duration_in_order(case) -> None:
    timings, duration = case
    segments, gaps = plan(timings, duration)
    if gaps:
        assert any(gap.untimed for gap in gaps)  # only untimed shots squeezed out by the draw
        return
    assert segments[0][0] == 0 and segments[-1][1] == duration
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in itertools.pairwise(segments))
    assert all(timing is None or segment == timing for timing, segment in zip(timings, segments, strict=True))


# --- the length bound holds for every form ------------------------------------------------------

@pytest.mark.parametrize("case", sorted((ROOT / "tests" / "cases").glob("forms-*.scene")), ids=lambda p: p.stem)
def test_length_bound_holds_for_every_form(case: Path) -> None:
    result = compile_text(case.read_text(encoding="utf-8"), case, probe=False)
    assert len(render_prompt(result.scene)) <= length_bound(result.scene)


# --- project templates ----------------------------------------------------------------------------

def project(tmp_path: Path, *, config: bool = True) -> Path:
    if config:
        (tmp_path / "scenec.toml").write_text("[media]\nallow = []\n", encoding="utf-8")
    (tmp_path / "templates").mkdir()
    return tmp_path / "a.scene"


SCENE = CAST + "MAYA waits.\n"


def test_a_project_template_overrides_the_shipped_one_by_name(tmp_path: Path) -> None:
    scene = project(tmp_path)
    (tmp_path / "templates" / "prose.en.j2").write_text(
        '{% import "phrases.en.j2" as say %}\nOVERRIDE\n{% for shot in shots %}{% for beat in shot.beats %}'
        "{{ say.beat_lines(beat, form) }}{% endfor %}{% endfor %}\n", encoding="utf-8")
    assert compiled(SCENE, scene).prompt == "OVERRIDE Image 1 waits."
    # The other templates are still the shipped ones.
    assert compiled("PROMPT STYLE: shots\n" + SCENE, scene).prompt == "Storyboard: 1. Shot: Image 1 waits."


def test_templates_count_only_beside_a_scenec_toml(tmp_path: Path) -> None:
    scene = project(tmp_path, config=False)
    (tmp_path / "templates" / "prose.en.j2").write_text("OVERRIDE\n", encoding="utf-8")
    assert compiled(SCENE, scene).prompt == "Image 1 waits."


def test_a_template_symlinked_out_of_the_project_is_not_used(tmp_path: Path) -> None:
    inside = tmp_path / "project"
    inside.mkdir()
    scene = project(inside)
    outside = tmp_path / "outside.j2"
    outside.write_text("LEAKED\n", encoding="utf-8")
    try:
        os.symlink(outside, inside / "templates" / "prose.en.j2")
    except OSError:
        pytest.skip("symlinks are not available here")
    assert compiled(SCENE, scene).prompt == "Image 1 waits."


def test_a_long_project_template_is_measured_by_check(tmp_path: Path) -> None:
    scene = project(tmp_path)
    (tmp_path / "templates" / "prose.en.j2").write_text("{{ 'x' * 6000 }}\n", encoding="utf-8")
    result = compiled(SCENE, scene)
    assert "prompt-too-long" in codes(result)


# --- parameters: send what was set ----------------------------------------------------------------

def body(text: str) -> dict:
    result = compiled(text)
    assert result.payload is not None, result.diagnostics
    return result.payload.model_dump(mode="json", exclude_none=True)


def test_a_scene_that_sets_nothing_sends_no_parameters() -> None:
    assert body(SCENE)["parameters"] == {}


def test_each_parameter_is_sent_when_set_and_only_then() -> None:
    sent = body("RESOLUTION: 720p\nRATIO: 1:1\nDURATION: 8s\nPROMPT EXTEND: off\nWATERMARK: on\nSEED: 7\n" + SCENE)
    assert sent["parameters"] == {"resolution": "720P", "ratio": "1:1", "duration": 8, "prompt_extend": False,
                                  "watermark": True, "seed": 7}
    assert body("RATIO: 1:1\n" + SCENE)["parameters"] == {"ratio": "1:1"}


def test_ratio_is_not_sent_with_a_first_frame() -> None:
    text = "RATIO: 1:1\nFIRST FRAME: https://example.com/f.jpg\n" + SCENE
    result = compiled(text)
    assert "ratio-with-first-frame" in codes(result)
    assert result.payload is not None and result.payload.model_dump(exclude_none=True)["parameters"] == {}


def test_the_cost_knows_the_effective_defaults() -> None:
    from compiler.render.results import scene_cost

    line = scene_cost(compiled(SCENE).scene, "beijing")
    assert (line.resolution, line.estimate.output_seconds) == (API_DEFAULTS.resolution, API_DEFAULTS.duration)


def test_the_test_server_fills_in_what_was_left_out() -> None:
    from tests.fakescope.server import check_parameters

    filled = check_parameters({}, has_video=False)
    assert (filled["resolution"], filled["ratio"], filled["duration"]) == (
        API_DEFAULTS.resolution, API_DEFAULTS.ratio, API_DEFAULTS.duration)


def test_a_templates_folder_symlinked_out_of_the_project_is_not_used(tmp_path: Path) -> None:
    inside = tmp_path / "project"
    inside.mkdir()
    (inside / "scenec.toml").write_text("[media]\nallow = []\n", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "prose.en.j2").write_text("LEAKED\n", encoding="utf-8")
    try:
        os.symlink(outside, inside / "templates", target_is_directory=True)
    except OSError:
        pytest.skip("symlinks are not available here")
    assert compiled(SCENE, inside / "a.scene").prompt == "Image 1 waits."
