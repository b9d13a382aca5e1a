"""The pygls server: document sync, the analysis scheduler, and each LSP request handed to its feature module."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, TypeVar
from typing import Protocol as Structural

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from .. import __version__
from ..nodes import SceneFile
from ..source import Source
from . import actions, completion, formatting, hover, navigation, outline, tokens
from .analysis import Analysis, analyse
from .convert import to_lsp_diagnostics
from .crossing import forget as forget_crossing
from .crossing import install as remember_prompt_crossings
from .documents import CastFiles, source_of
from .media_cache import install as cache_media_probes
from .positions import SUPPORTED, Encoding
from .scheduler import Scheduler
from .shot_texts import forget as forget_rendered_shots
from .shot_texts import install as reuse_rendered_shots

__all__ = ["build_server", "ScenecServer"]

log = logging.getLogger(__name__)
Answer = TypeVar("Answer")
# Files whose change on disk can change a scene's diagnostics: cast files, images, videos, voices, config.
WATCHED = ("cast", "scene", "toml", "jpg", "jpeg", "png", "bmp", "webp", "gif", "mp4", "mov", "wav", "mp3")


class Protocol(LanguageServerProtocol):
    """pygls' protocol, offering only the position encodings the compiler converts to (UTF-16, UTF-32)."""

    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(self, params: lsp.InitializeParams) -> Generator[Any, Any, lsp.InitializeResult]:
        general = params.capabilities.general
        if general is not None and general.position_encodings is not None:
            general.position_encodings = [e for e in general.position_encodings if e in SUPPORTED]
        result: lsp.InitializeResult = yield from super().lsp_initialize(params)
        if isinstance(self._server, ScenecServer):
            encoding = self._server.workspace.position_encoding or lsp.PositionEncodingKind.Utf16
            self._server.encoding = Encoding(encoding)
        return result


class ScenecServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("scenec", __version__, protocol_cls=Protocol,
                         text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.encoding = Encoding()
        self.cast_files = CastFiles()
        self.scheduler = Scheduler(self.analyse_now, self.publish, self.version_of)

    # --- documents ---------------------------------------------------------------------------
    def path_of(self, uri: str) -> Path | None:
        fs_path = to_fs_path(uri)
        return Path(os.path.abspath(fs_path)) if fs_path else None

    def version_of(self, uri: str) -> int | None:
        document = self.workspace.text_documents.get(uri)
        return None if document is None else (document.version or 0)

    def analyse_now(self, uri: str) -> Analysis | None:
        """Runs on the worker thread: the document's newest text, checked as `scenec check` would."""
        document = self.workspace.text_documents.get(uri)
        path = self.path_of(uri)
        if document is None or path is None:
            return None
        version, text = document.version or 0, document.source
        return analyse(uri, path, version, text, self.cast_files, self.scheduler.latest.get(uri))

    async def publish(self, analysis: Analysis) -> None:
        try:
            diagnostics = to_lsp_diagnostics(analysis, self.encoding, self.source_of)
        except Exception:  # a conversion bug must not stop the worker
            log.exception("converting the diagnostics of %s failed", analysis.uri)
            return
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=analysis.uri, diagnostics=diagnostics, version=analysis.version))

    def source_of(self, path: str) -> Source | None:
        return source_of(self.cast_files, path)

    def changed(self, uri: str) -> None:
        """A document's text changed: re-check it, and the open scenes that import it."""
        document = self.workspace.text_documents.get(uri)
        path = self.path_of(uri)
        if document is not None and path is not None:
            self.cast_files.set_open(str(path), document.version or 0, document.source)
        self.scheduler.touch(uri)
        for other, analysis in list(self.scheduler.latest.items()):
            if other != uri and path is not None and str(path) in analysis.imports:
                self.scheduler.touch(other)

    def closed(self, uri: str) -> None:
        path = self.path_of(uri)
        if path is not None:
            self.cast_files.close(str(path))
            forget_rendered_shots(str(path))
            forget_crossing(str(path))
        self.scheduler.forget(uri)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        for other, analysis in list(self.scheduler.latest.items()):
            if path is not None and str(path) in analysis.imports:
                self.scheduler.touch(other)  # it read the editor's text; now the file on disk counts

    async def watch_files(self) -> None:
        """Ask the client to report media and cast files changing on disk (when it can register watchers)."""
        capability = self.client_capabilities.workspace
        watched = capability.did_change_watched_files if capability else None
        if not (watched and watched.dynamic_registration):
            return
        watchers = [lsp.FileSystemWatcher(glob_pattern=f"**/*.{{{','.join(WATCHED)}}}")]
        try:
            await self.client_register_capability_async(lsp.RegistrationParams(registrations=[lsp.Registration(
                id="scenec-files", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))]))
        except Exception:  # the client declined: edits of open files still re-check
            log.exception("registering file watchers failed")

    def files_changed(self) -> None:
        """A media or cast file changed on disk: every open document may read it, so re-check them all
        (probes and cast parses are cached by modification time, so unchanged files cost a stat)."""
        for uri in list(self.workspace.text_documents):
            self.scheduler.touch(uri)

    def open_analyses(self) -> list[Analysis]:
        return list(self.scheduler.latest.values())

    def workspace_view(self) -> navigation.View:
        return navigation.View(self.open_analyses(), self.encoding, self.source_of, self.parse_cast)

    def parse_cast(self, path: str) -> SceneFile:
        scene_file, _ = self.cast_files.parse(Path(path), os.path.abspath(path))
        return scene_file


