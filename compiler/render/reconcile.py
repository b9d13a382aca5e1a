"""Settle an unknown submit through the task list: adopt the one task it created, never submit again.

A submit whose answer was lost (a timeout, a reset, a 5xx, a garbled answer, a crash or Ctrl-C
around the send) may have created a task that bills. The journal holds the time the intent was
written (`created_at`, before the request) and the time the outcome was recorded (`updated_at`).
The task list (`GET /tasks`), filtered by model and that window, names the tasks it can be:

- exactly one not already followed by another journal row: adopt it (poll, download, no payment);
- none: a just-submitted task can be missing from the list for a while, so this is never taken
  as "not submitted"; the row stays UNKNOWN_SUBMIT and the next run looks again;
- several: told apart by prompt once they have finished (the answer then shows it); otherwise the
  writer chooses with `scenec render SCENE --adopt TASK_ID`; scenec never guesses. A single
  candidate that another unknown submit of the same time could own is treated the same way.

The list's field names are settled by no stored source: `client.read_task_list` reads them
leniently. Times are China Standard Time (UTC+8) in both the filters and `submit_time`, as the
service's task answers are.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from compiler.render.client import DashScopeClient, TaskSummary
from compiler.render.errors import DashScopeError
from compiler.render.journal import PREPARED, UNRESOLVED, Journal, Render, TaskHeld

__all__ = ["Lookup", "SERVICE_UTC_OFFSET_S", "LOOKUP_MARGIN_S", "lookup_window", "service_time",
           "parse_service_time", "find_task", "matches", "overlaps", "NotSettled", "settle", "adopt_task", "LOOKED_UP"]

SERVICE_UTC_OFFSET_S = 8 * 3600
# Clocks differ and a request takes time to arrive: the window is widened by this much each side.
LOOKUP_MARGIN_S = 120.0
# A row left PREPARED (the process died around the send) may have waited out throttling first:
# its submit went out at most this long after the intent was written (the default --timeout).
PREPARED_SEND_WINDOW_S = 30 * 60.0
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
        return calendar.timegm((*parts, 0, 0, 0)) - SERVICE_UTC_OFFSET_S
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


def overlaps(row: Render, other: Render, now: float) -> bool:
    """Whether two unknown submits' windows overlap: a task in both could be either's."""
    a, b = lookup_window(row, now), lookup_window(other, now)
    return a[0] <= b[1] and b[0] <= a[1]


def find_task(client: DashScopeClient, row: Render, *, model: str, known: Iterable[str], now: float,
              rivals: Iterable[Render] = ()) -> Lookup:
    """Look the row's submit up in the task list; never raises for what the service answers.

    `rivals` are the journal's other unknown submits: when one's window overlaps this row's, a
    single candidate may be the rival's task, so it is adopted only when its prompt (shown once the
    task has finished) is ours and no overlapping rival has the same prompt.
    """
    window = lookup_window(row, now)
    contested = [r for r in rivals if r.id != row.id and overlaps(row, r, now)]
    filters = {"model_name": model, "start_time": service_time(window[0]), "end_time": service_time(window[1])}
    try:
        listed = client.list_tasks(filters)
    except DashScopeError as error:
        return Lookup("error", detail=f"the task list could not be read ({error})")
    taken = set(known)
    found = list(dict.fromkeys(t.task_id for t in listed if matches(t, model, window, taken)))
    span = f"{service_time(window[0])}-{service_time(window[1])} UTC+8"
    prompt = _prompt(row)
    if len(found) > 1 or (found and contested):
        if prompt is not None and any(_prompt(r) == prompt for r in contested):
            return Lookup("several", tuple(found), f"{span}; render #{contested[0].id} sent the same prompt then")
        narrowed = _same_prompt(client, found, prompt)
        if narrowed is None:
            return Lookup("several", tuple(found), f"{span}; not all have finished, so their prompts are unknown")
        found = narrowed
    elif found and _shows_another_prompt(client, found[0], prompt):
        found = []  # another tool's or project's task of the same model and minute: never adopted blind
    if not found:
        return Lookup("none", detail=f"no {model} task submitted {span} that another render does not own")
    return Lookup("found" if len(found) == 1 else "several", tuple(found), span)


def _prompt(row: Render) -> str | None:
    try:
        prompt = json.loads(row.payload_json).get("input", {}).get("prompt")
    except (ValueError, AttributeError):
        return None
    return prompt if isinstance(prompt, str) else None


def _shows_another_prompt(client: DashScopeClient, task_id: str, prompt: str | None) -> bool:
    """Whether a finished task's answer shows a prompt that is not ours (False while it cannot tell)."""
    if prompt is None:
        return False
    try:
        output = client.query(task_id).raw.get("output")
    except DashScopeError:
        return False
    shown = output.get("orig_prompt") if isinstance(output, dict) else None
    return shown is not None and shown != prompt


