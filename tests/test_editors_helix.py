"""Helix's set-up (editors/helix/languages.toml, shown in docs/editors.md) is valid TOML whose keys are those
Helix documents (book/src/languages.md of helix-editor/helix), and it starts the real server on the same files
as the other editors. Helix is neither packaged for Debian bookworm nor on PyPI, so no test runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "editors" / "helix" / "languages.toml"

# The keys Helix's documentation lists for a [[language]] and for a [language-server.NAME] table.
LANGUAGE_KEYS = {"name", "language-id", "scope", "injection-regex", "file-types", "shebangs", "roots", "auto-format",
                 "diagnostic-severity", "comment-tokens", "comment-token", "block-comment-tokens", "indent",
                 "language-servers", "grammar", "formatter", "soft-wrap", "text-width", "rulers", "path-completion",
                 "word-completion", "workspace-lsp-roots", "persistent-diagnostic-sources"}
SERVER_KEYS = {"command", "args", "config", "timeout", "environment", "required-root-patterns"}


def setup() -> dict:
    return tomllib.loads(SETUP.read_text(encoding="utf-8"))


def test_the_setup_uses_only_documented_keys() -> None:
    config = setup()
    assert set(config) == {"language-server", "language"}
    for server in config["language-server"].values():
        assert set(server) <= SERVER_KEYS
    for language in config["language"]:
        assert set(language) <= LANGUAGE_KEYS and "name" in language


def test_the_language_uses_the_server_it_defines_on_the_scene_and_cast_files() -> None:
    config = setup()
    (language,) = config["language"]
    assert all(name in config["language-server"] for name in language["language-servers"])
    manifest = json.loads((ROOT / "editors" / "vscode" / "package.json").read_text(encoding="utf-8"))
    (vscode,) = manifest["contributes"]["languages"]
    assert {f".{kind}" for kind in language["file-types"]} == set(vscode["extensions"])
    assert language["comment-token"] == "--" and language["roots"] == ["scenec.toml"]
    grammar = json.loads((ROOT / "grammar" / "scene.tmLanguage.json").read_text(encoding="utf-8"))
    assert language["scope"] == grammar["scopeName"]


def test_the_server_command_is_scenec_lsp() -> None:
    (server,) = setup()["language-server"].values()
    assert [server["command"], *server["args"]] == ["scenec", "lsp"]
    done = subprocess.run([sys.executable, "-m", "compiler", *server["args"], "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "language server" in done.stdout


def test_editors_page_shows_the_helix_and_emacs_setups_verbatim() -> None:
    page = (ROOT / "docs" / "editors.md").read_text(encoding="utf-8")
    for path in (SETUP, ROOT / "editors" / "emacs" / "scenec.el"):
        assert path.read_text(encoding="utf-8").rstrip() in page, path
