"""Tests of media probing: real fields from tiny hand-built files, and no exception on any bytes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler import media
from compiler.media import MediaInfo, probe_bytes, probe_file, sniff

# ---------------------------------------------------------------- builders

def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def make_png(width: int, height: int, colour: int, *, trns: bool = False, palette: bool = False) -> bytes:
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    raw = b"".join(b"\x00" + b"\x7f" * (width * channels) for _ in range(height))
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
    if palette:
        out += png_chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff")
    if trns:
        out += png_chunk(b"tRNS", b"\x00" if palette else b"\x00\x00\x00\x00\x00\x00")
    return out + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def make_jpeg(width: int, height: int, *, sof: int = 0xC0, big_app: bool = False) -> bytes:
    out = b"\xff\xd8"
    out += jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if big_app:  # an EXIF-sized APP1 the walk has to jump over
        out += jpeg_segment(0xE1, b"Exif\x00\x00" + b"\xff" * 60000)
    out += jpeg_segment(0xDB, b"\x00" + bytes(range(64)))
    out += b"\xff\xff"  # fill bytes are allowed before any marker
    out += jpeg_segment(0xC4, b"\x00" + b"\x00" * 16)  # DHT shares the C0-CF range but is not a frame
    components = b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    out += jpeg_segment(sof, b"\x08" + struct.pack(">HH", height, width) + b"\x03" + components)
    out += jpeg_segment(0xDA, b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00")
    return out + b"\x12\x34\x56\x78" + b"\xff\xd9"


def make_bmp(width: int, height: int, bpp: int = 24, *, v5_alpha: bool = False) -> bytes:
    if v5_alpha:
        dib = struct.pack("<IiiHHIIiiII", 124, width, height, 1, bpp, 3, 0, 2835, 2835, 0, 0)
        dib += struct.pack("<IIII", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)
        dib += b"\x00" * (124 - len(dib))
    else:
        dib = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bpp, 0, 0, 2835, 2835, 0, 0)
    stride = (width * bpp // 8 + 3) & ~3
    pixels = b"\x00" * stride * abs(height)
    offset = 14 + len(dib)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + dib + pixels


def riff(form: bytes, *chunks: bytes) -> bytes:
    body = form + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def riff_chunk(cid: bytes, data: bytes) -> bytes:
    return cid + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def make_webp_vp8x(width: int, height: int, alpha: bool) -> bytes:
    flags = 0x10 if alpha else 0
    vp8x = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return riff(b"WEBP", riff_chunk(b"VP8X", vp8x), riff_chunk(b"ALPH", b"\x00" * 4))


def make_webp_vp8l(width: int, height: int, alpha: bool) -> bytes:
    bits = (width - 1) | (height - 1) << 14 | int(alpha) << 28
    return riff(b"WEBP", riff_chunk(b"VP8L", b"\x2f" + struct.pack("<I", bits) + b"\x00" * 8))


def make_webp_vp8(width: int, height: int) -> bytes:
    frame = b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 10
    return riff(b"WEBP", riff_chunk(b"VP8 ", frame))


def make_gif(width: int, height: int, transparent: bool) -> bytes:
    out = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    out += b"\x21\xfe\x03abc\x00"  # comment extension, to be skipped
    out += b"\x21\xf9\x04" + bytes([1 if transparent else 0]) + b"\x00\x00\x00\x00"
    out += b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return out + b"\x02\x02\x4c\x01\x00" + b"\x3b"


def box(btype: bytes, *children: bytes) -> bytes:
    payload = b"".join(children)
    return struct.pack(">I", 8 + len(payload)) + btype + payload


def full_box(btype: bytes, version: int, payload: bytes) -> bytes:
    return box(btype, bytes([version, 0, 0, 0]) + payload)


IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
ROT90 = (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        times = struct.pack(">IIII", 0, 0, timescale, duration)
    rest = struct.pack(">iH10x9i24xI", 0x10000, 0x100, *IDENTITY, 3)
    return full_box(b"mvhd", version, times + rest)


def tkhd(width: float, height: float, version: int = 0, matrix=IDENTITY) -> bytes:
    if version == 1:
        head = struct.pack(">QQIIQ", 0, 0, 1, 0, 0)
    else:
        head = struct.pack(">IIIII", 0, 0, 1, 0, 0)
    tail = struct.pack(">8xhhH2x9iII", 0, 0, 0, *matrix, int(width * 65536), int(height * 65536))
    return full_box(b"tkhd", version, head + tail)


def hdlr(handler: bytes) -> bytes:
    return full_box(b"hdlr", 0, b"\x00\x00\x00\x00" + handler + b"\x00" * 12 + b"name\x00")


def stsd_visual(width: int, height: int) -> bytes:
    entry = box(b"avc1", b"\x00" * 6 + b"\x00\x01" + b"\x00" * 16 + struct.pack(">HH", width, height) + b"\x00" * 50)
    return full_box(b"stsd", 0, struct.pack(">I", 1) + entry)


def trak(handler: bytes, width: float, height: float, *, version: int = 0, matrix=IDENTITY,
         stsd: tuple[int, int] | None = None) -> bytes:
    stbl = box(b"stbl", stsd_visual(*stsd)) if stsd else box(b"stbl")
    mdia = box(b"mdia", full_box(b"mdhd", 0, b"\x00" * 20), hdlr(handler), box(b"minf", stbl))
    return box(b"trak", tkhd(width, height, version, matrix), mdia)


def make_mp4(*, brand: bytes = b"isom", moov_first: bool = True, mvhd_version: int = 0,
             timescale: int = 1000, duration: int = 5500, tracks: tuple[bytes, ...] | None = None,
             mdat_payload: bytes = b"\x00" * 256) -> bytes:
    ftyp = box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")
    if tracks is None:
        tracks = (trak(b"soun", 0, 0), trak(b"vide", 1280, 720))
    moov = box(b"moov", mvhd(timescale, duration, mvhd_version), *tracks)
    mdat = box(b"mdat", mdat_payload)
    return ftyp + (moov + mdat if moov_first else box(b"free") + mdat + moov)


def make_wav(seconds: float, rate: int = 44100, channels: int = 2, *, streaming: bool = False) -> bytes:
    block = channels * 2
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, 16)
    data = b"\x00" * (int(rate * seconds) * block)
    data_chunk = b"data" + struct.pack("<I", 0xFFFFFFFF if streaming else len(data)) + data
    return riff(b"WAVE", riff_chunk(b"fmt ", fmt), riff_chunk(b"LIST", b"INFOodd"), data_chunk)


MP3_HEADER = b"\xff\xfb\x90\x00"  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz, stereo: 417-byte frames


def id3(payload_size: int = 30) -> bytes:
    size = payload_size
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x04\x00\x00" + syncsafe + b"\x00" * payload_size


def mp3_frame(info: bytes = b"") -> bytes:
    body = b"\x00" * 32 + info  # side information for a stereo MPEG-1 frame, then Xing/Info if any
    return MP3_HEADER + body + b"\x00" * (417 - 4 - len(body))


def make_mp3(*, xing_frames: int | None = None, vbri_frames: int | None = None, frames: int = 10,
             tag: bool = True) -> bytes:
    if xing_frames is not None:
        first = mp3_frame(b"Xing" + struct.pack(">II", 0x0F, xing_frames))
    elif vbri_frames is not None:
        first = mp3_frame(b"VBRI" + struct.pack(">HHHIIHHHH", 1, 0, 75, 100000, vbri_frames, 0, 1, 2, 1))
    else:
        first = mp3_frame()
    return (id3() if tag else b"") + first + mp3_frame() * (frames - 1)


def make_flac(rate: int, samples: int) -> bytes:
    packed = rate << 44 | 1 << 41 | 15 << 36 | samples
    info = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + struct.pack(">Q", packed) + b"\x00" * 16
    return b"fLaC" + bytes([0x80, 0, 0, 34]) + info + b"\xff\xf8" + b"\x00" * 20


SAMPLES = {
    "png_rgba": make_png(3, 2, 6),
    "png_rgb": make_png(5, 4, 2),
    "png_trns": make_png(2, 2, 3, trns=True, palette=True),
    "jpeg": make_jpeg(640, 480),
    "bmp": make_bmp(7, 3),
    "webp_vp8x": make_webp_vp8x(300, 200, True),
    "webp_vp8l": make_webp_vp8l(16, 9, True),
    "webp_vp8": make_webp_vp8(320, 240),
    "gif": make_gif(10, 20, True),
    "mp4": make_mp4(),
    "mp4_moov_last": make_mp4(moov_first=False),
    "mov": make_mp4(brand=b"qt  "),
    "wav": make_wav(0.25),
    "mp3_xing": make_mp3(xing_frames=100),
    "mp3_cbr": make_mp3(),
    "flac": make_flac(48000, 96000),
}


# ---------------------------------------------------------------- images

def test_png_with_alpha() -> None:
    assert probe_bytes(SAMPLES["png_rgba"]) == MediaInfo(
        "png", "image", "image/png", len(SAMPLES["png_rgba"]), 3, 2, None, True)


def test_png_without_alpha() -> None:
    info = probe_bytes(SAMPLES["png_rgb"])
    assert (info.format, info.width, info.height, info.has_alpha) == ("png", 5, 4, False)


def test_png_trns_chunk_means_alpha() -> None:
    assert probe_bytes(make_png(4, 4, 2, trns=True)).has_alpha is True
    assert probe_bytes(SAMPLES["png_trns"]).has_alpha is True


def test_png_grey_alpha() -> None:
    assert probe_bytes(make_png(1, 1, 4)).has_alpha is True


def test_png_cut_before_idat_has_unknown_alpha() -> None:
    data = make_png(8, 8, 2)
    cut = data[: data.index(b"IDAT") - 4]
    info = probe_bytes(cut)
    assert (info.format, info.width, info.height, info.has_alpha) == ("png", 8, 8, None)


@pytest.mark.parametrize("sof", [0xC0, 0xC1, 0xC2])
def test_jpeg_dimensions_from_sof(sof: int) -> None:
    info = probe_bytes(make_jpeg(640, 480, sof=sof))
    assert (info.format, info.kind, info.mime) == ("jpeg", "image", "image/jpeg")
    assert (info.width, info.height, info.has_alpha) == (640, 480, False)


def test_jpeg_walks_over_large_app_segment(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    path.write_bytes(make_jpeg(4000, 3000, big_app=True))
    info = probe_file(path)
    assert (info.width, info.height) == (4000, 3000)


def test_png_named_file_holding_jpeg_is_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "hero.png"
    path.write_bytes(SAMPLES["jpeg"])
    info = probe_file(path)
    assert (info.format, info.mime, info.width, info.height) == ("jpeg", "image/jpeg", 640, 480)


def test_bmp_header() -> None:
    info = probe_bytes(SAMPLES["bmp"])
    assert (info.format, info.mime, info.width, info.height, info.has_alpha) == ("bmp", "image/bmp", 7, 3, False)


def test_bmp_top_down_and_v5_alpha() -> None:
    info = probe_bytes(make_bmp(4, -6, 32, v5_alpha=True))
    assert (info.width, info.height, info.has_alpha) == (4, 6, True)


def test_bmp_32_bit_without_masks_is_ambiguous() -> None:
    assert probe_bytes(make_bmp(2, 2, 32)).has_alpha is None


@pytest.mark.parametrize("alpha", [True, False])
def test_webp_vp8x(alpha: bool) -> None:
    info = probe_bytes(make_webp_vp8x(300, 200, alpha))
    assert (info.format, info.mime, info.width, info.height, info.has_alpha) == (
        "webp", "image/webp", 300, 200, alpha)


@pytest.mark.parametrize("alpha", [True, False])
def test_webp_vp8l(alpha: bool) -> None:
    info = probe_bytes(make_webp_vp8l(16, 9, alpha))
    assert (info.width, info.height, info.has_alpha) == (16, 9, alpha)


def test_webp_lossy_has_no_alpha() -> None:
    info = probe_bytes(SAMPLES["webp_vp8"])
    assert (info.width, info.height, info.has_alpha) == (320, 240, False)


@pytest.mark.parametrize("transparent", [True, False])
def test_gif(transparent: bool) -> None:
    info = probe_bytes(make_gif(10, 20, transparent))
    assert (info.format, info.mime, info.width, info.height, info.has_alpha) == (
        "gif", "image/gif", 10, 20, transparent)


def test_tiff_dimensions() -> None:
    entries = [(256, 3, 1, 33), (257, 4, 1, 44), (338, 3, 1, 2)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, typ, count) + (struct.pack("<H2x", v) if typ == 3 else struct.pack("<I", v))
        for tag, typ, count, v in entries) + b"\x00\x00\x00\x00"
    info = probe_bytes(b"II*\x00" + struct.pack("<I", 8) + ifd)
    assert (info.format, info.width, info.height, info.has_alpha) == ("tiff", 33, 44, True)


# ---------------------------------------------------------------- video

@pytest.mark.parametrize("moov_first", [True, False])
def test_mp4_fields(moov_first: bool) -> None:
    data = make_mp4(moov_first=moov_first)
    info = probe_bytes(data)
    assert info == MediaInfo("mp4", "video", "video/mp4", len(data), 1280, 720, 5.5, None)


@pytest.mark.parametrize("moov_first", [True, False])
def test_mov_brand(moov_first: bool) -> None:
    info = probe_bytes(make_mp4(brand=b"qt  ", moov_first=moov_first, timescale=600, duration=600 * 12))
    assert (info.format, info.kind, info.mime) == ("mov", "video", "video/quicktime")
    assert (info.width, info.height, info.duration) == (1280, 720, 12.0)


def test_mvhd_and_tkhd_version_1() -> None:
    tracks = (trak(b"vide", 1920, 1080, version=1),)
    info = probe_bytes(make_mp4(mvhd_version=1, timescale=90000, duration=90000 * 31, tracks=tracks))
    assert (info.width, info.height, info.duration) == (1920, 1080, 31.0)


def test_rotated_track_reports_displayed_size() -> None:
    info = probe_bytes(make_mp4(tracks=(trak(b"vide", 1920, 1080, matrix=ROT90),)))
    assert (info.width, info.height) == (1080, 1920)


def test_zero_tkhd_size_falls_back_to_sample_description() -> None:
    info = probe_bytes(make_mp4(tracks=(trak(b"vide", 0, 0, stsd=(854, 480)),)))
    assert (info.width, info.height) == (854, 480)


def test_audio_only_mp4_has_no_dimensions() -> None:
    info = probe_bytes(make_mp4(tracks=(trak(b"soun", 0, 0),)))
    assert (info.format, info.width, info.height, info.duration) == ("mp4", None, None, 5.5)


def test_unknown_duration_is_none() -> None:
    assert probe_bytes(make_mp4(duration=0xFFFFFFFF)).duration is None


def test_fragmented_duration_from_mehd() -> None:
    mvex = box(b"mvex", full_box(b"mehd", 0, struct.pack(">I", 7000)))
    ftyp = box(b"ftyp", b"iso5\x00\x00\x00\x00iso5")
    data = ftyp + box(b"moov", mvhd(1000, 0), trak(b"vide", 640, 360), mvex) + box(b"moof") + box(b"mdat")
    assert probe_bytes(data).duration == 7.0


def test_large_mdat_and_last_box_size_zero() -> None:
    ftyp = box(b"ftyp", b"isom\x00\x00\x00\x00isom")
    mdat = struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + 100) + b"\x00" * 100
    moov = box(b"moov", mvhd(10, 25), trak(b"vide", 64, 48))
    tail = struct.pack(">I", 0) + b"free" + b"\x00" * 9   # size 0: runs to end of file
    info = probe_bytes(ftyp + mdat + moov + tail)
    assert (info.width, info.height, info.duration) == (64, 48, 2.5)


@pytest.mark.parametrize("bad", [
    struct.pack(">I", 0) + b"junk",                     # size 0 inside moov: runs to moov's end
    struct.pack(">I", 4) + b"tiny",                     # smaller than its own header
    struct.pack(">I", 1) + b"huge" + struct.pack(">Q", 3),  # 64-bit size smaller than header
    struct.pack(">I", 0xFFFFFFF0) + b"liar",            # claims 4 GB
])
def test_hostile_boxes_terminate(bad: bytes) -> None:
    ftyp = box(b"ftyp", b"isom\x00\x00\x00\x00isom")
    data = ftyp + box(b"moov", mvhd(1000, 2000), bad)
    info = probe_bytes(data)
    assert (info.format, info.duration) == ("mp4", 2.0)


def test_moov_behind_big_mdat_is_reached_with_seeks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ftyp = box(b"ftyp", b"isom\x00\x00\x00\x00isom")
    mdat_size = 64 * 1024 * 1024
    moov = box(b"moov", mvhd(1000, 9000), trak(b"vide", 1080, 1920))
    path = tmp_path / "clip.mp4"
    with open(path, "wb") as f:
        f.write(ftyp + struct.pack(">I", mdat_size) + b"mdat")
        f.seek(len(ftyp) + mdat_size)  # sparse: nothing written for the payload
        f.write(moov)
    read_total = 0
    real_open = open

    class Counting:
        def __init__(self, f):
            self._f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._f.close()

        def read(self, n=-1):
            nonlocal read_total
            data = self._f.read(n)
            read_total += len(data)
            return data

        def __getattr__(self, name):
            return getattr(self._f, name)

    monkeypatch.setattr(media, "open", lambda *a, **k: Counting(real_open(*a, **k)), raising=False)
    info = probe_file(path)
    assert (info.width, info.height, info.duration) == (1080, 1920, 9.0)
    assert 0 < read_total < 256 * 1024


@pytest.mark.parametrize("head,expected", [
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87", ("webm", "video", "video/webm")),
    (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", ("mkv", "video", "video/x-matroska")),
    (riff(b"AVI ", riff_chunk(b"LIST", b"hdrl")), ("avi", "video", "video/x-msvideo")),
    (b"OggS\x00\x02" + b"\x00" * 30, ("ogg", "audio", "audio/ogg")),
    (b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00", ("m4a", "audio", "audio/mp4")),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", ("heic", "image", "image/heic")),
    (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", ("mov", "video", "video/quicktime")),
    (b"\xff\xf1\x50\x80\x02\x1f\xfc", ("aac", "audio", "audio/aac")),
    (b"BMW is a car company founded in 1916.", (None, None, None)),
    (b"hello world, this is plainly text and nothing else", (None, None, None)),
    (b"", (None, None, None)),
])
def test_sniff_by_magic(head: bytes, expected: tuple) -> None:
    assert sniff(head) == expected


# ---------------------------------------------------------------- audio

def test_wav_duration() -> None:
    info = probe_bytes(SAMPLES["wav"])
    assert (info.format, info.kind, info.mime, info.duration) == ("wav", "audio", "audio/wav", 0.25)


def test_streamed_wav_uses_bytes_present() -> None:
    assert probe_bytes(make_wav(0.5, rate=8000, channels=1, streaming=True)).duration == 0.5


def test_mp3_xing_frame_count() -> None:
    info = probe_bytes(SAMPLES["mp3_xing"])
    assert (info.format, info.kind, info.mime) == ("mp3", "audio", "audio/mpeg")
    assert info.duration == pytest.approx(100 * 1152 / 44100)


def test_mp3_vbri_frame_count() -> None:
    assert probe_bytes(make_mp3(vbri_frames=250)).duration == pytest.approx(250 * 1152 / 44100)


def test_mp3_cbr_estimate_from_bitrate() -> None:
    info = probe_bytes(make_mp3(frames=10, tag=False))
    assert info.format == "mp3"
    assert info.duration == pytest.approx(10 * 417 * 8 / 128000)


def test_mp3_id3_tag_is_not_audio() -> None:
    assert probe_bytes(SAMPLES["mp3_cbr"]).duration == pytest.approx(10 * 417 * 8 / 128000)


def test_flac_streaminfo() -> None:
    info = probe_bytes(SAMPLES["flac"])
    assert (info.format, info.mime, info.duration) == ("flac", "audio/flac", 2.0)


# ---------------------------------------------------------------- general

def test_unrecognised_and_empty() -> None:
    assert probe_bytes(b"") == MediaInfo(None, None, None, 0)
    assert probe_bytes(b"just some text\n") == MediaInfo(None, None, None, 15)


def test_probe_file_matches_probe_bytes(tmp_path: Path) -> None:
    for name, data in SAMPLES.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert probe_file(path) == probe_bytes(data), name


def test_probe_file_missing_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        probe_file(tmp_path / "nope.png")


def test_every_truncation_of_every_sample() -> None:
    for name, data in SAMPLES.items():
        for cut in range(min(len(data), 700)):
            assert isinstance(probe_bytes(data[:cut]), MediaInfo), (name, cut)


def _parse_without_safety_net(data: bytes) -> None:
    """Run the format's parser directly, so a bug cannot hide behind _probe's last-resort except."""
    fmt = sniff(data[:512])[0]
    parser = media._PARSERS.get(fmt)
    if parser is not None:
        assert isinstance(parser(media._BytesSource(data)), dict)


@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    assert isinstance(probe_bytes(data), MediaInfo)
    _parse_without_safety_net(data)


MAGICS = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"II*\x00", b"MM\x00*", b"RIFF\x00\x00\x00\x00WEBP",
          b"RIFF\x00\x00\x00\x00WAVE", b"\x00\x00\x00\x10ftypisom", b"fLaC", b"ID3", b"\xff\xfb\x90\x00",
          b"BM\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x28\x00\x00\x00"]


@given(st.sampled_from(MAGICS), st.binary(max_size=2048))
def test_valid_magic_with_random_body_never_raises(magic: bytes, body: bytes) -> None:
    data = magic + body
    assert isinstance(probe_bytes(data), MediaInfo)
    _parse_without_safety_net(data)


@given(
    st.sampled_from(sorted(SAMPLES)),
    st.integers(min_value=0),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=12),
)
def test_mutated_and_truncated_samples_never_raise(name: str, cut: int, edits: list) -> None:
    data = bytearray(SAMPLES[name])
    for pos, value in edits:
        data[pos % len(data)] = value
    data = bytes(data[: cut % (len(data) + 1)])
    info = probe_bytes(data)
    assert isinstance(info, MediaInfo)
    assert info.size == len(data)
    _parse_without_safety_net(data)
