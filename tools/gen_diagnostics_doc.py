"""Generate docs/diagnostics.md from the code registry (compiler.diagnostics.CODES).

Run: python tools/gen_diagnostics_doc.py  (make docs).  A test fails when the committed page is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUTPUT = ROOT / "docs" / "diagnostics.md"


def render() -> str:
    from compiler.diagnostics import CODES, GROUPS
    from compiler.explain import section

    lines = ["# Diagnostics reference", "",
             "Generated from `compiler/diagnostics.py` by `make docs`; do not edit by hand.", "",
             "Every diagnostic has a stable code, a severity, a span (line and column), a message and often a hint.",
             "`scenec check` exits 1 when any *error* is found; warnings are printed but do not fail",
             "(unless `warnings-as-errors` is set, docs/ci.md).", "",
             "`scenec explain CODE` prints a code's section below. Warnings can be silenced by a comment",
             "(`-- scenec: ignore[CODE]` alone on the line above, `-- scenec: ignore-file[CODE]` for the file) or",
             "by `ignore` in `[tool.scenec]` / `scenec.toml`; errors cannot: each one makes `scenec compile`",
             "refuse to build the request, so hiding it would let CI pass a scene that cannot be sent.",
             "The column *suppressible* says which is which (docs/ci.md has the details).", ""]
    for group, purpose in GROUPS.items():
        lines += [f"## {group}: {purpose}", "", "| code | severity | suppressible | what it means |",
                  "|---|---|---|---|"]
        lines += [f"| `{c.slug}` | {c.severity} | {'yes' if c.suppressible else 'no'} | {c.summary} |"
                  for c in CODES.values() if c.group == group]
        lines.append("")
        for code in (c for c in CODES.values() if c.group == group):
            lines += [section(code), ""]
    return "\n".join(lines)


def main() -> int:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
