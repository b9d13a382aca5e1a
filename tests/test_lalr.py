"""compiler/lalr.py runs lark's tables: it must give exactly lark's trees and errors, on every input."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import lalr
from tests.grammar_parser import lark_parser

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*ROOT.glob("scenes/**/*.scene"), *ROOT.glob("scenes/**/*.cast"), *ROOT.glob("tests/cases/**/*.scene")])


LARK = lark_parser()


def shape(node):
    if hasattr(node, "children"):
        return (node.data, [shape(child) for child in node.children])
    return (node.type, str(node), node.start_pos, node.line, node.column, node.end_line, node.end_column)


def outcome(parse, text: str):
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    try:
        return "tree", shape(parse(text))
    except (UnexpectedToken, lalr.UnexpectedToken) as error:
        token = error.token
        return "token", token.type, str(token), token.start_pos, sorted(error.expected)
    except (UnexpectedCharacters, lalr.UnexpectedCharacters) as error:
        return "characters", error.pos_in_stream, error.line, error.column, sorted(error.allowed)


def same(text: str) -> None:
    assert outcome(lalr.parse, text) == outcome(LARK.parse, text)


@pytest.fixture(params=[0, 10**9], ids=["combined", "one-by-one"], autouse=True)
def scanner_mode(request, monkeypatch):
    """Both ways the runtime lexes: one alternation per state, and terminal by terminal."""
    monkeypatch.setattr(lalr, "COMBINE_AFTER", request.param)
    monkeypatch.setattr(lalr, "_scanners", {})


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_files_parse_exactly_as_lark_does(path: Path) -> None:
    same(path.read_text(encoding="utf-8") + "\n\n")


@given(st.text(max_size=300))
def test_arbitrary_text_parses_or_fails_exactly_as_lark(text: str) -> None:
    same(text + "\n\n")


LINES = st.sampled_from([
    "TITLE: x", "DURATION: 5s", "CAST", "CAST FROM a.cast", "MAYA (the girl): video a.mp4, voice b.mp3",
    "LEO: object image b.jpg, 6s long", "FIRST FRAME: f.png", "STORYBOARD: p.png", "", "-- note",
    "MAYA walks in.", "CUT TO CLOSE-UP ON LEO.", "WIDE ON MAYA AND LEO [0-3s]", "MAYA", "(softly)",
    "Hello there.", "INT. ALLEY - NIGHT", "FADE OUT.", "!BANG", "[3-5s]", "LEO: picture x", "\tindent", "（低声）",
])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, max_size=25))
def test_line_soups_parse_exactly_as_lark(lines: list[str]) -> None:
    same("\n".join(lines) + "\n\n")
