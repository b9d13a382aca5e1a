"""`scenec check --fix / --diff` and the fix objects the language server shares (compiler/fixes.py)."""

import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from compiler.api import check_document, check_file
from compiler.cli import EXIT_ERRORS, EXIT_OK, main
from compiler.fixes import Edit, apply_edits, fix_for, fix_text

ROOT = Path(__file__).resolve().parent.parent
OK_JPG = ROOT / "tests" / "cases" / "media" / "ok.jpg"

MESSY = """Duration: 5s
prompt extend: off
CAST
MAYA: image ok.jpg
LEO: image ok.jpg

CLOSEUP ON LEO

MAYA
Hello.
LEO sits down.

LEO
Hi.
CUT TO BLACK

MAYO
Hi.
"""

FIXED = """DURATION: 5s
PROMPT EXTEND: off
CAST
MAYA: image ok.jpg
LEO: image ok.jpg

CLOSEUP ON LEO

MAYA
Hello.

LEO sits down.

LEO
Hi.

CUT TO BLACK

MAYA
Hi.
"""


def scene(folder: Path, text: str, name: str = "a.scene") -> Path:
    shutil.copy(OK_JPG, folder / "ok.jpg")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_fix_applies_only_the_safe_fixes_and_reports_the_rest(tmp_path, capsys) -> None:
    path = scene(tmp_path, MESSY)
    assert main(["check", "--fix", str(path)]) == EXIT_OK  # only a warning is left
    assert path.read_text(encoding="utf-8") == FIXED
    out, err = capsys.readouterr()
    # CLOSEUP is one edit from both CLOSE UP and CLOSE-UP: no single answer, so it is left and reported.
    assert "unknown-framing warning" in out and "1 file checked: 0 errors, 1 warning" in out
    assert "fixed 5 in 1 file; 1 diagnostic left" in err and "unknown-framing" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.scene", "ok.jpg"]  # no temporary file left


def test_an_edit_saved_while_fixing_is_kept(tmp_path, monkeypatch, capsys) -> None:
    from compiler import fixes

    path = scene(tmp_path, MESSY)
    real_fix_text = fixes.fix_text

    def fix_then_edit(*args, **kwargs):
        result = real_fix_text(*args, **kwargs)
        path.write_text(MESSY + "\nMAYA waves.\n", encoding="utf-8")  # the writer saves meanwhile
        return result

    monkeypatch.setattr(fixes, "fix_text", fix_then_edit)
    assert main(["check", "--fix", str(path)]) == EXIT_ERRORS
    assert path.read_text(encoding="utf-8") == MESSY + "\nMAYA waves.\n"
    assert "changed while it was being fixed" in capsys.readouterr().err


def test_a_read_only_file_is_not_fixed_and_a_private_one_stays_private(tmp_path, capsys) -> None:
    import os
    import stat

    path = scene(tmp_path, MESSY)
    path.chmod(0o444)
    if os.access(path, os.W_OK):  # root writes anything: the refusal cannot be seen
        path.chmod(0o600)
    else:
        assert main(["check", "--fix", str(path)]) == EXIT_ERRORS
        assert path.read_text(encoding="utf-8") == MESSY and "read-only" in capsys.readouterr().err
        path.chmod(0o600)
    assert main(["check", "--fix", str(path)]) == EXIT_OK
    assert path.read_text(encoding="utf-8") == FIXED and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path, capsys) -> None:
    path = scene(tmp_path, MESSY)
    assert main(["check", "--diff", str(path)]) == EXIT_ERRORS  # something to change
    out = capsys.readouterr().out
    name = path.as_posix().lstrip("/")
    assert out.startswith(f"--- a/{name}\n+++ b/{name}\n@@ "), out
    assert "\n-MAYO\n+MAYA\n" in out, out
    assert "\n-Duration: 5s\n-prompt extend: off\n+DURATION: 5s\n+PROMPT EXTEND: off\n" in out, out
    assert path.read_text(encoding="utf-8") == MESSY
    path.write_text(FIXED, encoding="utf-8")
    assert main(["check", "--diff", str(path)]) == EXIT_OK
    assert capsys.readouterr().out == ""


def test_a_did_you_mean_two_edits_away_or_with_two_candidates_is_not_applied(tmp_path) -> None:
    text = "DURATOIN: 5s\nCAST\nMAYA: image ok.jpg\nMAYB: image ok.jpg\n\nMAYA waves at MAYB.\n\nMAYC\nHi.\n"
    path = scene(tmp_path, text)
    result = fix_text(path, text)
    assert result.fixed == text and result.applied == 0
    assert {"unknown-setting", "unknown-speaker"} <= set(result.unsafe)


def test_crlf_files_get_crlf_blank_lines(tmp_path) -> None:
    text = "CAST\r\nMAYA: image ok.jpg\r\n\r\nMAYA\r\nHello.\r\nCUT TO BLACK\r\n"
    path = scene(tmp_path, text)
    assert fix_text(path, text).fixed == text.replace("Hello.\r\n", "Hello.\r\n\r\n")


