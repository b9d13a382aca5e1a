"""End-to-end tests of `scenec lsp` (pytest-lsp drives the real server process): edits and versions,
UTF-16 positions, hover, completion, definition, references, rename, code actions, a cast-file edit,
outline and folding.  Edited copies of the example project live in a temporary folder."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from compiler.api import compile_file, compile_text
from tests.lsp_client import CONFIG, ROOT, WATCHING, close, open_text, published, replace_all, start

ASYNC = pytest.mark.asyncio(loop_scope="module")
pytestmark = ASYNC


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):
    await start(lsp_client, WATCHING)
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of scenes/ and tests/cases/ that the tests may edit."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "scenes", root / "scenes")
    shutil.copytree(ROOT / "tests" / "cases", root / "cases")
    return root


def doc(uri: str) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=uri)


def at(text: str, needle: str, nth: int = 0, shift: int = 0) -> lsp.Position:
    """The position (UTF-16) of the nth occurrence of needle, plus shift code points."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    offset += shift
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return lsp.Position(line=line, character=len(text[line_start:offset].encode("utf-16-le")) // 2)


def cli_check(path: Path) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "compiler", "check", "--format", "json", str(path)],
                          capture_output=True, text=True)
    return json.loads(done.stdout)["diagnostics"]


# --- diagnostics and versions ------------------------------------------------------------------

async def test_every_version_is_answered_and_never_an_older_one_after_a_newer(client, project) -> None:
    path = project / "scenes" / "alley.scene"
    text = path.read_text(encoding="utf-8")
    uri = open_text(client, path, text)
    await published(client, uri, 1)
    for version in range(2, 12):  # a burst of edits, faster than the server checks them
        replace_all(client, uri, text.replace("LEO", "LEOO" if version % 2 else "LEO", 1), version)
    final = await published(client, uri, 11)
    versions = [p.version for p in client.published if p.uri == uri]
    assert versions == sorted(versions) and versions[-1] == 11
    # Version 11 holds "LEOO" in place of the first LEO: the declaration, so LEO is unknown everywhere.
    codes = sorted(d.code for d in final.diagnostics)
    assert "unknown-name" in codes and "unknown-speaker" in codes
    replace_all(client, uri, text, 12)
    assert not (await published(client, uri, 12)).diagnostics  # published even when clean
    close(client, uri)


async def test_positions_are_utf16_after_emoji_and_chinese(client, project) -> None:
    path = project / "scenes" / "emoji.scene"
    text = ("CAST\nMAYA: image media/girl.mp4\n\n🎬😀 MAYAA 走进来。\n\n-- 𝒳 and e\u0301\nMAYA\n你好 😀 MAYA\n")
    uri = open_text(client, path, text)
    found = {d.code: d for d in (await published(client, uri, 1)).diagnostics}
    misspelt = found["possible-misspelt-name"].range
    # two emoji of two UTF-16 units each, then a space: MAYAA starts at character 5
    assert (misspelt.start.line, misspelt.start.character, misspelt.end.character) == (3, 5, 10)
    close(client, uri)


async def test_a_cast_file_edit_rechecks_the_open_scenes_that_import_it(client, project) -> None:
    scene_path, cast_path = project / "scenes" / "night-shift.scene", project / "scenes" / "cast" / "leads.cast"
    scene_uri = open_text(client, scene_path)
    assert not (await published(client, scene_uri, 1)).diagnostics
    cast_text = cast_path.read_text(encoding="utf-8")
    cast_uri = open_text(client, cast_path, cast_text)
    await published(client, cast_uri, 1)
    replace_all(client, cast_uri, cast_text.replace("RIO (", "RYO ("), 2)  # unsaved: the editor's text counts
    await published(client, cast_uri, 2)
    # The scene is re-checked without being edited: its version stays 1, its diagnostics change.
    await until(client, lambda: "unknown-speaker" in last_codes(client, scene_uri))
    close(client, cast_uri)  # back to the file on disk: clean again
    await until(client, lambda: not last_codes(client, scene_uri))
    close(client, scene_uri)


def last_codes(client, uri: str) -> set[str]:
    return {d.code for d in [p for p in client.published if p.uri == uri][-1].diagnostics}


async def until(client, condition) -> None:
    async def wait():
        while not condition():
            await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    await asyncio.wait_for(wait(), 60)


