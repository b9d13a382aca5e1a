"""Screenshot of a scene's preview for the docs:
python tools/preview_screenshot.py scenes/alley.scene docs/preview-alley.png

Uses the system's Chromium through playwright, as the browser tests do.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(scene: str, output: str) -> int:
    from playwright.sync_api import sync_playwright

    from compiler.preview import build_page

    chromium = shutil.which("chromium")
    if chromium is None:
        print("no chromium on PATH", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "preview.html"
        page_file.write_text(build_page(Path(scene)).html, encoding="utf-8")
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(page_file.as_uri())
            page.hover("#card-1")  # show the highlighting of one cast member's uses
            page.screenshot(path=output, full_page=True)
            browser.close()
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
