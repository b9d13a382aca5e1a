"""Unit tests of the parse stage (api.parse_text, api.parse_bytes): one small input, one behaviour each.

The golden files test the whole pipeline; these pin what the syntax tree holds, so a change in parse shows
here first, by name.
"""

from __future__ import annotations

import pytest

from compiler import nodes as n
from compiler.api import parse_bytes, parse_text

CAST = "CAST\nMAYA: image https://example.com/a.jpg\n\n"


def parsed(text: str) -> n.SceneFile:
    """The tree of a text that must parse without a diagnostic."""
    tree, diagnostics = parse_text(text)
    assert diagnostics == []
    return tree


def script_lines(text: str) -> list[object]:
    """Every script line of a text that parses cleanly, paragraphs flattened."""
    return [line for paragraph in parsed(text).paragraphs for line in paragraph.lines]


def segments(line: n.Action) -> list[tuple[str, str]]:
    return [("mention", s.name) if isinstance(s, n.Mention) else ("text", s.text) for s in line.segments]


def test_settings_keep_key_value_and_spans() -> None:
    tree = parsed("TITLE: The alley\nDURATION: 10s\n" + CAST + "MAYA waits.\n")
    assert [(s.key.text, s.value.text) for s in tree.settings] == [("TITLE", "The alley"), ("DURATION", "10s")]
    duration = tree.settings[1]
    assert (duration.key.span.line, duration.key.span.column) == (2, 1)
    assert (duration.value.span.line, duration.value.span.column) == (2, 11)


def test_cast_member_with_description_role_kind_and_voice() -> None:
    tree = parsed("CAST\nMAYA (a girl): character image https://e.com/a.jpg, voice https://e.com/a.mp3\n\n"
                  "MAYA waits.\n")
    (member,) = tree.cast
    assert isinstance(member, n.Member)
    assert member.name.text == "MAYA"
    assert member.description is not None and member.description.text == "a girl"
    assert member.role is not None and member.role.text == "character"
    assert member.kind.text == "image"
    assert member.media.source.text == "https://e.com/a.jpg"
    assert member.media.voice is not None and member.media.voice.text == "https://e.com/a.mp3"


def test_a_video_given_by_url_may_declare_its_length() -> None:
    tree = parsed("CAST\nLEO: video https://e.com/b.mp4, 6s long\n\nLEO waits.\n")
    (member,) = tree.cast
    assert isinstance(member, n.Member)
    assert member.media.length is not None and member.media.length.text == "6s"


def test_cast_from_keeps_the_path_and_the_names() -> None:
    tree = parsed("CAST\nCAST FROM team.cast: RIO, NOVA\n\nRIO waits.\n")
    (imported,) = tree.cast
    assert isinstance(imported, n.CastImport)
    assert imported.path.text == "team.cast"
    assert [name.text for name in imported.names] == ["RIO", "NOVA"]


def test_first_frame_and_storyboard_are_header_media() -> None:
    tree = parsed("FIRST FRAME: https://e.com/f.jpg\nSTORYBOARD: https://e.com/p.png\nCAST\n")
    assert [spec.source.text for spec in tree.first_frames] == ["https://e.com/f.jpg"]
    assert [spec.source.text for spec in tree.storyboards] == ["https://e.com/p.png"]


@pytest.mark.parametrize(("line", "expected"), [
    ("MAYA waits for LEO.", [("mention", "MAYA"), ("text", " waits for "), ("mention", "LEO"), ("text", ".")]),
    ("The NEON sign buzzes.", [("text", "The "), ("mention", "NEON"), ("text", " sign buzzes.")]),
    ("Maya waits.", [("text", "Maya waits.")]),  # only words fully in capitals are mentions
    ("@小李走进。", [("mention", "@小李走进"), ("text", "。")]),  # resolve splits off the cast name
])
def test_capitalised_words_and_at_names_in_action_are_mentions(line: str, expected: list[tuple[str, str]]) -> None:
    (action,) = script_lines(CAST + line + "\n")
    assert isinstance(action, n.Action)
    assert segments(action) == expected


def test_a_bang_forces_action_and_is_not_part_of_the_text() -> None:
    (action,) = script_lines(CAST + "!LEO ENTERS.\n")
    assert isinstance(action, n.Action) and action.forced
    assert segments(action)[0] == ("mention", "LEO")
    assert action.segments[0].span.column == 2


