"""Issue 10: every line of a scene reaches the request as documented or gets a diagnostic at its line;
names in any script; the small items (prompt length located and shown, long lines cut, articles)."""

from pathlib import Path

from compiler.api import compile_text
from compiler.cli import EXIT_OK, main
from compiler.diagnostics import make
from compiler.emit import cast_table
from compiler.report import human
from compiler.source import Source

ROOT = Path(__file__).resolve().parent.parent
SCENE = ROOT / "scenes" / "example.scene"  # as if saved in scenes/, where the media live


def compiled(text: str):
    return compile_text(text, SCENE, probe=False)


def codes_at(result) -> set[tuple[int | None, str]]:
    return {(d.span.line if d.span else None, d.code) for d in result.diagnostics}


def test_forced_action_keeps_its_line_as_action() -> None:
    result = compiled("CAST\nLEO: image media/boy.jpg\n\n!LEO ENTERS.\n")
    assert result.ok, result.diagnostics
    assert result.prompt == "Reference image ENTERS."


def test_explain_prints_the_prompt_length_against_the_limit(tmp_path, capsys) -> None:
    out = tmp_path / "alley.json"
    assert main(["compile", str(ROOT / "scenes" / "alley.scene"), "-o", str(out), "--explain"]) == EXIT_OK
    printed = capsys.readouterr().out
    prompt = compile_text((ROOT / "scenes" / "alley.scene").read_text(), ROOT / "scenes" / "alley.scene").prompt
    assert f"PROMPT ({len(prompt)} of 5000 characters)" in printed


def test_long_source_lines_are_cut_around_the_caret() -> None:
    line = "MAYA: image data:image/png;base64," + "A" * 4000 + " , voice x.mp3"
    source = Source(line + "\n", None)
    shown = human(make("bad-data-uri", "bad", source.span(len(line) - 9, len(line))), line).split("\n")
    assert all(len(text) < 140 for text in shown)
    assert shown[1].strip().startswith("…") and shown[1].endswith("voice x.mp3")
    assert shown[2].index("^") == shown[1].index("ice x.mp3") and shown[2].count("^") == 9
    short = human(make("bad-data-uri", "bad", source.span(0, 4)), "MAYA: x").split("\n")
    assert short[1:] == ["    MAYA: x", "    ^^^^"]


def test_setting_keys_are_read_in_any_case() -> None:
    result = compiled("Duration: 10s\nprompt style: shots\nFirst Frame: media/alley.jpg\nCAST\n"
                      "MAYA: image media/boy.jpg\n\nMAYA waits.\n")
    assert result.ok, result.diagnostics
    body = result.payload.model_dump(exclude_none=True)
    assert body["parameters"]["duration"] == 10
    assert body["input"]["media"][0] == {"type": "first_frame", "url": "media/alley.jpg"}
    assert result.prompt.startswith("Storyboard: 1.")


def test_lines_that_would_change_the_request_are_errors_at_their_line() -> None:
    result = compiled("CAST\nMAYA: image media/boy.jpg\nFIRST FRAME: media/alley.jpg\n\nMAYA waits.\n"
                      "WATERMARK: on\n\nLEO: image media/boy.jpg\n\nLeo: image media/boy.jpg\n")
    assert {(d.span.line, d.code, d.severity) for d in result.diagnostics} == {
        (3, "header-line-in-script", "error"), (6, "header-line-in-script", "error"),
        (8, "header-line-in-script", "error"), (10, "malformed-member", "error")}
    assert result.prompt == "Reference image waits."


def test_marked_names_in_any_script_in_cast_cues_framings_and_action() -> None:
    result = compiled("LANGUAGE: zh\nCAST\n@小李 (the boy): image media/boy.jpg\n@José: video media/girl.mp4\n\n"
                      "@小李走进茶馆，看见@José。\n\n@小李\n你好。\n\nCLOSE-UP ON @José\n@José sonríe.\n")
    assert result.ok, result.diagnostics
    assert [row["name"] for row in cast_table(result.scene, *result.naming)] == ["小李", "José"]
    assert result.prompt == "图1走进茶馆，看见视频1。图1说：“你好。”随后切换到视频1的特写。视频1 sonríe."


def test_a_marked_name_ends_where_the_declared_name_ends_only_across_scripts() -> None:
    result = compiled("CAST\n@José: image media/boy.jpg\n\n@Joséphine waves at @José's dog.\n")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("unknown-name", 4)]
    assert result.prompt == "@Joséphine waves at reference image's dog."


def test_capitals_sound_effects_are_action() -> None:
    result = compiled("CAST\nMAYA: image media/boy.jpg\n\nMAYA waits.\n\nBANG!\n\nBOOM.\n\nCLOSE-UP ON MAYA\n")
    assert result.ok, result.diagnostics
    assert not result.diagnostics
    assert result.prompt == "Reference image waits. BANG! BOOM. Then the shot cuts to a close-up of reference image."