def test_a_suppressed_warning_is_not_fixed(tmp_path) -> None:
    text = "CAST\nMAYA: image ok.jpg\n\nMAYA\nHello.\n-- scenec: ignore[caps-line-in-dialogue]\nCUT TO BLACK\n"
    path = scene(tmp_path, text)
    assert fix_text(path, text).fixed == text


def test_the_language_server_offers_the_same_fix_objects(tmp_path) -> None:
    path = scene(tmp_path, MESSY)
    checked = check_document(path)
    source = checked.scene_file.source
    by_code = {d.code: fix_for(d, source, checked.scene) for d in checked.diagnostics}
    assert by_code["unknown-speaker"].safe and by_code["unknown-speaker"].edits[0].text == "MAYA"
    assert not by_code["unknown-framing"].safe  # offered in the editor, not applied by --fix
    from compiler.lsp import actions

    assert actions.fix_for is fix_for


def test_overlapping_edits_keep_the_later_one_and_leave_the_other_for_the_next_pass() -> None:
    assert apply_edits("abcdef", [Edit(1, 3, "X"), Edit(2, 4, "Y")]) == ("abYef", 1)
    assert apply_edits("ab", [Edit(1, 1, "\n"), Edit(1, 1, "\n")]) == ("a\nb", 1)
    assert apply_edits("ab", [Edit(0, 1, "A"), Edit(1, 2, "B")]) == ("AB", 2)


# --- the property: fixing never adds an error, and a second fix changes nothing ---------------------

_FOLDER = Path(tempfile.mkdtemp(prefix="scenec-fix-"))
shutil.copy(OK_JPG, _FOLDER / "ok.jpg")

HEADER = st.lists(st.sampled_from(["Duration: 5s", "DURATION: 5s", "ratio: 16:9", "DURATOIN: 5s", "seed: 3",
                                   "Prompt  Extend: on", "watermark: off", "Title: x"]), max_size=3)
CAST = st.lists(st.sampled_from(["MAYA: image ok.jpg", "LEO: image ok.jpg", "MAYB: image ok.jpg",
                                 "@小李: image ok.jpg"]), min_size=1, max_size=3, unique=True)
BLOCK = st.sampled_from(["MAYA waves.", "MAYO\nHello.", "MAYA\nHello.\nLEO sits down.", "LEO\nHi.\nCUT TO BLACK",
                         "CLOSE-UP ON MAYO", "CLOSEUP ON LEO", "SWOOSH TO WIDE SHOT", "MAYA waves at Image 1.",
                         "LEO\nHi.\nMAYA", "LEO", "MAYA\nHi.\nMAYO\nHi.", "-- scenec: ignore[caps-line-in-dialogue]",
                         "小季\nHi.", "WIDE SHOT ON LEOO", "MAYA\n(softly)\nHi.\nWIDE SHOT"])
SEPARATOR = st.sampled_from(["\n", "\n\n"])


@st.composite
def scenes(draw) -> str:
    lines = [*draw(HEADER), "CAST", *draw(CAST), ""]
    body = ""
    for block in draw(st.lists(BLOCK, min_size=1, max_size=6)):
        body += block + draw(SEPARATOR)
    return "\n".join(lines) + "\n" + body


def errors(path: Path) -> Counter:
    return Counter(d.code for d in check_file(path, probe=False) if d.severity == "error")


@given(scenes())
def test_fixing_never_adds_an_error_and_is_idempotent(text: str) -> None:
    path = _FOLDER / "property.scene"
    path.write_text(text, encoding="utf-8")
    before = errors(path)
    once = fix_text(path, text, probe=False)
    path.write_text(once.fixed, encoding="utf-8")
    after = errors(path)
    assert not after - before, (text, once.fixed)
    twice = fix_text(path, once.fixed, probe=False)
    assert twice.fixed == once.fixed and twice.applied == 0


def test_a_mistyped_model_is_replaced_at_its_value_never_at_the_key() -> None:
    from compiler.api import compile_text
    from compiler.fixes import fix_for
    from compiler.source import Source

    text = "MODEL: kling-v3\nCAST\nLEO: image https://example.com/l.png\n\nLEO waits.\n"
    compiled = compile_text(text)
    [wrong] = [d for d in compiled.diagnostics if d.code == "bad-setting-value"]
    fix = fix_for(wrong, Source(text), compiled.scene)
    assert fix is not None
    [edit] = fix.edits
    fixed = text[:edit.start] + edit.text + text[edit.end:]
    assert fixed.startswith("MODEL: kling/kling-v3-omni-video-generation\n")
    # Two models as near: the writer chooses; no edit guesses.
    ambiguous = compile_text(text.replace("kling-v3", "wan2.7"))
    [wrong] = [d for d in ambiguous.diagnostics if d.code == "bad-setting-value"]
    assert "wan2.7-r2v or wan2.7-r2v-2026-06-12" in (wrong.hint or "")
    assert fix_for(wrong, Source(text), ambiguous.scene) is None
