"""How a scene ends: its cost line, its SceneResult (the --json line), and the words for each way a render
stops early, saying exactly what the next run does."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from compiler import ir, targets
from compiler.diagnostics import ERROR, Diagnostic
from compiler.media import probe_file
from compiler.regions import endpoint_region, region_name, serves, unavailable_text
from compiler.render import journal as jr
from compiler.render import reconcile
from compiler.render.errors import DashScopeError, DeadlineExceeded, TaskFailedError
from compiler.render.fetch import DownloadPending, TaskGone
from compiler.render.identity import MediaError
from compiler.render.journal import JournalError, Render
from compiler.targets import billing
from compiler.targets.base import Estimate

__all__ = ["Outcome", "OK_OUTCOMES", "SceneResult", "CostLine", "scene_cost", "TargetCost", "compare_costs",
           "price_region", "seconds_text",
           "Interrupted", "UnknownSubmit", "TaskNotJournaled", "UploadGone", "TaskUnknownForNow", "NoUrlYet",
           "blocked_message", "failure"]


Outcome = Literal["rendered", "unchanged", "blocked", "failed", "pending", "interrupted", "invalid"]


OK_OUTCOMES = frozenset({"rendered", "unchanged"})


@dataclass
class SceneResult:
    """How one scene ended; `to_json` is the --json line."""

    scene: str
    outcome: Outcome
    message: str
    state: str | None = None
    code: str | None = None
    task_id: str | None = None
    request_id: str | None = None
    output: str | None = None
    sidecar: str | None = None
    usage: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome in OK_OUTCOMES

    def to_json(self) -> dict[str, Any]:
        return {"scene": self.scene, "outcome": self.outcome, "ok": self.ok, "state": self.state, "code": self.code,
                "message": self.message, "task_id": self.task_id, "request_id": self.request_id,
                "output": self.output, "sidecar": self.sidecar, "usage": self.usage, "cost": self.cost,
                "elapsed": round(self.elapsed, 3)}


# --- cost ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostLine:
    """One scene's estimate by its target; `at_most` when a reference video's length was unknown and the
    target's cap assumed."""

    estimate: Estimate
    at_most: bool
    region: str | None
    resolution: str
    model: str                   # the scene's model id (Target.model_of), named when there is no price
    prices_checked: str | None   # when the target's prices were read

    def text(self) -> str:
        e = self.estimate
        bound = "at most " if self.at_most else ""
        seconds = (f"{bound}{seconds_text(e.billable_seconds)} billable s "
                   f"({seconds_text(e.input_video_seconds)} s reference video + "
                   f"{seconds_text(e.output_seconds)} s output)")
        if e.amount is None:
            if self.region:
                return f"{seconds}; no published price for {self.model} in region {self.region}"
            return f"{seconds}; no known price for this endpoint (pass --region to price it)"
        return f"{seconds} x {e.price_per_second:g} {e.currency}/s ({self.region}, {self.resolution}) = " \
               f"{bound}{e.amount:.2f} {e.currency}"

    def to_dict(self) -> dict[str, Any]:
        e = self.estimate
        return {"billable_seconds": e.billable_seconds, "input_video_seconds": e.input_video_seconds,
                "output_seconds": e.output_seconds, "at_most": self.at_most, "price_per_second": e.price_per_second,
                "currency": e.currency, "amount": e.amount, "region": self.region, "resolution": self.resolution,
                "model": self.model, "prices_checked": self.prices_checked}


def scene_cost(scene: ir.Scene, region: str | None) -> CostLine:
    """One scene priced by its target's rule and prices; a reference video of unknown length counts as the
    most the rule bills for one (an upper bound, marked `at_most`)."""
    target = targets.target_of(scene.settings.model)
    videos = [m for m in scene.references if m.kind == "video"]
    lengths = [_video_length(m) for m in videos]
    cap = billing.input_video_cap(target.billing_rule, len(videos), len(scene.references))
    durations = [cap if length is None else length for length in lengths]
    return CostLine(target.estimate(scene, durations, region), None in lengths and cap > 0, region,
                    scene.settings.resolution, target.model_of(scene), target.prices_checked)


