"""Media probing: what a local file really is (format, size, dimensions, duration), read from its bytes."""

from __future__ import annotations

import os
import struct
from pathlib import Path

from .records import Record

# Spelled out rather than imported from typing, which `scenec check` does not otherwise import (records.py).
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import BinaryIO, TypedDict

    class _Fields(TypedDict, total=False):
        """What a format's parser read: MediaInfo's optional fields."""

        width: int | None
        height: int | None
        duration: float | None
        has_alpha: bool | None


class MediaInfo(Record):
    # 'jpeg', 'png', 'bmp', 'webp', 'gif', 'tiff', 'mp4', 'mov', 'wav', 'mp3', 'ogg', 'flac', 'webm', 'mkv',
    # 'avi', ... or None when unrecognised
    format: str | None
    kind: str | None        # 'image' | 'video' | 'audio' | None
    mime: str | None        # e.g. 'image/jpeg', 'video/mp4', 'audio/mpeg'
    size: int               # bytes
    width: int | None = None
    height: int | None = None
    duration: float | None = None   # seconds, video and audio, when readable
    # Images: True when a pixel may be transparent (PNG: a pixel whose alpha is below the maximum, found in
    # the data, or alpha that cannot be read; a colour-key tRNS or a palette tRNS below 255; WEBP: the VP8X
    # alpha flag or the VP8L alpha bit, not pixels); False when every pixel is opaque or the format has no
    # alpha; None when unknown.
    has_alpha: bool | None = None


_FORMATS = {
    'jpeg': ('image', 'image/jpeg'),
    'png': ('image', 'image/png'),
    'gif': ('image', 'image/gif'),
    'bmp': ('image', 'image/bmp'),
    'webp': ('image', 'image/webp'),
    'tiff': ('image', 'image/tiff'),
    'heic': ('image', 'image/heic'),
    'avif': ('image', 'image/avif'),
    'mp4': ('video', 'video/mp4'),
    'mov': ('video', 'video/quicktime'),
    'webm': ('video', 'video/webm'),
    'mkv': ('video', 'video/x-matroska'),
    'avi': ('video', 'video/x-msvideo'),
    'wav': ('audio', 'audio/wav'),
    'mp3': ('audio', 'audio/mpeg'),
    'aac': ('audio', 'audio/aac'),
    'm4a': ('audio', 'audio/mp4'),
    'ogg': ('audio', 'audio/ogg'),
    'flac': ('audio', 'audio/flac'),
    'aiff': ('audio', 'audio/aiff'),
}

_HEAD = 512                  # bytes handed to sniff(); every magic we know sits well inside this
_WINDOW = 16 * 1024          # file reads are rounded up to this so header walks cost few syscalls
_BUDGET = 8 * 1024 * 1024    # most bytes one probe may read: lying length fields cannot make it slow or hungry
_MAX_STEPS = 4096            # cap on boxes/chunks/segments visited per loop: no loop can spin forever
_MAX_GIF_STEPS = 65536       # GIF transparency needs a walk over every frame's sub-blocks

_U16BE, _U32BE, _U64BE = struct.Struct('>H'), struct.Struct('>I'), struct.Struct('>Q')
_U16LE, _U32LE, _I32LE = struct.Struct('<H'), struct.Struct('<I'), struct.Struct('<i')
_I32BE = struct.Struct('>i')


def _get(st: struct.Struct, data: bytes, off: int) -> int | None:
    """One value of `st` (an integer format) at `off`, or None when the data is too short (not struct.error)."""
    if off < 0 or off + st.size > len(data):
        return None
    return _at(st, data, off)


def _at(st: struct.Struct, data: bytes, off: int) -> int:
    """One value of `st` (an integer format) at `off`, where the caller has checked that the data is long enough."""
    value: int = st.unpack_from(data, off)[0]
    return value


def _u24le(data: bytes, off: int) -> int:
    """A 3-byte little-endian value at `off`, where the caller has checked that the data is long enough."""
    return int.from_bytes(data[off:off + 3], 'little')


# ---------------------------------------------------------------- sources

