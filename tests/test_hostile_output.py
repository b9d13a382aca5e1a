"""Text from scenes, files and servers is shown as text: rich markup is not parsed, control characters are
made visible in human output, GitHub annotations and JSON are escaped per format."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from compiler.cli import EXIT_ERRORS, main
from compiler.diagnostics import make
from compiler.render.planning import Plan
from compiler.render.progress import JsonDisplay, PlainDisplay, RichDisplay, status_json, status_lines
from compiler.render.results import SceneResult
from compiler.report import as_json, github, human, json_safe, visible
from compiler.source import Span

# What a hostile scene name, task id or server message may hold: rich markup, a clear-screen, a hyperlink
# (OSC 8, ended by BEL), a carriage return that hides what came before, C1 CSI, and a right-to-left override.
MARKUP = "[/]x[bold][link=https://evil.example]y[/link][/red]"
ESCAPES = "\x1b[2J\x1b]8;;https://evil.example\x07z\rover\x9b31m\u202eabc\u2066"
ACTIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


class Terminal(io.StringIO):
    """A StringIO that says it is a terminal, so rich draws its live table with colours and cursor moves."""

    def isatty(self) -> bool:
        return True


def data_characters(output: str) -> str:
    """The output without rich's own colour and cursor sequences (and the CR before a redraw), to look for
    what came from the data."""
    return re.sub(r"\r?\x1b\[[0-9;?]*[A-Za-z]", "", output)


@pytest.mark.parametrize("env", [{}, {"COLUMNS": "0"}, {"COLUMNS": "1", "TERM": "dumb"}, {"TERM": "xterm-nonesuch"},
                                 {"TERM": ""}, {"COLUMNS": "-4", "TERM": "vt52"}])
def test_live_table_shows_markup_and_escapes_as_text(env, monkeypatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    scene = f"{MARKUP}{ESCAPES}.scene"
    screen = Terminal()
    display = RichDisplay(screen)
    display.begin([Plan(scene, "submit"), Plan("[bold]b.scene", "invalid")])
    display.update(scene, "running", f"task {MARKUP}{ESCAPES}")
    display._live.refresh()  # draw the table now, with the hostile row in it
    display.note(f"note {MARKUP}{ESCAPES}")
    display.finish(SceneResult(scene, "failed", f"server said {MARKUP}{ESCAPES}"))
    display.close()
    shown = data_characters(screen.getvalue())
    assert "[/]x[bold]" in shown and "server said [/]x[bold]" in shown
    assert "\\x1b[2J" in shown and "\\x07z\\rover\\x9b31m\\u202eabc" in shown
    assert not ACTIVE.search(shown), repr(ACTIVE.search(shown))


def test_plain_lines_and_json_lines_are_escaped_per_format() -> None:
    scene = f"{MARKUP}{ESCAPES}.scene"
    plain = io.StringIO()
    lines = PlainDisplay(plain)
    lines.begin([Plan(scene, "submit")])
    lines.update(scene, "running", ESCAPES)
    lines.finish(SceneResult(scene, "failed", ESCAPES))
    assert not ACTIVE.search(plain.getvalue().replace("\n", "")) and "\\x1b[2J" in plain.getvalue()
    out, err = io.StringIO(), io.StringIO()
    JsonDisplay(out, err).finish(SceneResult(scene, "failed", ESCAPES, task_id=MARKUP))
    assert not ACTIVE.search(out.getvalue().rstrip("\n"))
    decoded = json.loads(out.getvalue())
    assert (decoded["scene"], decoded["message"], decoded["task_id"]) == (scene, ESCAPES, MARKUP)


def test_status_table_and_status_json_escape_journal_text() -> None:
    class Row:
        id, scene, state, task_id = 1, f"{ESCAPES}.scene", "FAILED", MARKUP
        model, endpoint = f"{MARKUP}-model", ESCAPES
        code, message, output_path = "X", ESCAPES, None
        request_id = output_bytes = created_at = submitted_at = finished_at = downloaded_at = url_expires_at = None
        updated_at, usage = 0.0, None

    table = "\n".join(status_lines([Row()], now=10.0))
    assert not ACTIVE.search(table.replace("\n", "")) and "\\u2066.scene" in table
    assert json.loads(status_json([Row()])[0])["message"] == ESCAPES and not ACTIVE.search(status_json([Row()])[0])
    assert json.loads(status_json([Row()])[0])["endpoint"] == ESCAPES and f"{MARKUP}-model" in table


# --- diagnostics --------------------------------------------------------------------------------------


def diagnostic(path: str, message: str, column: int = 5, end: int = 8):
    return make("unknown-name", message, Span(0, 1, 1, column, 1, end), path=path, hint=f"hint {ESCAPES}")


def test_human_format_makes_controls_visible_and_keeps_the_caret_under_the_span() -> None:
    line = "AB\x1bCD\u202eEFGH"
    text = human(diagnostic(f"sc\x1b[2Jene{MARKUP}.scene", f"bad {ESCAPES}", column=5, end=7), line)
    assert not ACTIVE.search(text.replace("\n", ""))
    source, caret = text.split("\n")[1:3]
    assert source == "    AB\\x1bCD\\u202eEFGH"
    marked = source[caret.index("^"):caret.rindex("^") + 1]
    assert marked == "D\\u202e"  # columns 5-6 of the line: "D" and the override, shown as text


def test_github_annotation_escapes_data_and_properties() -> None:
    path = "evil.scene,line=1::error file=other.scene::injected\nx%0A"
    out = github(diagnostic(path, f"msg % {ESCAPES}\nnext"))
    assert out.count("\n") == 0 and out.count("::") == 2, out
    properties = out.split("::")[1].removeprefix("error ").split(",")
    assert properties[0] == "file=evil.scene%2Cline=1%3A%3Aerror file=other.scene%3A%3Ainjected\\nx%250A"
    assert [p.split("=")[0] for p in properties] == ["file", "line", "col", "endLine", "endColumn", "title"]
    assert out.split("::")[2].startswith("msg %25 \\x1b[2J") and not ACTIVE.search(out)


def test_json_report_is_the_same_data_with_nothing_a_terminal_acts_on() -> None:
    d = diagnostic(f"{ESCAPES}.scene", f"msg {ESCAPES}{MARKUP}")
    text = as_json([f"{ESCAPES}.scene"], [d])
    assert not ACTIVE.search(text.replace("\n", ""))
    assert json.loads(text) == {"schema_version": 1, "files": [f"{ESCAPES}.scene"], "diagnostics": [d.to_dict()]}


def test_visible_and_json_safe_cover_c0_del_c1_and_bidi() -> None:
    every = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0), 0x202E, 0x2066, 0x200F, 0x061C, 0x2028]))
    assert not ACTIVE.search(visible(every)) and visible("plain 中文 é") == "plain 中文 é"
    encoded = json_safe(json.dumps(every, ensure_ascii=False))
    assert json.loads(encoded) == every and not ACTIVE.search(encoded)


# --- end to end -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["human", "github", "json"])
def test_check_of_a_hostile_file_name_and_text_prints_no_active_characters(fmt, tmp_path: Path, capsys) -> None:
    scene = tmp_path / "a\x1b]0;pwned\x07[bold]x[red],line=9::x\u202e.scene"
    scene.write_text(f"CAST\nMAYA: image {tmp_path}/none.jpg\n\nMAYA meets BOB\x1b[2J\u202e{MARKUP}.\n",
                     encoding="utf-8")
    assert main(["check", str(scene), "--format", fmt]) == EXIT_ERRORS
    out = capsys.readouterr().out
    assert out and not ACTIVE.search(out.replace("\n", ""))
    if fmt == "github":
        assert all(line.count("::") == 2 for line in out.splitlines())


def test_compile_explain_and_stdout_escape_scene_text(tmp_path: Path, capsys) -> None:
    media = Path(__file__).resolve().parent.parent / "scenes" / "media"
    scene = tmp_path / "s.scene"
    (tmp_path / "boy.jpg").write_bytes((media / "boy.jpg").read_bytes())
    scene.write_text("CAST\nLEO (a boy \x1b[2J\u202e): image boy.jpg\n\nLEO waves\x9b at the camera.\n",
                     encoding="utf-8")
    assert main(["compile", str(scene), "--explain"]) == 0
    captured = capsys.readouterr()
    assert not ACTIVE.search(captured.out.replace("\n", "")) and not ACTIVE.search(captured.err.replace("\n", ""))
    assert "\x9b" in json.loads(captured.out)["input"]["prompt"]


# --- properties ----------------------------------------------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Text weighted towards what matters here: controls, markup brackets, GitHub's separators, bidi, wide characters.
hostile_text = st.text(st.one_of(st.sampled_from("\x1b\x07\r\n\t\x00\x7f\x9b\u202e\u2066\u2028[]/%:,=@中"),
                                 st.characters()), max_size=40)


@given(path=hostile_text, message=hostile_text, line=hostile_text, column=st.integers(1, 50))
def test_every_format_of_any_diagnostic_is_inert(path: str, message: str, line: str, column: int) -> None:
    d = make("unknown-name", message or "m", Span(0, 1, 1, column, 1, column + 3), path=path or "p", hint=f"h{message}")
    shown = human(d, line)
    assert not ACTIVE.search(shown.replace("\n", "")) and len(shown.split("\n")) == 4
    annotation = github(d)
    assert "\n" not in annotation and "\r" not in annotation and annotation.count("::") == 2
    assert not ACTIVE.search(annotation)
    text = as_json([path], [d])
    assert json.loads(text) == {"schema_version": 1, "files": [path], "diagnostics": [d.to_dict()]}
    assert not ACTIVE.search(text.replace("\n", ""))


@given(scene=hostile_text, detail=hostile_text)
def test_the_live_table_takes_any_scene_name_and_message(scene: str, detail: str) -> None:
    screen = Terminal()
    display = RichDisplay(screen)
    display.begin([Plan(scene, "submit")])
    display.update(scene, "running", detail)
    display._live.refresh()
    display.finish(SceneResult(scene, "failed", detail))
    display.close()
    assert not ACTIVE.search(data_characters(screen.getvalue()).replace("\n", ""))


def test_the_caret_display_never_opens_a_fifo_swapped_in_after_parsing(tmp_path) -> None:
    import os

    from compiler.report import read_line

    fifo = tmp_path / "x.scene"
    os.mkfifo(fifo)  # nobody writes to it: opening it for a blocking read would hang
    assert read_line(str(fifo), 1, {}) is None
