"""The VS Code extension's files agree with each other and with the grammar; its client is valid JavaScript."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"


def test_extension_manifest_declares_both_file_types_and_the_grammar() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    grammar = json.loads((ROOT / "grammar" / "scene.tmLanguage.json").read_text(encoding="utf-8"))
    (language,) = manifest["contributes"]["languages"]
    assert set(language["extensions"]) == {".scene", ".cast"}
    (contributed,) = manifest["contributes"]["grammars"]
    assert contributed["scopeName"] == grammar["scopeName"] and contributed["language"] == language["id"]
    assert (EXTENSION / language["configuration"]).is_file() and (EXTENSION / manifest["main"]).is_file()
    assert manifest["contributes"]["configuration"]["properties"]["scenec.command"]["default"] == ["scenec", "lsp"]
    # The build copies the one grammar into syntaxes/ (packaged from this folder alone).
    copier = (EXTENSION / "scripts" / "copy-grammar.js").read_text(encoding="utf-8")
    assert '"grammar", "scene.tmLanguage.json"' in copier
    assert contributed["path"].endswith("syntaxes/scene.tmLanguage.json")


def test_language_configuration_comments_with_double_dash() -> None:
    configuration = json.loads((EXTENSION / "language-configuration.json").read_text(encoding="utf-8"))
    assert configuration["comments"]["lineComment"] == "--"
    assert ["(", ")"] in configuration["brackets"] and ["[", "]"] in configuration["brackets"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: the client's syntax is not checked")
def test_client_and_build_script_are_valid_javascript() -> None:
    for script in (EXTENSION / "extension.js", EXTENSION / "scripts" / "copy-grammar.js"):
        done = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_editors_page_shows_the_tested_neovim_setup_verbatim() -> None:
    page = (ROOT / "docs" / "editors.md").read_text(encoding="utf-8")
    setup = (ROOT / "editors" / "nvim" / "scenec.lua").read_text(encoding="utf-8").rstrip()
    assert setup in page
    assert "[language-server.scenec]" in page and "eglot-server-programs" in page
