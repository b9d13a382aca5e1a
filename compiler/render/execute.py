"""Carrying the plans out: workers (`--jobs` at a time) upload, submit (journaling `prepare` first), poll
and download each scene, sharing one HTTP pool, one throttle and one stop signal; every failure becomes a
SceneResult (results.py), and progress goes to a Display (progress.py)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from compiler import __version__
from compiler.fs import write_atomic
from compiler.render import journal as jr
from compiler.render import reconcile, sidecar
from compiler.render.client import DashScopeClient, Submitted, TaskState, encode_payload, throttle_pause
from compiler.render.errors import (
    DashScopeError,
    InvalidParameterError,
    NetworkError,
    TaskFailedError,
    ThrottledError,
    redact,
)
from compiler.render.fetch import download_verified
from compiler.render.identity import LocalMedia, MediaError, materialize, shorten_data_uris
from compiler.render.journal import Journal, JournalError, Render
from compiler.render.planning import Job, Plan, RenderOptions, plan_job
from compiler.render.results import (
    Interrupted,
    NoUrlYet,
    SceneResult,
    TaskNotJournaled,
    TaskUnknownForNow,
    UnknownSubmit,
    UploadGone,
    blocked_message,
    failure,
    seconds_text,
)
from compiler.render.upload import Uploader, sha256_file
from compiler.render.urlcheck import check_remote, remote_urls

__all__ = ["Display", "NullDisplay", "ProjectBusy", "project_locks", "render", "execute"]


# A SUCCEEDED answer without a video URL is asked again after 1, 2, 3 times this long.
NO_URL_PAUSE_S = 1.0


LOCK_FILE = Path(".scenec") / "render.lock"


class Display(Protocol):
    """Where a batch reports progress (progress.py has the terminal, plain and JSON ones)."""

    def begin(self, plans: Sequence[Plan]) -> None: ...

    def note(self, text: str) -> None: ...

    def update(self, scene: str, state: str, detail: str = "") -> None: ...

    def finish(self, result: SceneResult) -> None: ...

    def close(self) -> None: ...


class NullDisplay:
    """Reports nothing (tests, library use)."""

    def begin(self, plans: Sequence[Plan]) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def update(self, scene: str, state: str, detail: str = "") -> None:
        pass

    def finish(self, result: SceneResult) -> None:
        pass

    def close(self) -> None:
        pass


class ProjectBusy(Exception):
    """Another scenec render holds the project's lock."""


@contextlib.contextmanager
def project_locks(roots: Iterable[Path]) -> Iterator[None]:
    """Hold each project's render lock, so two scenec processes never submit the same scene at once."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the journal still records everything
        yield
        return
    handles = []
    try:
        for root in sorted({Path(r).absolute() for r in roots}):
            lock = root / LOCK_FILE
            lock.parent.mkdir(parents=True, exist_ok=True)
            handle = open(lock, "a+b")  # noqa: SIM115  (held until the batch ends, closed in `finally`)
            handles.append(handle)
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ProjectBusy(f"another scenec render is running in {root}; wait for it "
                                  "(`scenec status` shows its renders)") from None
        yield
    finally:
        for handle in handles:
            handle.close()


# --- the batch -----------------------------------------------------------------------------------


class StoppableClock:
    """The real clock, whose sleeps end early with Interrupted once the batch is stopped."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if self._stop.wait(max(0.0, seconds)):
            raise Interrupted()


class ThrottleGate:
    """Shared by a batch's workers: a submit throttled past the client's own retries holds back every submit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0

    def hold(self, seconds: float, now: float) -> None:
        with self._lock:
            self._until = max(self._until, now + seconds)

    def wait(self, clock: StoppableClock) -> None:
        with self._lock:
            delay = self._until - clock.monotonic()
        if delay > 0:
            clock.sleep(delay)


@dataclass
class _Context:
    """What every worker of one batch shares."""

    api_key: str
    options: RenderOptions
    display: Display
    http: httpx.Client
    stop: threading.Event
    clock: StoppableClock
    throttle: ThrottleGate = field(default_factory=ThrottleGate)
    upload_lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self) -> DashScopeClient:
        return DashScopeClient(api_key=self.api_key, base_url=self.options.base_url, http=self.http, clock=self.clock,
                               workspace=self.options.workspace)

    def safe(self, text: str) -> str:
        return redact(text, (self.api_key,))


@dataclass
class _Attempt:
    """Where one scene's execution got to, for the message if it fails."""

    phase: str = "start"
    rid: int | None = None
    task_id: str | None = None
    started: float = field(default_factory=time.monotonic)


