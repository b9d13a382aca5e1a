"""Issue 10: every line of a scene reaches the request as documented or gets a diagnostic at its line;
names in any script; the small items (prompt length located and shown, long lines cut, articles)."""

from pathlib import Path

from compiler.api import compile_text
from compiler.cli import EXIT_OK, main
from compiler.diagnostics import make
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
