"""The server's diagnostics are `scenec check --format json`'s, for every example and negative case:
same code, severity, message and span (converted to LSP's 0-based UTF-16 here, independently of the server).
The expected side is the real command line, run now, so the test follows the compiler as it changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.lsp_client import CONFIG, ROOT, open_text, published, replace_all, start

ASYNC = pytest.mark.asyncio(loop_scope="module")

FILES = sorted([*ROOT.glob("scenes/*.scene"), *ROOT.glob("scenes/cast/*.cast"), *ROOT.glob("tests/cases/*.scene"),
                *ROOT.glob("tests/cases/negative/*.scene"), *ROOT.glob("tests/cases/negative/*.cast")])
SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):
    await start(lsp_client)
    yield
    await lsp_client.shutdown_session()


def check_one(path: Path) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "compiler", "check", "--format", "json", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout)["diagnostics"]


@pytest.fixture(scope="module")
def cli_diagnostics() -> dict[str, list[dict]]:
    """What the command line says of each file, checked one file at a time (as the server checks them).

    One process per file, as many at once as there are cores: they wait on nothing but the CPU."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return {str(path): found for path, found in zip(FILES, pool.map(check_one, FILES), strict=True)}


def utf16_position(text: str, line: int, column: int) -> tuple[int, int]:
    """0-based line and UTF-16 character of a 1-based line and code-point column (written here on purpose)."""
    line_text = text.split("\n")[line - 1].rstrip("\r") if line - 1 < len(text.split("\n")) else ""
    return line - 1, len(line_text[:column - 1].encode("utf-16-le")) // 2


def expected_range(text: str, span: dict | None) -> tuple:
    if span is None:
        return (0, 0, 0, 0)
    return (utf16_position(text, span["line"], span["column"])
            + utf16_position(text, span["end_line"], span["end_column"]))


def as_tuple(r: lsp.Range) -> tuple:
    return (r.start.line, r.start.character, r.end.line, r.end.character)


@ASYNC
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
async def test_diagnostics_match_the_command_line(client: LanguageClient, cli_diagnostics, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    uri = open_text(client, path, text)
    got = (await published(client, uri, 1)).diagnostics
    assert_same(got, cli_diagnostics[str(path)], text, path)


def assert_same(got: list[lsp.Diagnostic], expected: list[dict], text: str, path: Path) -> None:
    own = [d for d in expected if d["path"] == str(path)]
    theirs = [d for d in expected if d["path"] != str(path)]
    mine = [d for d in got if not (d.related_information and d.message.endswith(d.related_information[0].message)
                                   and d.message != d.related_information[0].message)]
    assert sorted((d.code, d.severity, d.message, as_tuple(d.range)) for d in mine) == sorted(
        (d["code"], SEVERITY[d["severity"]], d["message"], expected_range(text, d["span"])) for d in own)
    foreign = [d for d in got if d not in mine]
    assert len(foreign) == len(theirs)
    for want in theirs:
        other = Path(want["path"]).read_text(encoding="utf-8")
        match = [d for d in foreign if d.code == want["code"] and d.message.endswith(want["message"])
                 and d.related_information[0].location.uri == Path(want["path"]).resolve().as_uri()
                 and as_tuple(d.related_information[0].location.range) == expected_range(other, want["span"])]
        assert match, want


def long_scene(shots: int) -> str:
    """A scene whose prompt is over the limit (so check searches the line that crosses it)."""
    head = "TITLE: Long\nCAST\nMAYA (the girl): image media/girl.jpg\nLEO: image media/boy.jpg\n\n"
    return head + "".join(f"CUT TO CLOSE-UP ON MAYA.\nMAYA looks at LEO across the street, shot {i}.\n\n"
                          f"LEO\n(after a pause)\nWe should go now, before it rains.\n\n" for i in range(shots))


def edit_sequence(text: str) -> list[str]:
    """Versions a writer could type: in the middle (after the crossing line) and near the top (before it),
    a blank line that splits a paragraph and its removal, a misspelt name, a syntax error and its repair."""
    middle = text.index("shot 60")
    top = text.index("shot 3")
    versions = [text[:middle] + "x" + text[middle:]]
    versions.append(text)
    versions.append(text[:middle] + "\n\n" + text[middle:])
    versions.append(text[:middle] + "MAYAA " + text[middle:])
    versions.append(versions[-1][:top] + "and a long, long aside " * 8 + versions[-1][top:])
    versions.append(versions[-1].replace("CUT TO CLOSE-UP ON MAYA.\nMAYA looks at LEO across the street, shot 70",
                                         "WIDE ON MAYA AND\nMAYA looks at LEO across the street, shot 70"))
    versions.append(versions[-2])
    return versions


@ASYNC
async def test_diagnostics_after_each_edit_match_the_command_line(client: LanguageClient, tmp_path: Path) -> None:
    """The incremental path (parse reusing untouched paragraphs, the remembered crossing line) says what a
    fresh `scenec check` of each version says."""
    (tmp_path / "scenec.toml").write_text("")
    (tmp_path / "media").mkdir()
    for name in ("girl.jpg", "boy.jpg"):
        (tmp_path / "media" / name).write_bytes((ROOT / "scenes" / "media" / "xiaoli.jpg").read_bytes())
    path = tmp_path / "long.scene"
    text = long_scene(90)
    uri = open_text(client, path, text)
    await published(client, uri, 1)
    codes: set[str] = set()
    for version, edited in enumerate(edit_sequence(text), start=2):
        replace_all(client, uri, edited, version)
        got = (await published(client, uri, version)).diagnostics
        path.write_text(edited, encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "compiler", "check", "--format", "json", str(path)],
                              capture_output=True, text=True, cwd=ROOT)
        expected = json.loads(done.stdout)["diagnostics"]
        assert_same(got, expected, edited, path)
        codes |= {d["code"] for d in expected}
    assert {"prompt-too-long", "possible-misspelt-name", "unexpected-token"} <= codes, codes


def test_every_example_and_negative_case_is_compared() -> None:
    assert len(FILES) >= 20
    assert any(p.suffix == ".cast" for p in FILES)
