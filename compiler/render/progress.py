"""How a render batch reports itself: a live rich table on a terminal, plain lines otherwise, or JSON lines.

Scene names, task ids and the service's messages are shown as text: rich markup is never parsed from
them, and control characters are made visible (compiler.report.visible) before they reach a terminal.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from compiler.report import json_safe, visible

if TYPE_CHECKING:
    from compiler.render.planning import Plan
    from compiler.render.results import SceneResult

__all__ = ["make_display", "PlainDisplay", "RichDisplay", "JsonDisplay", "status_lines", "status_json"]

# States that end a scene's row in the table.
_DONE_STYLE = {"rendered": "green", "unchanged": "dim", "blocked": "yellow", "pending": "yellow",
               "failed": "red", "invalid": "red", "interrupted": "yellow"}


def make_display(mode: str, stream: IO[str] | None = None,
                 err: IO[str] | None = None) -> JsonDisplay | RichDisplay | PlainDisplay:
    """"json", or "auto": rich when `stream` is a terminal, plain lines when it is not."""
    out = stream or sys.stdout
    if mode == "json":
        return JsonDisplay(out, err or sys.stderr)
    if out.isatty():
        return RichDisplay(out)
    return PlainDisplay(out)


@dataclass
class _Row:
    scene: str
    state: str = "queued"
    detail: str = ""
    started: float | None = None
    ended: float | None = None

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or now) - self.started


@dataclass
class _Board:
    """The batch's state, shared by all displays: per-scene state, elapsed time and queue position."""

    rows: dict[str, _Row] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: int = 0

    def begin(self, plans: Sequence[Plan]) -> None:
        for p in plans:
            self.rows[p.scene] = _Row(p.scene, "queued" if p.action != "invalid" else "invalid")

    def update(self, scene: str, state: str, detail: str) -> bool:
        """Record a state; True when it changed (plain lines print only changes)."""
        row = self.rows.setdefault(scene, _Row(scene))
        if row.started is None:
            row.started = time.monotonic()
            self.started += 1
        changed = (row.state, row.detail) != (state, detail)
        row.state, row.detail = state, detail
        return changed

    def finish(self, result: SceneResult) -> None:
        row = self.rows.setdefault(result.scene, _Row(result.scene))
        row.started = row.started or time.monotonic()
        row.ended = time.monotonic()
        row.state, row.detail = result.outcome, result.message

    def queue_position(self, scene: str) -> int | None:
        waiting = [name for name, row in self.rows.items() if row.state == "queued"]
        return waiting.index(scene) + 1 if scene in waiting else None


class PlainDisplay:
    """One line per change of state, for logs and pipes."""

    def __init__(self, stream: IO[str]) -> None:
        self._out = stream
        self._board = _Board()
        self._t0 = time.monotonic()

    def _print(self, text: str) -> None:
        print(f"[{time.monotonic() - self._t0:6.1f}s] {visible(text)}", file=self._out, flush=True)

    def begin(self, plans: Sequence[Plan]) -> None:
        with self._board.lock:
            self._board.begin(plans)
        waiting = sum(1 for p in plans if p.action not in ("invalid", "skip"))
        if waiting > 1:
            print(f"{waiting} scenes queued", file=self._out, flush=True)

    def note(self, text: str) -> None:
        with self._board.lock:
            print(visible(text), file=self._out, flush=True)

    def update(self, scene: str, state: str, detail: str = "") -> None:
        with self._board.lock:
            first = self._board.rows.get(scene) is None or self._board.rows[scene].started is None
            if self._board.update(scene, state, detail):
                # The queue position, once: the scene's place in the order scenes started.
                place = f" [{self._board.started}/{len(self._board.rows)}]" if first else ""
                self._print(f"{scene}: {state}" + (f" ({detail})" if detail else "") + place)

    def finish(self, result: SceneResult) -> None:
        with self._board.lock:
            self._board.finish(result)
            self._print(f"{result.scene}: {result.outcome}: {result.message}")

    def close(self) -> None:
        pass


