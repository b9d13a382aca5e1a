"""The sidecar beside each video is part of the journal: it names the render's identity and its task.

`renders/NAME.json` records the identity (`payload_sha256`, `media_sha256`), the canonical
endpoint, the task id and the video's size and hash. When the journal has no row for an identity
(`.scenec/` deleted or emptied, a journal copied from elsewhere), the sidecar stands in for it:
an intact video is recorded again instead of paid again, and a video that went has its task
adopted so the paid video is fetched again while the task lives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from compiler.render.client import encode_payload
from compiler.render.journal import Journal, Render
from compiler.render.upload import sha256_file

__all__ = ["read_sidecar", "restore", "Target", "project_relative"]


class Target(Protocol):
    """What a sidecar is checked against (planning.Job is one)."""

    @property
    def key(self) -> str: ...

    @property
    def project_root(self) -> Path: ...

    @property
    def output(self) -> Path: ...

    @property
    def identity(self) -> Any: ...

    @property
    def sidecar(self) -> Path: ...


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """A video's sidecar as data, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def restore(journal: Journal, target: Target) -> Render | str | None:
    """A row rebuilt from a sidecar of this identity beside its intact video; else the sidecar's task id
    when its video went or changed (adopting it fetches the video again); else None."""
    found = read_sidecar(target.sidecar)
    ident = target.identity
    if found is None or found.get("payload_sha256") != ident.payload_sha256 \
            or found.get("media_sha256") != ident.media_sha256:
        return None
    task_id = _text(found, "task_id")
    known = journal.known_task_ids()
    try:
        nbytes = target.output.stat().st_size
        intact = nbytes == found.get("video_bytes") and sha256_file(target.output) == found.get("video_sha256")
    except OSError:
        nbytes, intact = 0, False
    if not intact:
        return task_id if task_id is not None and task_id not in known else None
    if task_id in known:
        task_id = None  # another row follows that task: this row only records the video
    payload = found.get("payload")
    where = project_relative(target.output, target.project_root)
    rid = journal.restore_downloaded(target.key, ident.payload_sha256, ident.media_sha256,
                                     encode_payload(payload if isinstance(payload, dict) else {}).decode(), task_id,
                                     _text(found, "request_id"), (where, nbytes, str(found["video_sha256"])))
    return journal.get(rid)


def project_relative(path: Path, root: Path) -> str:
    """How the journal names an output: relative to the project root, absolute when outside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