class _Source:
    """Random access to a file's bytes: short reads past the end, never an exception, and a read budget."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.left = _BUDGET

    def read(self, off: int, n: int) -> bytes:
        n = min(n, self.size - off)
        if off < 0 or n <= 0:
            return b''
        return self._fetch(off, n)

    def _fetch(self, off: int, n: int) -> bytes:
        raise NotImplementedError


class _BytesSource(_Source):
    def __init__(self, data: bytes) -> None:
        super().__init__(len(data))
        self._data = memoryview(data)

    def _fetch(self, off: int, n: int) -> bytes:
        n = min(n, self.left)
        self.left -= max(n, 0)
        return bytes(self._data[off:off + n])


class _FileSource(_Source):
    """Seeks instead of slurping: an MP4's moov box may sit behind gigabytes of mdat."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        super().__init__(size)
        self._f = f
        self._base = 0
        self._buf = b''

    def _fetch(self, off: int, n: int) -> bytes:
        rel = off - self._base
        if rel >= 0 and rel + n <= len(self._buf):
            return self._buf[rel:rel + n]
        want = min(max(n, _WINDOW), self.size - off, self.left)
        if want <= 0:
            return b''
        self._f.seek(off)
        self._buf = self._f.read(want)
        self._base = off
        self.left -= want
        return self._buf[:n]


# ---------------------------------------------------------------- sniffing

def sniff(head: bytes) -> tuple[str | None, str | None, str | None]:
    """(format, kind, mime) from the first bytes of a file (at least 64 given when available)."""
    fmt = _sniff_format(bytes(head[:_HEAD]))
    if fmt is None:
        return None, None, None
    kind, mime = _FORMATS[fmt]
    return fmt, kind, mime


_RIFF_FORMS = {b'WEBP': 'webp', b'WAVE': 'wav', b'AVI ': 'avi'}
_SIMPLE_MAGIC = (
    (b'\xff\xd8\xff', 'jpeg'),
    (b'\x89PNG\r\n\x1a\n', 'png'),
    (b'GIF87a', 'gif'),
    (b'GIF89a', 'gif'),
    (b'II*\x00', 'tiff'),
    (b'MM\x00*', 'tiff'),
    (b'OggS', 'ogg'),
    (b'fLaC', 'flac'),
    (b'ID3', 'mp3'),
)
# Pre-ftyp QuickTime files open straight with one of these atoms.
_QT_ATOMS = (b'moov', b'mdat', b'wide', b'pnot')
_BMP_DIB_SIZES = (12, 16, 40, 52, 56, 64, 108, 124)


def _sniff_format(h: bytes) -> str | None:
    for magic, fmt in _SIMPLE_MAGIC:
        if h.startswith(magic):
            return fmt
    if h.startswith(b'RIFF'):
        return _RIFF_FORMS.get(h[8:12])
    if h.startswith(b'FORM') and h[8:12] in (b'AIFF', b'AIFC'):
        return 'aiff'
    if h[4:8] == b'ftyp':
        return _ftyp_format(h[8:12])
    if h[4:8] in _QT_ATOMS:
        return 'mov'
    if h.startswith(b'\x1a\x45\xdf\xa3'):
        # The EBML header's DocType sits in the first few dozen bytes.
        return 'webm' if b'webm' in h[:64] else 'mkv'
    if _is_adts(h):
        return 'aac'
    frame = _mpeg_frame(h, 0)
    if frame is not None and frame.layer == 3:
        return 'mp3'
    if h.startswith(b'BM') and _plausible_bmp(h):
        return 'bmp'
    return None


def _ftyp_format(brand: bytes) -> str:
    if brand == b'qt  ':
        return 'mov'
    if brand in (b'avif', b'avis'):
        return 'avif'
    if brand in (b'heic', b'heix', b'heim', b'heis', b'mif1', b'msf1'):
        return 'heic'
    if brand in (b'M4A ', b'M4B ', b'M4P '):
        return 'm4a'
    return 'mp4'


def _plausible_bmp(h: bytes) -> bool:
    # 'BM' alone is too weak (plenty of text starts with it); the DIB header size is a fixed small set.
    if len(h) < 18:
        return True
    return _get(_U32LE, h, 14) in _BMP_DIB_SIZES


