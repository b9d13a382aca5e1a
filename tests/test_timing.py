"""Timing: the spoken-duration estimate, and the warnings when dialogue cannot fit a shot or the scene."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.api import check_file, compile_text
from compiler.timing import CHARS_PER_SECOND, WORDS_PER_SECOND, _count_any, scene_speech, speech_of_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "scenes").glob("*.scene")) + sorted((ROOT / "tests" / "cases").glob("*.scene"))
TIMING_CODES = {"speech-exceeds-shot", "speech-exceeds-duration"}


def test_latin_text_counts_words() -> None:
    speech = speech_of_text("Let's talk, well-known friend: 42 times.")
    assert (speech.words, speech.chars) == (6, 0)
    assert speech.seconds == pytest.approx(6 / WORDS_PER_SECOND)


def test_chinese_text_counts_characters_not_punctuation() -> None:
    speech = speech_of_text("姑娘，喝茶吗？")
    assert (speech.words, speech.chars) == (0, 5)
    assert speech.seconds == pytest.approx(5 / CHARS_PER_SECOND)


def test_mixed_text_adds_both_rates() -> None:
    speech = speech_of_text("OK，来一壶龙井 please")
    assert (speech.words, speech.chars) == (2, 5)
    assert speech.rates() == f"{WORDS_PER_SECOND:g} words/s and {CHARS_PER_SECOND:g} characters/s"


def test_rates_are_configurable() -> None:
    assert speech_of_text("one two three four", words_per_second=2.0).seconds == pytest.approx(2.0)


def scene(duration: int, lines: list[str], timing: str = "") -> str:
    return "\n".join([f"DURATION: {duration}s", "CAST", "MAYA: image https://example.com/a.jpg", "",
                      f"WIDE ON MAYA {timing}".rstrip(), "MAYA waits.", ""] + lines) + "\n"


def codes(text: str) -> list[str]:
    return [d.code for d in compile_text(text).diagnostics if d.code in TIMING_CODES]


def test_only_spoken_lines_count() -> None:
    text = scene(5, ["MAYA", "(after a very long and winding pause that nobody speaks aloud at all)", "Yes.", ""])
    assert scene_speech(compile_text(text).scene).words == 1


def test_the_scene_warning_gives_the_figures() -> None:
    # 20 words at 2.7 words/s = 7.4 s, the issue's own example.
    words = " ".join(["word"] * 20)
    result = compile_text(scene(5, ["MAYA", words + ".", ""]))
    [warning] = [d for d in result.diagnostics if d.code == "speech-exceeds-duration"]
    assert warning.message == "the dialogue needs about 7.4 s at 2.7 words/s; the clip is 5 s"
    assert warning.severity == "warning" and warning.span.line == 1
    assert result.payload is not None  # a warning: the scene still compiles


def test_a_timed_shot_that_is_too_short() -> None:
    text = scene(10, ["MAYA", "one two three four five six seven.", ""], timing="[0-2s]")
    result = compile_text(text)
    [warning] = [d for d in result.diagnostics if d.code == "speech-exceeds-shot"]
    assert warning.message == "shot 1's dialogue needs about 2.6 s at 2.7 words/s; the shot is 2 s (0-2s)"
    assert warning.span.line == 5
    assert codes(text) == ["speech-exceeds-shot"]


def test_dialogue_that_fits_is_not_flagged() -> None:
    assert codes(scene(5, ["MAYA", "one two three four five six seven.", ""], timing="[0-3s]")) == []


def test_chinese_dialogue_uses_the_character_rate() -> None:
    line = "我" * 30  # 30 characters at 5 per second: 6 s
    result = compile_text(scene(5, ["MAYA", line, ""]))
    [warning] = [d for d in result.diagnostics if d.code == "speech-exceeds-duration"]
    assert "6.0 s at 5 characters/s" in warning.message


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_no_timing_warning_on_the_examples(path: Path) -> None:
    assert [d for d in check_file(path) if d.code in TIMING_CODES] == []


@given(st.text(alphabet=st.sampled_from(list("ab9Z '-_.,!\n\t")), max_size=80))
def test_the_ascii_fast_path_counts_as_the_general_one(text: str) -> None:
    fast = speech_of_text(text)
    assert (fast.words, fast.chars) == _count_any(text)


def test_other_scripts_count_words_and_join_apostrophes() -> None:
    assert _count_any("Ça va, l’ami—très bien") == (5, 0)  # Ça, va, l’ami, très, bien
    assert _count_any("Привет, как дела?") == (3, 0)
    assert _count_any("こんにちは、世界") == (0, 7)