def render(plans: Sequence[Plan], *, api_key: str, options: RenderOptions, display: Display,
           stop: threading.Event | None = None) -> list[SceneResult]:
    """Carry out the plans, `options.jobs` at a time; results in plan order. Ctrl-C stops at the next wait."""
    stop = stop or threading.Event()
    display.begin(plans)
    results: dict[int, SceneResult] = {}
    units = _units(plans, results)
    for result in results.values():
        display.finish(result)
    limits = httpx.Limits(max_connections=max(4, 2 * options.jobs), max_keepalive_connections=max(2, options.jobs))
    with httpx.Client(limits=limits) as http:
        ctx = _Context(api_key, options, display, http, stop, StoppableClock(stop))
        pool = ThreadPoolExecutor(max_workers=max(1, options.jobs), thread_name_prefix="scenec-render")
        futures: dict[Future[list[SceneResult]], list[int]] = {
            pool.submit(_run_unit, ctx, [plans[i] for i in unit]): unit for unit in units}
        try:
            for future in as_completed(futures):
                for index, result in zip(futures[future], future.result(), strict=True):
                    results[index] = result
        except KeyboardInterrupt:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            for future, unit in futures.items():
                done = future.result() if future.done() and not future.cancelled() else None
                for position, index in enumerate(unit):
                    results.setdefault(index, done[position] if done else _interrupted(plans[index]))
        finally:
            pool.shutdown(wait=True)
    return [results[i] for i in range(len(plans))]


def _units(plans: Sequence[Plan], results: dict[int, SceneResult]) -> list[list[int]]:
    """Work units: scenes of equal identity go in one unit, in order, so a batch never pays twice for one payload."""
    units: dict[Any, list[int]] = {}
    for index, p in enumerate(plans):
        if p.job is None or p.action == "invalid":
            results[index] = SceneResult(p.scene, "invalid", p.problem or "cannot render")
            continue
        units.setdefault((p.job.project_root, p.job.identity), []).append(index)
    return list(units.values())


def _interrupted(p: Plan) -> SceneResult:
    return SceneResult(p.scene, "interrupted", "interrupted before it started; run again to render it")


def _run_unit(ctx: _Context, unit: list[Plan]) -> list[SceneResult]:
    results = []
    for position, p in enumerate(unit):
        try:
            result = _interrupted(p) if ctx.stop.is_set() else execute(ctx, _replan(ctx, p) if position else p)
        except JournalError as error:  # this scene cannot be journaled: it fails (nothing sent), the batch goes on
            result = SceneResult(p.scene, "failed", ctx.safe(str(error)), code="JournalError")
        except Exception as error:
            result = SceneResult(p.scene, "failed", ctx.safe(f"{type(error).__name__}: {error}"))
        ctx.display.finish(result)
        results.append(result)
    return results


def _replan(ctx: _Context, p: Plan) -> Plan:
    """A scene whose payload the unit's leader has just rendered: look again, never forcing a second payment."""
    assert p.job is not None
    with Journal.open(p.job.journal_path, secrets=(ctx.api_key,)) as journal:
        return plan_job(journal, p.job, force=False)


# --- one scene -----------------------------------------------------------------------------------


def execute(ctx: _Context, p: Plan) -> SceneResult:
    """One scene, start to end; every failure becomes a SceneResult (errors as data)."""
    assert p.job is not None
    attempt = _Attempt()
    with Journal.open(p.job.journal_path, secrets=(ctx.api_key,)) as journal:
        try:
            result = _act(ctx, journal, p, attempt)
        except Exception as error:
            result = failure(p.scene, attempt.phase, attempt.task_id, error, safe=ctx.safe,
                             timeout=ctx.options.timeout)
        row = journal.get(attempt.rid) if attempt.rid is not None else None
    result.elapsed = time.monotonic() - attempt.started
    result.cost = p.job.cost.to_dict()
    if row is not None:
        result.state, result.task_id = row.state, row.task_id or result.task_id
        result.request_id, result.usage = result.request_id or row.request_id, row.usage
    return result


