"""`scenec cancel`: cancel the journaled in-flight tasks of a scene (the API cancels only PENDING ones)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compiler.project import find_project
from compiler.render import journal as jr
from compiler.render.client import DashScopeClient
from compiler.render.errors import DashScopeError
from compiler.render.journal import Journal, Render, journal_path, scene_key

__all__ = ["CancelResult", "cancel_scene"]


@dataclass(frozen=True)
class CancelResult:
    """What `scenec cancel` did for one journaled task."""

    scene: str
    task_id: str | None
    ok: bool
    message: str


def cancel_scene(path: Path, *, api_key: str, base_url: str, workspace: str | None = None) -> list[CancelResult]:
    """Cancel every task of a scene the journal holds in flight; the API allows it only while PENDING."""
    root = find_project(path).root.absolute()
    key = scene_key(path, root)
    if not journal_path(root).exists():
        return [CancelResult(str(path), None, False, "no renders are journaled for this project")]
    with Journal.open(journal_path(root), secrets=(api_key,)) as journal:
        rows = [r for r in journal.all(key) if r.state in jr.POLLABLE and r.task_id]
        if not rows:
            return [CancelResult(str(path), None, False, "no task of this scene is in flight")]
        with DashScopeClient(api_key=api_key, base_url=base_url, workspace=workspace) as client:
            return [_cancel_one(client, journal, str(path), row) for row in rows]


def _cancel_one(client: DashScopeClient, journal: Journal, scene: str, row: Render) -> CancelResult:
    assert row.task_id is not None
    try:
        client.cancel(row.task_id)
    except DashScopeError as error:
        status = _current_status(client, row.task_id)
        why = f"it is {status}: only PENDING tasks can be cancelled" if status and status != "PENDING" else str(error)
        return CancelResult(scene, row.task_id, False, f"task {row.task_id} not cancelled: {why}")
    journal.mark_failed(row.id, jr.CANCELED, "Canceled", "cancelled with scenec cancel")
    return CancelResult(scene, row.task_id, True, f"task {row.task_id} cancelled (nothing is billed)")


def _current_status(client: DashScopeClient, task_id: str) -> str | None:
    try:
        return client.query(task_id).status
    except DashScopeError:
        return None
