"""console.py: what the command modules share, printed the same way by every command."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.console import EXIT_ERRORS, collect

BROKEN = "CAST\nMAYA: image\n"  # a member without its path: a syntax error at 2:12


def test_fmt_prints_a_syntax_error_as_check_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    scene = tmp_path / "broken.scene"
    scene.write_text(BROKEN, encoding="utf-8")
    assert main(["check", str(scene)]) == EXIT_ERRORS
    checked = capsys.readouterr().out.splitlines()
    error = next(i for i, line in enumerate(checked) if "unexpected-token" in line)
    assert checked[error].startswith(f"{scene}:2:12: unexpected-token error")
    assert checked[error + 1:error + 3] == ["    MAYA: image", "               ^"]  # the source line and caret

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(BROKEN.encode()), encoding="utf-8"))
    assert main(["fmt", "-"]) == EXIT_ERRORS
    printed = capsys.readouterr().err.splitlines()
    # The same line, named for standard input; no source line, since there is no file to read it from.
    assert printed == [checked[error].replace(str(scene), "<stdin>")]


def test_collect_walks_folders_in_order_and_names_what_is_missing(tmp_path: Path) -> None:
    for name in ("b.scene", "a/c.scene", ".hidden/d.scene", "a/e.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    files, missing = collect([tmp_path, tmp_path / "nowhere.scene"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a/c.scene", "b.scene"]
    assert missing == [str(tmp_path / "nowhere.scene")]
