"""The server never dies on a document: binary, NUL bytes, lone surrogates, oversized text, a huge line,
odd line ends; requests at positions past the end.  After each, it still publishes and answers."""

from __future__ import annotations

import subprocess
import sys

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from compiler.parse import MAX_FILE_BYTES
from tests.lsp_client import CONFIG, ROOT, close, open_text, published, replace_all, start

HOSTILE = {
    "nul": "TITLE: x\x00\nCAST\n",
    "lone-surrogate": "TITLE: \ud800\nCAST\nMAYA: image a.jpg\n\nMAYA waits.\n",
    "oversized": "MAYA waits.\n" * (MAX_FILE_BYTES // 12 + 10),
    "huge-capitals-line": "CAST\nMAYA: image a.jpg\n\n" + "MAYAB " * 40_000 + "\n",
    "binary-as-latin1": bytes(range(256)).decode("latin-1") * 40,
    "carriage-returns": "TITLE: x\rCAST\rMAYA: image a.jpg\r\rMAYA waits.\r",
    "parentheses": "CAST\nMAYA: image a.jpg\n\nMAYA\n" + "(" * 5000 + "\nhello\n",
    "bom-and-crlf": "\ufeffTITLE: x\r\nCAST\r\nMAYA: image a.jpg\r\n\r\nMAYA waits.\r\n",
    "empty": "",
}


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):
    await start(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_hostile_document_is_answered_and_the_server_lives_on(client: LanguageClient, name: str) -> None:
    path = ROOT / "tests" / "cases" / f"hostile-{name}.scene"  # never written: the text lives in the editor
    uri = open_text(client, path, HOSTILE[name])
    first = await published(client, uri, 1)
    assert all(d.source == "scenec" for d in first.diagnostics)
    ident = lsp.TextDocumentIdentifier(uri=uri)
    far = lsp.Position(line=10**6, character=10**6)
    for position in (lsp.Position(line=0, character=0), lsp.Position(line=2, character=3), far):
        await client.text_document_hover_async(lsp.HoverParams(text_document=ident, position=position))
        await client.text_document_completion_async(lsp.CompletionParams(text_document=ident, position=position))
        await client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=ident, range=lsp.Range(start=position, end=far),
            context=lsp.CodeActionContext(diagnostics=[])))
    await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=ident))
    await client.text_document_folding_range_async(lsp.FoldingRangeParams(text_document=ident))
    replace_all(client, uri, "CAST\nMAYA: image a.jpg\n\nMAYA waits.\n", 2)
    assert {d.code for d in (await published(client, uri, 2)).diagnostics} == {"file-missing"}
    # The same text typed below a clean version: parsed from that version's parse (paragraphs reused).
    replace_all(client, uri, "CAST\nMAYA: image a.jpg\n\nMAYA waits.\n\n" + HOSTILE[name], 3)
    assert all(d.source == "scenec" for d in (await published(client, uri, 3)).diagnostics)
    close(client, uri)


@pytest.mark.asyncio(loop_scope="module")
async def test_oversized_text_gets_the_command_lines_diagnostic(client: LanguageClient) -> None:
    uri = open_text(client, ROOT / "tests" / "cases" / "hostile-big.scene", HOSTILE["oversized"])
    assert [d.code for d in (await published(client, uri, 1)).diagnostics] == ["file-too-large"]
    close(client, uri)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_document_without_a_file_is_answered_without_crashing(client: LanguageClient) -> None:
    """An unsaved buffer (untitled:) has no folder to resolve media against: no diagnostics, no crash."""
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri="untitled:Untitled-1", language_id="scene", version=1, text="CAST\nMAYA: image a.jpg\n")))
    ident = lsp.TextDocumentIdentifier(uri="untitled:Untitled-1")
    assert await client.text_document_hover_async(lsp.HoverParams(
        text_document=ident, position=lsp.Position(line=1, character=1))) is None
    uri = open_text(client, ROOT / "tests" / "cases" / "hostile-after.scene", "CAST\nMAYA: image a.jpg\n")
    assert {d.code for d in (await published(client, uri, 1)).diagnostics} >= {"file-missing"}
    close(client, uri)


def test_check_does_not_import_the_language_server() -> None:
    """`scenec check` runs on every save: the server's libraries stay out of its start-up."""
    code = ("import sys; from compiler.cli import main; main(['check', sys.argv[1]]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'cattrs') "
            "or m.startswith('compiler.lsp')))")
    done = subprocess.run([sys.executable, "-c", code, str(ROOT / "scenes" / "alley.scene")],
                          capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_lsp_help_does_not_start_a_server() -> None:
    done = subprocess.run([sys.executable, "-m", "compiler", "lsp", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "--tcp" in done.stdout
