"""Settle an unknown submit through the task list: adopt the one task it created, never submit again.

A submit whose answer was lost (a timeout, a reset, a 5xx, a garbled answer, a crash or Ctrl-C
around the send) may have created a task that bills. The journal holds the time the intent was
written (`created_at`, before the request) and the time the outcome was recorded (`updated_at`).
The task list (`GET /tasks`), filtered by model and that window, names the tasks it can be:

- exactly one not already followed by another journal row: adopt it (poll, download, no payment);
- none: a just-submitted task can be missing from the list for a while, so this is never taken
  as "not submitted"; the row stays UNKNOWN_SUBMIT and the next run looks again;
- several: the writer chooses with `scenec render SCENE --adopt TASK_ID`; scenec never guesses.

The list's field names are settled by no stored source: `client.read_task_list` reads them
leniently. Times are China Standard Time (UTC+8) in both the filters and `submit_time`, as the
service's task answers are.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from compiler.render.client import DashScopeClient, TaskSummary
from compiler.render.errors import DashScopeError
from compiler.render.journal import PREPARED, Render

__all__ = ["Lookup", "SERVICE_UTC_OFFSET_S", "LOOKUP_MARGIN_S", "TASK_LIFE_S", "lookup_window", "service_time",
           "parse_service_time", "find_task", "matches"]

SERVICE_UTC_OFFSET_S = 8 * 3600
# Clocks differ and a request takes time to arrive: the window is widened by this much each side.
LOOKUP_MARGIN_S = 120.0
# A row left PREPARED (the process died around the send) may have waited out throttling first:
# its submit went out at most this long after the intent was written (the default --timeout).
PREPARED_SEND_WINDOW_S = 30 * 60.0
# The service keeps tasks 24 h; past that the list cannot answer.
TASK_LIFE_S = 24 * 3600.0
# With several candidates, each is read (GET /tasks/{id}) to compare its prompt, up to this many.
MAX_CANDIDATES_READ = 10

Kind = Literal["found", "none", "several", "error"]


@dataclass(frozen=True)
class Lookup:
    """What the task list said about one unknown submit."""

    kind: Kind
    task_ids: tuple[str, ...] = ()
    detail: str = ""

    @property
    def task_id(self) -> str:
        assert self.kind == "found" and len(self.task_ids) == 1
        return self.task_ids[0]


def lookup_window(row: Render, now: float) -> tuple[float, float]:
    """The times (epoch seconds) the row's submit can have reached the service."""
    sent_by = row.created_at + PREPARED_SEND_WINDOW_S if row.state == PREPARED else row.updated_at
    return row.created_at - LOOKUP_MARGIN_S, min(max(sent_by, row.created_at) + LOOKUP_MARGIN_S, now + LOOKUP_MARGIN_S)


def service_time(ts: float) -> str:
    """A list filter time: YYYYMMDDhhmmss in the service's UTC+8."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(ts + SERVICE_UTC_OFFSET_S))


_TIME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})(?:\.\d+)?")


def parse_service_time(text: str | None) -> float | None:
    """A task time ("2026-01-08 16:42:45.123", UTC+8, or the compact form) as epoch seconds; None when unreadable."""
    match = _TIME.fullmatch(text.strip()) if text else None
    if match is None:
        return None
    try:
        parts = tuple(int(g) for g in match.groups())
        return calendar.timegm((*parts, 0, 0, 0)) - SERVICE_UTC_OFFSET_S  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        return None


def matches(task: TaskSummary, model: str, window: tuple[float, float], known: set[str]) -> bool:
    """Whether a listed task can be this row's: not another row's, the same model, submitted in the window.

    A task without a readable submit time is kept: the list was already filtered by the window.
    """
    if task.task_id in known or (task.model is not None and task.model != model):
        return False
    submitted = parse_service_time(task.submit_time)
    return submitted is None or window[0] <= submitted <= window[1]


def find_task(client: DashScopeClient, row: Render, *, model: str, known: Iterable[str], now: float) -> Lookup:
    """Look the row's submit up in the task list; never raises for what the service answers."""
    window = lookup_window(row, now)
    filters = {"model_name": model, "start_time": service_time(window[0]), "end_time": service_time(window[1])}
    try:
        listed = client.list_tasks(filters)
    except DashScopeError as error:
        return Lookup("error", detail=f"the task list could not be read ({error})")
    taken = set(known)
    found = list(dict.fromkeys(t.task_id for t in listed if matches(t, model, window, taken)))
    if len(found) > 1:
        found = _same_prompt(client, found, _prompt(row)) or found
    span = f"{service_time(window[0])}-{service_time(window[1])} UTC+8"
    if not found:
        return Lookup("none", detail=f"no {model} task submitted {span} that another render does not own")
    return Lookup("found" if len(found) == 1 else "several", tuple(found), span)


def _prompt(row: Render) -> str | None:
    try:
        prompt = json.loads(row.payload_json).get("input", {}).get("prompt")
    except (ValueError, AttributeError):
        return None
    return prompt if isinstance(prompt, str) else None


def _same_prompt(client: DashScopeClient, task_ids: list[str], prompt: str | None) -> list[str]:
    """The candidates whose answer shows our prompt (orig_prompt, present once a task ends); [] when undecided."""
    if prompt is None or len(task_ids) > MAX_CANDIDATES_READ:
        return []
    kept = []
    for task_id in task_ids:
        try:
            state = client.query(task_id)
        except DashScopeError:
            return []
        shown = state.raw.get("output", {}).get("orig_prompt") if isinstance(state.raw.get("output"), dict) else None
        if shown is None:
            return []  # one candidate cannot be told apart: let the writer choose among all
        if shown == prompt:
            kept.append(task_id)
    return kept