def _same_prompt(client: DashScopeClient, task_ids: list[str], prompt: str | None) -> list[str] | None:
    """The candidates whose answer shows our prompt (orig_prompt, present once a task ends); None when undecided."""
    if prompt is None or len(task_ids) > MAX_CANDIDATES_READ:
        return None
    kept = []
    for task_id in task_ids:
        try:
            state = client.query(task_id)
        except DashScopeError:
            return None
        output = state.raw.get("output")
        shown = output.get("orig_prompt") if isinstance(output, dict) else None
        if state.status in ("FAILED", "CANCELED") and shown is None:
            continue  # not billed, and nothing to fetch: never worth adopting blind
        if shown is None:
            return None  # one candidate cannot be told apart yet
        if shown == prompt:
            kept.append(task_id)
    return kept


# --- settling a row --------------------------------------------------------------------------

# Each lookup that misses re-records the row's message as "<cause>; looked up <when>: <what>".
LOOKED_UP = "; looked up "


class NotSettled(Exception):
    """An unknown submit (or a named task) this run could not settle; `message` says what the next run does."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _stamp(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def settle(client: DashScopeClient, journal: Journal, row: Render, *, model: str, scene: str, now: float) -> str:
    """Adopt the one task the row's submit created and return its id; else NotSettled, the row re-recorded."""
    rows = journal.all()
    rivals = [r for r in rows if r.state in UNRESOLVED and r.id != row.id]
    known = {r.task_id for r in rows if r.task_id}
    found = find_task(client, row, model=model, known=known, now=now, rivals=rivals)
    if found.kind == "found":
        try:
            journal.adopt(row.id, found.task_id, f"found in the task list ({found.detail})")
            return found.task_id
        except TaskHeld as held:  # another scene's run adopted it a moment ago
            found = Lookup("none", detail=str(held))
    # The cause, without what earlier lookups appended: the message stays one line however many runs look.
    cause = (row.message or "the process stopped around the send").split(LOOKED_UP)[0]
    since = f"render #{row.id}: the submit of {_stamp(row.created_at)} may have created a task (its answer was " \
            f"lost: {cause})"
    if found.kind == "several":
        raise NotSettled(f"{since}; the task list holds several candidates: {', '.join(found.task_ids)} "
                         f"({found.detail}). Not sent again; the next run tells finished ones apart by their prompt, "
                         f"or choose now with `scenec render {scene} --adopt TASK_ID` (the DashScope console shows "
                         "each task)", "SeveralCandidates")
    after = (" It is over 24 h old: if a task was created it is billed and its video is gone; --force renders anew "
             "(billed)." if row.past_task_life(now) else " The next run looks again (a new task can take "
             "a while to appear in the list); if the DashScope console shows no task, --force submits anew.")
    what, code = ("no matching task yet", "NotFoundYet") if found.kind == "none" else ("the lookup failed",
                                                                                       "LookupFailed")
    journal.mark_unknown_submit(row.id, f"{cause}{LOOKED_UP}{_stamp(now)}: {what} ({found.detail})", code)
    raise NotSettled(f"{since}; {what} ({found.detail}). Not sent again.{after}", code)


def adopt_task(client: DashScopeClient, journal: Journal, row: Render | None, task_id: str, *, origin: str,
               record: Callable[[], int]) -> int:
    """Follow a named task: `origin` is "--adopt" or the sidecar that named it; `record` journals an intent when
    `row` is None. The task must exist at the service and belong to no other row. Returns the row id."""
    state = client.query(task_id)
    if state.status == "UNKNOWN" and origin == "--adopt":
        raise NotSettled(f"--adopt {task_id}: the service does not know this task (ids last 24 h); nothing adopted, "
                         "nothing sent", "UnknownTask")
    if state.status == "UNKNOWN":
        raise NotSettled(f"the video of task {task_id} (named by {origin}) is gone and the service no longer knows "
                         "the task (ids last 24 h); it was paid for, so nothing is sent: run with --force to render "
                         "it again (billed again)", "VideoLost")
    holder = next((r.id for r in journal.all() if r.task_id == task_id), None)
    if holder is not None:
        raise NotSettled(f"{origin} {task_id}: the task already belongs to render #{holder}; nothing adopted",
                         "TaskHeld")
    rid = row.id if row is not None else record()
    try:
        journal.adopt(rid, task_id, "named with --adopt" if origin == "--adopt" else f"named by {origin}")
    except TaskHeld as held:
        raise NotSettled(f"{origin} {task_id}: {held}; nothing adopted", "TaskHeld") from None
    return rid
