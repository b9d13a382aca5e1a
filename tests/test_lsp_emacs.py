"""A real editor drives the real server: Emacs in batch mode, with docs/editors.md's set-up
(editors/emacs/scenec.el) and eglot, opens a negative case; flymake must show `scenec check`'s diagnostics.
Skipped where Emacs or eglot is not installed (.ci/run installs Debian's emacs-nox and elpa-eglot when it can)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EMACS = shutil.which("emacs")


def eglot_available() -> bool:
    if EMACS is None:
        return False
    done = subprocess.run([EMACS, "--batch", "--eval", "(progn (package-activate-all) (require 'eglot))"],
                          capture_output=True, timeout=120)
    return done.returncode == 0


pytestmark = pytest.mark.skipif(not eglot_available(), reason="Emacs with eglot is not installed "
                                "(apt-get install emacs-nox elpa-eglot; eglot is built into Emacs 29+)")
SEVERITY = {"error": "eglot-error", "warning": "eglot-warning"}


def drive(tmp_path: Path, scene: Path) -> dict:
    command = [str(Path(sys.executable).parent / "scenec"), "lsp"]
    init = tmp_path / "init.el"
    # An interactive Emacs activates installed packages (eglot on Emacs 28) at start-up; batch mode does not.
    init.write_text("(package-activate-all)\n"
                    f"(setq scenec-lsp-command '({' '.join(json.dumps(c) for c in command)}))\n"
                    f"(load {json.dumps(str(ROOT / 'editors' / 'emacs' / 'scenec.el'))})\n", encoding="utf-8")
    out = tmp_path / "out.json"
    env = {"SCENEC_EMACS_OUT": str(out), "SCENEC_SCENE": str(scene), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([EMACS, "--batch", "-l", str(init), "-l", str(ROOT / "tests" / "emacs_probe.el")],
                   env=env, timeout=300, capture_output=True)
    return json.loads(out.read_text(encoding="utf-8"))


def test_emacs_eglot_shows_the_diagnostics_of_check(tmp_path: Path) -> None:
    scene = ROOT / "tests" / "cases" / "negative" / "names.scene"
    shown = drive(tmp_path, scene)
    done = subprocess.run([sys.executable, "-m", "compiler", "check", "--format", "json", str(scene)],
                          capture_output=True, text=True)
    expected = json.loads(done.stdout)["diagnostics"]
    assert shown["managed"], "eglot did not manage the buffer"
    # eglot writes "source [code]: message"; Emacs columns are 0-based characters (the text is ASCII).
    assert sorted((d["line"], d["column"], d["type"], d["text"]) for d in shown["diagnostics"]) == sorted(
        (d["span"]["line"], d["span"]["column"] - 1, SEVERITY[d["severity"]], f"scenec [{d['code']}]: {d['message']}")
        for d in expected)