def build_server() -> ScenecServer:
    cache_media_probes()
    remember_prompt_crossings()
    reuse_rendered_shots()
    server = ScenecServer()
    register(server)
    return server


def register(server: ScenecServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ScenecServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.changed(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ScenecServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.changed(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ScenecServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.changed(params.text_document.uri)  # media next to it may have changed too

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ScenecServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.closed(params.text_document.uri)

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: ScenecServer, params: lsp.InitializedParams) -> None:
        await ls.watch_files()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files_changed(ls: ScenecServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        ls.files_changed()

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: ScenecServer, *_: object) -> None:
        ls.scheduler.shutdown()

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: ScenecServer, params: lsp.HoverParams) -> lsp.Hover | None:
        return await answer(ls, params, hover.hover, params.position, ls.encoding)

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                    lsp.CompletionOptions(trigger_characters=[" ", ":", "/", ",", "."]))
    async def on_completion(ls: ScenecServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        return await answer(ls, params, completion.complete, params.position, ls.encoding)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    async def on_definition(ls: ScenecServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        return await answer(ls, params, navigation.definition, params.position, workspace=True)

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    async def on_references(ls: ScenecServer, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
        return await answer(ls, params, navigation.references, params.position,
                            params.context.include_declaration, workspace=True)

    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    async def on_prepare_rename(ls: ScenecServer,
                                params: lsp.PrepareRenameParams) -> lsp.PrepareRenamePlaceholder | None:
        return await answer(ls, params, navigation.prepare_rename, params.position, workspace=True)

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    async def on_rename(ls: ScenecServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        return await answer(ls, params, navigation.rename, params.position, params.new_name, workspace=True)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def on_symbols(ls: ScenecServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol] | None:
        return await answer(ls, params, outline.symbols, ls.encoding)

    @server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
    async def on_folding(ls: ScenecServer, params: lsp.FoldingRangeParams) -> list[lsp.FoldingRange] | None:
        return await answer(ls, params, outline.folding_ranges)

    @server.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, tokens.LEGEND)
    async def on_semantic_tokens(ls: ScenecServer, params: lsp.SemanticTokensParams) -> lsp.SemanticTokens | None:
        return await answer(ls, params, tokens.semantic_tokens, ls.encoding)

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    async def on_formatting(ls: ScenecServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        return await answer(ls, params, formatting.format_edits, ls.encoding)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    async def on_code_action(ls: ScenecServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        return await answer(ls, params, actions.code_actions, params, ls.encoding)


class AboutDocument(Structural):
    """Request parameters that name a document (hover, completion, definition ...)."""

    @property
    def text_document(self) -> lsp.TextDocumentIdentifier: ...


async def answer(ls: ScenecServer, params: AboutDocument, feature: Callable[..., Answer], *args: object,
                 workspace: bool = False) -> Answer | None:
    """A request about a document: the feature run on its current analysis (after the workspace view when
    it reaches other files), guarded; none while the document has no analysis."""
    analysis = await ls.scheduler.current(params.text_document.uri)
    if analysis is None:
        return None
    lead: tuple[object, ...] = (ls.workspace_view(), analysis) if workspace else (analysis,)
    return guarded(feature, *lead, *args)


def guarded(feature: Callable[..., Answer], *args: object) -> Answer | None:
    """A feature's answer, or none when it fails: one odd document must not take the server down."""
    try:
        return feature(*args)
    except Exception:
        log.exception("%s failed", getattr(feature, "__name__", feature))
        return None