def _act(ctx: _Context, journal: Journal, p: Plan, attempt: _Attempt) -> SceneResult:
    job = p.job
    assert job is not None
    if p.action == "skip":
        assert p.previous is not None
        return _unchanged(ctx, job, p.previous)
    if p.action == "blocked_lost":
        assert p.previous is not None
        attempt.rid = p.previous.id
        return SceneResult(job.scene, "blocked", blocked_message(p.previous), code=p.previous.code)
    if p.action == "blocked_unresolved":  # another identity's submit may have reached the service: never pay twice
        assert p.previous is not None and p.problem is not None
        attempt.rid = p.previous.id
        return SceneResult(job.scene, "blocked", p.problem, code="UnresolvedSubmit")
    if p.action == "submit":
        _submit(ctx, journal, job, attempt)
    elif p.action == "reconcile":
        assert p.previous is not None
        _reconcile(ctx, journal, job, p.previous, attempt)
    elif p.action == "adopt":
        assert p.adopt is not None
        _adopt(ctx, journal, job, p.previous, attempt, p.adopt)
    else:
        assert p.previous is not None
        attempt.rid, attempt.task_id = p.previous.id, p.previous.task_id
    if journal.get(attempt.rid).state in jr.POLLABLE:  # type: ignore[arg-type]
        _poll(ctx, journal, job, attempt)
    return _fetch(ctx, journal, job, attempt)


def _reconcile(ctx: _Context, journal: Journal, job: Job, row: Render, attempt: _Attempt) -> None:
    """Settle an unknown submit through the task list (reconcile.py); NotSettled says what the next run does."""
    attempt.phase, attempt.rid = "lookup", row.id
    ctx.display.update(job.scene, "looking up", f"render #{row.id}")
    attempt.task_id = reconcile.settle(ctx.client(), journal, row, model=str(job.payload.get("model")),
                                       scene=job.scene, now=time.time())


def _adopt(ctx: _Context, journal: Journal, job: Job, row: Render | None, attempt: _Attempt, task_id: str) -> None:
    """Follow a named task (--adopt, or the task of a sidecar whose video went): no payment."""
    attempt.phase = "adopt"

    def record() -> int:  # no journaled intent (the journal was lost): one for the task being adopted
        return journal.prepare(job.key, job.identity.payload_sha256,
                               encode_payload(shorten_data_uris(job.payload)).decode(), job.identity.media_sha256,
                               ctx.options.endpoint)

    origin = "--adopt" if ctx.options.adopt == task_id else _show(job.sidecar)
    attempt.rid = reconcile.adopt_task(ctx.client(), journal, row, task_id, origin=origin, record=record)
    attempt.task_id = task_id


def _unchanged(ctx: _Context, job: Job, row: Render) -> SceneResult:
    recorded = Path(row.output_path or "")
    recorded = recorded if recorded.is_absolute() else job.project_root / recorded
    if recorded.absolute() != job.output:
        # Same payload and media, another target (-o, or a copied scene): the video is already paid for.
        write_atomic(job.output, recorded.read_bytes())
        write_atomic(job.sidecar, _sidecar_text(ctx, job, row, row.output_bytes or 0, row.output_sha256 or ""))
    return SceneResult(job.scene, "unchanged", f"payload and media as in render #{row.id} (task {row.task_id}), "
                       f"nothing to do; video at {_show(job.output)} (--force renders again)", output=str(job.output),
                       sidecar=str(job.sidecar), task_id=row.task_id, request_id=row.request_id)


def _materialize(ctx: _Context, journal: Journal, job: Job) -> dict[str, Any]:
    # The journal's upload cache: the same bytes are not uploaded again while the copy lives (47 h).
    # Keyed by endpoint and model too: temporary storage belongs to one region's service and model.
    model = str(job.payload.get("model"))
    scope = f"@{ctx.options.endpoint}#{model}"
    uploader = Uploader(ctx.client(), model, lookup=lambda sha: journal.upload_lookup(sha + scope),
                        remember=lambda sha, url, expires: journal.upload_remember(sha + scope, url, expires))

    def upload(item: LocalMedia) -> str:
        reused = journal.upload_lookup(item.sha256 + scope) is not None
        ctx.display.update(job.scene, "reusing upload" if reused else "uploading", item.ref)
        # One upload at a time across the batch: two scenes sharing a file upload it once.
        with ctx.upload_lock:
            try:
                return uploader.upload(item.path, item.sha256)
            except ValueError:
                raise MediaError(f"{item.ref} changed while rendering; run again") from None
            except DashScopeError as error:
                raise MediaError(f"upload of {item.ref} failed: {error}") from None

    return materialize(job.payload, job.media, upload)


