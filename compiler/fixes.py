"""Fixes as data: the text edits that answer a diagnostic, shared by `scenec check --fix/--diff` and the
language server's quick fixes (compiler/lsp/actions.py).

A fix is *safe* when it cannot change the scene's meaning unexpectedly, and only safe fixes are applied
by `--fix`:
- "did you mean" for a speaker, a name after ON, a settings key, a framing or a transition, when exactly
  one known word is at edit distance 1 from what was typed (case aside);
- a blank line above a line that dialogue swallowed (`dialogue-swallows-action`, `caps-line-in-dialogue`),
  which is what each warning asks for;
- a settings key written in its canonical capitals (`Duration:` as `DURATION:`; keys are read in any case).
The editor also offers fixes that need a person's judgement: a did-you-mean further away, a blank line
above a lone name (it would become a cue), removing an unused member, a typed "Image 2" replaced by the
member's name, a prose word that looks like a cast name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from .diagnostics import Diagnostic, edit_distance
from .records import Record
from .source import Source

TYPE_CHECKING = False  # typing costs start-up time; only a type checker needs it
if TYPE_CHECKING:
    from argparse import Namespace

    from . import ir, nodes
    from .api import Checked
    from .config import LintOptions

__all__ = ["Edit", "Fix", "fix_for", "setting_key_fixes", "safe_fixes", "apply_edits", "fix_text", "FixResult",
           "run_fixes"]

DID_YOU_MEAN = re.compile(r"did you mean (?P<word>.+?)\?$")
# Codes whose span is wider than the typed word: where the message names that word.
TYPED_IN_MESSAGE = {"unknown-framing": re.compile(r"the framing (?P<word>.+)$"),
                    "unknown-transition": re.compile(r"the transition (?P<word>.+)$")}
BLANK_LINE_BEFORE = {"lone-name-line", "caps-line-in-dialogue", "dialogue-swallows-action"}
SAFE_BLANK_LINE = {"caps-line-in-dialogue", "dialogue-swallows-action"}  # a lone name would become a cue
SAFE_DID_YOU_MEAN = {"unknown-speaker", "unknown-name", "unknown-setting", "unknown-framing", "unknown-transition"}
MAX_PASSES = 8  # a fix can reveal another (a speaker fixed, then its dialogue read); a fixpoint comes quickly
# Fixes tried one by one (each a whole check) when a pass would add an error: bounded, so a long file with
# many such fixes costs a fixed number of checks; the fixes past it are left for the writer.
MAX_SINGLE_TRIES = 32


class Edit(Record):
    """Replace text[start:end] (code-point offsets) by `text`."""

    start: int
    end: int
    text: str


class Fix(Record):
    """What to change for one diagnostic (code None: a layout fix no diagnostic asks for)."""

    title: str
    edits: tuple[Edit, ...]
    code: str | None
    safe: bool
    preferred: bool = True


def fix_for(d: Diagnostic, source: Source, scene: ir.Scene | None = None) -> Fix | None:
    """The fix for a diagnostic of this source's file, or None when there is none."""
    if d.span is None or d.path != source.name:
        return None
    if d.code == "unused-member":
        return _remove_line(d, source)
    if d.code in BLANK_LINE_BEFORE:
        return _blank_line_before(d, source)
    if d.code == "literal-identifier":
        return _named(d, source, scene)
    suggestion = DID_YOU_MEAN.search(d.hint or "")
    if suggestion and " or " not in suggestion.group("word"):  # "A or B": the writer chooses, no edit is offered
        return _replace_typed(d, source, scene, suggestion.group("word"))
    return None


def _blank_line_before(d: Diagnostic, source: Source) -> Fix:
    """Safe only for a swallowed line that stands alone (a blank line or the end after it): with a line
    under it, it could become a cue and that line its dialogue."""
    assert d.span is not None
    line_start = source.line_starts[d.span.line - 1]
    line_end = source.text.find("\n", line_start)
    newline = "\r\n" if line_end > 0 and source.text[line_end - 1] == "\r" else "\n"
    alone = not source.line_text(d.span.line + 1).strip()
    return Fix(f"Add a blank line before line {d.span.line}", (Edit(line_start, line_start, newline),), d.code,
               d.code in SAFE_BLANK_LINE and alone)


def _replace_typed(d: Diagnostic, source: Source, scene: ir.Scene | None, word: str) -> Fix | None:
    assert d.span is not None
    covered = source.text[d.span.start:d.span.end]
    start, typed = d.span.start, covered
    pattern = TYPED_IN_MESSAGE.get(d.code)
    if pattern:
        named = pattern.search(d.message)
        found = covered.find(named.group("word")) if named else -1
        if found < 0 or named is None:
            return None
        start, typed = d.span.start + found, named.group("word")
    safe = d.code in SAFE_DID_YOU_MEAN and _only_candidate_at_one(typed, word, _candidates(d.code, scene))
    return Fix(f"Replace {typed} by {word}", (Edit(start, start + len(typed), word),), d.code, safe)


