"""The language server's incremental resolve (compiler/resolve/reuse.py): after any chain of edits, resolving
with the previous version's memo gives exactly what a whole resolve gives (scene and diagnostics, in order)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from compiler.parse import parse_text, reparse_text
from compiler.resolve import resolve
from compiler.resolve.reuse import ShotMemo, remembering

from .test_lsp_incremental import PATH, TEXTS, edits, long_scene


def resolved_with(text: str, previous_parse, memo: ShotMemo | None):
    """As the server does: the incremental parse, then resolve through a memo (None: a whole resolve)."""
    parsed = reparse_text(*previous_parse, text, PATH) if previous_parse else parse_text(text, PATH)
    if memo is None:
        return parsed, resolve(parsed[0])
    with remembering(memo):
        return parsed, resolve(parsed[0])


def same_resolve(left, right) -> bool:
    (scene, found), (other, expected) = left, right
    return scene[:-1] == other[:-1] and found == expected  # the last field, the project, is found again


@given(st.data())
def test_incremental_resolve_equals_whole_resolve(data) -> None:
    """A chain of edits, each resolved through the previous version's memo (none after a syntax error, as the
    server does), equals a whole parse and resolve of each version."""
    base = data.draw(st.sampled_from([*TEXTS, None]))
    text = long_scene(8) if base is None else base.read_text(encoding="utf-8")
    memo = ShotMemo()
    parsed, result = resolved_with(text, None, memo)
    for _ in range(data.draw(st.integers(1, 4))):
        text = data.draw(edits(text))
        memo = ShotMemo(memo if not parsed[1] else None)
        parsed, result = resolved_with(text, parsed, memo)
        assert same_resolve(result, resolve(parse_text(text, PATH)[0]))


def middle_edit(text: str, typed: str) -> str:
    middle = text.index("shot 20")
    return text[:middle] + typed + text[middle:]


def test_an_edit_in_the_middle_reads_only_its_paragraph_again() -> None:
    """The paragraphs before the edit are replayed as they were, the ones after it moved, and only the edited
    one is read again; the result is the whole resolve's."""
    text = long_scene(40)
    first = ShotMemo()
    parsed, _ = resolved_with(text, None, first)
    assert first.reused == 0 and first.read == 79  # every paragraph but the first, which is never remembered
    for typed in ("x", "\n", "MAYA and "):
        memo = ShotMemo(first)
        edited = middle_edit(text, typed)
        _, result = resolved_with(edited, parsed, memo)
        assert memo.read == 1 and memo.reused == 78
        assert same_resolve(result, resolve(parse_text(edited, PATH)[0]))


def test_a_cast_edit_reads_every_paragraph_again() -> None:
    """Another cast (here a member renamed) is another context: nothing of the previous memo is used."""
    text = long_scene(10)
    first = ShotMemo()
    parsed, _ = resolved_with(text, None, first)
    memo = ShotMemo(first)
    edited = text.replace("LEO: image", "LEON: image")
    _, result = resolved_with(edited, parsed, memo)
    assert memo.reused == 0
    assert same_resolve(result, resolve(parse_text(edited, PATH)[0]))
    assert any(d.code == "unknown-speaker" for d in result[1])


def test_the_check_command_never_loads_the_memo() -> None:
    """reuse.py is the language server's: a plain resolve neither imports nor asks it (start-up of check)."""
    import subprocess
    import sys

    probe = ("import sys; from compiler.parse import parse_text; from compiler.resolve import resolve; "
             "resolve(parse_text('TITLE: x\\nCAST\\nA: image a.jpg\\n\\nA waves.\\n')[0]); "
             "print('compiler.resolve.reuse' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
