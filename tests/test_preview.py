"""scenec preview: the page model follows the compiled scene, every scene text is escaped, the page is
self-contained, and --watch serves it on loopback and announces each save."""

import base64
import hashlib
import http.client
import io
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from compiler.api import compile_file
from compiler.cli import EXIT_OK, EXIT_USAGE, main
from compiler.preview import SCRIPT, _shot_spans, build_page, page_model, shot_prompts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "scenes").glob("*.scene")) + sorted((ROOT / "tests" / "cases").glob("*.scene"))
HOSTILE = "<script>alert`x`</script><img src=x onerror=alert`1` data-x='y'>"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each script."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag) -> None:
        self._in_script = False

    def handle_data(self, data) -> None:
        if self._in_script:
            self.scripts[-1] += data


def elements(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_shot_shows_its_part_of_the_prompt_in_order(path: Path) -> None:
    compiled = compile_file(path)
    parts = shot_prompts(compiled.scene, compiled.prompt)
    assert None not in parts
    positions = [compiled.prompt.find(part) for part in parts]
    assert positions == sorted(positions) and -1 not in positions
    # together the shots' parts are everything after the opening (atmosphere, cast lines)
    assert compiled.prompt.endswith(parts[-1])


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_identifiers_link_to_cards_of_that_identifier(path: Path) -> None:
    model = page_model(path)
    by_number = {card.number: card for card in model.cards}
    linked = [s for shot in model.shots for s in shot.prompt] + model.prompt
    refs = [s for s in linked if s.card is not None]
    assert refs, "no identifier found in the prompt"
    for segment in refs:
        assert segment.text.lower() == by_number[segment.card].identifier.lower()
    # and no identifier is left unlinked
    plain = "".join(s.text for s in linked if s.card is None)
    for card in model.cards:
        if card.name:
            assert not re.search(rf"(?<![A-Za-z0-9]){re.escape(card.identifier)}(?![0-9])", plain, re.IGNORECASE)


def test_cards_follow_the_media_order_with_embedded_media() -> None:
    path = ROOT / "scenes" / "alley.scene"
    model = page_model(path)
    payload = compile_file(path).payload.model_dump(mode="json")
    assert [c.label for c in model.cards] == [m["type"].replace("_", " ") for m in payload["input"]["media"]]
    assert [c.name for c in model.cards] == ["MAYA", "LEO", "ALLEY"]
    maya = model.cards[0]
    assert maya.media.src == "data:video/mp4;base64," + base64.b64encode(
        (ROOT / "scenes" / "media" / "girl.mp4").read_bytes()).decode()
    assert maya.voice.src.startswith("data:audio/mpeg;base64,")


def test_the_bill_is_the_cost_command_s_estimate() -> None:
    from compiler.render.results import scene_cost

    path = ROOT / "scenes" / "night-shift.scene"
    assert page_model(path, region="singapore").bill.text == scene_cost(compile_file(path).scene, "singapore").text()


def test_diagnostics_sit_at_their_shot_and_card(tmp_path: Path) -> None:
    scene = tmp_path / "s.scene"
    scene.write_text("DURATION: 5s\nCAST\nMAYA: image https://e.com/a.jpg\nLEO: image https://e.com/b.jpg\n\n"
                     "MAYA waits.\n\nCUT TO CLOSE-UP ON MAYA [0-1s]\n\nMAYA\nOne two three four five six.\n")
    model = page_model(scene)
    assert [d.code for d in model.cards[1].diagnostics] == ["unused-member"]
    assert [d.code for d in model.shots[1].diagnostics] == ["speech-exceeds-shot"]
    assert [d.code for d in model.shots[0].diagnostics] == []


def test_timeline_places_untimed_shots_evenly_around_timed_ones() -> None:
    assert _shot_spans([None, None], 10.0) == [(0.0, 5.0, False), (5.0, 10.0, False)]
    assert _shot_spans([None, (4.0, 7.0), None], 10.0) == [(0.0, 4.0, False), (4.0, 7.0, True), (7.0, 10.0, False)]


def hostile_scene(folder: Path) -> Path:
    name = folder / f"{HOSTILE}.scene".replace("/", "_")
    name.write_text(f"TITLE: {HOSTILE}\nDURATION: 5s\nCAST\n"
                    f"MAYA ({HOSTILE}): image \"{HOSTILE}.jpg\"\n"
                    f"LEO: image https://e.com/<script>alert`1`</script>.jpg\n\n"
                    f"MAYA says {HOSTILE} to LEO.\n\nMAYA\n({HOSTILE})\n{HOSTILE}\n", encoding="utf-8")
    return name


def test_hostile_text_stays_text(tmp_path: Path) -> None:
    path = hostile_scene(tmp_path)
    model = page_model(path)
    assert not [d for d in model.diagnostics if d.code.startswith("unexpected")], "the scene must parse"
    assert HOSTILE in model.cards[0].description and model.title == HOSTILE
    page = build_page(path).html
    parsed = elements(page)
    assert parsed.scripts == [SCRIPT]
    assert not [(tag, a) for tag, a in parsed.tags for key in a if key.startswith("on")]
    assert not [a for tag, a in parsed.tags if tag == "img" and a.get("src", "").lower() not in ("",) and
                not a["src"].startswith("data:image/")]
    escaped = "&lt;script&gt;alert`x`&lt;/script&gt;&lt;img src=x onerror=alert`1` data-x=&#39;y&#39;&gt;"
    assert page.count(escaped) >= 5  # title, file name, description, action, parenthetical, line


def test_the_page_needs_no_network(tmp_path: Path) -> None:
    page = build_page(ROOT / "scenes" / "night-shift.scene").html
    for tag, attributes in elements(page).tags:
        for key in ("src", "href"):
            value = attributes.get(key)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, key, value)
    assert "<link" not in page and "@import" not in page


