"""Generate docs/diagnostics.md from the code registry (compiler.diagnostics.CODES).

Run: python tools/gen_diagnostics_doc.py  (make docs).  A test fails when the committed page is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUTPUT = ROOT / "docs" / "diagnostics.md"
GROUPS = {
    "syntax": "the text does not follow the grammar",
    "names": "cast names, speakers, settings keys and cast files",
    "constraints": "the API's rules: counts, media, values, lengths, timings, paths",
    "style": "probably not what the writer meant",
    "payload": "the emitted request",
}


def render() -> str:
    from compiler.diagnostics import CODES

    lines = ["# Diagnostics reference", "",
             "Generated from `compiler/diagnostics.py` by `make docs`; do not edit by hand.", "",
             "Every diagnostic has a stable code, a severity, a span (line and column), a message and often a hint.",
             "`scenec check` exits 1 when any *error* is found; warnings are printed but do not fail.", ""]
    for group, purpose in GROUPS.items():
        lines += [f"## {group}: {purpose}", "", "| code | severity | what it means |", "|---|---|---|"]
        lines += [f"| `{c.slug}` | {c.severity} | {c.summary} |" for c in CODES.values() if c.group == group]
        lines.append("")
        for code in (c for c in CODES.values() if c.group == group):
            lines += [f"### `{code.slug}`", "", code.explanation, ""]
    return "\n".join(lines)


def main() -> int:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
