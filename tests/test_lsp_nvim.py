"""A real editor drives the real server: headless Neovim with docs/editors.md's set-up
(editors/nvim/scenec.lua) opens a negative case and must show `scenec check`'s diagnostics and a hover.
Skipped where nvim is not installed (.ci/run installs Debian's neovim when it can)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim is not installed (apt-get install neovim)")


def drive(tmp_path: Path, scene: Path, hover_line: int, hover_column: int) -> dict:
    init = tmp_path / "init.lua"
    command = [str(Path(sys.executable).parent / "scenec"), "lsp"]
    init.write_text(f"vim.g.scenec_command = {{ {', '.join(json.dumps(c) for c in command)} }}\n"
                    f"dofile({json.dumps(str(ROOT / 'editors' / 'nvim' / 'scenec.lua'))})\n", encoding="utf-8")
    out = tmp_path / "out.json"
    env = {"SCENEC_NVIM_OUT": str(out), "SCENEC_HOVER_LINE": str(hover_line), "SCENEC_HOVER_COL": str(hover_column),
           "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([NVIM, "--headless", "-u", str(init), "-c", f"luafile {ROOT / 'tests' / 'nvim_probe.lua'}",
                    str(scene)], env=env, timeout=300, capture_output=True)
    return json.loads(out.read_text(encoding="utf-8"))


def test_neovim_shows_the_diagnostics_of_check_and_a_hover(tmp_path: Path) -> None:
    scene = ROOT / "tests" / "cases" / "negative" / "names.scene"
    shown = drive(tmp_path, scene, hover_line=7, hover_column=2)  # on MAYA in the cast
    done = subprocess.run([sys.executable, "-m", "compiler", "check", "--format", "json", str(scene)],
                          capture_output=True, text=True)
    expected = json.loads(done.stdout)["diagnostics"]
    assert shown["waited"]
    # ASCII text: Neovim's byte columns are the compiler's columns less one.
    assert sorted((d["code"], d["lnum"], d["col"], d["message"]) for d in shown["diagnostics"]) == sorted(
        (d["code"], d["span"]["line"] - 1, d["span"]["column"] - 1, d["message"]) for d in expected)
    assert "**MAYA**" in shown["hover"] and "**Image 1**" in shown["hover"]
