"""scenec fmt: the canonical layout keeps the compiled request, every comment and every word; it is idempotent,
leaves files with syntax errors alone, and its command line checks, diffs, reads standard input and writes
atomically."""

import io
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import fmt
from compiler.api import compile_text, parse_text
from compiler.cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, main
from compiler.fmt import format_text, syntax_shape
from compiler.nodes import Heading
from tests.grammar_parser import grammar_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted([*(ROOT / "scenes").glob("*.scene"), *(ROOT / "scenes" / "cast").glob("*.cast"),
                   *(ROOT / "tests" / "cases").glob("*.scene"),
                   *(ROOT / "tests" / "cases" / "negative").glob("*.scene"),
                   *(ROOT / "tests" / "cases" / "negative").glob("*.cast")])
COMMENT = re.compile(r"^[ \t]*--")
SYNTAX_ERRORS = {"unexpected-token", "unexpected-character", "not-text"}


def comments(text: str) -> Counter:
    return Counter(line.strip() for line in text.split("\n") if COMMENT.match(line))


def words(text: str) -> Counter:
    """Every word of the file, punctuation included: formatting may move lines and spaces, never words."""
    return Counter(text.split())


def compiled(text: str, path: Path | None) -> tuple:
    result = compile_text(text, path, probe=False)
    payload = result.payload.model_dump(mode="json") if result.payload is not None else None
    return payload, result.prompt, sorted(d.code for d in result.diagnostics)


def assert_formatting_keeps_meaning(text: str, path: Path | None = None) -> str:
    result = format_text(text, path)
    assert result.note is None
    after = result.text
    assert format_text(after, path).text == after, "not idempotent"
    assert comments(after) == comments(text)
    assert compiled(after, path) == compiled(text, path)
    scene_file, diagnostics = parse_text(text, path)
    if not any(d.code in SYNTAX_ERRORS for d in diagnostics):
        # the full layout, not the whitespace-only fallback, keeps the tree
        canonical = fmt._canonical(text, scene_file)
        reparsed, _ = parse_text(canonical, path)
        assert syntax_shape(reparsed) == syntax_shape(scene_file)
        assert after == canonical
    return after


