"""The preview in a real browser (headless Chromium, Debian's `chromium` package, driven by playwright without
downloading a browser): no console error, no network request, identifiers link to cards, hovering highlights,
hostile text stays text, the page is not blank.  Skipped, with the reason, where no Chromium is installed."""

import base64
import os
import shutil
from pathlib import Path

import pytest

from compiler.preview import build_page

playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="playwright is not installed (pip install -e '.[test]')")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "scenes").glob("*.scene"))
CHROMIUM = os.environ.get("SCENEC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine: apt-get install chromium "
                                                          "(.ci/run installs it) or set SCENEC_CHROMIUM")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium for the module, with a fresh profile folder."""
    with playwright_api.sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1000}, offline=True)
        yield context
        context.close()


class Visit:
    """A page opened from file://, with what it logged and requested."""

    def __init__(self, context, html: str, folder: Path, name: str = "preview.html") -> None:
        self.file = folder / name
        self.file.write_text(html, encoding="utf-8")
        self.page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(self.file.as_uri())
        self.page.wait_for_load_state("load")

    def close(self) -> None:
        self.page.close()


@pytest.mark.parametrize("scene", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_preview_in_chromium(browser, scene: Path, tmp_path: Path) -> None:
    visit = Visit(browser, build_page(scene).html, tmp_path)
    try:
        page = visit.page
        assert visit.errors == []
        # The only request is the page itself: media are data URIs, nothing leaves the machine.
        assert [url for url in visit.requests if not url.startswith("data:")] == [visit.file.as_uri()]
        links = page.eval_on_selector_all("a.ref", "refs => refs.map(r => r.getAttribute('href'))")
        assert links, "no identifier linked"
        assert page.evaluate("hrefs => hrefs.every(h => !!document.getElementById(h.slice(1)))", links)
        cards = page.eval_on_selector_all(".card[data-number]", "cards => cards.map(c => c.id)")
        page.hover(f"#{cards[0]}")
        number = cards[0].split("-")[1]
        uses = page.eval_on_selector_all(f'[data-card="{number}"]', "nodes => nodes.length")
        assert uses > 0 and page.eval_on_selector_all(f'[data-card="{number}"].hl', "nodes => nodes.length") == uses
        assert not_blank(browser, page.screenshot(full_page=True))
    finally:
        visit.close()


def not_blank(context, png: bytes) -> bool:
    """Whether a screenshot holds more than a few colours: Chromium decodes it onto a canvas and counts them."""
    page = context.new_page()
    try:
        page.set_content("<canvas></canvas>")
        colours = page.evaluate("""async (uri) => {
            const image = new Image(); image.src = uri; await image.decode();
            const canvas = document.querySelector('canvas');
            canvas.width = image.width; canvas.height = image.height;
            const context = canvas.getContext('2d'); context.drawImage(image, 0, 0);
            const data = context.getImageData(0, 0, image.width, image.height).data;
            const seen = new Set();
            for (let i = 0; i < data.length && seen.size < 64; i += 4 * 97)
                seen.add(data[i] << 16 | data[i + 1] << 8 | data[i + 2]);
            return seen.size; }""", "data:image/png;base64," + base64.b64encode(png).decode())
        return colours >= 16
    finally:
        page.close()


def test_a_blank_page_is_seen_as_blank(browser, tmp_path: Path) -> None:
    visit = Visit(browser, "<!DOCTYPE html><body style='background:#fff'></body>", tmp_path, "blank.html")
    try:
        assert not not_blank(browser, visit.page.screenshot())
    finally:
        visit.close()


def test_hostile_text_stays_text_in_the_browser(browser, tmp_path: Path) -> None:
    from tests.test_preview import HOSTILE, hostile_scene

    visit = Visit(browser, build_page(hostile_scene(tmp_path)).html, tmp_path)
    try:
        page = visit.page
        assert visit.dialogs == [] and visit.errors == []
        assert page.evaluate("document.scripts.length") == 1
        assert page.evaluate("document.querySelectorAll('[onerror], img[src=x]').length") == 0
        assert page.inner_text("h1") == HOSTILE
        assert HOSTILE in page.inner_text("#card-0")  # the description, shown as the characters typed
        assert page.inner_text(".shot .paren") == f"({HOSTILE})"
        assert [url for url in visit.requests if not url.startswith("data:")] == [visit.file.as_uri()]
    finally:
        visit.close()