def _submit(ctx: _Context, journal: Journal, job: Job, attempt: _Attempt) -> None:
    attempt.phase = "media"
    if ctx.options.check_urls:
        problem = check_remote(job.payload, job.project_root,
                               lambda url: ctx.display.update(job.scene, "checking", url))
        if problem:
            raise MediaError(problem)
    try:
        _submit_once(ctx, journal, job, attempt)
    except UploadGone:
        # The service lost an upload the cache still named; the entries are gone now, so this uploads anew.
        attempt.phase = "media"
        _submit_once(ctx, journal, job, attempt)


def _submit_once(ctx: _Context, journal: Journal, job: Job, attempt: _Attempt) -> None:
    body = _materialize(ctx, journal, job)
    attempt.phase = "submit"
    ctx.display.update(job.scene, "submitting")
    # Written (and fsynced) before the request: a crash from here on leaves a trace, never a lost task.
    attempt.rid = journal.prepare(job.key, job.identity.payload_sha256,
                                  encode_payload(shorten_data_uris(body)).decode(), job.identity.media_sha256,
                                  ctx.options.endpoint)
    try:
        submitted = _send(ctx, body)
    except NetworkError as error:
        if not error.sent:
            journal.mark_rejected(attempt.rid, error.code or "NetworkError", str(error), error.request_id)
            raise
        journal.mark_unknown_submit(attempt.rid, str(error), error.code)
        raise UnknownSubmit(str(error)) from None
    except Interrupted:
        # Only sleeps raise Interrupted, and a sleep follows an answer that created nothing (429, no connection).
        journal.mark_rejected(attempt.rid, "Interrupted", "stopped before the submit was sent", None)
        raise
    except DashScopeError as error:
        # A 4xx refusal: the service read the request and created nothing.
        journal.mark_rejected(attempt.rid, error.code or type(error).__name__, str(error), error.request_id)
        gone = _gone_uploads(body, error)
        if gone and journal.upload_forget(gone):
            raise UploadGone(str(error)) from None
        raise
    except BaseException as error:
        # A second Ctrl-C (KeyboardInterrupt), or anything unexpected, while the answer was in flight:
        # the bytes may have left, so the row must say unknown, and the next run looks the task up.
        why = "interrupted while the submit answer was in flight" if isinstance(error, KeyboardInterrupt) \
            else f"{type(error).__name__} while the submit answer was in flight: {error}"
        with contextlib.suppress(Exception):
            journal.mark_unknown_submit(attempt.rid, why, "Interrupted")
        if isinstance(error, Exception):
            raise UnknownSubmit(why) from None
        raise
    attempt.task_id = submitted.task_id
    try:
        journal.mark_submitted(attempt.rid, submitted.task_id, submitted.request_id)
    except (JournalError, OSError) as error:
        # Disk full, say: the task exists and bills, and only memory holds its id. Say it; the row stays
        # PREPARED, so the next run finds the task in the task list and adopts it.
        raise TaskNotJournaled(submitted.task_id, str(error)) from None


def _gone_uploads(body: Mapping[str, Any], error: DashScopeError) -> list[str]:
    """The oss:// URLs to upload again after a refusal that says one is gone (missing or expired)."""
    if not isinstance(error, InvalidParameterError):
        return []
    ours = remote_urls(body, schemes=("oss://",))
    text = error.message.lower()
    # The service names the first missing file only; uploads made together go together, so when one
    # is gone every oss:// URL of the body is uploaded again (it costs bandwidth, never money).
    named = any(url in error.message for url in ours)
    return ours if named or ("oss" in text and ("not exist" in text or "expired" in text)) else []


def _send(ctx: _Context, body: dict[str, Any]) -> Submitted:
    """Submit, waiting out throttling (shared with the batch) until the scene's deadline."""
    client = ctx.client()
    deadline = ctx.clock.monotonic() + ctx.options.timeout
    throttled = 0
    while True:
        ctx.throttle.wait(ctx.clock)
        try:
            return client.submit(body)
        except ThrottledError as error:
            throttled += 1
            if ctx.clock.monotonic() >= deadline:
                raise
            ctx.throttle.hold(error.retry_after or throttle_pause(throttled), ctx.clock.monotonic())