def test_framing_line_with_subjects_and_timing() -> None:
    framing, _ = script_lines(CAST + "WIDE ON MAYA AND LEO [0-2s]\nMAYA waits.\n")
    assert isinstance(framing, n.Framing)
    assert framing.spec.framing is not None and framing.spec.framing.text == "WIDE"
    assert [subject.text for subject in framing.spec.subjects] == ["MAYA", "LEO"]
    assert framing.spec.timing is not None and framing.spec.timing.text == "[0-2s]"


def test_a_timing_alone_is_a_framing_line_without_framing_words() -> None:
    framing, _ = script_lines(CAST + "[2-4s]\nMAYA turns.\n")
    assert isinstance(framing, n.Framing)
    assert framing.spec.framing is None
    assert framing.spec.timing is not None and framing.spec.timing.text == "[2-4s]"


@pytest.mark.parametrize(("line", "kind"), [("CUT TO:", "CUT TO"), ("DISSOLVE TO:", "DISSOLVE TO"),
                                            ("FADE OUT.", "FADE OUT.")])
def test_transitions(line: str, kind: str) -> None:
    transition, _ = script_lines(CAST + f"{line}\nMAYA waits.\n")
    assert isinstance(transition, n.Transition)
    assert transition.kind.text == kind


def test_scene_heading() -> None:
    heading, _ = script_lines(CAST + "INT. HOUSE - NIGHT\nMAYA waits.\n")
    assert isinstance(heading, n.Heading)
    assert heading.text == "INT. HOUSE - NIGHT"


def test_dialogue_block_cue_extension_parenthetical_and_speech() -> None:
    (dialogue,) = script_lines(CAST + "MAYA (V.O.)\n(softly)\nHello.\nIs anyone there?\n")
    assert isinstance(dialogue, n.Dialogue)
    assert dialogue.cue.text == "MAYA"
    assert dialogue.extension is not None and dialogue.extension.text == "(V.O.)"
    parenthetical, *speeches = dialogue.parts
    assert isinstance(parenthetical, n.Parenthetical) and parenthetical.text == "softly"
    assert [(type(s), s.text) for s in speeches] == [(n.Speech, "Hello."), (n.Speech, "Is anyone there?")]


def test_a_cue_needs_a_blank_line_before_it() -> None:
    lines = script_lines(CAST + "MAYA waits.\nLEO\nHello.\n")
    assert not any(isinstance(line, n.Dialogue) for line in lines)


def test_comments_are_not_script() -> None:
    (action,) = script_lines(CAST + "-- a note to self\nMAYA waits.\n")
    assert isinstance(action, n.Action) and action.span.line == 5


def test_blank_lines_separate_paragraphs() -> None:
    tree = parsed(CAST + "MAYA waits.\nMAYA sits.\n\nMAYA stands.\n")
    assert [len(paragraph.lines) for paragraph in tree.paragraphs] == [2, 1]


def test_a_syntax_error_names_the_line_and_what_was_expected() -> None:
    tree, diagnostics = parse_text("CAST\nMAYA: image\nLEO: image https://e.com/b.jpg\n\nLEO waits.\n")
    assert [(d.code, d.span.line if d.span else None) for d in diagnostics] == [("unexpected-token", 2)]
    assert "expected a path or URL" in diagnostics[0].message
    # Recovery: the bad line is dropped, the rest of the file is still read.
    assert [member.name.text for member in tree.cast if isinstance(member, n.Member)] == ["LEO"]


def test_recovery_reports_each_bad_line_once() -> None:
    text = "CAST\nMAYA: image a.jpg b.jpg\nLEO: picture b.jpg\nRIO: image c.jpg\n\nRIO waits.\n"
    tree, diagnostics = parse_text(text)
    assert [(d.code, d.span.line if d.span else None) for d in diagnostics] == [
        ("unexpected-token", 2), ("unexpected-token", 3)]
    assert "expected background, character, image, object or video" in diagnostics[1].message
    assert [member.name.text for member in tree.cast if isinstance(member, n.Member)] == ["RIO"]


def test_bytes_that_are_not_utf8_are_refused_with_a_diagnostic() -> None:
    _, diagnostics = parse_bytes(b"\xff\xfe\x00bad", None)
    assert [d.code for d in diagnostics] == ["not-text"]


def test_columns_count_code_points_not_bytes() -> None:
    (action,) = script_lines(CAST + "小李看MAYA。\n")
    assert isinstance(action, n.Action)
    mention = next(s for s in action.segments if isinstance(s, n.Mention))
    assert (mention.name, mention.span.column) == ("MAYA", 4)
