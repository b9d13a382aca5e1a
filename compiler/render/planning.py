"""Planning a batch, before anything is sent: compile each scene into a Job (payload, media, identity, cost,
output), then decide what to do with it from the project's journal and the video's sidecar (skip, resume a
poll or a download, submit, reconcile or adopt an unknown submit, or refuse a paid video that is gone)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from compiler.api import compile_file
from compiler.diagnostics import ERROR
from compiler.regions import endpoint_region, serves, unavailable_text
from compiler.render import journal as jr
from compiler.render import sidecar
from compiler.render.client import canonical_endpoint
from compiler.render.identity import Identity, LocalMedia, identity, local_media, target_of_body
from compiler.render.journal import Journal, Render, decide, journal_path, scene_key
from compiler.render.results import CostLine, price_region, scene_cost

__all__ = ["DEFAULT_TIMEOUT_S", "Action", "RenderOptions", "Job", "Plan", "load_job", "plan_job", "plan"]


# Polling of one scene gives up after this long; the task stays journaled for a rerun.
DEFAULT_TIMEOUT_S = 30 * 60.0




RENDERS_DIR = "renders"


Action = Literal["skip", "resume_poll", "resume_download", "submit", "reconcile", "adopt", "blocked_lost",
                 "blocked_unresolved", "invalid"]


@dataclass(frozen=True)
class RenderOptions:
    """What the command line decided for a whole batch."""

    base_url: str
    region: str | None = None          # prices only; the endpoint is base_url
    model: str | None = None           # --model: every scene compiled for this target, over its MODEL
    force: bool = False
    jobs: int = 1
    timeout: float = DEFAULT_TIMEOUT_S
    output: Path | None = None         # one scene only
    check_urls: bool = True            # reach every remote medium (HEAD) before submitting
    adopt: str | None = None           # one scene only: the task id an unknown submit created
    workspace: str | None = None       # sent as X-DashScope-WorkSpace; not in the identity (compiler/regions.py)

    @property
    def endpoint(self) -> str:
        """The base URL as identities and the upload cache know it (aliases and spellings folded)."""
        return canonical_endpoint(self.base_url)


@dataclass(frozen=True)
class Job:
    """A scene ready to render: its compiled payload, local media, identity, cost and output."""

    scene: str                   # as the user named it
    key: str                     # the journal's name for it: the path relative to the project root
    project_root: Path
    output: Path
    payload: dict[str, Any]      # compiled body; local files appear as project-relative paths
    media: tuple[LocalMedia, ...]
    identity: Identity
    cost: CostLine
    endpoint: str = ""           # canonical: where its submit goes (part of the identity)

    @property
    def journal_path(self) -> Path:
        return journal_path(self.project_root)

    @property
    def sidecar(self) -> Path:
        return self.output.with_suffix(".json")


@dataclass(frozen=True)
class Plan:
    """What `render` will do with one scene, decided before anything is sent."""

    scene: str
    action: Action
    job: Job | None = None
    previous: Render | None = None
    diagnostics: tuple[Any, ...] = ()
    problem: str | None = None
    adopt: str | None = None     # action "adopt": the task to follow (--adopt, or a sidecar's whose video went)


# --- where a scene is journaled ------------------------------------------------------------------


# --- planning ------------------------------------------------------------------------------------


def load_job(path: Path, *, output: Path | None, region: str | None, endpoint: str = "",
             model: str | None = None) -> Job | Plan:
    """Compile a scene (for `model` when given, else its own) and gather what identifies it; a Plan with action
    "invalid" when it cannot render, or when the endpoint's region does not serve its model."""
    name = str(path)
    compiled = compile_file(path, model=model)
    if compiled.scene is None or compiled.payload is None or not compiled.ok:
        errors = sum(1 for d in compiled.diagnostics if d.severity == ERROR)
        return Plan(name, "invalid", diagnostics=tuple(compiled.diagnostics),
                    problem=f"the scene has {errors} error{'s' if errors != 1 else ''} (see above); nothing submitted")
    scene = compiled.scene
    root = (scene.project_root or path.absolute().parent).absolute()
    payload = compiled.payload.model_dump(mode="json", exclude_none=True)
    target = target_of_body(payload)
    served = endpoint_region(endpoint) if endpoint else None
    if not serves(target.regions, served):
        return Plan(name, "invalid", problem=f"{unavailable_text(target.name, served or '', target.regions)}; "
                                             "nothing submitted")
    refused_here = target.region_refusal(scene, served)
    if refused_here is not None:
        return Plan(name, "invalid", problem=f"{refused_here}; nothing submitted")
    try:
        media = local_media(scene, payload, target)
    except OSError as error:
        return Plan(name, "invalid", problem=f"cannot read media: {error.strerror or error}; nothing submitted")
    video = (output or root / RENDERS_DIR / f"{path.stem}.mp4").absolute()
    return Job(name, scene_key(path, root), root, video, payload, media, identity(payload, media, endpoint, target),
               scene_cost(scene, region), endpoint)


