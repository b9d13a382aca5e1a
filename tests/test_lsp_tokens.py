"""Semantic tokens from the real server: every cast name where it names a member (declarations marked), setting
keys, transitions, framings and timings, at the UTF-16 positions of Chinese text, computed here independently."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from compiler import nodes as n
from compiler.api import parse_text, resolve
from tests.lsp_client import CONFIG, ROOT, open_text, published, start

ASYNC = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):
    lsp_client.capabilities_seen = await start(lsp_client)
    yield
    await lsp_client.shutdown_session()


def decoded(data: list[int], legend: lsp.SemanticTokensLegend) -> set[tuple[int, int, int, str, tuple[str, ...]]]:
    """(line, UTF-16 character, length, type, modifiers) of each token, from LSP's relative integers."""
    out, line, character = set(), 0, 0
    for index in range(0, len(data), 5):
        delta_line, delta_start, length, kind, modifiers = data[index:index + 5]
        line += delta_line
        character = character + delta_start if delta_line == 0 else delta_start
        names = tuple(name for bit, name in enumerate(legend.token_modifiers) if modifiers >> bit & 1)
        out.add((line, character, length, legend.token_types[kind], names))
    return out


def utf16_token(text: str, line: int, column: int, end_column: int) -> tuple[int, int, int]:
    line_text = text.split("\n")[line - 1]
    start = len(line_text[:column - 1].encode("utf-16-le")) // 2
    end = len(line_text[:end_column - 1].encode("utf-16-le")) // 2
    return line - 1, start, end - start


def named_words(line: n.Line, names: set[str]) -> list[n.Word | n.Mention]:
    """The words of a script line that are cast names: mentions in prose, cues, a framing's subjects."""
    if isinstance(line, (n.Action, n.Heading)):
        return [s for s in line.segments if isinstance(s, n.Mention) and s.name in names]
    if isinstance(line, n.Dialogue):
        spoken = [s for part in line.parts if isinstance(part, n.Parenthetical) for s in part.segments
                  if isinstance(s, n.Mention) and s.name in names]
        return ([line.cue] if line.cue.text in names else []) + spoken
    spec = line.spec
    words = ([spec.framing] if spec and spec.framing else []) + list(spec.subjects if spec else ())
    return [word for word in words if word.text in names]


# Astral-plane characters (two UTF-16 units each) before names on the same line; never written to disk.
EMOJI = ("TITLE: 😀\nCAST\nMAYA: image a.jpg\n\nWIDE ON MAYA [0-2s]\n😀😀 MAYA waits by MAYA.\n\n"
         "MAYA\n(to 😀 MAYA)\nHi 😀.\n")


@ASYNC
@pytest.mark.parametrize("name", ["teahouse.scene", "alley.scene", "emoji"])
async def test_cast_names_settings_and_shot_words_are_tokens(client: LanguageClient, name: str) -> None:
    path = ROOT / "scenes" / name if name != "emoji" else ROOT / "tests" / "cases" / "tokens-emoji.scene"
    text = path.read_text(encoding="utf-8") if name != "emoji" else EMOJI
    uri = open_text(client, path, text)
    await published(client, uri, 1)
    answer = await client.text_document_semantic_tokens_full_async(
        lsp.SemanticTokensParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    legend = client.capabilities_seen.capabilities.semantic_tokens_provider.legend
    tokens = decoded(answer.data, legend)
    tree, _ = parse_text(text, path)
    scene, _ = resolve(tree)
    names = {member.name for member in scene.members}
    expected_names = {(*utf16_token(text, item.name.span.line, item.name.span.column, item.name.span.end_column),
                       "variable", ("declaration",)) for item in tree.cast if isinstance(item, n.Member)}
    for paragraph in tree.paragraphs:
        for line in paragraph.lines:
            for word in named_words(line, names):
                expected_names.add((*utf16_token(text, word.span.line, word.span.column, word.span.end_column),
                                    "variable", ()))
    assert {token for token in tokens if token[3] == "variable"} == expected_names
    assert len(expected_names) > len(names)  # the script names them too
    settings = {utf16_token(text, s.key.span.line, s.key.span.column, s.key.span.end_column) for s in tree.settings}
    assert {token[:3] for token in tokens if token[3] == "property"} == settings
    assert any(token[3] == "keyword" for token in tokens) and any(token[3] == "type" for token in tokens)