# --- transparency by pixels ---------------------------------------------------------------

def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filtered(kind: int, row: bytes, prior: bytes, pixel: int) -> bytes:
    """A PNG encoder's filter (the spec's definitions), independent of the probe's shortcut."""
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - pixel] if i >= pixel else 0
        b = prior[i]
        c = prior[i - pixel] if i >= pixel else 0
        predictor = [0, a, b, (a + b) // 2, _paeth(a, b, c)][kind]
        out.append((x - predictor) % 256)
    return bytes([kind]) + bytes(out)


def make_rgba_png(width: int, height: int, *, depth: int = 8, grey: bool = False, alpha_at=None,
                  alpha: int = 254, filters=(0, 1, 2, 3, 4)) -> bytes:
    import struct
    import zlib

    channels = 2 if grey else 4
    size = depth // 8
    pixel = channels * size
    rows, prior = [], bytes(width * pixel)
    for y in range(height):
        row = bytearray()
        for x in range(width):
            colour = [(x * 37 + y * 11 + k * 5) % 256 for k in range(channels - 1)]
            opacity = alpha if (x, y) == alpha_at else 255
            for value in colour + [opacity]:
                row += bytes([value] * size)
        rows.append(_filtered(filters[y % len(filters)], bytes(row), prior, pixel))
        prior = bytes(row)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, 4 if grey else 6, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    data = zlib.compress(b"".join(rows))
    # The image data split over two IDAT chunks, as encoders do.
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data[:len(data) // 2])
            + chunk(b"IDAT", data[len(data) // 2:]) + chunk(b"IEND", b""))


def test_an_opaque_rgba_png_has_no_transparency_whatever_its_filters() -> None:
    from compiler.media import probe_bytes

    for filters in ((0,), (1,), (2,), (3,), (4,), (0, 1, 2, 3, 4), (4, 3, 2, 1)):
        for depth, grey in ((8, False), (16, False), (8, True)):
            image = make_rgba_png(7, 6, depth=depth, grey=grey, filters=filters)
            assert probe_bytes(image).has_alpha is False, (filters, depth, grey)


def test_one_translucent_pixel_anywhere_is_transparency() -> None:
    from compiler.media import probe_bytes

    for filters in ((0,), (1,), (2,), (3,), (4,), (3, 4, 1)):
        for where in ((0, 0), (6, 0), (0, 3), (3, 5), (6, 5)):
            image = make_rgba_png(7, 6, alpha_at=where, filters=filters)
            assert probe_bytes(image).has_alpha is True, (filters, where)
        assert probe_bytes(make_rgba_png(7, 6, depth=16, alpha_at=(2, 2), filters=filters)).has_alpha is True


def test_rgba_png_that_cannot_be_read_counts_as_transparent() -> None:
    from compiler.media import probe_bytes

    image = make_rgba_png(7, 6)
    start = image.index(b"IDAT") + 4
    corrupt = image[:start] + b"\xff" * 8 + image[start + 8:]   # not a zlib stream, chunk lengths intact
    assert probe_bytes(corrupt).has_alpha is True
    interlaced = image.replace(b"\x08\x06\x00\x00\x00", b"\x08\x06\x00\x00\x01", 1)
    assert probe_bytes(interlaced).has_alpha is True


def test_check_passes_an_opaque_rgba_png_and_refuses_a_transparent_one(tmp_path) -> None:
    from compiler.api import check_file

    (tmp_path / "scenec.toml").write_text("")
    (tmp_path / "opaque.png").write_bytes(make_rgba_png(300, 300, filters=(1, 2, 4)))
    (tmp_path / "clear.png").write_bytes(make_rgba_png(300, 300, alpha_at=(150, 299), alpha=0))
    scene = tmp_path / "a.scene"
    scene.write_text("CAST\nMAYA: image opaque.png\nLEO: image clear.png\n\nMAYA waits for LEO.\n")
    found = [(d.code, d.message) for d in check_file(scene)]
    assert found == [("image-transparency", "LEO: clear.png is not fully opaque; the API takes images without "
                      "transparency")]


def test_messages_say_an_image() -> None:
    from compiler.api import check_file

    found = [d.message for d in check_file(ROOT / "tests" / "cases" / "negative" / "files.scene")
             if d.code == "file-wrong-type"]
    assert found and all(" a image" not in message for message in found)
    assert any("not an image (jpeg/png/bmp/webp)" in message for message in found), found


def test_hints_write_marked_names_with_their_marker() -> None:
    result = compiled("CAST\n@Maya: image media/boy.jpg\n\nMAYA waits.\n\nMaya sits.\n\n@Maya stands.\n")
    hints = {(d.span.line, d.code): d.hint for d in result.diagnostics}
    assert hints == {(4, "possible-misspelt-name"): "did you mean @Maya?",
                     (6, "name-not-as-declared"): "write @Maya to name the reference"}
    assert result.prompt == "MAYA waits. Maya sits. Reference image stands."