async def test_a_media_file_appearing_on_disk_clears_its_diagnostic(client, project) -> None:
    path = project / "scenes" / "late-media.scene"
    path.write_text("CAST\nMAYA: image media/late.jpg\n\nMAYA waits.\n", encoding="utf-8")
    uri = open_text(client, path)
    assert "file-missing" in {d.code for d in (await published(client, uri, 1)).diagnostics}
    # The server asked the editor to watch media files (sent at start-up, answered before this publish).
    (watch,) = [r for r in client.registrations if r.method == lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert "jpg" in watch.register_options["watchers"][0]["globPattern"]
    shutil.copy(project / "scenes" / "media" / "boy.jpg", project / "scenes" / "media" / "late.jpg")
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(
        uri=(project / "scenes" / "media" / "late.jpg").as_uri(), type=lsp.FileChangeType.Created)]))
    await until(client, lambda: not last_codes(client, uri))
    close(client, uri)


# --- hover --------------------------------------------------------------------------------------

async def test_hover_on_a_cast_name_in_the_cast_action_cue_and_framing(client) -> None:
    path = ROOT / "scenes" / "alley.scene"
    text = path.read_text(encoding="utf-8")
    uri = open_text(client, path, text)
    await published(client, uri, 1)
    for needle, nth in (("LEO (the boy)", 0), ("ON LEO", 0), ("\nLEO\n", 0)):
        shift = 3 if needle.startswith("ON") else (1 if needle.startswith("\n") else 0)
        hover = await client.text_document_hover_async(lsp.HoverParams(text_document=doc(uri),
                                                                       position=at(text, needle, nth, shift)))
        value = hover.contents.value
        assert "**LEO** (the boy)" in value and "**Image 1**" in value and "media index 1" in value, value
        assert "media/boy.jpg" in value and "voice: `media/boy.mp3`" in value and "character, image" in value
    maya = await client.text_document_hover_async(lsp.HoverParams(text_document=doc(uri),
                                                                  position=at(text, "MAYA walks")))
    assert "**Video 1**" in maya.contents.value and "media index 0" in maya.contents.value
    close(client, uri)


async def test_hover_on_a_setting_gives_its_meaning_and_values(client) -> None:
    path = ROOT / "scenes" / "alley.scene"
    text = path.read_text(encoding="utf-8")
    uri = open_text(client, path, text)
    await published(client, uri, 1)
    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=doc(uri),
                                                                   position=at(text, "RESOLUTION")))
    assert "resolution" in hover.contents.value and "720P, 1080P" in hover.contents.value
    close(client, uri)


async def test_hover_on_a_shot_shows_the_prompt_it_compiles_to(client) -> None:
    path = ROOT / "scenes" / "alley.scene"
    text = path.read_text(encoding="utf-8")
    prompt = compile_file(path).prompt
    uri = open_text(client, path, text)
    await published(client, uri, 1)
    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=doc(uri),
                                                                   position=at(text, "CLOSE-UP")))
    shown = hover.contents.value.split("> ", 1)[1]
    assert "Shot 2" in hover.contents.value and shown in prompt and "close-up of Image 1" in shown
    close(client, uri)


async def test_hover_on_a_kling_timed_shot_shows_the_multi_prompt_item_sent(client) -> None:
    # Kling sends timed shots apart and reads no whole prompt then: the hover shows the item, as sent.
    path = ROOT / "tests" / "cases" / "timed-every-shot.scene"
    text = "MODEL: kling/kling-v3-omni-video-generation\n" + path.read_text(encoding="utf-8")
    compiled = compile_text(text, path)
    assert compiled.payload is not None, compiled.diagnostics
    items = compiled.payload.model_dump(mode="json")["input"]["multi_prompt"]
    uri = open_text(client, path, text)
    await published(client, uri, 1)
    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=doc(uri),
                                                                   position=at(text, "CLOSE ON LEO")))
    assert "**Shot 2** is sent as its own prompt (multi_prompt item 2)" in hover.contents.value
    assert hover.contents.value.split("> ", 1)[1] == items[1]["prompt"]
    close(client, uri)


# --- completion ---------------------------------------------------------------------------------