def _only_candidate_at_one(typed: str, word: str, candidates: Iterable[str]) -> bool:
    """True when `word` is one edit from `typed` and no other candidate is (compared in capitals)."""
    typed = typed.upper()
    close = {c for c in candidates if edit_distance(typed, c.upper(), 1) <= 1}
    return close == {word} and edit_distance(typed, word.upper(), 1) == 1


def _candidates(code: str, scene: ir.Scene | None) -> tuple[str, ...]:
    """The words a did-you-mean of this code chose from, as its hint writes them."""
    from . import vocabulary

    if code == "unknown-setting":
        return vocabulary.SETTINGS + vocabulary.MEDIA_SETTINGS
    if code == "unknown-framing":
        return vocabulary.known_framings()
    if code == "unknown-transition":
        return tuple(f"{name} TO" for name in vocabulary.TRANSITIONS)
    if scene is None:
        return ()
    from .resolve.names import written_name

    return tuple(written_name(member.name) for member in scene.references)


def _named(d: Diagnostic, source: Source, scene: ir.Scene | None) -> Fix | None:
    assert d.span is not None
    typed = source.text[d.span.start:d.span.end]
    wanted = " ".join(typed.split()).lower()
    if scene is None:
        return None
    from .targets import naming_of

    identifiers = naming_of(scene).identifiers
    for member in scene.references:
        identifier = identifiers.get(member.name, "")
        if identifier.lower() == wanted or identifier.replace(" ", "").lower() == wanted.replace(" ", ""):
            if member.role == "storyboard":
                return None
            return Fix(f"Write {member.name} instead of {typed}", (Edit(d.span.start, d.span.end, member.name),),
                       d.code, False)
    return None


def _remove_line(d: Diagnostic, source: Source) -> Fix:
    assert d.span is not None
    starts = source.line_starts
    begin = starts[d.span.line - 1]
    end = starts[d.span.line] if d.span.line < len(starts) else len(source.text)
    name = source.text[d.span.start:d.span.end]
    return Fix(f"Remove the unused member {name}", (Edit(begin, end, ""),), d.code, False, preferred=False)


def setting_key_fixes(scene_file: nodes.SceneFile) -> list[Fix]:
    """Settings keys not written in their canonical capitals ("Duration" for DURATION): keys are read in any
    case, so writing them as the language reference does changes nothing else."""
    from .vocabulary import MEDIA_SETTINGS, SETTINGS

    known = set(SETTINGS + MEDIA_SETTINGS)
    fixes = []
    for setting in scene_file.settings:
        key = setting.key
        canonical = " ".join(key.text.upper().split())
        if canonical in known and canonical != key.text and canonical.lower() == " ".join(key.text.lower().split()):
            fixes.append(Fix(f"Write the key {key.text} as {canonical}",
                             (Edit(key.span.start, key.span.end, canonical),), None, True))
    return fixes


def safe_fixes(checked: Checked, path: str) -> list[Fix]:
    """The safe fixes for one check of a file (its own diagnostics only), edits not overlapping."""
    source = checked.scene_file.source
    found = [f for d in checked.diagnostics if d.path == path
             for f in [fix_for(d, source, checked.scene)] if f is not None and f.safe]
    return found + setting_key_fixes(checked.scene_file)


def apply_edits(text: str, edits: Iterable[Edit]) -> tuple[str, int]:
    """The text with the edits made, from the end backwards; an edit overlapping one already made is left
    for the next pass.  Returns (text, number of edits made)."""
    made, limit = 0, len(text) + 1
    for edit in sorted(set(edits), key=lambda e: (e.start, e.end), reverse=True):
        if edit.end > limit or edit.start == edit.end == limit:
            continue  # overlaps (or inserts at the same place as) an edit already made
        text = text[:edit.start] + edit.text + text[edit.end:]
        limit, made = edit.start, made + 1
    return text, made


class FixResult(Record):
    """A file's text after its safe fixes, how many were made, the diagnostics left, and the codes of those
    left with a fix that is not safe (the editor offers it)."""

    original: str
    fixed: str
    applied: int
    left: tuple[Diagnostic, ...]
    unsafe: tuple[str, ...] = ()


def fix_text(path: Path, text: str, *, probe: bool = True, lint: LintOptions | None = None) -> FixResult:
    """Apply the safe fixes to `text` (the file at `path`) until none is left, re-checking after each pass.

    A fix can reveal a mistake another one hid (a speaker fixed, and now the names in its dialogue are
    checked): a pass that would leave an error the text did not have is undone and its fixes are tried one
    by one; a fix that adds an error is left for the writer.  So fixing never adds an error.
    """
    from .api import check_document

    def check(candidate: str) -> Checked:
        return check_document(path, candidate.encode("utf-8"), probe=probe, lint=lint)

    checked = check(text)
    baseline = _errors(checked.diagnostics)
    current, applied, refused, tries = text, 0, set(), 0
    for _ in range(MAX_PASSES):
        fixes = [f for f in safe_fixes(checked, str(path)) if _key(f, current) not in refused]
        if not fixes:
            break
        candidate, made = apply_edits(current, [edit for fix in fixes for edit in fix.edits])
        outcome = check(candidate)
        if not _errors(outcome.diagnostics) - baseline:
            current, checked, applied = candidate, outcome, applied + made
            continue
        # One by one from the end of the file backwards, so the offsets of those still to try stay right.
        for fix in sorted(fixes, key=lambda f: min(e.start for e in f.edits), reverse=True):
            tries += 1
            if tries > MAX_SINGLE_TRIES:
                refused.add(_key(fix, current))
                continue
            candidate, made = apply_edits(current, fix.edits)
            outcome = check(candidate)
            if _errors(outcome.diagnostics) - baseline:
                refused.add(_key(fix, current))
            else:
                current, checked, applied = candidate, outcome, applied + made
    source = checked.scene_file.source
    unsafe = sorted({d.code for d in checked.diagnostics if fix_for(d, source, checked.scene) is not None})
    return FixResult(text, current, applied, tuple(checked.diagnostics), tuple(unsafe))


