"""Download a paid video and accept it only when it is one: full length, a real MP4, written atomically.

A failed download is transient while the task lives (24 h): a 403 or expired URL, a short body,
an HTML page or a task that SUCCEEDED without a URL all lead to the same step, asking the
service for the task again (`GET /tasks/{id}`) and downloading from the fresh URL it gives.
Only the service saying FAILED or CANCELED fails a task; a task it no longer knows more than
24 h after it was submitted is gone (EXPIRED).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from compiler.render import journal as jr
from compiler.render.client import DashScopeClient
from compiler.render.errors import DashScopeError
from compiler.render.journal import Journal, Render

__all__ = ["video_problem", "FreshUrl", "fresh_url", "download_verified", "DownloadPending", "TaskGone",
           "FRESH_URL_ATTEMPTS"]

# How many fresh URLs one run asks for before leaving the download to the next run.
FRESH_URL_ATTEMPTS = 3
# Before asking again, a lagging service gets this long times the attempt number (at most 5 s).
FRESH_URL_PAUSE_S = 2.0
_BOX_HEADER = struct.Struct(">I4s")
_MAX_TOP_BOXES = 10_000


class DownloadPending(DashScopeError):
    """The video could not be fetched in this run; the task stays journaled and the next run tries again."""


class TaskGone(DashScopeError):
    """The service no longer knows a task submitted more than 24 h ago: its video cannot be fetched."""


def video_problem(path: Path) -> str | None:
    """What makes a downloaded file not a whole MP4 video, or None when it is one.

    The project's prober names the format and reads the movie header; the top-level boxes must
    then tile the file exactly, so a body cut short (or with junk after it) is refused.
    """
    from compiler.media import probe_file

    try:
        info = probe_file(path)
    except OSError as error:
        return f"cannot read it back ({error.strerror or error})"
    if info.format not in ("mp4", "mov"):
        return f"it is not an MP4 ({info.format or 'unrecognised'} data, {info.size} bytes)"
    if info.duration is None:
        return f"an MP4 without a readable movie header ({info.size} bytes; cut short?)"
    end = _boxes_end(path, info.size)
    if end != info.size:
        return f"its boxes end at byte {end} of {info.size} (cut short or padded)"
    return None


def _boxes_end(path: Path, size: int) -> int:
    """Where the chain of top-level boxes ends (the file size for a whole file)."""
    position = 0
    with path.open("rb") as handle:
        for _ in range(_MAX_TOP_BOXES):
            if position + 8 > size:
                break
            handle.seek(position)
            header = handle.read(16)
            length, _kind = _BOX_HEADER.unpack_from(header)
            if length == 1 and len(header) >= 16:
                length = struct.unpack_from(">Q", header, 8)[0]
            elif length == 0:
                length = size - position
            if length < 8 or position + length > size:
                break
            position += length
    return position


@dataclass(frozen=True)
class FreshUrl:
    """A task read again for its result URL: the URL, or why there is none."""

    url: str | None
    why: str


def fresh_url(client: DashScopeClient, journal: Journal, row: Render, now: float) -> FreshUrl:
    """Ask the service for the task again; record a new URL, or EXPIRED when the task is past its 24 h life."""
    assert row.task_id is not None
    try:
        state = client.query(row.task_id)
    except DashScopeError as error:
        return FreshUrl(None, f"the task could not be read ({error})")
    if state.status == "SUCCEEDED" and state.video_url:
        journal.mark_fresh_url(row.id, state.video_url, now + jr.URL_TTL_S)
        return FreshUrl(state.video_url, "")
    if state.status == "UNKNOWN" and row.past_task_life(now):
        if row.state == jr.SUCCEEDED:  # a DOWNLOADED row keeps its record of the video it once had
            journal.mark_failed(row.id, jr.EXPIRED, "TaskExpired", "the service no longer knows the task (kept 24 h)")
        raise TaskGone(f"task {row.task_id} is past its 24 h life: the service no longer knows it", code="TaskExpired")
    return FreshUrl(None, f"the task answers {state.status} without a video URL")


def download_verified(client: DashScopeClient, journal: Journal, row: Render, dest: Path,
                      sleep: Callable[[float], None], now: Callable[[], float] = time.time) -> int:
    """Download the row's video to `dest`, asking for fresh URLs as needed; DownloadPending when this run cannot."""
    url, problems = row.video_url, []
    for attempt in range(FRESH_URL_ATTEMPTS):
        if url:
            try:
                return client.download(url, dest, verify=video_problem)
            except DashScopeError as error:
                problems.append(error.message)
        else:
            problems.append("no video URL")
        if attempt:
            sleep(min(FRESH_URL_PAUSE_S * attempt, 5.0))  # give a lagging service a moment before asking again
        fresh = fresh_url(client, journal, journal.get(row.id), now())
        url = fresh.url
        if fresh.why:
            problems.append(fresh.why)
    raise DownloadPending(f"task {row.task_id}: the video could not be downloaded ({'; '.join(problems[-2:])})",
                          code="DownloadPending")