async def complete(client, uri: str, position: lsp.Position) -> list[str]:
    result = await client.text_document_completion_async(lsp.CompletionParams(text_document=doc(uri),
                                                                              position=position))
    return [item.label for item in (result.items if isinstance(result, lsp.CompletionList) else result or [])]


async def test_completion_of_names_framings_settings_and_media(client, project) -> None:
    path = project / "scenes" / "alley.scene"
    text = path.read_text(encoding="utf-8")
    uri = open_text(client, path, text, version=20)
    await published(client, uri, 20)
    assert {"MAYA", "LEO", "ALLEY"} <= set(await complete(client, uri, at(text, "ON LEO", shift=3)))
    in_action = await complete(client, uri, at(text, "MAYA walks", shift=2))
    assert "MAYA" in in_action and "LEO" not in in_action  # what was typed ("MA") filters
    line_start = await complete(client, uri, at(text, "\nLEO\n", shift=1))
    assert {"CLOSE-UP ON", "CUT TO", "MAYA", "WIDE SHOT ON"} <= set(line_start)
    after_transition = await complete(client, uri, at(text, "CLOSE-UP ON LEO", shift=3))
    assert "CLOSE-UP ON" in after_transition and "CUT TO" not in after_transition
    assert {"DURATION:", "RATIO:", "CAST"} <= set(await complete(client, uri, at(text, "TITLE")))
    assert set(await complete(client, uri, at(text, "1080P"))) >= {"720P", "1080P"}
    images = await complete(client, uri, at(text, "media/boy.jpg"))
    assert "media/boy.jpg" in images and "media/girl.mp4" not in images
    voices = await complete(client, uri, at(text, "media/boy.mp3"))
    assert "media/boy.mp3" in voices and "media/boy.jpg" not in voices
    close(client, uri)


# --- definition, references, rename ----------------------------------------------------------------

async def test_definition_references_and_rename_across_scene_and_cast_file(client, project) -> None:
    scene_path, cast_path = project / "scenes" / "night-shift.scene", project / "scenes" / "cast" / "leads.cast"
    text, cast_text = scene_path.read_text(encoding="utf-8"), cast_path.read_text(encoding="utf-8")
    uri = open_text(client, scene_path, text)
    await published(client, uri, 1)
    where = at(text, "NOVA sits")
    definition = await client.text_document_definition_async(lsp.DefinitionParams(text_document=doc(uri),
                                                                                  position=where))
    assert definition.uri == cast_path.resolve().as_uri()
    assert definition.range.start == at(cast_text, "NOVA")
    found = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=doc(uri), position=where, context=lsp.ReferenceContext(include_declaration=True)))
    in_scene = sorted(r.range.start.line for r in found if r.uri == uri)
    assert len(in_scene) == text.count("NOVA") and any(r.uri == cast_path.resolve().as_uri() for r in found)
    edit = await client.text_document_rename_async(lsp.RenameParams(text_document=doc(uri), position=where,
                                                                    new_name="NURSE"))
    renamed_scene = apply(text, edit.changes[uri])
    renamed_cast = apply(cast_text, edit.changes[cast_path.resolve().as_uri()])
    assert "NOVA" not in renamed_scene and "NURSE (a tired" in renamed_cast
    scene_path.write_text(renamed_scene, encoding="utf-8")
    cast_path.write_text(renamed_cast, encoding="utf-8")
    try:
        assert cli_check(scene_path) == []  # the renamed project still checks clean
    finally:
        scene_path.write_text(text, encoding="utf-8")
        cast_path.write_text(cast_text, encoding="utf-8")
    close(client, uri)


async def test_rename_in_a_cast_file_reaches_every_open_scene_that_imports_it(client, project) -> None:
    cast_path = project / "scenes" / "cast" / "leads.cast"
    cast_text = cast_path.read_text(encoding="utf-8")
    night = project / "scenes" / "night-shift.scene"
    other = project / "scenes" / "break-room.scene"
    other.write_text("CAST FROM cast/leads.cast\n\nRIO hands NOVA a coffee.\n", encoding="utf-8")
    uris = [open_text(client, path) for path in (night, other)]
    cast_uri = open_text(client, cast_path, cast_text)
    for uri in uris + [cast_uri]:
        await published(client, uri, 1)
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=doc(cast_uri), position=at(cast_text, "RIO"), new_name="RYO"))
    assert set(edit.changes) == {cast_uri, *uris}
    renamed = apply(other.read_text(encoding="utf-8"), edit.changes[uris[1]])
    assert renamed == "CAST FROM cast/leads.cast\n\nRYO hands NOVA a coffee.\n"
    for uri in uris + [cast_uri]:
        close(client, uri)
    other.unlink()


