"""Negative cases: each file marks the line after `-- expect: CODE ...` (or the file, `-- expect-file:`) with the
diagnostics it must produce; exactly those, no more.  Every registered code has a case here or a named test."""

import re
from collections import Counter
from pathlib import Path

import pytest

from compiler.api import check_file
from compiler.diagnostics import CODES

NEGATIVE = Path(__file__).parent / "cases" / "negative"
CASES = sorted(NEGATIVE.glob("*.scene"))
MARKER = re.compile(r"^--\s*expect(-file)?:\s*(.+)$")
# Codes that need a file the repository should not hold, or a compiler bug, are covered by named tests.
COVERED_ELSEWHERE = {
    "not-text": "test_cli.py::test_binary_file_is_a_diagnostic",
    "file-too-large": "test_cli.py::test_oversized_scene_and_media",
    "unreadable-file": "test_cli.py::test_unreadable_scene",
    "config-error": "test_inputs.py::test_a_scenec_toml_syntax_error_is_an_error_at_its_line_for_every_scene",
    "parse-stopped": "test_inputs.py::test_parse_recovery_says_when_it_stops_and_invents_nothing",
    "prompt-too-long": "test_properties.py::test_prompt_too_long_says_by_how_much",
    "invalid-payload": "test_cli.py::test_invalid_payload_is_reported",
    # Directives are comment lines, which an `-- expect:` marker cannot point at; the configuration's own.
    "unused-suppression": "test_lint.py::test_an_unused_directive_is_a_warning_at_the_name",
    "unknown-suppression-code": "test_lint.py::test_an_unknown_code_is_a_warning_with_the_nearest_code",
    "unsuppressible-code": "test_lint.py::test_an_error_cannot_be_suppressed_and_the_directive_says_so",
    "config-unknown-key": "test_lint.py::test_unknown_keys_and_bad_values_are_diagnostics_at_their_line",
}


def expected(scene: Path) -> Counter:
    lines = scene.read_text(encoding="utf-8").split("\n")
    found: Counter = Counter()
    for index, line in enumerate(lines):
        match = MARKER.match(line.strip())
        if not match:
            continue
        target = None
        if not match.group(1):
            target = next(i + 1 for i in range(index + 1, len(lines)) if not lines[i].strip().startswith("--"))
        for code in match.group(2).split():
            found[(str(scene), target, code)] += 1
    return found


def actual(scene: Path) -> Counter:
    return Counter((d.path, d.span.line if d.span else None, d.code) for d in check_file(scene)
                   if d.path == str(scene))


@pytest.mark.parametrize("scene", CASES, ids=[c.stem for c in CASES])
def test_negative_case(scene: Path) -> None:
    assert actual(scene) == expected(scene)


def test_every_code_has_a_negative_case() -> None:
    marked = {code for scene in CASES for (_, _, code) in expected(scene)}
    missing = set(CODES) - marked - set(COVERED_ELSEWHERE)
    assert not missing, f"codes without a negative case: {sorted(missing)}"