def test_only_the_page_s_own_script_may_run() -> None:
    page = build_page(ROOT / "scenes" / "alley.scene").html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    script = elements(page).scripts[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp.replace("&#39;", "'")
    assert "default-src 'none'" in csp.replace("&#39;", "'")


def test_preview_command_writes_the_page(tmp_path: Path, capsys) -> None:
    output = tmp_path / "out" / "alley.html"
    assert main(["preview", str(ROOT / "scenes" / "alley.scene"), "-o", str(output)]) == EXIT_OK
    assert output.read_text().startswith("<!DOCTYPE html>")
    assert "0 errors, 0 warnings" in capsys.readouterr().err
    assert main(["preview", str(tmp_path / "none.scene")]) == EXIT_USAGE


def test_a_scene_with_syntax_errors_still_gets_a_page(tmp_path: Path) -> None:
    scene = tmp_path / "bad.scene"
    scene.write_text("CAST\nMAYA: picture a.jpg\n")
    page = build_page(scene)
    assert page.errors >= 1 and "unexpected-token" in page.html


def test_watch_serves_the_page_and_announces_each_save(tmp_path: Path) -> None:
    pytest.importorskip("watchfiles")
    from compiler.preview_server import LivePreview

    scene = tmp_path / "s.scene"
    scene.write_text("CAST\nMAYA: image https://e.com/a.jpg\n\nMAYA waits.\n")
    live = LivePreview(scene).start()
    try:
        port = live.server.server_address[1]
        assert live.server.server_address[0] == "127.0.0.1"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/")
        first = connection.getresponse().read().decode()
        assert "MAYA</a> waits." in first and "EventSource" in first
        events = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        events.request("GET", "/events")
        stream = events.getresponse()
        assert stream.getheader("Content-Type") == "text/event-stream"
        announced = threading.Event()

        def read_events() -> None:
            for line in stream:
                if line.startswith(b"data:"):
                    announced.set()
                    return

        reader = threading.Thread(target=read_events, daemon=True)
        reader.start()
        scene.write_text("CAST\nMAYA: image https://e.com/a.jpg\n\nMAYA runs away.\n")
        assert announced.wait(60), "no reload event after a save"
        connection.request("GET", "/")
        assert "MAYA</a> runs away." in connection.getresponse().read().decode()
    finally:
        live.stop()


def test_watch_serves_only_the_linked_media_and_only_to_its_own_host(tmp_path: Path, monkeypatch) -> None:
    from compiler import preview
    from compiler.preview_server import LivePreview

    monkeypatch.setattr(preview, "EMBED_LIMITS", {"image": 0, "audio": 0, "video": 0})  # the voice is linked
    (tmp_path / "boy.mp3").write_bytes((ROOT / "scenes" / "media" / "boy.mp3").read_bytes())
    (tmp_path / ".env").write_text("DASHSCOPE_API_KEY=sk-secret\n")
    (tmp_path / "notes.txt").write_text("private\n")
    scene = tmp_path / "s.scene"
    scene.write_text("CAST\nMAYA: image https://e.com/a.jpg, voice boy.mp3\n\nMAYA waits.\n")
    live = LivePreview(scene)  # served, not watched: this test saves nothing
    threading.Thread(target=live.server.serve_forever, daemon=True).start()
    try:
        port = live.server.server_address[1]

        def get(path: str, host: str = f"127.0.0.1:{port}") -> int:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("GET", path, headers={"Host": host})
            response = connection.getresponse()
            response.read()
            return response.status

        assert get("/boy.mp3") == 200 and get("/", f"localhost:{port}") == 200
        assert get("/.env") == 404 and get("/notes.txt") == 404 and get("/s.scene") == 404
        assert get("/", f"evil.example:{port}") == 403 and get("/boy.mp3", f"evil.example:{port}") == 403
    finally:
        live.server.shutdown()
        live.server.server_close()


def test_preview_exits_1_on_a_scene_with_errors_and_refuses_a_bad_port(tmp_path: Path, capsys) -> None:
    from compiler.cli import EXIT_ERRORS, EXIT_USAGE, main

    bad = tmp_path / "bad.scene"
    bad.write_bytes(b"\x00\x01binary")
    assert main(["preview", str(bad)]) == EXIT_ERRORS and (tmp_path / "bad.html").exists()
    assert main(["preview", str(ROOT / "scenes" / "alley.scene"), "--watch", "--port", "99999"]) == EXIT_USAGE
    assert "0 to 65535" in capsys.readouterr().err


def test_any_text_gets_a_page() -> None:
    import tempfile

    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("MAYLEO CAST:()[]-!.,0123s\n\t<>&\"'图") + ["image ", "video ", "voice ",
                                                                             "DURATION: ", "CUT TO ", "[0-2s]"])

    @settings(max_examples=60, deadline=None)
    @given(st.lists(alphabet, max_size=60).map("".join))
    def check(text: str) -> None:
        with tempfile.TemporaryDirectory() as folder:
            scene = Path(folder) / "s.scene"
            scene.write_text(text, encoding="utf-8")
            page = build_page(scene)
            assert elements(page.html).scripts == [SCRIPT]

    check()