def apply(text: str, edits: list[lsp.TextEdit]) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def offset(position: lsp.Position) -> int:  # ASCII in these files: characters are code points
        return offsets[position.line] + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


# --- code actions -------------------------------------------------------------------------------

async def fixes(client, uri: str, text: str, needle: str) -> list[lsp.CodeAction]:
    position = at(text, needle)
    return await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=doc(uri), range=lsp.Range(start=position, end=position),
        context=lsp.CodeActionContext(diagnostics=[])))


async def test_quick_fixes(client, project) -> None:
    names = project / "cases" / "negative" / "names.scene"
    text = names.read_text(encoding="utf-8")
    uri = open_text(client, names, text)
    await published(client, uri, 1)
    did_you_mean = await fixes(client, uri, text, "DURATOIN")
    assert apply(text, did_you_mean[0].edit.changes[uri]).count("DURATION: 5s") == 1
    unused = await fixes(client, uri, text, "LEO: image")
    assert "LEO: image" not in apply(text, unused[0].edit.changes[uri])
    speaker = await fixes(client, uri, text, "MAYO")
    assert apply(text, speaker[0].edit.changes[uri]).endswith("MAYA\nHello.\n")
    close(client, uri)

    style = project / "cases" / "negative" / "style.scene"
    text = style.read_text(encoding="utf-8")
    uri = open_text(client, style, text)
    await published(client, uri, 1)
    literal = await fixes(client, uri, text, "Image 2")
    assert "MAYA waves at LEO." in apply(text, literal[0].edit.changes[uri])
    framing = await fixes(client, uri, text, "CLOSEUP")
    assert "\nCLOSE UP ON LEO\n" in apply(text, framing[0].edit.changes[uri])  # the hint's alias
    blank = await fixes(client, uri, text, "CUT TO BLACK")
    fixed = apply(text, blank[0].edit.changes[uri])
    style.write_text(fixed, encoding="utf-8")
    assert "caps-line-in-dialogue" not in {d["code"] for d in cli_check(style)}
    close(client, uri)


# --- outline -------------------------------------------------------------------------------------

async def test_symbols_and_folding(client) -> None:
    path = ROOT / "scenes" / "night-shift.scene"
    uri = open_text(client, path)
    await published(client, uri, 1)
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=doc(uri)))
    names = [s.name for s in symbols]
    assert names[:2] == ["TITLE", "DURATION"] and "CAST" in names
    cast = next(s for s in symbols if s.name == "CAST")
    assert [c.name for c in cast.children] == ["CORRIDOR", "TRAY", "CAST FROM cast/leads.cast"]
    assert [s.name for s in symbols if s.name.startswith("Shot")] == ["Shot 1", "Shot 2", "Shot 3"]
    folds = await client.text_document_folding_range_async(lsp.FoldingRangeParams(text_document=doc(uri)))
    assert len(folds) >= 4 and all(f.end_line > f.start_line for f in folds)
    close(client, uri)


# --- formatting ----------------------------------------------------------------------------------

async def test_formatting_gives_fmt_layout_and_nothing_for_a_canonical_file(client, project) -> None:
    from compiler.fmt import format_text

    path = project / "scenes" / "messy.scene"
    text = "duration:   5s\nCAST\nMAYA: image media/girl.jpg\nLEO:   image media/boy.jpg\n\nMAYA waves at LEO.\n"
    path.write_text(text, encoding="utf-8")
    expected = format_text(text, path)
    assert expected.changed  # the test needs a file fmt would change
    uri = open_text(client, path, text)
    await published(client, uri, 1)
    options = lsp.FormattingOptions(tab_size=4, insert_spaces=True)
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(text_document=doc(uri),
                                                                                      options=options))
    formatted = apply(text, edits)
    assert formatted == expected.text
    replace_all(client, uri, formatted, 2)
    await published(client, uri, 2)
    again = await client.text_document_formatting_async(lsp.DocumentFormattingParams(text_document=doc(uri),
                                                                                      options=options))
    assert not again
    close(client, uri)
