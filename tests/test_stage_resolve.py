"""Unit tests of the resolve stage (api.resolve): the cast order, settings, mentions, parentheticals, shots.

Each test gives a small scene and checks one behaviour of the resolved scene (ir.Scene) or one diagnostic.
"""

from __future__ import annotations

import pytest

from compiler import ir, vocabulary
from compiler.api import parse_text, resolve
from compiler.diagnostics import Diagnostic
from compiler.vocabulary import SEED_MAX

IMAGE = "image https://example.com/{}.jpg"
VIDEO = "video https://example.com/{}.mp4"


def resolved(text: str) -> tuple[ir.Scene, list[Diagnostic]]:
    tree, syntax = parse_text(text)
    assert syntax == []
    return resolve(tree)


def codes(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.code for d in diagnostics]


def cast(*kinds: str, header: str = "") -> str:
    """A scene whose cast has one member per kind (named MAYA, LEO, RIO, ...), all named in one action line."""
    names = ["MAYA", "LEO", "RIO", "NOVA", "TRAY", "JUNE"][:len(kinds)]
    members = "".join(f"{name}: {(IMAGE if kind == 'image' else VIDEO).format(name)}\n"
                      for name, kind in zip(names, kinds, strict=True))
    return f"{header}CAST\n{members}\n{' and '.join(names)} wait.\n"


# --- the cast order (what a target calls each member is its naming: tests/test_target_wan27.py) -----------

def test_the_cast_keeps_declaration_order_with_the_storyboard_first() -> None:
    scene, _ = resolved(cast("image", "video", "image"))
    assert [(m.name, m.kind) for m in scene.references] == [("MAYA", "image"), ("LEO", "video"), ("RIO", "image")]
    board, _ = resolved("STORYBOARD: https://example.com/p.png\n\nA girl walks.\n")
    assert board.storyboard is not None and board.references == (board.storyboard,)


def test_the_ir_holds_no_identifier() -> None:
    """The front-end is target-free: a cast member carries no identifier, ordinal or media index."""
    assert not {"identifier", "ordinal", "media_index"} & set(ir.CastMember._fields)


def test_the_first_frame_is_read_apart_from_the_references() -> None:
    scene, diagnostics = resolved(cast("image", header="FIRST FRAME: https://example.com/f.jpg\n"))
    assert diagnostics == []
    assert scene.first_frame is not None and scene.first_frame.media.text == "https://example.com/f.jpg"
    assert [member.name for member in scene.references] == ["MAYA"]


def test_a_name_declared_twice_is_an_error_and_keeps_the_first() -> None:
    scene, diagnostics = resolved(f"CAST\nMAYA: {IMAGE.format('a')}\nMAYA: {IMAGE.format('b')}\n\nMAYA waits.\n")
    assert codes(diagnostics) == ["duplicate-member"]
    assert [m.media.text for m in scene.members] == ["https://example.com/a.jpg"]


# --- settings -------------------------------------------------------------------------------------

def test_absent_settings_take_the_languages_defaults_and_are_not_given() -> None:
    scene, _ = resolved(cast("image"))
    settings = scene.settings
    assert (settings.model, settings.resolution, settings.ratio, settings.duration) == (
        vocabulary.DEFAULT_MODEL, vocabulary.DEFAULT_RESOLUTION, vocabulary.DEFAULT_RATIO, vocabulary.DEFAULT_DURATION)
    assert (settings.prompt_extend, settings.watermark) == (vocabulary.DEFAULT_PROMPT_EXTEND,
                                                            vocabulary.DEFAULT_WATERMARK)
    assert settings.given == frozenset()


@pytest.mark.parametrize("written", ["wan9-r2v", "WAN2.7-R2V", "kling/anything"])
def test_model_is_kept_as_written_for_the_back_end_to_judge(written: str) -> None:
    """Which models exist is the targets' knowledge: resolve keeps MODEL (stripped) and reports nothing."""
    scene, diagnostics = resolved(cast("image", header=f"MODEL:  {written} \n"))
    assert diagnostics == [] and scene.settings.model == written


def test_480p_is_the_languages_though_not_every_targets() -> None:
    scene, diagnostics = resolved(cast("image", header="RESOLUTION: 480p\n"))
    assert diagnostics == [] and scene.settings.resolution == "480P"