def plan_job(journal: Journal, job: Job, *, force: bool, now: float | None = None, adopt: str | None = None) -> Plan:
    """Decide one scene from its journal (journal.decide on the reusable row), then its sidecar, then the
    paid-but-lost guard, then the unknown-submit guard."""
    at = time.time() if now is None else now
    ident = job.identity
    reusable = journal.find_reusable(ident.payload_sha256, ident.media_sha256)
    if adopt is not None:
        return _plan_adopt(job, reusable, adopt, _unresolved_elsewhere(journal, job))
    if reusable is not None:
        action = decide(reusable, force=force, output_exists=journal.output_intact(reusable), now=at)
        return Plan(job.scene, action, job, reusable)
    restored = None if force else sidecar.restore(journal, job)
    if isinstance(restored, Render):
        return Plan(job.scene, "skip", job, restored)
    if isinstance(restored, str):
        return Plan(job.scene, "adopt", job, None, adopt=restored)
    newest = journal.newest(ident.payload_sha256, ident.media_sha256)
    if newest is not None and newest.state == jr.SUCCEEDED and not newest.url_valid(at):
        # decide(): "the caller first records EXPIRED on the row".
        journal.mark_failed(newest.id, jr.EXPIRED, "UrlExpired", "the result URL expired before the download")
        newest = journal.get(newest.id)
    if newest is not None and not force:
        if newest.state == jr.DOWNLOADED and newest.url_valid(at):
            return Plan(job.scene, "resume_download", job, newest)  # the video file went; fetching it is free
        # Rendered and paid for, but the video is gone (URL expired, the file deleted, or the service has
        # forgotten the task): rendering again pays again, so only on --force.
        if newest.state == jr.DOWNLOADED or (newest.state == jr.EXPIRED and newest.task_id):
            return Plan(job.scene, "blocked_lost", job, newest)
    unresolved = None if force else _unresolved_elsewhere(journal, job)
    if unresolved is not None:
        return Plan(job.scene, "blocked_unresolved", job, unresolved,
                    problem=unresolved_text(unresolved, job, "submitting it could pay for both"))
    return Plan(job.scene, "submit", job, newest)


def _unresolved_elsewhere(journal: Journal, job: Job) -> Render | None:
    """The scene's newest row when it is a submit that may have reached the service (no answer, no task id) under
    another identity: another model, endpoint, prompt, parameters or media. Nothing else will ever look its task
    up (lookups go by identity), so a submit now could pay twice, once for a task nobody follows."""
    newest = journal.latest(job.key)
    if newest is None or newest.state not in jr.UNRESOLVED:
        return None
    ours = (newest.payload_sha256, newest.media_sha256) == (job.identity.payload_sha256, job.identity.media_sha256)
    return None if ours else newest


