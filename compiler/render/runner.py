"""Render orchestration: compile and hash each scene, plan it against the journal, then upload, submit, poll and download."""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

from compiler import __version__
from compiler.render import journal as jr
from compiler.render.client import (
    REGION_ALIASES,
    REGIONS,
    DashScopeClient,
    Submitted,
    TaskState,
    canonical_endpoint,
    encode_payload,
    throttle_pause,
)
from compiler.render.cost import PRICES_CHECKED, CostEstimate, estimate, truncation_limit
from compiler.render.errors import (
    DashScopeError,
    DeadlineExceeded,
    InvalidParameterError,
    NetworkError,
    TaskFailedError,
    ThrottledError,
    redact,
)
from compiler.render import reconcile, sidecar
from compiler.render.fetch import DownloadPending, TaskGone, download_verified
from compiler.render.journal import Journal, JournalError, Render, decide
from compiler.render.upload import Uploader, sha256_file
from compiler.render.urlcheck import check_remote

__all__ = [
    "INLINE_IMAGE_MAX_BYTES", "DEFAULT_TIMEOUT_S", "RenderOptions", "LocalMedia", "Identity", "CostLine", "Job",
    "Plan", "SceneResult", "Display", "NullDisplay", "ProjectBusy", "load_job", "plan", "plan_job", "render",
    "local_media", "identity", "materialize", "substitute", "data_uri", "goes_inline", "shorten_data_uris",
    "scene_cost", "price_region", "journal_path", "scene_key", "project_locks", "cancel_scene", "CancelResult",
    "journal_rows", "find_root", "execute",
]

# Images up to this size go inline as data URIs (no upload round trip); larger ones are
# uploaded, which keeps request bodies small (base64 adds a third).
INLINE_IMAGE_MAX_BYTES = 2 * 1024 * 1024
# Polling of one scene gives up after this long; the task stays journaled for a rerun.
DEFAULT_TIMEOUT_S = 30 * 60.0
# A SUCCEEDED answer without a video URL is asked again after 1, 2, 3 times this long.
NO_URL_PAUSE_S = 1.0
JOURNAL_FILE = Path(".scenec") / "journal.sqlite3"
LOCK_FILE = Path(".scenec") / "render.lock"
RENDERS_DIR = "renders"
_DATA_URI = re.compile(r"^data:([^;,]+);base64,(.*)$", re.S)

Action = Literal["skip", "resume_poll", "resume_download", "submit", "reconcile", "adopt", "blocked_lost", "invalid"]
Outcome = Literal["rendered", "unchanged", "blocked", "failed", "pending", "interrupted", "invalid"]
OK_OUTCOMES = frozenset({"rendered", "unchanged"})


# --- values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderOptions:
    """What the command line decided for a whole batch."""

    base_url: str
    region: str | None = None          # prices only; the endpoint is base_url
    force: bool = False
    jobs: int = 1
    timeout: float = DEFAULT_TIMEOUT_S
    output: Path | None = None         # one scene only
    check_urls: bool = True            # reach every remote medium (HEAD) before submitting
    adopt: str | None = None           # one scene only: the task id an unknown submit created

    @property
    def endpoint(self) -> str:
        """The base URL as identities and the upload cache know it (aliases and spellings folded)."""
        return canonical_endpoint(self.base_url)


@dataclass(frozen=True)
class LocalMedia:
    """A local file the compiled payload names, with what decides how it reaches the service."""

    ref: str            # as the payload names it: project-relative path
    path: Path
    role: str           # "image", "first frame", "video" or "voice"
    sha256: str
    size: int
    mime: str | None


@dataclass(frozen=True)
class Identity:
    """A render's identity: the compiled payload (with local paths) and the bytes of its local media."""

    payload_sha256: str
    media_sha256: str


