"""Regenerate the golden files: for every example and test scene, the expected payload and diagnostics.

Run: python tools/regen_golden.py  (make golden).  Review the diff before committing it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOLDEN = ROOT / "tests" / "golden"
CASE_DIRS = (ROOT / "scenes", ROOT / "tests" / "cases")


def cases() -> list[Path]:
    return sorted(p for folder in CASE_DIRS for p in folder.glob("*.scene"))


def golden_name(scene: Path) -> str:
    return f"{scene.parent.name}--{scene.stem}"


def expected_outputs(scene: Path) -> dict[str, str]:
    """The two golden texts of a scene: payload JSON (with the prompt) and diagnostics, paths relative to ROOT."""
    from compiler.api import compile_file
    from compiler.payload import to_json

    relative = scene.relative_to(ROOT)
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = compile_file(relative)
    finally:
        os.chdir(cwd)
    payload = to_json(result.payload) + "\n" if result.payload is not None else "null\n"
    lines = []
    for d in result.diagnostics:
        where = f"{d.path}:{d.span.line}:{d.span.column}" if d.span else f"{d.path}"
        lines.append(f"{where}: {d.code} {d.severity}: {d.message}" + (f" [hint: {d.hint}]" if d.hint else ""))
    return {".json": payload, ".diagnostics": "\n".join(lines) + ("\n" if lines else "")}


def main() -> int:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for scene in cases():
        for suffix, text in expected_outputs(scene).items():
            (GOLDEN / f"{golden_name(scene)}{suffix}").write_text(text, encoding="utf-8")
    print(f"wrote golden files for {len(cases())} scenes in {GOLDEN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