def _poll(ctx: _Context, journal: Journal, job: Job, attempt: _Attempt) -> None:
    attempt.phase = "poll"
    rid, task_id = attempt.rid, attempt.task_id
    assert rid is not None and task_id is not None
    last = [journal.get(rid).state]

    def on_update(state: TaskState) -> None:
        if state.status in jr.STATUS_STATES and state.status != last[0]:
            journal.mark_status(rid, state.status)
            last[0] = state.status
        ctx.display.update(job.scene, state.status.lower(), f"task {task_id}")

    ctx.display.update(job.scene, last[0].lower(), f"task {task_id}")
    client = ctx.client()
    try:
        state = client.wait(task_id, deadline=ctx.clock.monotonic() + ctx.options.timeout, on_update=on_update)
    except TaskFailedError as error:
        row = journal.get(rid)
        if error.task_status == "UNKNOWN" and not row.past_task_life(time.time()):
            # Inside the task's 24 h life an UNKNOWN answer is the service's hiccup, not the task's end.
            raise TaskUnknownForNow(str(error)) from None
        target = {"FAILED": jr.FAILED, "CANCELED": jr.CANCELED}.get(error.task_status, jr.EXPIRED)
        if row.state != target:  # `scenec cancel` from another shell may have recorded it already
            journal.mark_failed(rid, target, error.code, error.message)
        raise
    state = _with_video_url(ctx, client, state)
    assert state.video_url is not None  # _with_video_url returns only an answer with one
    row = journal.get(rid)
    now = time.time()
    timings = {"submitted_at": row.submitted_at, "succeeded_seen_at": now, "submit_time": state.submit_time,
               "scheduled_time": state.scheduled_time, "end_time": state.end_time}
    journal.mark_succeeded(rid, state.video_url, now + jr.URL_TTL_S, state.usage, timings)


def _with_video_url(ctx: _Context, client: DashScopeClient, state: TaskState) -> TaskState:
    """A SUCCEEDED answer without a video URL is asked again a few times; NoUrlYet leaves it to the next run."""
    for attempt in range(3):
        if state.video_url:
            return state
        ctx.clock.sleep(NO_URL_PAUSE_S * (1 + attempt))
        state = client.query(state.task_id)
        if state.status != "SUCCEEDED":
            break
    if state.video_url and state.status == "SUCCEEDED":
        return state
    raise NoUrlYet(f"task {state.task_id} answered {state.status} without a video URL")


def _fetch(ctx: _Context, journal: Journal, job: Job, attempt: _Attempt) -> SceneResult:
    attempt.phase = "download"
    assert attempt.rid is not None
    row = journal.get(attempt.rid)
    attempt.task_id = row.task_id
    ctx.display.update(job.scene, "downloading", f"task {row.task_id}")
    # Whole, a real MP4, renamed into place; fresh URLs asked for as needed (fetch.py).
    nbytes = download_verified(ctx.client(), journal, row, job.output, ctx.clock.sleep)
    row = journal.get(row.id)
    digest = sha256_file(job.output)
    # The sidecar before the journal: a DOWNLOADED row promises both files.
    write_atomic(job.sidecar, _sidecar_text(ctx, job, row, nbytes, digest))
    journal.mark_downloaded(row.id, sidecar.project_relative(job.output, job.project_root), nbytes, digest)
    billed = (row.usage or {}).get("duration")
    note = f", billed {seconds_text(billed)} s" if isinstance(billed, (int, float)) else ""
    return SceneResult(job.scene, "rendered", f"{_show(job.output)} (task {row.task_id}{note})",
                       output=str(job.output), sidecar=str(job.sidecar), request_id=row.request_id)


def _show(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def _sidecar_text(ctx: _Context, job: Job, row: Render, nbytes: int, digest: str) -> str:
    sidecar = {
        "scene": job.key,
        "video": job.output.name,
        "video_bytes": nbytes,
        "video_sha256": digest,
        "render_id": row.id,
        "task_id": row.task_id,
        "request_id": row.request_id,
        "model": job.payload.get("model"),
        "payload": json.loads(row.payload_json),
        "payload_sha256": row.payload_sha256,
        "media_sha256": row.media_sha256,
        "usage": row.usage,
        "timings": {**(row.timings or {}), "downloaded_at": time.time()},
        "cost_estimate": job.cost.to_dict(),
        "endpoint": ctx.options.endpoint,
        "scenec": __version__,
    }
    return ctx.safe(json.dumps(sidecar, ensure_ascii=False, indent=2)) + "\n"