def unresolved_text(row: Render, job: Job, risk: str) -> str:
    """Why a scene waits for an unknown submit of another identity, and the ways to settle it."""
    then_model, now_model = row.model or "its model", str(job.payload.get("model") or "")
    then_endpoint = row.endpoint or "an endpoint not journaled (by an older scenec)"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.created_at))
    task = f"task {row.task_id}" if row.task_id else "task id unknown"
    last = f"; recorded: {row.message}" if row.message else ""
    return (f"render #{row.id} of this scene ({then_model} at {then_endpoint}, {when}, {row.state}: {task}{last}) "
            f"may have reached the service, and this run is another render ({_changes(row, job, now_model)}): "
            f"{risk}. Nothing was submitted. Settle #{row.id} first: rerun with its settings"
            f"{_settings_hint(row, job, now_model)} to look its task up in the task list (add --adopt TASK_ID if "
            "you know its task); once found, `scenec cancel` stops it while PENDING. Or rerun with --force to "
            "submit this one anyway")


def _changes(row: Render, job: Job, model: str) -> str:
    changed = [f"{what} {then} -> {now}" for what, then, now in (("model", row.model, model),
                                                                 ("endpoint", row.endpoint, job.endpoint))
               if then is not None and then != now]
    if row.endpoint is None:
        changed.append("perhaps the endpoint")
    return ", ".join(changed) if changed else "the prompt, parameters or media changed"


def _settings_hint(row: Render, job: Job, model: str) -> str:
    flags = [f"--model {row.model}" if row.model and row.model != model else "",
             f"--base-url {row.endpoint}" if row.endpoint and row.endpoint != job.endpoint else ""]
    return f" ({' '.join(flag for flag in flags if flag)})" if any(flags) else ""


def _plan_adopt(job: Job, reusable: Render | None, task_id: str, unresolved: Render | None) -> Plan:
    """--adopt TASK_ID: only for a scene whose submit is unknown (or not journaled at all), and not while another
    identity's submit of the scene is unknown: that task would be recorded as this render's video."""
    if reusable is None and unresolved is not None:
        return Plan(job.scene, "blocked_unresolved", job, unresolved,
                    problem=unresolved_text(unresolved, job, f"--adopt {task_id} would file a task under the wrong "
                                                             "render"))
    if reusable is None or reusable.state in jr.UNRESOLVED:
        return Plan(job.scene, "adopt", job, reusable, adopt=task_id)
    return Plan(job.scene, "invalid", job, reusable,
                problem=f"--adopt {task_id}: render #{reusable.id} of this scene is {reusable.state}"
                        f"{f' (task {reusable.task_id})' if reusable.task_id else ''}, not an unknown submit; "
                        "nothing to adopt")


def plan(paths: Sequence[Path], options: RenderOptions, *, secrets: tuple[str, ...] = ()) -> list[Plan]:
    """Compile every scene and decide what to do with it; writes to the journal only to record expired URLs and
    to rebuild rows from sidecars. JournalError when a project's journal cannot be used."""
    region = price_region(options.region, options.base_url)
    loaded = [load_job(path, output=options.output, region=region, endpoint=options.endpoint, model=options.model)
              for path in paths]
    plans: list[Plan] = []
    journals: dict[Path, Journal] = {}
    try:
        for item in loaded:
            if isinstance(item, Plan):
                plans.append(item)
                continue
            journal = journals.get(item.journal_path)
            if journal is None:
                journal = journals[item.journal_path] = Journal.open(item.journal_path, secrets=secrets)
            plans.append(plan_job(journal, item, force=options.force, adopt=options.adopt))
    finally:
        for journal in journals.values():
            journal.close()
    return _refuse_collisions(plans)


def _refuse_collisions(plans: list[Plan]) -> list[Plan]:
    """Two scenes that would write the same video file (same name in two folders) both refuse to render."""
    counts: dict[Path, int] = {}
    for p in plans:
        if p.job is not None:
            counts[p.job.output] = counts.get(p.job.output, 0) + 1
    return [Plan(p.scene, "invalid", p.job, problem=f"another scene also writes {p.job.output}; render them apart "
                 "with -o, or rename one") if p.job is not None and counts[p.job.output] > 1 else p for p in plans]