def _is_adts(h: bytes) -> bool:
    # ADTS is MPEG audio sync with layer bits 00, which MPEG-1/2 audio never uses.
    return len(h) >= 4 and h[0] == 0xFF and (h[1] & 0xF6) == 0xF0 and ((h[2] >> 2) & 0xF) < 13


# ---------------------------------------------------------------- probing

def probe_bytes(data: bytes) -> MediaInfo:
    """Probe an in-memory file (used for decoded base64 data URIs)."""
    return _probe(_BytesSource(data))


def probe_file(path: Path) -> MediaInfo:
    """Probe a file on disk.

    Reads only what it needs (headers; for MP4/MOV it walks the box tree with seeks, the moov box may be at
    the end of the file). Raises OSError only for I/O failures; a malformed or truncated file never raises:
    fields it cannot read are None.
    """
    with open(path, 'rb') as f:
        return _probe(_FileSource(f, os.fstat(f.fileno()).st_size))


def _probe(src: _Source) -> MediaInfo:
    fmt, kind, mime = sniff(src.read(0, _HEAD))
    fields: _Fields = {}
    parser = _PARSERS.get(fmt) if fmt is not None else None
    if parser is not None:
        try:
            fields = parser(src)
        except (struct.error, IndexError, ValueError, OverflowError, ZeroDivisionError):
            # Last line of defence: the parsers check every length themselves, but a linter
            # running on each save must not crash on a file nobody anticipated.
            fields = {}
    return MediaInfo(fmt, kind, mime, src.size, **fields)


# ---------------------------------------------------------------- images

# SOF0..SOF15 minus DHT (C4), JPG (C8) and DAC (CC), which share the range but are not frames.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers with no length field: TEM, RST0-7, SOI.
_JPEG_STANDALONE = frozenset([0x01, *range(0xD0, 0xD9)])


def _jpeg(src: _Source) -> _Fields:
    # JPEG cannot carry an alpha channel, whatever else the file says.
    pos = 2
    for _ in range(_MAX_STEPS):
        h = src.read(pos, 9)
        if len(h) < 2 or h[0] != 0xFF:
            break
        marker = h[1]
        if marker == 0xFF:          # fill byte before a marker
            pos += 1
        elif marker in _JPEG_STANDALONE:
            pos += 2
        elif marker in (0xD9, 0xDA):  # EOI / start of scan: the frame header would have come before
            break
        else:
            length = _get(_U16BE, h, 2)
            if length is None or length < 2:
                break
            if marker in _JPEG_SOF:
                return _jpeg_sof(h)
            pos += 2 + length
    return {'has_alpha': False}


def _jpeg_sof(h: bytes) -> _Fields:
    height, width = _get(_U16BE, h, 5), _get(_U16BE, h, 7)
    # Height 0 means "defined later by a DNL marker"; not worth chasing.
    return {'width': width, 'height': height or None, 'has_alpha': False}


def _png(src: _Source) -> _Fields:
    h = src.read(8, 21)
    if h[4:8] != b'IHDR' or len(h) < 21:
        return {}
    width, height, depth, ctype, interlace = _at(_U32BE, h, 8), _at(_U32BE, h, 12), h[16], h[17], h[20]
    if ctype in (4, 6):
        # Exported PNGs are often RGBA and fully opaque: judge by the pixels.  When they cannot be read
        # (interlaced, truncated, over the pixel budget) the image may be transparent: say so.
        opaque = _png_alpha_opaque(src, width, height, depth, ctype) if interlace == 0 else None
        alpha = None if opaque is None and not _png_has_idat(src) else opaque is not True
    else:
        alpha = _png_trns(src)
    return {'width': width, 'height': height, 'has_alpha': alpha}


def _png_chunks(src: _Source) -> Iterator[tuple[bytes, int, int]]:
    """(type, data offset, length) of each chunk, bounded; stops at IEND or the end of the file."""
    pos = 8
    for _ in range(_MAX_STEPS * 4):
        h = src.read(pos, 8)
        if len(h) < 8:
            return
        length = _at(_U32BE, h, 0)
        yield h[4:8], pos + 8, length
        if h[4:8] == b'IEND':
            return
        pos += 12 + length


