"""The language server's incremental parse: reparse_text after any edit equals a whole parse of the new text."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import parse
from compiler.parse import parse_text, reparse_text

ROOT = Path(__file__).resolve().parent.parent
TEXTS = sorted([*ROOT.glob("scenes/*.scene"), *ROOT.glob("tests/cases/*.scene"),
                *ROOT.glob("tests/cases/negative/*.scene")])
PATH = Path("edited.scene")

# What writers type, and what changes the structure: line ends and blank lines (paragraph breaks), comments,
# cues, framings, transitions, headers and cast lines typed into the script, Chinese text, CRLF, a BOM.
PIECES = ["x", " ", "\n", "\n\n", "\n \n", "\r\n", "-- ", "-- note\n", "CUT TO ", "CLOSE-UP ON ", "MAYA", "LEO\n",
          "@小李", "走进茶馆", "（轻声）", "(quietly)", "[0-3s]", ".", ":", "!", "INT. ROOM", "FADE IN", "CAST\n",
          "TITLE: x\n", "RIO: image a.jpg\n", "\ufeff", "\t", "😀", "e\u0301", "\r", "\x00", "\n\n\n"]


def same(left, right) -> bool:
    """Two parse results are equal: the nodes (records compare by value) and the source text and path."""
    (tree, found), (other, expected) = left, right
    return (found == expected and tree[1:] == other[1:] and tree.source.text == other.source.text
            and tree.source.path == other.source.path)


def long_scene(shots: int) -> str:
    head = "TITLE: Long\nCAST\nMAYA (the girl): image a.jpg\nLEO: image b.jpg\n\n"
    body = "".join(f"CUT TO CLOSE-UP ON MAYA.\nMAYA looks at LEO, shot {i}.\n\nLEO\n(softly)\nWe go.\n\n"
                   for i in range(shots))
    return head + body


@st.composite
def edits(draw, text: str):
    """One edit: a position, a number of characters removed there, and what is typed in their place."""
    start = draw(st.integers(0, len(text)))
    removed = draw(st.integers(0, min(12, len(text) - start)))
    typed = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=3)))
    return text[:start] + typed + text[start + removed:]


@settings(max_examples=120)
@given(st.data())
def test_incremental_parse_equals_whole_parse(data) -> None:
    """A chain of edits, each parsed from the previous result as the server does, equals a whole parse."""
    base = data.draw(st.sampled_from([*TEXTS, None]))
    text = long_scene(8) if base is None else base.read_text(encoding="utf-8")
    previous = parse_text(text, PATH)
    for _ in range(data.draw(st.integers(1, 3))):
        text = data.draw(edits(text))
        result = reparse_text(*previous, text, PATH)
        assert same(result, parse_text(text, PATH))
        previous = result


def forbid_whole_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args):
        raise AssertionError("fell back to a whole parse")

    monkeypatch.setattr(parse, "parse_text", refuse)


@pytest.mark.parametrize("typed", ["x", "\n", "\n\n", "CUT TO:\n", "LEO\n", "-- ", "走", ""])
def test_an_edit_in_the_middle_reuses_the_other_paragraphs(typed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The edit's paragraph alone is parsed again (no whole parse), and the result is still exact."""
    text = long_scene(40)
    middle = text.index("shot 20")
    edited = text[:middle] + typed + text[middle + (0 if typed else 1):]
    previous = parse_text(text, PATH)
    expected = parse_text(edited, PATH)
    forbid_whole_parse(monkeypatch)
    result = reparse_text(*previous, edited, PATH)
    assert same(result, expected)
    # Paragraphs before the edit are the very same objects; the ones after it are shifted copies.
    assert result[0].paragraphs[0] is previous[0].paragraphs[0]


def test_an_edit_in_the_cast_parses_the_whole_text(monkeypatch: pytest.MonkeyPatch) -> None:
    text = long_scene(5)
    edited = text.replace("LEO: image", "LEON: image")
    previous = parse_text(text, PATH)
    forbid_whole_parse(monkeypatch)
    with pytest.raises(AssertionError, match="whole parse"):
        reparse_text(*previous, edited, PATH)


def test_a_syntax_error_in_the_edit_gives_the_whole_parse_diagnostics() -> None:
    text = long_scene(10)
    middle = text.index("CUT TO", len(text) // 2)
    edited = text[:middle] + "WIDE ON MAYA AND\n\n" + text[middle:]
    result = reparse_text(*parse_text(text, PATH), edited, PATH)
    assert [d.code for d in result[1]] == ["unexpected-token"]
    assert same(result, parse_text(edited, PATH))


def resolved(text: str):
    from compiler import api

    scene, _ = api.resolve(parse_text(text, PATH)[0])
    return scene


def test_the_crossing_line_is_remembered_only_while_the_lines_before_it_are_unchanged() -> None:
    """The server's remembered crossing equals check's search for every version; it is reused for an edit
    below the crossing line, and searched again after an edit above it or in the cast."""
    from compiler.lsp import crossing

    limit = 5000
    text = long_scene(120)
    below = text.index("shot 100")
    above = text.index("shot 2")
    versions = [text, text[:below] + "x" + text[below:], text[:above] + "a long aside " * 20 + text[above:],
                text.replace("MAYA (the girl)", "MAYA (the tall girl)"), text]
    reused = []
    for version in versions:
        scene = resolved(version)
        hits = crossing.stats["hits"]
        assert crossing.remembered_crossing(scene, limit) == crossing._plain_crossing(scene, limit) is not None
        reused.append(crossing.stats["hits"] > hits)
    assert reused == [False, True, False, False, False]
    crossing.forget(scene.path)  # the document closed: nothing of it is kept, the next version searches again
    hits = crossing.stats["hits"]
    assert crossing.remembered_crossing(scene, limit) == crossing._plain_crossing(scene, limit)
    assert crossing.stats["hits"] == hits