def _errors(diagnostics: Iterable[Diagnostic]) -> Counter[str]:
    return Counter(d.code for d in diagnostics if d.severity == "error")


def _key(fix: Fix, text: str) -> tuple[str | None, str, str]:
    """A refused fix, recognised in the next pass although offsets moved: its code, title, and the line it edits."""
    start = fix.edits[0].start
    end = text.find("\n", start)
    line = text[text.rfind("\n", 0, start) + 1:end if end >= 0 else len(text)]
    return fix.code, re.sub(r"line \d+", "line", fix.title), line


# --- scenec check --fix / --diff --------------------------------------------------------------------------

def run_fixes(files: Sequence[Path], args: Namespace, options: LintOptions | None) -> bool:
    """Fix each file in place (--fix) or print the unified diff (--diff); then report what is left.
    True when the run failed: errors left, a file not written, or (with --diff) something to change."""
    import sys

    from .lint import failed, finish_check

    left: list[Diagnostic] = []
    unsafe: set[str] = set()
    applied = changed = 0
    write_failed = False
    for path in files:
        result = _fix_file(path, args)
        if result is None:
            left += _unreadable(path, args, options)
            continue
        left += result.left
        unsafe.update(result.unsafe)
        if result.fixed != result.original:
            applied, changed = applied + result.applied, changed + 1
            write_failed |= not _deliver(path, result, args.diff)
    left = list(dict.fromkeys(left))
    verb = "would fix" if args.diff else "fixed"
    print(f"scenec check: {verb} {applied} in {changed} file{'s' * (changed != 1)}; "
          f"{len(left)} diagnostic{'s' * (len(left) != 1)} left{_unfixed(unsafe)}", file=sys.stderr)
    if args.diff:
        return write_failed or changed > 0 or failed(left, options)
    return finish_check(args, [str(f) for f in files], left) or write_failed


def _fix_file(path: Path, args: Namespace) -> FixResult | None:
    from .lint import lint_options
    from .parse import MAX_FILE_BYTES
    from .source import InputRefused, read_input

    try:
        text = read_input(path, MAX_FILE_BYTES).decode("utf-8")
    except (InputRefused, UnicodeDecodeError):
        return None
    return fix_text(path, text, probe=not args.no_probe, lint=lint_options(args))


def _unreadable(path: Path, args: Namespace, options: LintOptions | None) -> list[Diagnostic]:
    from .api import check_file

    return check_file(path, probe=not args.no_probe, lint=options)


def _deliver(path: Path, result: FixResult, diff: bool) -> bool:
    import sys

    if diff:
        import difflib

        from .report import visible

        lines = difflib.unified_diff(result.original.splitlines(keepends=True), result.fixed.splitlines(keepends=True),
                                     fromfile=f"a/{_diff_name(path)}", tofile=f"b/{_diff_name(path)}")
        sys.stdout.write("".join(visible(line.rstrip("\n")) + "\n" for line in lines))
        return True
    import os

    from .fs import write_atomic
    from .parse import MAX_FILE_BYTES
    from .source import InputRefused, describe_os_error, read_input

    if not os.access(path, os.W_OK):
        print(f"scenec check: not fixing {path}: it is read-only", file=sys.stderr)
        return False
    try:
        # The checks behind the fixes take time: an edit saved meanwhile is kept, never written over.
        if read_input(path, MAX_FILE_BYTES).decode("utf-8", errors="replace") != result.original:
            print(f"scenec check: not fixing {path}: it changed while it was being fixed", file=sys.stderr)
            return False
        write_atomic(path, result.fixed)
    except InputRefused as refused:
        print(f"scenec check: not fixing {path}: {refused}", file=sys.stderr)
        return False
    except OSError as error:
        print(f"scenec check: cannot write {path}: {describe_os_error(error)}", file=sys.stderr)
        return False
    return True


def _diff_name(path: Path) -> str:
    """The path as given, without a leading "/" (git's a/ and b/ prefixes; `patch -p1` strips them)."""
    return path.as_posix().lstrip("/")


def _unfixed(codes: set[str]) -> str:
    """' (codes with a fix that is not safe ...)' for what --fix left although a fix exists, else ''."""
    if not codes:
        return ""
    return f" (a fix exists but may change the meaning, so it is left to you or the editor: {', '.join(sorted(codes))})"
