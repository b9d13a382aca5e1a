"""Files written atomically (a temporary file in the same folder, flushed and fsynced, then renamed over the
target), and the outputs that must never be replaced: links, devices, named pipes."""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

__all__ = ["write_atomic", "temp_beside", "FILE_MODE"]

# mkstemp creates files 0600; a finished output gets the mode any new file would (0666 less the umask).
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `data` at `path`, never leaving half a file and never replacing what is not a regular file.

    - a regular file, or none yet: written beside it and renamed over it (readers see old or new);
    - a symbolic link: followed; its target is written (atomically when a regular file), the link stays;
    - one of this process's open files (/dev/stdout, /dev/fd/N): written on that descriptor;
    - a device or a named pipe (/dev/null, a FIFO): written through;
    - a folder, a socket, a link to nothing, a pipe no one reads: OSError naming the path.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode: int | None = os.stat(path).st_mode  # follows links
    except FileNotFoundError:
        mode = None
    if mode is None and path.is_symlink():
        raise FileNotFoundError(errno.ENOENT, "a symbolic link to a file that does not exist", str(path))
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
    descriptor = _own_descriptor(path)
    if descriptor is not None:
        _write_descriptor(descriptor, payload)
    elif mode is not None and not stat.S_ISREG(mode):
        _write_through(path, payload)
    else:
        # A file replaced keeps its permission bits (a 0600 scene stays private); a new one gets FILE_MODE.
        keep = stat.S_IMODE(mode) if mode is not None else FILE_MODE
        _replace(path.resolve() if path.is_symlink() else path, payload, keep)


_OWN_FD = re.compile(r"/proc/(?:self|thread-self|(\d+))/fd/(\d+)")


def _own_descriptor(path: Path) -> int | None:
    """N when the path leads to /proc/<this process>/fd/N, as /dev/stdout and /dev/fd/N do: that open file is
    written on its own descriptor (at its offset; reopening or replacing the file would write over or beside it)."""
    for _ in range(40):  # the kernel's own limit on links followed
        path = Path(os.path.realpath(path.parent)) / path.name
        match = _OWN_FD.fullmatch(str(path))
        if match:
            return int(match.group(2)) if match.group(1) in (None, str(os.getpid())) else None
        if not path.is_symlink():
            return None
        path = path.parent / os.readlink(path)
    return None


def _write_descriptor(descriptor: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(descriptor, view):]


def _write_through(path: Path, payload: bytes) -> None:
    """Write into an existing device or pipe as `>` would; a pipe without a reader is an error, not a hang."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        if error.errno == errno.ENXIO:
            raise OSError(errno.ENXIO, "nothing is reading from it (a named pipe needs a reader first)",
                          str(path)) from None
        raise
    os.set_blocking(fd, True)
    with os.fdopen(fd, "wb") as stream:
        stream.write(payload)


def temp_beside(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """A new temporary file in path's folder (so os.replace is a rename), as mkstemp gives it.

    The temporary name keeps at most 64 bytes of the target's: a 255-byte name plus the decoration
    would be too long for the file system.
    """
    stem = os.fsdecode(os.fsencode(path.name)[:64])
    return tempfile.mkstemp(prefix=f".{stem}.", suffix=suffix, dir=path.parent)


def _replace(path: Path, payload: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = temp_beside(path)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
