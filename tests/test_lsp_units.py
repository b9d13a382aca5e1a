"""The language server's pure parts: positions in UTF-16 and UTF-32 (property-tested with astral-plane and
combining characters), the media probe cache, the settings help, the TCP address."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types as lsp

from compiler import media
from compiler.lsp import media_cache
from compiler.lsp.command import tcp_address
from compiler.lsp.positions import UTF16, UTF32, Encoding, to_offset, to_position, to_range
from compiler.lsp.settings_help import describe, values_for
from compiler.source import Source, utf16_column
from compiler.vocabulary import MEDIA_SETTINGS, SETTINGS

# ASCII, CJK, emoji and other astral-plane characters, combining accents, tabs, LF and CRLF line ends.
# (A lone CR is no line end for scenec, while LSP clients count it as one: docs/editors.md says so.)
CHARACTERS = st.sampled_from(list("aZ 9:\t\n") + ["\r\n", "中", "文", "😀", "🎬", "𝒳", "\u0301", "\u200d", "é"])
TEXTS = st.lists(CHARACTERS, max_size=60).map("".join)


def offsets(text: str):
    """Offsets a position can name: not between the CR and LF of a line end."""
    return st.integers(0, len(text)).filter(lambda o: not (o > 0 and text[o - 1] == "\r"))


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@given(TEXTS, st.data())
def test_utf16_range_counts_code_units_and_round_trips(text: str, data) -> None:
    source = Source(text)
    start = data.draw(offsets(text))
    end = data.draw(offsets(text).filter(lambda o: o >= start))
    where = to_range(source, source.span(start, end), Encoding(UTF16))
    line_start = text.rfind("\n", 0, start) + 1
    assert where.start.line == text.count("\n", 0, start)
    assert where.start.character == utf16_units(text[line_start:start])
    assert where.end.line == text.count("\n", 0, end)
    assert to_offset(source, where.start, Encoding(UTF16)) == start


@given(TEXTS, st.data())
def test_utf32_positions_are_code_points(text: str, data) -> None:
    source = Source(text)
    offset = data.draw(offsets(text))
    where = to_range(source, source.span(offset, offset), Encoding(UTF32))
    assert where.start.character == offset - (text.rfind("\n", 0, offset) + 1)
    assert to_offset(source, where.start, Encoding(UTF32)) == offset


@given(st.lists(TEXTS, min_size=1, max_size=3), st.data())
def test_cached_line_conversion_agrees_with_the_one_conversion(texts: list[str], data) -> None:
    """Positions convert from each line read once (not per position): same answers as source.utf16_column
    for any line and column, in range or not, also when documents alternate."""
    sources = [Source(text) for text in texts]
    for _ in range(6):
        source = data.draw(st.sampled_from(sources))
        line = data.draw(st.integers(0, len(source.line_starts) + 1))
        column = data.draw(st.integers(0, len(source.text) + 3))
        expected = utf16_column(source.line_text(line), column)
        assert to_position(source, line, column, Encoding(UTF16)).character == expected


def test_a_position_inside_a_surrogate_pair_or_past_the_end_is_clamped() -> None:
    source = Source("😀x\nab")
    assert to_offset(source, lsp.Position(line=0, character=1), Encoding(UTF16)) == 1  # after the emoji
    assert to_offset(source, lsp.Position(line=9, character=99), Encoding(UTF16)) == len(source.text)


def test_media_probes_are_cached_by_path_mtime_and_size(tmp_path: Path, monkeypatch) -> None:
    image = tmp_path / "a.png"
    image.write_bytes((Path(__file__).parent / "cases" / "media" / "ok.png").read_bytes())
    calls = []
    monkeypatch.setattr(media_cache, "_plain_probe", lambda path: calls.append(path) or media.probe_file(path))
    first = media_cache.cached_probe(image)
    assert media_cache.cached_probe(image) == first and len(calls) == 1
    image.write_bytes(b"not an image at all")
    os.utime(image, ns=(1, 1))
    assert media_cache.cached_probe(image).kind is None and len(calls) == 2


def test_every_setting_has_help_and_choices_are_the_compilers() -> None:
    for key in SETTINGS + MEDIA_SETTINGS:
        assert describe(key), key
    assert "1080P" in values_for("RESOLUTION") and "16:9" in values_for("RATIO")
    assert describe("ASPECT RATIO") == describe("RATIO")  # aliases read as their setting


def test_models_are_every_targets_and_values_the_chosen_targets() -> None:
    from compiler.targets import all_models
    from compiler.targets.wan27 import TARGET

    assert values_for("MODEL") == all_models()
    assert values_for("RESOLUTION", TARGET) == TARGET.resolutions and "480P" not in values_for("RESOLUTION", TARGET)
    assert "(wan2.7-r2v): 720P, 1080P" in (describe("RESOLUTION", TARGET) or "")


def test_tcp_address() -> None:
    assert tcp_address("2087") == ("127.0.0.1", 2087)
    assert tcp_address("0.0.0.0:9000") == ("0.0.0.0", 9000)
    with pytest.raises(argparse.ArgumentTypeError):
        tcp_address("nine")


@pytest.mark.parametrize("offered, chosen", [(None, "utf-16"), (["utf-8", "utf-32", "utf-16"], "utf-32")])
def test_tcp_mode_answers_initialize(offered, chosen) -> None:
    """`scenec lsp --tcp PORT` (debugging) speaks the same protocol on a loopback socket; UTF-8 is never
    chosen (the compiler converts to UTF-16 and code points only)."""
    import json
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "compiler", "lsp", "--tcp", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):  # wait for the listener (bounded), not a speed requirement
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server never listened")
        with connection:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                               "params": {"processId": None, "rootUri": None, "capabilities":
                                          {"general": {"positionEncodings": offered}} if offered else {}}}).encode()
            connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            received = b""
            while b"\r\n\r\n" not in received:
                received += connection.recv(65536)
            header, _, rest = received.partition(b"\r\n\r\n")
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            while len(rest) < length:
                rest += connection.recv(65536)
            answer = json.loads(rest[:length])
        capabilities = answer["result"]["capabilities"]
        assert capabilities["hoverProvider"] and capabilities["renameProvider"]
        assert capabilities["positionEncoding"] == chosen
    finally:
        server.kill()
        server.wait()


def test_hover_names_a_voice_as_the_target_does() -> None:
    from compiler.api import compile_text
    from compiler.lsp.hover import member_markdown

    text = ("CAST\nMAYA: image https://e.com/m.png, voice https://e.com/m.mp3\n\nMAYA\nHello.\n")
    for model, said in (("wan3.0-video", "a clip of its own: the prompt calls it **Audio 1**"), ("wan2.7-r2v", None)):
        compiled = compile_text(text, model=model)
        assert compiled.scene is not None and compiled.naming is not None
        member = compiled.scene.member("MAYA")
        assert member is not None
        shown = member_markdown(member, "x.scene", compiled.naming)
        assert "- voice: `https://e.com/m.mp3`" in shown
        assert (said in shown) if said else ("clip of its own" not in shown)