@pytest.mark.parametrize("path", EXAMPLES, ids=[f"{p.parent.name}/{p.name}" for p in EXAMPLES])
def test_examples_keep_their_request_comments_and_words(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    after = assert_formatting_keeps_meaning(text, path)
    assert words(after) == words(text)


def test_the_canonical_layout() -> None:
    text = ("-- A file comment.\n\n\nDURATION:10s\n-- about the title\nTITLE:   A Title   \nLANG: zh\n"
            "CAST:\nMAYA (the girl):video https://e.com/a.mp4 ,voice https://e.com/a.mp3\n"
            "LEO:image https://e.com/b.jpg\nCAST FROM   other.cast\n"
            "  MAYA walks in.   \n\n\n\nCUT TO   CLOSE-UP ON   LEO [0 - 3s]  \n\n"
            "   LEO  (V.O.)\n(softly)\n  Hello   there.\n")
    assert format_text(text).text == (
        "-- A file comment.\n\n"
        "-- about the title\nTITLE: A Title\nLANGUAGE: zh\nDURATION: 10s\n\n"
        "CAST\nMAYA (the girl): video https://e.com/a.mp4, voice https://e.com/a.mp3\n"
        "LEO:             image https://e.com/b.jpg\nCAST FROM other.cast\n\n"
        "MAYA walks in.\n\nCUT TO   CLOSE-UP ON   LEO [0 - 3s]\n\nLEO (V.O.)\n(softly)\nHello   there.\n")


def test_blank_lines_in_the_script_are_collapsed_never_added() -> None:
    text = "CAST\nMAYA: image https://e.com/a.jpg\n\nMAYA\nHi.\nMAYA waves.\n\n\n\nMAYA sits.\n"
    # "MAYA waves." is a spoken line of the dialogue above it: no blank line may be put before it.
    assert format_text(text).text == "CAST\nMAYA: image https://e.com/a.jpg\n\nMAYA\nHi.\nMAYA waves.\n\nMAYA sits.\n"


def test_a_comment_moves_with_the_setting_below_it() -> None:
    text = "-- expect: bad-setting-value\nRESOLUTION: 4K\nTITLE: T\nCAST\nMAYA: image a.jpg\n\nMAYA waits.\n"
    assert format_text(text).text.startswith("TITLE: T\n-- expect: bad-setting-value\nRESOLUTION: 4K\n\nCAST\n")


def test_cjk_descriptions_align_by_display_width() -> None:
    text = "CAST\nLAOWANG (茶馆老板): image a.jpg\nXIAOLI (年轻的女记者): image b.jpg\nTEA: image c.jpg\n\nTEA.\n"
    lines = format_text(text).text.split("\n")[1:4]
    columns = {fmt._cells(line[: line.index("image")]) for line in lines}
    assert len(columns) == 1


def test_a_file_with_syntax_errors_is_untouched() -> None:
    text = "CAST\nMAYA:   picture a.jpg\n\n\n\nMAYA waits.   \n"
    result = format_text(text)
    assert result.text == text and not result.changed
    assert [d.code for d in result.diagnostics] == ["unexpected-token"]


def test_unknown_lines_are_kept_verbatim() -> None:
    # A member line the formatter does not rebuild exactly (two voices: the node keeps the last) stays as written.
    text = "CAST\nMAYA: image a.jpg,  voice b.mp3, voice c.mp3\n\nMAYA waits.\n"
    assert format_text(text).text == "CAST\nMAYA: image a.jpg,  voice b.mp3, voice c.mp3\n\nMAYA waits.\n"


@pytest.mark.parametrize(("text", "expected"), [("0\nI/E \n\n", "0\nI/E \n"),
                                              ("INT \n\nA walks.\n", "INT \n\nA walks.\n"),
                                              ("  ext  \n", "ext \n")])
def test_a_heading_with_nothing_after_it_keeps_the_space_that_makes_it_one(text: str, expected: str) -> None:
    """"INT " is a heading and "INT" is action: a bare heading keeps one space (a case found on Python 3.13)."""
    assert assert_formatting_keeps_meaning(text) == expected
    assert isinstance(parse_text(expected)[0].paragraphs[0].lines[-1], Heading)


def test_windows_line_ends_and_bom() -> None:
    text = "\ufeffCAST\r\nMAYA: image a.jpg\r\n\r\nMAYA waits.\r\n"
    assert format_text(text).text == "CAST\nMAYA: image a.jpg\n\nMAYA waits.\n"
    inside = "CAST\nMAYA: image a.jpg\n\nMAYA\ufeffwaits.\n"  # a stray mark inside a line is a character
    assert format_text(inside).text == inside


# --- properties over generated scenes --------------------------------------------------------

@settings(max_examples=30, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_grammar_generated_scenes_keep_their_meaning(data) -> None:
    assert_formatting_keeps_meaning(data.draw(grammar_text()))


NAMES = ["MAYA", "LEO", "ALLEY"]
SPACE = st.sampled_from(["", " ", "  ", "\t"])
GAP = st.sampled_from(["", "\n", "\n\n", "\n-- a note\n", "\n\n-- note\n\n"])


@st.composite
def messy_scenes(draw):
    """Valid scenes written carelessly: odd spacing, extra blank lines, comments anywhere, any settings order."""
    settings_lines = draw(st.permutations(["TITLE: T", "DURATION: 8s", "RESOLUTION: 720P", "LANG: en",
                                           "PROMPT STYLE: shots"]))
    lines = [line.replace(": ", ":" + draw(SPACE)) + draw(SPACE) + draw(GAP) for line in settings_lines]
    lines.append("CAST" + draw(st.sampled_from(["", ":"])) + draw(GAP))
    for name in NAMES:
        description = draw(st.sampled_from(["", " (someone)", "(很长的描述)"]))
        lines.append(f"{name}{description}:{draw(SPACE)}image{draw(SPACE)} https://e.com/{name}.jpg" + draw(GAP))
    lines.append("")
    for _ in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(NAMES))
        shape = draw(st.sampled_from(["action", "dialogue", "framing"]))
        if shape == "action":
            lines.append(f"{draw(SPACE)}{name} waits  here.{draw(SPACE)}")
        elif shape == "dialogue":
            lines += [f"{name}{draw(SPACE)}", "(softly)", f"{draw(SPACE)}Hi  there.{draw(SPACE)}"]
        else:
            lines.append(f"CLOSE-UP{draw(SPACE) or ' '}ON {name}{draw(SPACE)}[0-2s]")
        lines.append("\n" * draw(st.integers(0, 2)))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n\n"]))


@given(messy_scenes())
def test_messy_scenes_keep_their_meaning(text: str) -> None:
    after = assert_formatting_keeps_meaning(text)
    assert after.endswith("\n") and not after.endswith("\n\n")
    assert "\n\n\n" not in after and not any(line != line.rstrip() for line in after.split("\n"))


@given(st.text(alphabet=st.sampled_from(list("MAYLEO CAST:()[]-!.,\n\r\t\ufeff图1 imagevoc0s")), max_size=200))
def test_arbitrary_text_never_breaks_the_formatter(text: str) -> None:
    result = format_text(text)
    assert result.note is None
    if result.changed:
        assert_formatting_keeps_meaning(text)


# --- the command line ------------------------------------------------------------------------

MESSY = "CAST\nMAYA:   image https://e.com/a.jpg\n\n\nMAYA waits.  \n"
TIDY = "CAST\nMAYA: image https://e.com/a.jpg\n\nMAYA waits.\n"


def test_check_names_the_files_and_changes_nothing(tmp_path: Path, capsys) -> None:
    messy, tidy = tmp_path / "messy.scene", tmp_path / "tidy.scene"
    messy.write_text(MESSY)
    tidy.write_text(TIDY)
    assert main(["fmt", "--check", str(tmp_path)]) == EXIT_ERRORS
    err = capsys.readouterr().err
    assert str(messy) in err and str(tidy) not in err
    assert messy.read_text() == MESSY
    assert main(["fmt", "--check", str(tidy)]) == EXIT_OK


def test_diff_is_a_unified_diff(tmp_path: Path, capsys) -> None:
    messy = tmp_path / "messy.scene"
    messy.write_text(MESSY)
    assert main(["fmt", "--diff", str(messy)]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"--- {messy} (before)\n+++ {messy} (formatted)\n@@")
    assert "-MAYA:   image https://e.com/a.jpg\n+MAYA: image https://e.com/a.jpg\n" in out
    assert messy.read_text() == MESSY


def test_fmt_rewrites_files_in_place_atomically(tmp_path: Path, monkeypatch) -> None:
    import compiler.fs

    messy = tmp_path / "messy.scene"
    messy.write_text(MESSY)
    written = []
    real = compiler.fs.write_atomic
    monkeypatch.setattr(compiler.fs, "write_atomic", lambda path, data: (written.append(path), real(path, data)))
    assert main(["fmt", str(tmp_path)]) == EXIT_OK
    assert messy.read_text() == TIDY and written == [messy]
    assert [p.name for p in tmp_path.iterdir()] == ["messy.scene"]  # no temporary file left


def stdin_of(data: bytes) -> io.TextIOWrapper:
    """Standard input as a process has it: text over bytes (fmt reads the bytes)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


def test_standard_input_to_standard_output(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", stdin_of(MESSY.encode()))
    assert main(["fmt", "-"]) == EXIT_OK
    assert capsys.readouterr().out == TIDY
    monkeypatch.setattr("sys.stdin", stdin_of(MESSY.encode()))
    assert main(["fmt", "--check", "-"]) == EXIT_ERRORS


def test_standard_input_that_is_not_utf8_is_refused_as_a_file_would_be(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", stdin_of(b"TITLE: x\xff\n"))
    assert main(["fmt", "-"]) == EXIT_ERRORS
    out, err = capsys.readouterr()
    assert out == "" and "not UTF-8" in err


def test_a_symlink_out_of_the_project_is_not_rewritten(tmp_path: Path, capsys) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "scenec.toml").write_text("")
    outside = tmp_path / "elsewhere.scene"
    outside.write_text(MESSY)
    (tmp_path / "proj" / "x.scene").symlink_to(outside)
    assert main(["fmt", str(tmp_path / "proj")]) == EXIT_ERRORS
    assert outside.read_text() == MESSY and "not following" in capsys.readouterr().err


def test_a_fifo_or_a_device_is_refused_not_read(tmp_path: Path, capsys) -> None:
    import os

    fifo = tmp_path / "pipe.scene"
    os.mkfifo(fifo)  # nobody writes: reading it would block for ever
    assert main(["fmt", str(fifo)]) == EXIT_ERRORS
    assert main(["fmt", "/dev/zero"]) == EXIT_ERRORS
    err = capsys.readouterr().err
    assert "FIFO" in err and "device" in err


def test_syntax_errors_are_printed_and_the_file_kept(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.scene"
    bad.write_text("CAST\nMAYA:   picture a.jpg\n")
    assert main(["fmt", str(bad)]) == EXIT_ERRORS
    err = capsys.readouterr().err
    assert f"{bad}:2:9: unexpected-token" in err and "picture" in err
    assert bad.read_text() == "CAST\nMAYA:   picture a.jpg\n"


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["fmt", str(tmp_path / "nothing.scene")]) == EXIT_USAGE


def test_the_pre_commit_hooks_run_scenec_commands(tmp_path: Path, capsys) -> None:
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    entries = re.findall(r"^\s*entry:\s*scenec (\w+)\s*$", hooks, re.MULTILINE)
    assert entries == ["fmt", "check"]
    scene = tmp_path / "a.scene"
    scene.write_text(MESSY)
    # pre-commit appends the staged files to the entry
    assert main([entries[0], str(scene)]) == EXIT_OK and scene.read_text() == TIDY
    assert main([entries[1], str(scene)]) == EXIT_OK
