"""Media probes cached by path, modification time and size, so that typing does not re-read media.

check imports `media.probe_file` when it needs it; the server installs this cached version in its place
once at start-up (the command line keeps the plain one: it probes each file once anyway).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from .. import media

__all__ = ["install", "cached_probe", "stats"]

MAX_ENTRIES = 4096
_cache: OrderedDict[tuple[str, int, int, int], media.MediaInfo] = OrderedDict()
_lock = threading.Lock()
_plain_probe = media.probe_file
stats = {"hits": 0, "misses": 0}


def cached_probe(path: Path) -> media.MediaInfo:
    status = os.stat(path)  # an OSError here is what probe_file itself would raise
    key = (os.fspath(path), status.st_mtime_ns, status.st_size, status.st_ino)
    with _lock:
        info = _cache.get(key)
        if info is not None:
            _cache.move_to_end(key)
            stats["hits"] += 1
            return info
    info = _plain_probe(path)
    with _lock:
        stats["misses"] += 1
        _cache[key] = info
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return info


def install() -> None:
    media.probe_file = cached_probe
