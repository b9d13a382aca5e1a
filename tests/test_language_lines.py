"""Issue 10: every line of a scene reaches the request as documented or gets a diagnostic at its line;
names in any script; the small items (prompt length located and shown, long lines cut, articles)."""

from pathlib import Path

from compiler.api import compile_text
from compiler.cli import EXIT_OK, main
from compiler.diagnostics import make
from compiler.emit import cast_table
from compiler.report import human
from compiler.source import Source

ROOT = Path(__file__).resolve().parent.parent
SCENE = ROOT / "scenes" / "example.scene"  # as if saved in scenes/, where the media live


def compiled(text: str):
    return compile_text(text, SCENE, probe=False)


def codes_at(result) -> set[tuple[int | None, str]]:
    return {(d.span.line if d.span else None, d.code) for d in result.diagnostics}


def test_forced_action_keeps_its_line_as_action() -> None:
    result = compiled("CAST\nLEO: image media/boy.jpg\n\n!LEO ENTERS.\n")
    assert result.ok, result.diagnostics
    assert result.prompt == "Reference image ENTERS."


def test_explain_prints_the_prompt_length_against_the_limit(tmp_path, capsys) -> None:
    out = tmp_path / "alley.json"
    assert main(["compile", str(ROOT / "scenes" / "alley.scene"), "-o", str(out), "--explain"]) == EXIT_OK
    printed = capsys.readouterr().out
    prompt = compile_text((ROOT / "scenes" / "alley.scene").read_text(), ROOT / "scenes" / "alley.scene").prompt
    assert f"PROMPT ({len(prompt)} of 5000 characters)" in printed


def test_long_source_lines_are_cut_around_the_caret() -> None:
    line = "MAYA: image data:image/png;base64," + "A" * 4000 + " , voice x.mp3"
    source = Source(line + "\n", None)
    shown = human(make("bad-data-uri", "bad", source.span(len(line) - 9, len(line))), line).split("\n")
    assert all(len(text) < 140 for text in shown)
    assert shown[1].strip().startswith("…") and shown[1].endswith("voice x.mp3")
    assert shown[2].index("^") == shown[1].index("ice x.mp3") and shown[2].count("^") == 9
    short = human(make("bad-data-uri", "bad", source.span(0, 4)), "MAYA: x").split("\n")
    assert short[1:] == ["    MAYA: x", "    ^^^^"]


def test_setting_keys_are_read_in_any_case() -> None:
    result = compiled("Duration: 10s\nprompt style: shots\nFirst Frame: media/alley.jpg\nCAST\n"
                      "MAYA: image media/boy.jpg\n\nMAYA waits.\n")
    assert result.ok, result.diagnostics
    body = result.payload.model_dump(exclude_none=True)
    assert body["parameters"]["duration"] == 10
    assert body["input"]["media"][0] == {"type": "first_frame", "url": "media/alley.jpg"}
    assert result.prompt.startswith("Storyboard: 1.")


def test_lines_that_would_change_the_request_are_errors_at_their_line() -> None:
    result = compiled("CAST\nMAYA: image media/boy.jpg\nFIRST FRAME: media/alley.jpg\n\nMAYA waits.\n"
                      "WATERMARK: on\n\nLEO: image media/boy.jpg\n\nLeo: image media/boy.jpg\n")
    assert {(d.span.line, d.code, d.severity) for d in result.diagnostics} == {
        (3, "header-line-in-script", "error"), (6, "header-line-in-script", "error"),
        (8, "header-line-in-script", "error"), (10, "malformed-member", "error")}
    assert result.prompt == "Reference image waits."


def test_marked_names_in_any_script_in_cast_cues_framings_and_action() -> None:
    result = compiled("LANGUAGE: zh\nCAST\n@小李 (the boy): image media/boy.jpg\n@José: video media/girl.mp4\n\n"
                      "@小李走进茶馆，看见@José。\n\n@小李\n你好。\n\nCLOSE-UP ON @José\n@José sonríe.\n")
    assert result.ok, result.diagnostics
    assert [row["name"] for row in cast_table(result.scene)] == ["小李", "José"]
    assert result.prompt == "图1走进茶馆，看见视频1。图1说：“你好。”随后切换到视频1的特写。视频1 sonríe."


def test_a_marked_name_ends_where_the_declared_name_ends_only_across_scripts() -> None:
    result = compiled("CAST\n@José: image media/boy.jpg\n\n@Joséphine waves at @José's dog.\n")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("unknown-name", 4)]
    assert result.prompt == "@Joséphine waves at reference image's dog."


def test_capitals_sound_effects_are_action() -> None:
    result = compiled("CAST\nMAYA: image media/boy.jpg\n\nMAYA waits.\n\nBANG!\n\nBOOM.\n\nCLOSE-UP ON MAYA\n")
    assert result.ok, result.diagnostics
    assert not result.diagnostics
    assert result.prompt == "Reference image waits. BANG! BOOM. Then the shot cuts to a close-up of reference image."