class JsonDisplay:
    """One JSON object per scene result on stdout; notes go to stderr so stdout stays machine-readable."""

    def __init__(self, stream: IO[str], err: IO[str]) -> None:
        self._out, self._err = stream, err
        self._lock = threading.Lock()

    def begin(self, plans: Sequence[Plan]) -> None:
        pass

    def note(self, text: str) -> None:
        with self._lock:
            print(visible(text), file=self._err, flush=True)

    def update(self, scene: str, state: str, detail: str = "") -> None:
        pass

    def finish(self, result: SceneResult) -> None:
        with self._lock:
            print(json_safe(json.dumps(result.to_json(), ensure_ascii=False)), file=self._out, flush=True)

    def close(self) -> None:
        pass


class RichDisplay:
    """A live table (scene, state, elapsed, detail) redrawn a few times a second; results print above it."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.live import Live

        self._console = Console(file=stream)
        if self._console.width < 20:
            # A terminal that reports 0 columns (or COLUMNS=0) would get every line cut to nothing.
            self._console = Console(file=stream, width=80)
        self._board = _Board()
        self._live = Live(console=self._console, refresh_per_second=4, get_renderable=self._table, transient=False)
        self._started = False

    def _table(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, expand=False)
        for column in ("SCENE", "STATE", "ELAPSED", "DETAIL"):
            table.add_column(column, no_wrap=True, overflow="ellipsis")
        now = time.monotonic()
        with self._board.lock:
            for row in self._board.rows.values():
                # Text cells: a "[/]" or "[bold]" in a scene name or a server message is text, not markup.
                table.add_row(Text(visible(row.scene)), self._state(row), f"{row.elapsed(now):.0f}s",
                              Text(visible(row.detail[:80])))
        return table

    def _state(self, row: _Row) -> Any:
        from rich.text import Text

        if row.state == "queued":
            return Text(f"queued #{self._board.queue_position(row.scene)}")
        return Text(visible(row.state), style=_DONE_STYLE.get(row.state, ""))

    def begin(self, plans: Sequence[Plan]) -> None:
        with self._board.lock:
            self._board.begin(plans)
        self._live.start()
        self._started = True

    def note(self, text: str) -> None:
        self._console.print(visible(text), markup=False, highlight=False)

    def update(self, scene: str, state: str, detail: str = "") -> None:
        with self._board.lock:
            self._board.update(scene, state, detail)

    def finish(self, result: SceneResult) -> None:
        with self._board.lock:
            self._board.finish(result)
        self._console.print(visible(f"{result.scene}: {result.outcome}: {result.message}"), markup=False,
                            highlight=False)

    def close(self) -> None:
        if self._started:
            self._live.stop()
            self._started = False


# --- scenec status ---------------------------------------------------------------------------


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def status_lines(rows: Sequence[Any], now: float | None = None) -> list[str]:
    """A plain table of journal rows: id, scene, model, state, task, age, and the output or the error."""
    at = time.time() if now is None else now
    table: list[tuple[str, ...]] = [("ID", "SCENE", "MODEL", "STATE", "TASK", "UPDATED", "OUTPUT / DETAIL")]
    for r in rows:
        detail = r.output_path if r.state == "DOWNLOADED" else " ".join(x for x in (r.code, r.message) if x)
        cells = (str(r.id), r.scene, r.model or "-", r.state, r.task_id or "-", _age(max(0.0, at - r.updated_at)),
                 (detail or "")[:100])
        table.append(tuple(visible(str(cell)) for cell in cells))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]


def status_json(rows: Sequence[Any]) -> list[str]:
    """One JSON object per row; the signed video URL is left out (it grants access to the video)."""
    keep = ("id", "scene", "model", "endpoint", "state", "task_id", "request_id", "output_path", "output_bytes",
            "code", "message", "created_at", "submitted_at", "finished_at", "downloaded_at", "updated_at",
            "url_expires_at")
    return [json_safe(json.dumps({**{k: getattr(r, k) for k in keep}, "usage": r.usage}, ensure_ascii=False))
            for r in rows]