def test_a_large_image_is_downscaled_into_the_page(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (2400, 1200), (200, 80, 40)).save(tmp_path / "wide.jpg", quality=95)
    (tmp_path / "s.scene").write_text("CAST\nMAYA: image wide.jpg\n\nMAYA waits.\n", encoding="utf-8")
    src = page_model(tmp_path / "s.scene").cards[0].media.src
    assert src.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as thumb:
        assert thumb.size == (320, 160)  # the aspect kept, the longer side at the card's size
    assert len(src) < (tmp_path / "wide.jpg").stat().st_size


def test_a_kling_timed_scenes_shots_are_shown_as_the_multi_prompt_items_sent() -> None:
    from compiler.api import compile_text
    from compiler.preview import shot_prompts

    path = Path(__file__).parent / "cases" / "timed-every-shot.scene"
    text = "MODEL: kling/kling-v3-omni-video-generation\n" + path.read_text(encoding="utf-8")
    compiled = compile_text(text, path)
    assert compiled.payload is not None and compiled.scene is not None and compiled.prompt is not None
    items = [item["prompt"] for item in compiled.payload.model_dump(mode="json")["input"]["multi_prompt"]]
    assert shot_prompts(compiled.scene, compiled.prompt) == items
    # Under wan2.7 the same shots are parts of the one prompt.
    plain = compile_text(path.read_text(encoding="utf-8"), path)
    assert plain.scene is not None and plain.prompt is not None
    assert all(part and part in plain.prompt for part in shot_prompts(plain.scene, plain.prompt))


def test_preview_takes_model_as_compile_does(tmp_path: Path) -> None:
    from compiler.cli import main

    out = tmp_path / "panels.html"
    assert main(["preview", str(Path(__file__).parent.parent / "scenes" / "panels.scene"), "--model",
                 "happyhorse-1.0-r2v", "-o", str(out)]) == 1  # happyhorse refuses STORYBOARD: an error on the page
    page = out.read_text(encoding="utf-8")
    assert "happyhorse-1.0-r2v takes no STORYBOARD" in page
    assert main(["preview", str(Path(__file__).parent.parent / "scenes" / "panels.scene"), "--model", "wan3.0-video",
                 "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Image 1" in page and "Reference image" not in page  # the storyboard as wan3.0-video names it