@pytest.mark.parametrize(("line", "field", "value"), [
    ("DURATION: 7s", "duration", 7),
    ("Duration: 7 seconds", "duration", 7),      # keys in any case, the unit spelt out
    ("RESOLUTION: 720p", "resolution", "720P"),
    ("ASPECT RATIO: 9:16", "ratio", "9:16"),      # an alias of RATIO
    ("WATERMARK: on", "watermark", True),
    ("PROMPT EXTEND: off", "prompt_extend", False),
    (f"SEED: {SEED_MAX}", "seed", SEED_MAX),
    ("LANGUAGE: chinese", "language", "zh"),
    ("PROMPT STYLE: storyboard", "prompt_style", "shots"),
    ("DIALOGUE STYLE: joined", "dialogue_style", "joined"),
    ("STYLE LINE: Cinematic, warm.", "style_line", "Cinematic, warm."),
])
def test_a_setting_is_typed_into_its_field(line: str, field: str, value: object) -> None:
    scene, diagnostics = resolved(cast("image", header=line + "\n"))
    assert diagnostics == []
    assert getattr(scene.settings, field) == value


def test_a_given_setting_is_recorded_under_its_canonical_key() -> None:
    scene, _ = resolved(cast("image", header="ASPECT RATIO: 1:1\nDuration: 5s\n"))
    assert scene.settings.given == frozenset({"RATIO", "DURATION"})
    assert scene.settings.spans["RATIO"].line == 1


@pytest.mark.parametrize(("line", "code", "words"), [
    ("DURATOIN: 5s", "unknown-setting", "did you mean DURATION?"),
    ("RATIO: 2:1", "bad-setting-value", "use one of 16:9, 1:1, 3:4, 4:3, 9:16"),
    ("WATERMARK: maybe", "bad-setting-value", "on or off"),
    ("DURATION: 2.5s", "bad-setting-value", "whole seconds"),
    (f"SEED: {SEED_MAX + 1}", "bad-setting-value", f"from 0 to {SEED_MAX}"),
    ("SEED: -1", "bad-setting-value", f"from 0 to {SEED_MAX}"),
])
def test_a_wrong_setting_is_a_diagnostic(line: str, code: str, words: str) -> None:
    _, diagnostics = resolved(cast("image", header=line + "\n"))
    assert codes(diagnostics) == [code]
    assert words in diagnostics[0].message + " " + (diagnostics[0].hint or "")


def test_a_setting_given_twice_is_an_error_and_the_first_counts() -> None:
    scene, diagnostics = resolved(cast("image", header="DURATION: 6s\nDURATION: 8s\n"))
    assert codes(diagnostics) == ["duplicate-setting"]
    assert scene.settings.duration == 6


# --- mentions --------------------------------------------------------------------------------------

def test_a_cast_name_in_action_becomes_a_reference() -> None:
    scene, _ = resolved(cast("image", "image"))
    (beat,) = scene.shots[0].beats
    assert isinstance(beat, ir.ActionBeat)
    assert [p.name for p in beat.pieces if isinstance(p, ir.Ref)] == ["MAYA", "LEO"]


def test_capitals_that_name_no_member_stay_text() -> None:
    scene, diagnostics = resolved(f"CAST\nMAYA: {IMAGE.format('a')}\n\nMAYA reads the NEON sign.\n")
    assert diagnostics == []
    (beat,) = scene.shots[0].beats
    assert isinstance(beat, ir.ActionBeat)
    ref, words = beat.pieces
    assert isinstance(ref, ir.Ref) and words == ir.Words(" reads the NEON sign.")


def test_a_capitals_word_close_to_a_name_is_a_warning() -> None:
    _, diagnostics = resolved(f"CAST\nMAYA: {IMAGE.format('a')}\n\nMAYA waits. MAYS waits.\n")
    assert codes(diagnostics) == ["possible-misspelt-name"]
    assert diagnostics[0].hint == "did you mean MAYA?"


def test_an_at_name_binds_the_member_it_starts_with() -> None:
    scene, diagnostics = resolved(f"LANGUAGE: zh\nCAST\n@小李: {IMAGE.format('a')}\n\n@小李走进。\n")
    assert diagnostics == []
    (beat,) = scene.shots[0].beats
    assert isinstance(beat, ir.ActionBeat)
    assert [member.name for member in scene.members] == ["小李"]
    assert [p.name for p in beat.pieces if isinstance(p, ir.Ref)] == ["小李"]
    assert beat.pieces[-1] == ir.Words("走进。")


def test_an_unknown_speaker_is_an_error() -> None:
    _, diagnostics = resolved(f"CAST\nMAYA: {IMAGE.format('a')}\n\nMAYA waits.\n\nRIO\nWho?\n")
    assert codes(diagnostics) == ["unknown-speaker"]