def _png_has_idat(src: _Source) -> bool:
    return any(kind == b'IDAT' for kind, _, _ in _png_chunks(src))


def _png_trns(src: _Source) -> bool | None:
    """Whether a tRNS chunk can make a pixel transparent; None when the file ends before we can tell.

    A palette whose tRNS entries are all 255 is opaque; a colour key (grey or RGB) is counted as
    transparency without looking for a pixel of that colour.
    """
    for kind, start, length in _png_chunks(src):
        if kind == b'tRNS':
            table = src.read(start, min(length, 256))
            return not (len(table) == length and _png_palette_type(src) and all(v == 255 for v in table))
        if kind in (b'IDAT', b'IEND'):   # tRNS must come before IDAT
            return False
    return None


def _png_palette_type(src: _Source) -> bool:
    h = src.read(8, 21)
    return len(h) >= 18 and h[17] == 3


_PIXEL_BYTES = 256 * 1024 * 1024  # most decompressed pixel bytes read to judge transparency (bounded time)
_INFLATE_STEP = 1024 * 1024        # decompressed bytes held at once, whatever the image's size


def _png_alpha_opaque(src: _Source, width: int, height: int, depth: int, ctype: int) -> bool | None:
    """Whether every pixel of a non-interlaced grey+alpha or RGBA PNG is fully opaque; None when unknown.

    No full decode: PNG filters work per byte lane (the same byte of each pixel), so with every earlier
    alpha sample at its maximum, a row is opaque exactly when its filtered alpha bytes are the pattern
    `_opaque_row` gives (255s, or 0s, or 128s, by filter).  The first row that differs has a pixel that
    is not fully opaque.  Only zlib runs over the data, a step at a time; the Python work is a slice and
    a compare per row.
    """
    import zlib

    if depth not in (8, 16) or not width or not height:
        return None
    pixel = (2 if ctype == 4 else 4) * depth // 8
    row_size = 1 + width * pixel
    if row_size * height > _PIXEL_BYTES:
        return None
    rows = _AlphaRows(width, height, pixel, range(pixel - depth // 8, pixel))
    inflate = zlib.decompressobj()
    src.left = max(src.left, 32 * 1024 * 1024)      # the compressed data of an image up to the API's 20 MB
    for kind, start, length in _png_chunks(src):
        if kind != b'IDAT':
            continue
        data = src.read(start, length)
        complete = len(data) == length
        while data:
            try:
                verdict = rows.feed(inflate.decompress(data, _INFLATE_STEP))
            except zlib.error:
                return None
            if verdict is not None:
                return verdict
            data = inflate.unconsumed_tail
        if not complete:
            return None
    return None


class _AlphaRows:
    """Cuts decompressed PNG data into rows and compares each row's alpha lanes with the opaque pattern."""

    def __init__(self, width: int, height: int, pixel: int, lanes: range) -> None:
        self.width, self.height, self.pixel, self.lanes = width, height, pixel, lanes
        self.row_size = 1 + width * pixel
        self.pending, self.row = b'', 0

    def feed(self, data: bytes) -> bool | None:
        """True when the last row was opaque, False at the first row that is not, None to go on."""
        buffer = self.pending + data
        size, pixel, offset = self.row_size, self.pixel, 0
        while len(buffer) - offset >= size:
            line = buffer[offset:offset + size]
            expected = _opaque_row(line[0], self.row == 0, self.width)
            if any(line[1 + lane::pixel] != expected for lane in self.lanes):
                return False
            offset += size
            self.row += 1
            if self.row == self.height:
                return True
        self.pending = buffer[offset:]
        return None


def _opaque_row(kind: int, first: bool, width: int) -> bytes | None:
    """The filtered bytes of one alpha lane of an all-opaque row, every earlier row being all opaque.

    None (0) stores 255; Sub (1) predicts from the left (0 before the first pixel); Up (2) from above
    (0 above the first row); Average (3) from floor((left + above) / 2); Paeth (4) picks left, above
    or upper-left.  An unknown filter type matches nothing.
    """
    if kind == 0 or (kind == 2 and first):
        return b'\xff' * width
    if kind == 1 or (kind == 4 and first):
        return b'\xff' + b'\x00' * (width - 1)
    if kind == 2 or kind == 4:
        return b'\x00' * width
    if kind == 3:
        return (b'\xff' + b'\x80' * (width - 1)) if first else (b'\x80' + b'\x00' * (width - 1))
    return None


def _gif(src: _Source) -> _Fields:
    h = src.read(0, 13)
    if len(h) < 13:
        return {}
    width, height, flags = _get(_U16LE, h, 6), _get(_U16LE, h, 8), h[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    return {'width': width, 'height': height, 'has_alpha': _gif_transparency(src, pos)}


def _gif_transparency(src: _Source, pos: int) -> bool | None:
    """Walk the GIF blocks for a graphic control extension with the transparency flag."""
    steps = 0
    while steps < _MAX_GIF_STEPS:
        steps += 1
        h = src.read(pos, 10)
        if not h:
            return None
        if h[0] == 0x3B:                  # trailer: walked everything
            return False
        if h[0] == 0x21 and len(h) >= 4:  # extension
            if h[1] == 0xF9 and h[2] >= 1 and h[3] & 1:
                return True
            pos += 2
        elif h[0] == 0x2C and len(h) == 10:  # image descriptor, local colour table, LZW code size
            pos += 10 + (3 << ((h[9] & 7) + 1) if h[9] & 0x80 else 0) + 1
        else:
            return None
        after, used = _gif_skip_subblocks(src, pos, _MAX_GIF_STEPS - steps)
        if after is None:
            return None
        pos = after
        steps += used
    return None


def _gif_skip_subblocks(src: _Source, pos: int, steps: int) -> tuple[int | None, int]:
    for used in range(1, steps + 1):
        n = src.read(pos, 1)
        if not n:
            return None, used
        pos += 1 + n[0]
        if n[0] == 0:
            return pos, used
    return None, steps


def _bmp(src: _Source) -> _Fields:
    h = src.read(0, 70)
    dib = _get(_U32LE, h, 14)
    if dib == 12:                         # OS/2 BITMAPCOREHEADER: 16-bit sizes, no alpha
        return {'width': _get(_U16LE, h, 18), 'height': _get(_U16LE, h, 20), 'has_alpha': False}
    if dib is None or dib < 40 or len(h) < 34:
        return {}
    width, height = _at(_I32LE, h, 18), _at(_I32LE, h, 22)
    bpp, comp = _at(_U16LE, h, 28), _at(_U32LE, h, 30)
    return {
        'width': width if width > 0 else None,
        'height': abs(height) or None,    # negative height just means top-down rows
        'has_alpha': _bmp_alpha(h, dib, bpp, comp),
    }


def _bmp_alpha(h: bytes, dib: int, bpp: int, comp: int) -> bool | None:
    if bpp not in (16, 32):
        return False
    if dib >= 56 and dib != 64:           # (64 is OS/2's header, which has no masks)
        mask = _get(_U32LE, h, 14 + 52)   # V3+ headers carry an alpha mask after R, G, B
    elif comp == 6:                       # BI_ALPHABITFIELDS: four masks follow the 40-byte header
        mask = _get(_U32LE, h, 14 + 40 + 12)
    else:
        mask = None
    if mask:
        return True
    if bpp == 32 and comp == 0:
        # The "unused" fourth byte of 32-bit BI_RGB is read as alpha by many programs.
        return None
    return False


def _webp(src: _Source) -> _Fields:
    h = src.read(12, 18)
    chunk = h[:4]
    if chunk == b'VP8X' and len(h) >= 18:
        return {'width': 1 + _u24le(h, 12), 'height': 1 + _u24le(h, 15), 'has_alpha': bool(h[8] & 0x10)}
    if chunk == b'VP8L' and len(h) >= 13 and h[8] == 0x2F:
        bits = _at(_U32LE, h, 9)
        return {'width': (bits & 0x3FFF) + 1, 'height': ((bits >> 14) & 0x3FFF) + 1,
                'has_alpha': bool(bits >> 28 & 1)}
    if chunk == b'VP8 ' and len(h) >= 18 and h[11:14] == b'\x9d\x01\x2a':
        # Plain lossy WEBP has no alpha; alpha needs the VP8X container with an ALPH chunk.
        return {'width': _at(_U16LE, h, 14) & 0x3FFF, 'height': _at(_U16LE, h, 16) & 0x3FFF, 'has_alpha': False}
    return {}


def _tiff(src: _Source) -> _Fields:
    h = src.read(0, 8)
    order = '<' if h[:2] == b'II' else '>'
    u16, u32 = struct.Struct(order + 'H'), struct.Struct(order + 'I')
    ifd = _get(u32, h, 4)
    count = _get(u16, src.read(ifd, 2), 0) if ifd else None
    if not ifd or not count:
        return {}
    entries = src.read(ifd + 2, min(count, 1024) * 12)
    tags: dict[int, int | None] = {}
    for off in range(0, len(entries) - 11, 12):
        tag, typ = _at(u16, entries, off), _at(u16, entries, off + 2)
        # SHORT values sit left-justified in the 4-byte value field, LONG fill it.
        tags.setdefault(tag, _get(u16 if typ == 3 else u32, entries, off + 8))
    extra = tags.get(338)                 # ExtraSamples: 1 associated, 2 unassociated alpha
    return {'width': tags.get(256), 'height': tags.get(257), 'has_alpha': extra in (1, 2)}


# ---------------------------------------------------------------- ISO BMFF (MP4, MOV)

def _boxes(src: _Source, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, payload_start, box_end) for the boxes in [start, end); stop at the first bad header."""
    pos = start
    for _ in range(_MAX_STEPS):
        if pos + 8 > end:
            return
        h = src.read(pos, 16)
        if len(h) < 8:
            return
        size, hdr = _at(_U32BE, h, 0), 8
        if size == 1:                     # 64-bit size follows the type
            wide, hdr = _get(_U64BE, h, 8), 16
            if wide is None:
                return
            size = wide
        elif size == 0:                   # box runs to the end of its container
            size = end - pos
        if size < hdr:                    # a box smaller than its header would never advance
            return
        yield h[4:8], pos + hdr, min(pos + size, end)
        pos += size


def _find_box(src: _Source, start: int, end: int, path: tuple[bytes, ...]) -> tuple[int, int] | None:
    """(payload_start, end) of the first box at `path` below [start, end), or None."""
    box = (start, end)
    for name in path:
        found = next(((b[1], b[2]) for b in _boxes(src, *box) if b[0] == name), None)
        if found is None:
            return None
        box = found
    return box


def _isobmff(src: _Source) -> _Fields:
    moov = _find_box(src, 0, src.size, (b'moov',))
    if moov is None:
        return {}
    fields: _Fields = {}
    timing: tuple[int, int] | None = None
    fragmented: int | None = None
    for typ, start, end in _boxes(src, *moov):
        if typ == b'mvhd':
            timing = _mvhd(src.read(start, 32))
        elif typ == b'mvex':
            fragmented = _mehd(src, start, end)
        elif typ == b'trak' and 'width' not in fields:
            dims = _video_track_dims(src, start, end)
            if dims is not None:
                fields['width'], fields['height'] = dims
    if timing is not None:
        timescale, stated = timing
        # Fragmented files leave mvhd's duration 0 and put the real one in mvex/mehd.
        duration = stated or fragmented
        if duration:
            fields['duration'] = duration / timescale
    return fields


def _mvhd(h: bytes) -> tuple[int, int] | None:
    """(timescale, duration) from a version 0 or 1 mvhd payload; None when unreadable."""
    timescale: int | None
    duration: int | None
    if h[:1] == b'\x01':
        timescale, duration, unknown = _get(_U32BE, h, 20), _get(_U64BE, h, 24), 2**64 - 1
    else:
        timescale, duration, unknown = _get(_U32BE, h, 12), _get(_U32BE, h, 16), 2**32 - 1
    if not timescale or duration is None:
        return None
    return timescale, (0 if duration == unknown else duration)


def _mehd(src: _Source, start: int, end: int) -> int | None:
    box = _find_box(src, start, end, (b'mehd',))
    if box is None:
        return None
    h = src.read(box[0], 12)
    return _get(_U64BE, h, 4) if h[:1] == b'\x01' else _get(_U32BE, h, 4)


def _video_track_dims(src: _Source, start: int, end: int) -> tuple[int, int] | None:
    """(width, height) of a trak whose mdia/hdlr says 'vide'; None for other tracks."""
    mdia = _find_box(src, start, end, (b'mdia',))
    if mdia is None:
        return None
    hdlr = _find_box(src, *mdia, (b'hdlr',))
    # hdlr payload: version/flags, pre_defined (QuickTime: component type), handler type.
    if hdlr is None or src.read(hdlr[0] + 8, 4) != b'vide':
        return None
    tkhd = _find_box(src, start, end, (b'tkhd',))
    dims = _tkhd_dims(src.read(tkhd[0], 96)) if tkhd else None
    if dims is None:
        # tkhd may legally say 0x0; the sample description still has the coded size.
        stsd = _find_box(src, *mdia, (b'minf', b'stbl', b'stsd'))
        dims = _stsd_dims(src.read(stsd[0], 44)) if stsd else None
    return dims


def _tkhd_dims(h: bytes) -> tuple[int, int] | None:
    base = 36 if h[:1] == b'\x01' else 24     # after the version-dependent times, ids and duration
    a, b, c, d = (_get(_I32BE, h, base + 16 + 4 * i) for i in (0, 1, 3, 4))
    width, height = _get(_U32BE, h, base + 52), _get(_U32BE, h, base + 56)
    if not width or not height:
        return None
    width, height = round(width / 65536), round(height / 65536)
    if a == 0 and d == 0 and b and c:
        # A 90/270 degree matrix (phone videos shot upright): report the size as displayed.
        width, height = height, width
    return (width, height) if width and height else None


def _stsd_dims(h: bytes) -> tuple[int, int] | None:
    # version/flags, entry count, then the first visual sample entry: width, height at +32.
    width, height = _get(_U16BE, h, 8 + 32), _get(_U16BE, h, 8 + 34)
    return (width, height) if width and height else None


# ---------------------------------------------------------------- audio

def _wav(src: _Source) -> _Fields:
    byte_rate: int | None = None
    data_size: int | None = None
    pos = 12
    for _ in range(_MAX_STEPS):
        h = src.read(pos, 20)
        if len(h) < 8:
            break
        size = _at(_U32LE, h, 4)
        if h[:4] == b'fmt ':
            byte_rate = _get(_U32LE, h, 16)
        elif h[:4] == b'data':
            # Streamed or truncated files lie here (0xFFFFFFFF); what is on disk is the truth.
            data_size = min(size, src.size - pos - 8)
        if byte_rate is not None and data_size is not None:
            break
        pos += 8 + size + (size & 1)      # chunks are padded to even length
    if not byte_rate or data_size is None:
        return {}
    return {'duration': data_size / byte_rate}


def _flac(src: _Source) -> _Fields:
    h = src.read(4, 22)
    # The first metadata block must be STREAMINFO; sample rate (20 bits) and total samples (36 bits)
    # share one 64-bit field at offset 10 of it.
    if len(h) < 22 or h[0] & 0x7F != 0:
        return {}
    packed = _at(_U64BE, h, 14)
    rate, samples = packed >> 44, packed & (2**36 - 1)
    return {'duration': samples / rate} if rate and samples else {}


class _Frame:
    """An MPEG audio frame header."""
    __slots__ = ('mpeg1', 'layer', 'bitrate', 'rate', 'samples', 'length', 'mono')

    def __init__(self, mpeg1: bool, layer: int, bitrate: int, rate: int, samples: int, length: int,
                 mono: bool) -> None:
        self.mpeg1, self.layer, self.bitrate, self.rate = mpeg1, layer, bitrate, rate
        self.samples, self.length, self.mono = samples, length, mono


_MPEG_KBPS = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame(h: bytes, off: int) -> _Frame | None:
    if off < 0 or off + 4 > len(h) or h[off] != 0xFF or h[off + 1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (h[off + 1] >> 3) & 3, (h[off + 1] >> 1) & 3
    br_index, sr_index = h[off + 2] >> 4, (h[off + 2] >> 2) & 3
    # Reserved version/layer/rate values and free-format (0) or bad (15) bitrates are not frames.
    if version == 1 or layer_bits == 0 or br_index in (0, 15) or sr_index == 3:
        return None
    mpeg1, layer = version == 3, 4 - layer_bits
    bitrate = _MPEG_KBPS[mpeg1, layer][br_index] * 1000
    rate = _MPEG_RATES[version][sr_index]
    padding = (h[off + 2] >> 1) & 1
    if layer == 1:
        samples, length = 384, (12 * bitrate // rate + padding) * 4
    else:
        samples = 576 if layer == 3 and not mpeg1 else 1152
        length = samples // 8 * bitrate // rate + padding
    return _Frame(mpeg1, layer, bitrate, rate, samples, length, h[off + 3] >> 6 == 3)


def _mp3(src: _Source) -> _Fields:
    start = _skip_id3(src)
    found = _first_frame(src, start)
    if found is None:
        return {}
    pos, frame = found
    duration = _vbr_duration(src, pos, frame)
    if duration is None:
        audio = src.size - pos
        if src.read(src.size - 128, 3) == b'TAG':   # ID3v1 tag at the end is not audio
            audio -= 128
        duration = max(audio, 0) * 8 / frame.bitrate
    return {'duration': duration}


def _skip_id3(src: _Source) -> int:
    pos = 0
    for _ in range(8):                    # taggers sometimes stack several ID3v2 tags
        h = src.read(pos, 10)
        if len(h) < 10 or h[:3] != b'ID3':
            break
        size = (h[6] & 0x7F) << 21 | (h[7] & 0x7F) << 14 | (h[8] & 0x7F) << 7 | (h[9] & 0x7F)
        pos += 10 + size + (10 if h[5] & 0x10 else 0)   # flag 0x10: a footer follows
    return pos


def _first_frame(src: _Source, start: int) -> tuple[int, _Frame] | None:
    """First MPEG audio frame within 64 KiB of `start` whose successor (if in view) also parses."""
    window = src.read(start, 65536)
    i = window.find(b'\xff')
    while i != -1:
        frame = _mpeg_frame(window, i)
        if frame is not None:
            nxt = i + frame.length
            # Checking the next header weeds out 0xFFEx byte pairs that merely look like a sync.
            if nxt + 4 > len(window) or _mpeg_frame(window, nxt) is not None:
                return start + i, frame
        i = window.find(b'\xff', i + 1)
    return None


def _vbr_duration(src: _Source, pos: int, frame: _Frame) -> float | None:
    """Duration from a Xing/Info or VBRI header in the first frame, None when there is none."""
    if frame.mpeg1:
        side = 17 if frame.mono else 32
    else:
        side = 9 if frame.mono else 17
    h = src.read(pos + 4 + side, 12)
    frames = None
    if h[:4] in (b'Xing', b'Info') and (_get(_U32BE, h, 4) or 0) & 1:
        frames = _get(_U32BE, h, 8)
    else:
        v = src.read(pos + 4 + 32, 18)    # VBRI always sits 32 bytes after the header
        if v[:4] == b'VBRI':
            frames = _get(_U32BE, v, 14)
    if not frames:
        return None
    return frames * frame.samples / frame.rate


_PARSERS: dict[str, Callable[[_Source], _Fields]] = {
    'jpeg': _jpeg, 'png': _png, 'gif': _gif, 'bmp': _bmp, 'webp': _webp, 'tiff': _tiff,
    'mp4': _isobmff, 'mov': _isobmff, 'm4a': _isobmff,
    'wav': _wav, 'flac': _flac, 'mp3': _mp3,
}
