"""Docs stay true to the code: the diagnostics page is generated from the registry."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_diagnostics_page_is_current() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    import gen_diagnostics_doc

    committed = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert committed == gen_diagnostics_doc.render(), "docs/diagnostics.md is stale: run make docs"