@dataclass(frozen=True)
class TargetCost:
    """One scene on one target (`cost --compare`): its cost line, or the errors why the target cannot take it."""

    model: str
    line: CostLine | None
    errors: tuple[Diagnostic, ...] = ()
    unavailable: str | None = None   # why the endpoint's region cannot render it (regions.unavailable_text)
    scene: str | None = None         # the scene's path as its diagnostics give it: an error elsewhere names its file

    def text(self) -> str:
        if self.unavailable is not None:
            return f"not here: {self.unavailable}"
        if self.line is not None:
            return self.line.text()
        first = self.errors[0] if self.errors else None
        where = ""
        if first is not None and first.span is not None:  # an imported cast file's error is at its own line
            elsewhere = first.path is not None and first.path != self.scene
            where = f" ({first.path}:{first.span.line})" if elsewhere else f" (line {first.span.line})"
        more = f" and {len(self.errors) - 1} more" if len(self.errors) > 1 else ""
        return f"cannot take it: {first.message if first else 'no payload'}{where}{more}"

    def to_dict(self) -> dict[str, Any]:
        if self.unavailable is not None:
            return {"model": self.model, "unavailable": self.unavailable}
        if self.line is not None:
            return self.line.to_dict()
        return {"model": self.model, "refused": [{"code": d.code, "message": d.message, "path": d.path,
                                                  "line": d.span.line if d.span is not None else None}
                                                 for d in self.errors]}


def compare_costs(path: Path, region: str | None, served: str | None = None) -> list[TargetCost]:
    """The scene compiled for every registered target, in the registry's order, and priced on each that
    can take it (`scenec cost --compare`); a target the endpoint's region (`served`) does not serve says so."""
    from compiler.api import compile_file

    found = []
    for target in targets.TARGETS:
        if not serves(target.regions, served):
            found.append(TargetCost(target.name, None, unavailable=unavailable_text(target.name, served or "",
                                                                                   target.regions)))
            continue
        compiled = compile_file(path, model=target.name)
        errors = tuple(d for d in compiled.diagnostics if d.severity == ERROR)
        if compiled.scene is None or errors or compiled.payload is None:
            found.append(TargetCost(target.name, None, errors, scene=str(path)))
        else:
            found.append(TargetCost(target.name, scene_cost(compiled.scene, region)))
    return found


def _video_length(member: ir.CastMember) -> float | None:
    """A reference video's length: from the local file, else the scene's `, 6s long`, else unknown."""
    source = member.media
    if source.scheme == "local" and source.local_path is not None:
        with contextlib.suppress(OSError):
            duration = probe_file(source.local_path).duration
            if duration is not None:
                return duration
    return member.length


def price_region(region: str | None, base_url: str) -> str | None:
    """The region whose prices apply: as given, else the one whose endpoint base_url is, else unknown."""
    return region_name(region) if region else endpoint_region(base_url)


def seconds_text(value: float) -> str:
    """Seconds as the messages write them: 5, 2.5, 1.33."""
    return f"{round(value, 2):g}"


# --- how a render stops early --------------------------------------------------------------------


class Interrupted(Exception):
    """The batch was stopped (Ctrl-C); raised from a worker's next sleep."""


class UnknownSubmit(Exception):
    """The submit was sent and its answer lost: a task may exist and bill."""


class TaskNotJournaled(Exception):
    """The service created a task but the journal could not record its id (disk full, ...)."""

    def __init__(self, task_id: str, why: str) -> None:
        super().__init__(why)
        self.task_id = task_id


class UploadGone(Exception):
    """The service refused the submit because an uploaded object is gone; nothing was created."""


class TaskUnknownForNow(Exception):
    """The service answered UNKNOWN for a task inside its 24 h life; the next run polls it again."""


class NoUrlYet(Exception):
    """The task SUCCEEDED but no answer carried its video URL; the next run asks again."""


def blocked_message(row: Render) -> str:
    """Why a paid render whose video is gone is not rendered again without --force."""
    if row.state == jr.DOWNLOADED:
        return (f"render #{row.id} (task {row.task_id}) was rendered and downloaded to {row.output_path}, "
                "but that file is gone and its URL has expired (URLs last 24 h); run with --force to render it again "
                "(billed again)")
    if not row.video_url:
        return (f"render #{row.id} (task {row.task_id}) was submitted, but the service no longer knows the task "
                "(task ids last 24 h), so it may have been billed; run with --force to render it again")
    return (f"render #{row.id} (task {row.task_id}) was generated and billed, but its video URL expired before "
            "it was downloaded (URLs last 24 h); run with --force to render it again (billed again)")