@dataclass(frozen=True)
class CostLine:
    """One scene's estimate; `at_most` when a reference video's length was unknown and the 5/n cap assumed."""

    estimate: CostEstimate
    at_most: bool
    region: str | None
    resolution: str

    def text(self) -> str:
        e = self.estimate
        bound = "at most " if self.at_most else ""
        seconds = f"{bound}{_secs(e.billable_seconds)} billable s ({_secs(e.input_video_seconds)} s reference video" \
                  f" + {_secs(e.output_seconds)} s output)"
        if e.amount is None:
            if self.region:
                return f"{seconds}; no published price for wan2.7-r2v in region {self.region}"
            return f"{seconds}; no known price for this endpoint (pass --region to price it)"
        return f"{seconds} x {e.price_per_second:g} {e.currency}/s ({self.region}, {self.resolution}) = " \
               f"{bound}{e.amount:.2f} {e.currency}"

    def to_dict(self) -> dict[str, Any]:
        e = self.estimate
        return {"billable_seconds": e.billable_seconds, "input_video_seconds": e.input_video_seconds,
                "output_seconds": e.output_seconds, "at_most": self.at_most, "price_per_second": e.price_per_second,
                "currency": e.currency, "amount": e.amount, "region": self.region, "resolution": self.resolution,
                "prices_checked": PRICES_CHECKED}


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


class Interrupted(Exception):
    """The batch was stopped (Ctrl-C); raised from a worker's next sleep."""


class ProjectBusy(Exception):
    """Another scenec render holds the project's lock."""


class MediaError(Exception):
    """Local media could not be turned into URLs; nothing was submitted."""


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


# --- pure steps: media, identity, cost -----------------------------------------------------


def journal_path(project_root: Path) -> Path:
    return project_root / JOURNAL_FILE


def scene_key(path: Path, project_root: Path) -> str:
    """The journal's stable name for a scene: its path relative to the project root (absolute when outside)."""
    absolute = path.absolute()
    try:
        return absolute.relative_to(project_root.absolute()).as_posix()
    except ValueError:
        return absolute.as_posix()


def goes_inline(media: LocalMedia) -> bool:
    """Small images of an accepted type go as data URIs; video, audio and large images are uploaded."""
    from compiler.limits import IMAGE_MIMES

    return media.role in ("image", "first frame") and media.mime in IMAGE_MIMES and media.size <= INLINE_IMAGE_MAX_BYTES


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def substitute(payload: Mapping[str, Any], urls: Mapping[str, str]) -> dict[str, Any]:
    """The payload with every media url and reference_voice found in `urls` replaced (prompt text untouched)."""
    body = copy.deepcopy(dict(payload))
    for entry in body["input"]["media"]:
        for name in ("url", "reference_voice"):
            if entry.get(name) in urls:
                entry[name] = urls[entry[name]]
    return body


def materialize(payload: Mapping[str, Any], media: Sequence[LocalMedia], upload: Callable[[LocalMedia], str]) -> dict:
    """The body to send: local files inlined or uploaded; it must validate as sent (no LOCAL_CONTEXT)."""
    from pydantic import ValidationError

    from compiler.payload import Payload

    urls = {}
    for item in media:
        urls[item.ref] = data_uri(_read_checked(item), item.mime or "") if goes_inline(item) else upload(item)
    body = substitute(payload, urls)
    try:
        Payload.model_validate(body)
    except ValidationError as error:
        raise MediaError(f"the body to send does not validate: {error.errors()[0]['msg']}") from None
    return body


def _read_checked(item: LocalMedia) -> bytes:
    data = item.path.read_bytes()
    # The identity hashed these bytes: sending others would render something else under its name.
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise MediaError(f"{item.ref} changed while rendering; run again")
    return data


def local_media(scene: Any) -> tuple[LocalMedia, ...]:
    """Every local file of a scene once, in media order, with its hash (OSError when one cannot be read)."""
    from compiler.check import media_items
    from compiler.emit import media_url
    from compiler.media import probe_file

    found: dict[str, LocalMedia] = {}
    for role, source, _owner, _path in media_items(scene):
        if source.scheme != "local" or source.local_path is None:
            continue
        ref = media_url(source, scene.project_root)
        if ref not in found:
            info = probe_file(source.local_path)
            found[ref] = LocalMedia(ref, source.local_path, role, sha256_file(source.local_path), info.size, info.mime)
    return tuple(found.values())