def test_an_identifier_typed_by_hand_is_a_warning() -> None:
    _, diagnostics = resolved(f"CAST\nMAYA: {IMAGE.format('a')}\n\nMAYA looks at Image 2.\n")
    assert codes(diagnostics) == ["literal-identifier"]


# --- parentheticals (docs/language.md, "Parentheticals") ----------------------------------------------

@pytest.mark.parametrize(("language", "parenthetical", "kind"), [
    ("en", "after seeing LEO", "lead-in"),
    ("en", "grinning", "lead-in"),
    ("en", "beat", "lead-in"),
    ("en", "replies", "delivery"),
    ("en", "whispers to LEO", "delivery"),
    ("en", "softly", "manner"),
    ("en", "to LEO", "manner"),
    ("zh", "看到LEO后", "lead-in"),
    ("zh", "低声说", "delivery"),
    ("zh", "轻声", "manner"),
])
def test_parentheticals_are_classified(language: str, parenthetical: str, kind: str) -> None:
    text = (f"LANGUAGE: {language}\nCAST\nMAYA: {IMAGE.format('a')}\nLEO: {IMAGE.format('b')}\n\n"
            f"MAYA waits for LEO.\n\nMAYA\n({parenthetical})\nHello.\n")
    scene, diagnostics = resolved(text)
    assert diagnostics == []
    dialogue = scene.shots[0].beats[1]
    assert isinstance(dialogue, ir.DialogueBeat)
    assert [part.kind for part in dialogue.parts] == [kind, "speech"]


def test_a_pause_becomes_words_of_its_own() -> None:
    scene, _ = resolved(f"CAST\nMAYA: {IMAGE.format('a')}\n\nMAYA waits.\n\nMAYA\n(beat)\nHello.\n")
    dialogue = scene.shots[0].beats[1]
    assert isinstance(dialogue, ir.DialogueBeat)
    assert dialogue.parts[0].pieces == (ir.Words("after a beat"),)


def test_speech_is_never_rewritten() -> None:
    scene, _ = resolved(f"CAST\nMAYA: {IMAGE.format('a')}\nLEO: {IMAGE.format('b')}\n\nMAYA waits for LEO.\n\n"
                        "MAYA\nLEO, is that you?\n")
    dialogue = scene.shots[0].beats[1]
    assert isinstance(dialogue, ir.DialogueBeat)
    assert dialogue.parts[-1].pieces == (ir.Words("LEO, is that you?"),)


# --- shots (docs/language.md, "How shots are formed") -------------------------------------------------

def shot_summary(scene: ir.Scene) -> list[tuple[str | None, str | None, int]]:
    return [(shot.transition, shot.framing, len(shot.beats)) for shot in scene.shots]


@pytest.mark.parametrize(("script", "shots"), [
    ("MAYA waits.\nMAYA sits.\n\nMAYA stands.\n", [(None, None, 3)]),           # blank lines open no shot
    ("WIDE ON MAYA\nMAYA waits.\n\nCLOSE-UP ON MAYA\nMAYA cries.\n", [(None, "WIDE", 1), (None, "CLOSE-UP", 1)]),
    ("MAYA waits.\n\nCUT TO:\nMAYA runs.\n", [(None, None, 1), ("CUT", None, 1)]),
    ("CUT TO:\nCLOSE-UP ON MAYA\nMAYA runs.\n", [("CUT", "CLOSE-UP", 1)]),         # one shot: nothing between
    ("FADE IN:\nMAYA wakes.\n\nFADE OUT.\n", [("FADE IN", None, 1), ("FADE OUT", None, 0)]),
    ("MAYA waits.\n\nINT. HOUSE - NIGHT\nMAYA sleeps.\n", [(None, None, 1), (None, None, 1)]),
])
def test_shots_are_formed_by_transitions_framings_and_headings(script: str,
                                                               shots: list[tuple[str | None, str | None, int]]) -> None:
    scene, diagnostics = resolved(f"CAST\nMAYA: {IMAGE.format('a')}\n\n" + script)
    assert diagnostics == []
    assert shot_summary(scene) == shots


def test_shots_are_numbered_and_keep_their_timing_and_subjects() -> None:
    scene, _ = resolved(f"CAST\nMAYA: {IMAGE.format('a')}\nLEO: {IMAGE.format('b')}\n\n"
                        "WIDE ON MAYA AND LEO [0-2s]\nMAYA waits.\n\n[2-5s]\nLEO sits.\n")
    assert [shot.number for shot in scene.shots] == [1, 2]
    assert [shot.timing for shot in scene.shots] == [(0.0, 2.0), (2.0, 5.0)]
    assert [ref.name for ref in scene.shots[0].subjects] == ["MAYA", "LEO"]