NEXT_RUN_LOOKS_UP = ("the next run looks the task up in the task list and adopts it (no second payment); "
                     "or name it yourself with --adopt TASK_ID")


def failure(scene: str, phase: str, task: str | None, error: Exception, *, safe: Callable[[str], str],
            timeout: float) -> SceneResult:
    """The result for a scene that stopped early in `phase`, saying exactly what the next run does; `safe`
    redacts the key from text the service or an exception wrote."""
    code = getattr(error, "code", None)
    if isinstance(error, Interrupted):
        rerun = ("run the same command again to resume" if task else
                 "run the same command again: it looks the task up again" if phase in ("lookup", "adopt")
                 else "run again to render it")
        return SceneResult(scene, "interrupted", f"interrupted during {phase}; {rerun}")
    if isinstance(error, UnknownSubmit):
        return SceneResult(scene, "blocked", safe(f"the submit reached the service but its answer was lost "
                           f"({error}); a task may exist and bill, so it is recorded UNKNOWN_SUBMIT and never sent "
                           f"again without --force: {NEXT_RUN_LOOKS_UP}"), code="UnknownSubmit")
    if isinstance(error, TaskNotJournaled):
        return SceneResult(scene, "blocked", safe(f"task {error.task_id} was created (and bills), but the journal "
                           f"could not record it ({error}). Keep this id: free space, then run again: the next run "
                           f"finds it in the task list and adopts it, or run with --adopt {error.task_id}"),
                           code="TaskNotJournaled", task_id=error.task_id)
    if isinstance(error, reconcile.NotSettled):
        return SceneResult(scene, "blocked", safe(error.message), code=error.code)
    if isinstance(error, TaskUnknownForNow):
        return SceneResult(scene, "pending", f"the service answered UNKNOWN for task {task} several times; inside "
                           "its 24 h life that is not its end: it stays journaled and the next run polls it again",
                           code="TaskUnknown")
    if isinstance(error, NoUrlYet):
        return SceneResult(scene, "pending", f"{error}; it stays journaled and the next run asks the service for "
                           "its video URL again (no second payment)", code="NoVideoUrl")
    if isinstance(error, DownloadPending):
        return SceneResult(scene, "pending", safe(f"{error.message}; the task stays journaled and the next run "
                           "asks the service for a fresh URL and downloads it (no second payment)"), code=code)
    if isinstance(error, TaskGone):
        return SceneResult(scene, "failed", f"{error.message}, so its video is lost; run again with --force to "
                           "render it again (billed again)", code=code)
    if isinstance(error, DeadlineExceeded):
        return SceneResult(scene, "pending", f"task {task} not finished within {seconds_text(timeout)} s "
                           f"(last status {error.last_status}); run the same command again to resume polling it",
                           code=code)
    if isinstance(error, TaskFailedError):
        # The message already says "task ... ended FAILED: <the service's words>".
        after = ("the service no longer knows the task (ids are kept 24 h); run with --force to render it again"
                 if error.task_status == "UNKNOWN"
                 else "failed and cancelled tasks are not billed; a rerun submits anew")
        return SceneResult(scene, "failed", safe(f"{error.message} (code {error.code}); {after}"), code=code)
    if isinstance(error, MediaError):
        return SceneResult(scene, "failed", safe(f"{error}; nothing submitted"), code="MediaError")
    if isinstance(error, JournalError):
        return SceneResult(scene, "failed", safe(f"{error}"), code="JournalError")
    after = {"submit": "; the service refused it and created nothing, a rerun submits again",
             "media": "; nothing was submitted, a rerun tries again",
             "lookup": "; the next run looks the task up again",
             "adopt": "; nothing adopted",
             "poll": f"; task {task} stays journaled, run again to resume it",
             "download": f"; task {task} stays journaled, run again to fetch its video"}.get(phase, "")
    text = str(error) if isinstance(error, DashScopeError) else f"{type(error).__name__}: {error}"
    return SceneResult(scene, "failed", safe(f"{phase} failed: {text}{after}"), code=code)