def effective_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload with every parameter the request leaves out written as the service's default.

    Identity is what the service renders, not how the body spells it: a body that leaves `ratio` out
    and one that sends the default 16:9 are the same render (and scenes rendered before scenec stopped
    sending defaults keep their identity, so they are never paid for again).
    """
    from compiler.limits import API_DEFAULTS

    parameters = dict(payload.get("parameters") or {})
    defaults = {"resolution": API_DEFAULTS.resolution, "duration": API_DEFAULTS.duration,
                "prompt_extend": API_DEFAULTS.prompt_extend, "watermark": API_DEFAULTS.watermark}
    media = (payload.get("input") or {}).get("media") or []
    if not any(isinstance(entry, Mapping) and entry.get("type") == "first_frame" for entry in media):
        defaults["ratio"] = API_DEFAULTS.ratio  # with a first frame the video takes its aspect: no ratio
    return {**dict(payload), "parameters": {**defaults, **parameters}}


def identity(payload: Mapping[str, Any], media: Iterable[LocalMedia], endpoint: str = "") -> Identity:
    """sha256 of the canonical payload (with the endpoint it goes to, when given: a render on another
    region's service is another render), and of the (path, content hash) pairs of its local media."""
    pairs = sorted([item.ref, item.sha256] for item in media)
    effective = effective_payload(payload)
    keyed = effective if not endpoint else {"endpoint": endpoint, "payload": effective}
    return Identity(hashlib.sha256(encode_payload(keyed)).hexdigest(),
                    hashlib.sha256(encode_payload({"media": pairs})).hexdigest())


def shorten_data_uris(value: Any) -> Any:
    """The same data with each data URI cut to its type, size and hash (for sidecars and the journal)."""
    if isinstance(value, str):
        match = _DATA_URI.match(value)
        if not match:
            return value
        raw = base64.b64decode(match.group(2), validate=False)
        return f"data:{match.group(1)};base64,...({len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()[:16]})"
    if isinstance(value, Mapping):
        return {k: shorten_data_uris(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shorten_data_uris(v) for v in value]
    return value


def price_region(region: str | None, base_url: str) -> str | None:
    """The region whose prices apply: as given, else the one whose endpoint base_url is, else unknown."""
    if region:
        name = region.strip().lower()
        return REGION_ALIASES.get(name, name)
    for name, url in REGIONS.items():
        if canonical_endpoint(base_url) == url:
            return name
    return None


def _video_length(member: Any) -> float | None:
    """A reference video's length: from the local file, else the scene's `, 6s long`, else unknown."""
    from compiler.media import probe_file

    source = member.media
    if source.scheme == "local" and source.local_path is not None:
        with contextlib.suppress(OSError):
            duration = probe_file(source.local_path).duration
            if duration is not None:
                return duration
    return member.length


def scene_cost(scene: Any, region: str | None) -> CostLine:
    """The guide's billing rule for one scene; unknown video lengths count as the cap 5/n (an upper bound)."""
    videos = [m for m in scene.references if m.kind == "video"]
    lengths = [_video_length(m) for m in videos]
    cap = truncation_limit(len(videos)) if videos else 0.0
    durations = [cap if length is None else length for length in lengths]
    resolution = scene.settings.resolution
    return CostLine(estimate(durations, scene.settings.duration, resolution, region), None in lengths, region,
                    resolution)


def _secs(value: float) -> str:
    return f"{round(value, 2):g}"


# --- planning ------------------------------------------------------------------------------


def load_job(path: Path, *, output: Path | None, region: str | None, endpoint: str = "") -> Job | Plan:
    """Compile a scene and gather what identifies it; a Plan with action "invalid" when it cannot render."""
    from compiler.api import compile_file
    from compiler.diagnostics import ERROR

    name = str(path)
    compiled = compile_file(path)
    if compiled.scene is None or compiled.payload is None or not compiled.ok:
        errors = sum(1 for d in compiled.diagnostics if d.severity == ERROR)
        return Plan(name, "invalid", diagnostics=tuple(compiled.diagnostics),
                    problem=f"the scene has {errors} error{'s' if errors != 1 else ''} (see above); nothing submitted")
    scene = compiled.scene
    root = (scene.project_root or path.absolute().parent).absolute()
    try:
        media = local_media(scene)
    except OSError as error:
        return Plan(name, "invalid", problem=f"cannot read media: {error.strerror or error}; nothing submitted")
    payload = compiled.payload.model_dump(mode="json", exclude_none=True)  # type: ignore[attr-defined]
    target = (output or root / RENDERS_DIR / f"{path.stem}.mp4").absolute()
    return Job(name, scene_key(path, root), root, target, payload, media, identity(payload, media, endpoint),
               scene_cost(scene, region))


def _output_intact(render: Render, root: Path) -> bool:
    if render.output_path is None or render.output_bytes is None:
        return False
    path = Path(render.output_path)
    path = path if path.is_absolute() else root / path
    try:
        return path.stat().st_size == render.output_bytes
    except OSError:
        return False


def _newest_of(journal: Journal, ident: Identity) -> Render | None:
    rows = [r for r in journal.all() if r.payload_sha256 == ident.payload_sha256 and r.media_sha256 == ident.media_sha256]
    return rows[-1] if rows else None


def plan_job(journal: Journal, job: Job, *, force: bool, now: float | None = None, adopt: str | None = None) -> Plan:
    """Decide one scene from its journal (journal.decide on the reusable row), then its sidecar, then the paid-but-lost guard."""
    at = time.time() if now is None else now
    ident = job.identity
    reusable = journal.find_reusable(ident.payload_sha256, ident.media_sha256)
    if adopt is not None:
        return _plan_adopt(job, reusable, adopt)
    if reusable is not None:
        action = decide(reusable, force=force, output_exists=_output_intact(reusable, job.project_root), now=at)
        return Plan(job.scene, action, job, reusable)
    restored = None if force else sidecar.restore(journal, job)
    if isinstance(restored, Render):
        return Plan(job.scene, "skip", job, restored)
    if isinstance(restored, str):
        return Plan(job.scene, "adopt", job, None, adopt=restored)
    newest = _newest_of(journal, ident)
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
    return Plan(job.scene, "submit", job, newest)


def _plan_adopt(job: Job, reusable: Render | None, task_id: str) -> Plan:
    """--adopt TASK_ID: only for a scene whose submit is unknown (or not journaled at all)."""
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
    loaded = [load_job(path, output=options.output, region=region, endpoint=options.endpoint) for path in paths]
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
            handle = open(lock, "a+b")
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


# --- execution -----------------------------------------------------------------------------


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
        return DashScopeClient(api_key=self.api_key, base_url=self.options.base_url, http=self.http, clock=self.clock)

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
        futures: dict[Future, list[int]] = {pool.submit(_run_unit, ctx, [plans[i] for i in unit]): unit
                                            for unit in units}
        try:
            for future in as_completed(futures):
                for index, result in zip(futures[future], future.result()):
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
        except Exception as error:  # noqa: BLE001 - this scene fails, the batch goes on
            result = SceneResult(p.scene, "failed", ctx.safe(f"{type(error).__name__}: {error}"))
        ctx.display.finish(result)
        results.append(result)
    return results


def _replan(ctx: _Context, p: Plan) -> Plan:
    """A scene whose payload the unit's leader has just rendered: look again, never forcing a second payment."""
    assert p.job is not None
    with Journal.open(p.job.journal_path, secrets=(ctx.api_key,)) as journal:
        return plan_job(journal, p.job, force=False)


def execute(ctx: _Context, p: Plan) -> SceneResult:
    """One scene, start to end; every failure becomes a SceneResult (errors as data)."""
    assert p.job is not None
    attempt = _Attempt()
    with Journal.open(p.job.journal_path, secrets=(ctx.api_key,)) as journal:
        try:
            result = _act(ctx, journal, p, attempt)
        except Exception as error:  # noqa: BLE001 - every scene must end in a result, never kill the batch
            result = _failure(ctx, p, attempt, error)
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
        return SceneResult(job.scene, "blocked", _blocked_message(p.action, p.previous), code=p.previous.code)
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
                               encode_payload(shorten_data_uris(job.payload)).decode(), job.identity.media_sha256)

    origin = "--adopt" if ctx.options.adopt == task_id else _show(job.sidecar)
    attempt.rid = reconcile.adopt_task(ctx.client(), journal, row, task_id, origin=origin, record=record)
    attempt.task_id = task_id


def _blocked_message(action: str, row: Render) -> str:
    if row.state == jr.DOWNLOADED:
        return (f"render #{row.id} (task {row.task_id}) was rendered and downloaded to {row.output_path}, but that file "
                "is gone and its URL has expired (URLs last 24 h); run with --force to render it again (billed again)")
    if not row.video_url:
        return (f"render #{row.id} (task {row.task_id}) was submitted, but the service no longer knows the task "
                "(task ids last 24 h), so it may have been billed; run with --force to render it again")
    return (f"render #{row.id} (task {row.task_id}) was generated and billed, but its video URL expired before "
            "it was downloaded (URLs last 24 h); run with --force to render it again (billed again)")


def _unchanged(ctx: _Context, job: Job, row: Render) -> SceneResult:
    recorded = Path(row.output_path or "")
    recorded = recorded if recorded.is_absolute() else job.project_root / recorded
    if recorded.absolute() != job.output:
        # Same payload and media, another target (-o, or a copied scene): the video is already paid for.
        from compiler.fs import write_atomic

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
        problem = check_remote(job.payload, job.project_root, lambda url: ctx.display.update(job.scene, "checking", url))
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
    attempt.rid = journal.prepare(job.key, job.identity.payload_sha256, encode_payload(shorten_data_uris(body)).decode(),
                                  job.identity.media_sha256)
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
    ours = [entry.get(name) for entry in body.get("input", {}).get("media", []) for name in ("url", "reference_voice")]
    ours = [url for url in ours if isinstance(url, str) and url.startswith("oss://")]
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
    from compiler.fs import write_atomic

    # The sidecar before the journal: a DOWNLOADED row promises both files.
    write_atomic(job.sidecar, _sidecar_text(ctx, job, row, nbytes, digest))
    journal.mark_downloaded(row.id, sidecar.project_relative(job.output, job.project_root), nbytes, digest)
    billed = (row.usage or {}).get("duration")
    note = f", billed {_secs(billed)} s" if isinstance(billed, (int, float)) else ""
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


NEXT_RUN_LOOKS_UP = ("the next run looks the task up in the task list and adopts it (no second payment); "
                     "or name it yourself with --adopt TASK_ID")


def _failure(ctx: _Context, p: Plan, attempt: _Attempt, error: Exception) -> SceneResult:
    """The result for a scene that stopped early, saying exactly what the next run does."""
    scene, task = p.scene, attempt.task_id
    code = getattr(error, "code", None)
    if isinstance(error, Interrupted):
        rerun = ("run the same command again to resume" if task else
                 "run the same command again: it looks the task up again" if attempt.phase in ("lookup", "adopt")
                 else "run again to render it")
        return SceneResult(scene, "interrupted", f"interrupted during {attempt.phase}; {rerun}")
    if isinstance(error, UnknownSubmit):
        return SceneResult(scene, "blocked", ctx.safe(f"the submit reached the service but its answer was lost "
                           f"({error}); a task may exist and bill, so it is recorded UNKNOWN_SUBMIT and never sent "
                           f"again without --force: {NEXT_RUN_LOOKS_UP}"), code="UnknownSubmit")
    if isinstance(error, TaskNotJournaled):
        return SceneResult(scene, "blocked", ctx.safe(f"task {error.task_id} was created (and bills), but the journal "
                           f"could not record it ({error}). Keep this id: free space, then run again: the next run "
                           f"finds it in the task list and adopts it, or run with --adopt {error.task_id}"),
                           code="TaskNotJournaled", task_id=error.task_id)
    if isinstance(error, reconcile.NotSettled):
        return SceneResult(scene, "blocked", ctx.safe(error.message), code=error.code)
    if isinstance(error, TaskUnknownForNow):
        return SceneResult(scene, "pending", f"the service answered UNKNOWN for task {task} several times; inside "
                           "its 24 h life that is not its end: it stays journaled and the next run polls it again",
                           code="TaskUnknown")
    if isinstance(error, NoUrlYet):
        return SceneResult(scene, "pending", f"{error}; it stays journaled and the next run asks the service for "
                           "its video URL again (no second payment)", code="NoVideoUrl")
    if isinstance(error, DownloadPending):
        return SceneResult(scene, "pending", ctx.safe(f"{error.message}; the task stays journaled and the next run "
                           "asks the service for a fresh URL and downloads it (no second payment)"), code=code)
    if isinstance(error, TaskGone):
        return SceneResult(scene, "failed", f"{error.message}, so its video is lost; run again with --force to "
                           "render it again (billed again)", code=code)
    if isinstance(error, DeadlineExceeded):
        return SceneResult(scene, "pending", f"task {task} not finished within {_secs(ctx.options.timeout)} s "
                           f"(last status {error.last_status}); run the same command again to resume polling it",
                           code=code)
    if isinstance(error, TaskFailedError):
        # The message already says "task ... ended FAILED: <the service's words>".
        after = ("the service no longer knows the task (ids are kept 24 h); run with --force to render it again"
                 if error.task_status == "UNKNOWN" else "failed and cancelled tasks are not billed; a rerun submits anew")
        return SceneResult(scene, "failed", ctx.safe(f"{error.message} (code {error.code}); {after}"), code=code)
    if isinstance(error, MediaError):
        return SceneResult(scene, "failed", ctx.safe(f"{error}; nothing submitted"), code="MediaError")
    if isinstance(error, JournalError):
        return SceneResult(scene, "failed", ctx.safe(f"{error}"), code="JournalError")
    after = {"submit": "; the service refused it and created nothing, a rerun submits again",
             "media": "; nothing was submitted, a rerun tries again",
             "lookup": "; the next run looks the task up again",
             "adopt": "; nothing adopted",
             "poll": f"; task {task} stays journaled, run again to resume it",
             "download": f"; task {task} stays journaled, run again to fetch its video"}.get(attempt.phase, "")
    text = str(error) if isinstance(error, DashScopeError) else f"{type(error).__name__}: {error}"
    return SceneResult(scene, "failed", ctx.safe(f"{attempt.phase} failed: {text}{after}"), code=code)


# --- cancel ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelResult:
    """What `scenec cancel` did for one journaled task."""

    scene: str
    task_id: str | None
    ok: bool
    message: str


def cancel_scene(path: Path, *, api_key: str, base_url: str) -> list[CancelResult]:
    """Cancel every task of a scene the journal holds in flight; the API allows it only while PENDING."""
    from compiler.project import find_project

    root = find_project(path).root.absolute()
    key = scene_key(path, root)
    if not journal_path(root).exists():
        return [CancelResult(str(path), None, False, "no renders are journaled for this project")]
    with Journal.open(journal_path(root), secrets=(api_key,)) as journal:
        rows = [r for r in journal.all(key) if r.state in jr.POLLABLE and r.task_id]
        if not rows:
            return [CancelResult(str(path), None, False, "no task of this scene is in flight")]
        with DashScopeClient(api_key=api_key, base_url=base_url) as client:
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


def journal_rows(root: Path, scene: str | None = None) -> list[Render]:
    """The journal's rows (oldest first) without creating a journal where there is none."""
    path = journal_path(root)
    if not path.exists():
        return []
    with Journal.open(path) as journal:
        return journal.all(scene)


def find_root(path: Path) -> Path:
    """The project a status or cancel path belongs to: the nearest folder upwards with a journal, or its project."""
    from compiler.project import find_project

    start = path.absolute() if path.is_dir() else path.absolute().parent
    for folder in (start, *start.parents):
        if journal_path(folder).exists():
            return folder
    return find_project(start / "_").root.absolute()
