"""A pytest-lsp client for scenec's language server that keeps every publishDiagnostics with its version."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types as lsp
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

ROOT = Path(__file__).resolve().parent.parent
PUBLISH = lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
WAIT = 60.0  # a guard against a hang, not a speed requirement


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    client.published = []  # every PublishDiagnosticsParams, in arrival order

    def record(client: LanguageClient, params: lsp.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)

    client.registrations = []  # what the server asked to register (file watchers)

    def register(client: LanguageClient, params: lsp.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, PUBLISH: record,
                                   lsp.CLIENT_REGISTER_CAPABILITY: register})
    return client


# What an editor like VS Code offers for the features these tests use.
WATCHING = lsp.ClientCapabilities(workspace=lsp.WorkspaceClientCapabilities(
    did_change_watched_files=lsp.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)))


CONFIG = ClientServerConfig(server_command=[sys.executable, "-m", "compiler", "lsp"], client_factory=make_client)


async def start(client: LanguageClient, capabilities: lsp.ClientCapabilities | None = None) -> lsp.InitializeResult:
    return await client.initialize_session(lsp.InitializeParams(
        capabilities=capabilities or lsp.ClientCapabilities(), root_uri=ROOT.as_uri()))


async def published(client: LanguageClient, uri: str, version: int | None = None) -> lsp.PublishDiagnosticsParams:
    """The first diagnostics published for uri (at version, when given), waiting for them to arrive."""
    async def arrive():
        while True:
            for params in client.published:
                if params.uri == uri and (version is None or params.version == version):
                    return params
            await client.wait_for_notification(PUBLISH)
    return await asyncio.wait_for(arrive(), WAIT)


def open_text(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.resolve().as_uri()
    language = "scenec-cast" if path.suffix == ".cast" else "scenec"
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=uri, language_id=language, version=version,
        text=path.read_text(encoding="utf-8") if text is None else text)))
    return uri


def replace_all(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


def close(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
