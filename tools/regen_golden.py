"""Regenerate the golden files: for every example and test scene, the expected payload and diagnostics for the
default target (wan2.7-r2v), and under tests/golden/targets/<model>/ its payload for every other registered target
(or, when that target refuses the scene, the errors).

Run: python tools/regen_golden.py  (make golden).  Review the diff before committing it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from compiler.api import Compiled
    from compiler.diagnostics import Diagnostic

GOLDEN = ROOT / "tests" / "golden"
TARGET_GOLDEN = GOLDEN / "targets"
CASE_DIRS = (ROOT / "scenes", ROOT / "tests" / "cases")


def cases() -> list[Path]:
    return sorted(p for folder in CASE_DIRS for p in folder.glob("*.scene"))


def golden_name(scene: Path) -> str:
    return f"{scene.parent.name}--{scene.stem}"


def _compiled(scene: Path, model: str | None = None) -> Compiled:
    """The scene compiled from ROOT (paths in the output relative to it), for `model` when given."""
    from compiler.api import compile_file

    relative = scene.relative_to(ROOT)
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return compile_file(relative, model=model)
    finally:
        os.chdir(cwd)


def _lines(diagnostics: list[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        where = f"{d.path}:{d.span.line}:{d.span.column}" if d.span else f"{d.path}"
        lines.append(f"{where}: {d.code} {d.severity}: {d.message}" + (f" [hint: {d.hint}]" if d.hint else ""))
    return "\n".join(lines) + ("\n" if lines else "")


def expected_outputs(scene: Path) -> dict[str, str]:
    """The two golden texts of a scene: payload JSON (with the prompt) and diagnostics, paths relative to ROOT."""
    from compiler.payload import to_json

    result = _compiled(scene)
    payload = to_json(result.payload) + "\n" if result.payload is not None else "null\n"
    return {".json": payload, ".diagnostics": _lines(result.diagnostics)}


def other_targets() -> list[str]:
    """The canonical model of every registered target but the default, whose goldens are the ones above."""
    from compiler.targets import DEFAULT_MODEL, TARGETS

    return [target.name for target in TARGETS if DEFAULT_MODEL not in target.models]


def target_folder(model: str) -> Path:
    return TARGET_GOLDEN / model.replace("/", "-")


def expected_target_output(scene: Path, model: str) -> tuple[str, str]:
    """(file name, text) of a scene under another target: its payload (.json), or its errors (.diagnostics) when
    the target refuses the scene."""
    from compiler.diagnostics import ERROR
    from compiler.payload import to_json

    result = _compiled(scene, model)
    if result.payload is not None:
        return f"{golden_name(scene)}.json", to_json(result.payload) + "\n"
    errors = [d for d in result.diagnostics if d.severity == ERROR]
    return f"{golden_name(scene)}.diagnostics", _lines(errors)


def main() -> int:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for scene in cases():
        for suffix, text in expected_outputs(scene).items():
            (GOLDEN / f"{golden_name(scene)}{suffix}").write_text(text, encoding="utf-8")
    for model in other_targets():
        folder = target_folder(model)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in [*folder.glob("*.json"), *folder.glob("*.diagnostics")]:
            stale.unlink()  # a scene a target now takes (or refuses) leaves no file of the other kind
        for scene in cases():
            name, text = expected_target_output(scene, model)
            (folder / name).write_text(text, encoding="utf-8")
    print(f"wrote golden files for {len(cases())} scenes in {GOLDEN.relative_to(ROOT)}, and under "
          f"{TARGET_GOLDEN.relative_to(ROOT)} for {len(other_targets())} other targets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
