"""The TextMate grammar (grammar/scene.tmLanguage.json) tokenizes every example scene as the compiler
parses it: settings keys, cast declarations, headings, transitions, framings, cues, parentheticals,
dialogue, timings, cast names in action, comments.  The engine is a Python port of VS Code's."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from compiler import nodes as n
from compiler.api import parse_file

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "grammar" / "scene.tmLanguage.json"
EXAMPLES = sorted([*ROOT.glob("scenes/*.scene"), *ROOT.glob("scenes/cast/*.cast"), *ROOT.glob("tests/cases/*.scene")])

textmate = pytest.importorskip("textmate_grammar.parsers.base",
                               reason="textmate-grammar-python (the test extra) is not installed")


@pytest.fixture(scope="module")
def grammar_parser():
    logging.getLogger("textmate_grammar").setLevel(logging.ERROR)  # it logs every unmatched stretch
    return textmate.LanguageParser(json.loads(GRAMMAR.read_text(encoding="utf-8")))


def scopes_by_position(parser, text: str) -> dict[tuple[int, int], list[str]]:
    """(0-based line, 0-based column) of every character -> its scopes."""
    element = parser.parse_string(text)
    out: dict[tuple[int, int], list[str]] = {}
    for (line, column), token, scopes in element.flatten():
        for index in range(len(token)):
            out[(line, column + index)] = scopes
    return out


def expectations(scene_file: n.SceneFile, names: set[str]):
    """(span, scope the first character must carry) from the compiler's own syntax tree."""
    for setting in scene_file.settings:
        yield setting.key.span, "keyword.other.setting"
    for item in scene_file.cast:
        if isinstance(item, n.Member):
            yield item.name.span, "variable.other.cast-name.declaration"
            yield item.media.source.span, "string.unquoted.path"
            if item.kind:
                yield item.kind.span, "storage.type.kind"
        else:
            yield item.span, "keyword.control.import"
    for paragraph in scene_file.paragraphs:
        for line in paragraph.lines:
            yield from line_expectations(line, names)


def line_expectations(line, names: set[str]):
    if isinstance(line, n.Heading):
        yield line.span, "entity.name.section.heading"
    elif isinstance(line, n.Dialogue):
        yield line.cue.span, "entity.name.cue"
        for part in line.parts:
            yield part.span, "meta.parenthetical" if isinstance(part, n.Parenthetical) else "string.unquoted.dialogue"
    elif isinstance(line, (n.Transition, n.Framing)):
        if isinstance(line, n.Transition):
            yield line.kind.span, "keyword.control.transition"
        spec = line.spec
        if spec is not None:
            if spec.framing is not None and spec.framing.text not in names:
                yield spec.framing.span, "entity.name.tag.framing"
            for subject in spec.subjects:
                yield subject.span, "variable.other.cast-name"
            if spec.timing is not None:
                yield spec.timing.span, "constant.numeric.timing"
    elif isinstance(line, n.Action) and not line.forced:
        for segment in line.segments:
            if isinstance(segment, n.Mention) and segment.name in names:
                yield segment.span, "variable.other.cast-name"


@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_grammar_tokenizes_the_example_as_the_compiler_parses_it(grammar_parser, path: Path) -> None:
    scene_file, _ = parse_file(path)
    text = path.read_text(encoding="utf-8")
    scopes = scopes_by_position(grammar_parser, text)
    names = {item.name.text for item in scene_file.cast if isinstance(item, n.Member)} | {"NOVA", "RIO"}
    checked, wrong = 0, []
    for span, scope in expectations(scene_file, names):
        got = scopes.get((span.line - 1, span.column - 1), [])
        checked += 1
        if not any(s.startswith(scope) for s in got):
            wrong.append(f"{span.line}:{span.column} {text[span.start:span.end]!r}: {got} lacks {scope}")
    assert checked >= 2 and not wrong, "\n".join(wrong)  # a storyboard scene has only its settings to check
    comments = [i for i, line in enumerate(text.split("\n")) if line.lstrip().startswith("--")]
    for index in comments:
        column = len(text.split("\n")[index]) - len(text.split("\n")[index].lstrip())
        assert any(s.startswith("comment.line") for s in scopes.get((index, column), [])), index + 1


def test_grammar_names_both_file_types() -> None:
    grammar = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    assert grammar["scopeName"] == "source.scene" and set(grammar["fileTypes"]) == {"scene", "cast"}
