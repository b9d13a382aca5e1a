"""DashScope HTTP client for Wan video tasks: pure request builders and readers, plus a thin retrying I/O shell."""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import math
import os
import random
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar

import httpx

from compiler import __version__
from compiler.fs import FILE_MODE, temp_beside
from compiler.regions import (
    DEFAULT_REGION,
    REGION_TABLE,
    WORKSPACE_HEADER,
    canonical_base,
    region_named,
    workspace_of,
    workspace_problem,
)
from compiler.regions import base_url as region_base_url
from compiler.render.errors import (
    AuthError,
    ContentInspectionError,
    DashScopeError,
    DeadlineExceeded,
    InvalidParameterError,
    NetworkError,
    ServerError,
    TaskFailedError,
    ThrottledError,
    redact,
)

log = logging.getLogger("scenec.render")

T = TypeVar("T")

# Each region's endpoint without a workspace; the regions, their names, aliases and hosts are
# compiler/regions.py's table.
REGIONS = {region.name: region.legacy_base for region in REGION_TABLE}

SUBMIT_PATH = "/services/aigc/video-generation/video-synthesis"
USER_AGENT = f"scenec/{__version__} httpx/{httpx.__version__}"

SUCCEEDED = "SUCCEEDED"
FAILED_STATUSES = frozenset({"FAILED", "CANCELED", "UNKNOWN"})

# Polling, as the SDK does it: 1 s, doubled every 3 polls, at most 5 s.
FIRST_POLL_INTERVAL = 1.0
MAX_POLL_INTERVAL = 5.0
POLLS_PER_STEP = 3
# A throttled poll without a hint waits 5, 10, 20, 40, then 60 s.
MAX_THROTTLE_PAUSE = 60.0

BACKOFF_BASE = 0.5
BACKOFF_CAP = 20.0
# A Retry-After longer than this is not waited out inside one call.
MAX_RETRY_AFTER = 60.0

# Answers to a submit that prove the request reached the service (or a proxy in front of
# it) without telling us whether a task was created: every 5xx, and 408 (the server gave
# up reading). The outcome is unknown, never "rejected", and the submit is never re-sent.
def is_unknown_outcome_status(status: int) -> bool:
    return status >= 500 or status == 408


# Consecutive UNKNOWN answers for one task before `wait` gives up for this run. A task the
# service briefly does not know (replication lag, a gateway hiccup) is not a failed task.
UNKNOWN_POLLS_TOLERATED = 3

# The task list is read this many entries per page, for at most this many pages.
LIST_PAGE_SIZE = 100
LIST_MAX_PAGES = 20

AUTH_CODES = frozenset({"InvalidApiKey", "AccessDenied"})
INSPECTION_CODES = frozenset({"DataInspectionFailed"})
DOWNLOAD_GONE_STATUSES = frozenset({403, 404, 410})
DOWNLOAD_CHUNK = 1 << 20


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """The answer to a submit: the task now exists."""

    task_id: str
    task_status: str
    request_id: str | None


@dataclass(frozen=True)
class TaskState:
    """One reading of a task, taken leniently from the query answer."""

    task_id: str
    status: str
    video_url: str | None
    code: str | None
    message: str | None
    request_id: str | None
    usage: dict[str, Any] | None
    submit_time: str | None
    scheduled_time: str | None
    end_time: str | None
    raw: dict[str, Any]


# --- where to send ------------------------------------------------------------------


def resolve_base_url(base_url: str | None, region: str | None, env: Mapping[str, str],
                     workspace: str | None = None) -> str:
    """The API base URL: explicit, then DASHSCOPE_HTTP_BASE_URL, then the region (SCENEC_REGION, else Beijing):
    its workspace-scoped host when a workspace is given, else its legacy host (compiler/regions.py).
    Raises ValueError for an unknown region, a workspace id that cannot be a host label, a non-http(s) URL."""
    chosen = base_url or env.get("DASHSCOPE_HTTP_BASE_URL")
    if not chosen:
        name = region or env.get("SCENEC_REGION") or DEFAULT_REGION
        known = region_named(name)
        if known is None:
            raise ValueError(f"unknown region {name.strip().lower()!r}; known regions: {', '.join(sorted(REGIONS))}")
        chosen = region_base_url(known, workspace)
    chosen = chosen.strip().rstrip("/")
    if urllib.parse.urlsplit(chosen).scheme not in ("http", "https"):
        raise ValueError(f"base URL must be http(s): {chosen!r}")
    return chosen


def canonical_endpoint(url: str) -> str:
    """The one spelling of an API base URL that render identities and the upload cache are keyed by: a
    region's workspace-scoped host and its legacy host are one endpoint (compiler/regions.canonical_base)."""
    return canonical_base(url)


# --- request builders (pure) ----------------------------------------------------------


def _headers(api_key: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }


def _task_url(base_url: str, task_id: str) -> str:
    if not task_id:
        raise ValueError("empty task id")
    # Quoted whole, so a strange id can never reach another path.
    return f"{base_url.rstrip('/')}/tasks/{urllib.parse.quote(task_id, safe='')}"


def _oss_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith("oss://"):
            yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            # Prompts are prose: text that happens to say oss:// is not a reference.
            if key not in ("prompt", "negative_prompt"):
                yield from _oss_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _oss_strings(item)


def uses_oss(payload: Mapping[str, Any]) -> bool:
    """Whether any reference in the payload's input (media url, reference_voice, ...) is an oss:// upload."""
    return any(True for _ in _oss_strings(payload.get("input")))


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """The canonical body bytes: sorted, compact, UTF-8, so equal payloads give equal bytes."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def build_submit(base_url: str, api_key: str, payload: dict[str, Any]) -> httpx.Request:
    """The POST that creates a video task (async only)."""
    headers = _headers(api_key)
    headers["Content-Type"] = "application/json"
    headers["X-DashScope-Async"] = "enable"
    if uses_oss(payload):
        headers["X-DashScope-OssResourceResolve"] = "enable"
    url = base_url.rstrip("/") + SUBMIT_PATH
    return httpx.Request("POST", url, headers=headers, content=encode_payload(payload))


def build_query(base_url: str, api_key: str, task_id: str) -> httpx.Request:
    """The GET that reads a task's state."""
    return httpx.Request("GET", _task_url(base_url, task_id), headers=_headers(api_key))


def build_list(base_url: str, api_key: str, filters: Mapping[str, str | int]) -> httpx.Request:
    """The GET that lists tasks (filters: page_no, page_size, start_time, end_time, model_name, status)."""
    return httpx.Request("GET", base_url.rstrip("/") + "/tasks", params={k: str(v) for k, v in filters.items()},
                         headers=_headers(api_key))


def build_cancel(base_url: str, api_key: str, task_id: str) -> httpx.Request:
    """The POST that cancels a task (only PENDING tasks can be cancelled)."""
    return httpx.Request("POST", _task_url(base_url, task_id) + "/cancel", headers=_headers(api_key))


# --- response readers (pure) ----------------------------------------------------------


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _text(value: object) -> str | None:
    """A field as text: strings as given, numbers spelled out, anything else absent."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _request_id(body: Mapping[str, Any] | None, response: httpx.Response) -> str | None:
    found = _text(body.get("request_id")) if body else None
    return found or response.headers.get("x-request-id")


def parse_retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (delta or HTTP date relative to the response's Date), or None."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is None:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            when = email.utils.parsedate_to_datetime(value)
            date = response.headers.get("date")
            # Without the server's Date, an absolute time would need our clock: not pure.
            if date:
                seconds = (when - email.utils.parsedate_to_datetime(date)).total_seconds()
    return None if seconds is None else max(0.0, seconds)


def classify_error(
    status: int,
    code: str | None,
    message: str,
    request_id: str | None,
    retry_after: float | None = None,
) -> DashScopeError:
    """The error for an HTTP status and a vendor code: status decides 401/403/429/5xx, the code the rest of 4xx."""
    fields: dict[str, Any] = {"code": code, "request_id": request_id, "status": status}
    if status == 429 or (400 <= status < 500 and (code or "").startswith("Throttling")):
        return ThrottledError(message, retry_after=retry_after, **fields)
    if status in (401, 403) or code in AUTH_CODES:
        return AuthError(message, **fields)
    if status >= 500:
        return ServerError(message, **fields)
    if code in INSPECTION_CODES:
        return ContentInspectionError(message, **fields)
    if 400 <= status < 500:
        return InvalidParameterError(message, **fields)
    return DashScopeError(message, **fields)


def raise_for_error(response: httpx.Response) -> None:
    """Raise the mapped error for a non-2xx answer; bodies that are not JSON still name the HTTP status."""
    if response.is_success:
        return
    body = _json_object(response)
    code = _text(body.get("code")) if body else None
    message = _text(body.get("message")) if body else None
    if not message:
        snippet = response.content[:300].decode("utf-8", "replace").strip()
        message = snippet if snippet and body is None else response.reason_phrase or "error"
    raise classify_error(
        response.status_code,
        code or f"HTTP{response.status_code}",
        f"HTTP {response.status_code}: {message}",
        _request_id(body, response),
        parse_retry_after(response),
    )


def _output(body: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    output = body.get("output") if body else None
    return output if isinstance(output, Mapping) else None


def read_submit(response: httpx.Response) -> Submitted:
    """The task id from a submit answer; a 2xx without one means the task may exist but is unknown to us."""
    raise_for_error(response)
    body = _json_object(response)
    output = _output(body)
    task_id = _text(output.get("task_id")) if output else None
    if not task_id:
        # Not a ServerError: the service may well have created (and will bill) a task.
        raise NetworkError(
            f"HTTP {response.status_code}: submit answer has no task id",
            sent=True,
            code="MalformedResponse",
            request_id=_request_id(body, response),
            status=response.status_code,
        )
    status = (_text(output.get("task_status")) if output else None) or "PENDING"
    return Submitted(task_id=task_id, task_status=status, request_id=_request_id(body, response))


def _usage(body: Mapping[str, Any], output: Mapping[str, Any]) -> dict[str, Any] | None:
    usage = body.get("usage")
    if not isinstance(usage, Mapping):
        usage = output.get("usage")
    if not isinstance(usage, Mapping):
        return None
    # Numbers come as ints, floats or strings ("SR": "720"); other values (ratio "16:9") stay.
    read: dict[str, Any] = {}
    for key, value in usage.items():
        number = _number(value) if isinstance(value, (int, float, str)) else None
        read[str(key)] = value if number is None else number
    return read


def read_task(response: httpx.Response) -> TaskState:
    """A task's state from a query answer, read leniently; a 2xx that is not a task answer is a ServerError."""
    raise_for_error(response)
    body = _json_object(response)
    output = _output(body)
    status = _text(output.get("task_status")) if output else None
    if body is None or output is None or not status:
        # Retry-safe on purpose: a garbled poll must not end (or fail) a paid task.
        raise ServerError(
            f"HTTP {response.status_code}: query answer has no task status",
            code="MalformedResponse",
            request_id=_request_id(body, response),
            status=response.status_code,
        )
    return TaskState(
        task_id=_text(output.get("task_id")) or "",
        status=status.upper(),
        video_url=_text(output.get("video_url")),
        code=_text(output.get("code")) or _text(body.get("code")),
        message=_text(output.get("message")) or _text(body.get("message")),
        request_id=_request_id(body, response),
        usage=_usage(body, output),
        submit_time=_text(output.get("submit_time")),
        scheduled_time=_text(output.get("scheduled_time")),
        end_time=_text(output.get("end_time")),
        raw=body,
    )


@dataclass(frozen=True)
class TaskSummary:
    """One entry of the task list, read leniently (see `read_task_list`)."""

    task_id: str
    status: str | None
    submit_time: str | None
    model: str | None


@dataclass(frozen=True)
class TaskPage:
    """One page of the task list; `total` when the answer says how many tasks match in all."""

    tasks: tuple[TaskSummary, ...]
    total: int | None


# Where the list answer keeps its entries and their fields. No stored source settles the field
# names, so every shape seen in the SDK and in neighbouring tools is accepted: the entries under
# "data", "output", "output.data", "tasks", "output.tasks" or "data.list"; each entry flat or with
# its fields under "output".
_LIST_PLACES = (("data",), ("output", "data"), ("output", "tasks"), ("tasks",), ("output",), ("data", "list"),
                ("data", "tasks"), ("output", "list"))
_TIME_FIELDS = ("submit_time", "gmt_create", "create_time", "created_at")
_MODEL_FIELDS = ("model_name", "model")
_STATUS_FIELDS = ("task_status", "status")


def _at(body: Mapping[str, Any], place: tuple[str, ...]) -> object:
    value: object = body
    for key in place:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _first_text(entry: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for source in (entry, entry.get("output")):
        if isinstance(source, Mapping):
            for name in names:
                found = _text(source.get(name))
                if found:
                    return found
    return None


def read_task_list(response: httpx.Response) -> TaskPage:
    """The entries of a task-list answer; a 2xx without a list of tasks is a ServerError (retry-safe)."""
    raise_for_error(response)
    body = _json_object(response)
    entries = next((v for v in (_at(body, p) for p in _LIST_PLACES) if isinstance(v, list)), None) if body else None
    if body is None or entries is None:
        raise ServerError(f"HTTP {response.status_code}: task list answer holds no list of tasks",
                          code="MalformedResponse", request_id=_request_id(body, response), status=response.status_code)
    tasks = []
    for entry in entries:
        task_id = _first_text(entry, ("task_id",)) if isinstance(entry, Mapping) else None
        if task_id:
            status = _first_text(entry, _STATUS_FIELDS)
            tasks.append(TaskSummary(task_id, status.upper() if status else None, _first_text(entry, _TIME_FIELDS),
                                     _first_text(entry, _MODEL_FIELDS)))
    total = _number(body.get("total") if "total" in body else _at(body, ("output", "total")))
    return TaskPage(tuple(tasks), None if total is None else int(total))


# --- timing and retry policy (pure) ------------------------------------------------------


def next_poll_interval(poll_index: int, retry_after: float | None) -> float:
    """Seconds to wait after poll `poll_index` (0-based): the SDK's 1,1,2,2,2,4,4,4,5,..., or a longer server hint."""
    steps = (max(0, poll_index) + 1) // POLLS_PER_STEP
    interval = MAX_POLL_INTERVAL if steps >= 8 else min(MAX_POLL_INTERVAL, FIRST_POLL_INTERVAL * 2**steps)
    if retry_after is not None and math.isfinite(retry_after) and retry_after > interval:
        return float(retry_after)
    return interval


def throttle_pause(consecutive: int) -> float:
    """Seconds to wait after the n-th throttled poll in a row without a hint: 5, 10, 20, 40, then 60."""
    exponent = min(max(consecutive, 1) - 1, 16)
    return min(MAX_THROTTLE_PAUSE, MAX_POLL_INTERVAL * 2.0**exponent)


def backoff(attempt: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(20 s, 0.5 s * 2**attempt)]."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(max(attempt, 0), 32))
    return rng.uniform(0.0, ceiling)


def is_retry_safe(error: BaseException, *, idempotent: bool = False) -> bool:
    """Whether repeating the request cannot do harm: 429, 5xx, or a network error before sending.

    A network error after the request may have reached the server is retried only for
    idempotent calls (GET, cancel): for a submit the outcome is unknown, and a second
    submit could create and bill a second task.
    """
    if isinstance(error, NetworkError):
        return idempotent or not error.sent
    return isinstance(error, (ThrottledError, ServerError))


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError, httpx.UnsupportedProtocol)


def network_error(exc: httpx.TransportError, secrets: tuple[str, ...] = ()) -> NetworkError:
    """Our error for an httpx transport failure; anything but a failure to connect may have been sent."""
    sent = not isinstance(exc, _NOT_SENT)
    detail = redact(str(exc) or type(exc).__name__, secrets)
    return NetworkError(f"{type(exc).__name__}: {detail}", sent=sent, code=type(exc).__name__)


# --- I/O ------------------------------------------------------------------------------


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _safe_url(url: str) -> str:
    # Result URLs are signed: their query grants access to the paid video, so never log it.
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform can open a folder.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class DashScopeClient:
    """Submits, polls, cancels and downloads Wan tasks, retrying only what is safe to repeat."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        http: httpx.Client | None = None,
        clock: Clock | None = None,
        max_retries: int = 5,
        rng: random.Random | None = None,
        timeout: float = 30.0,
        workspace: str | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        # A workspace-scoped host names its workspace; the header says it again, as the SDK does.
        self.workspace = workspace or workspace_of(base_url)
        problem = workspace_problem(self.workspace) if self.workspace else None
        if problem:
            raise ValueError(problem)
        self._api_key = api_key
        self._secrets = (api_key,)
        self.base_url = base_url.rstrip("/")
        self._own_http = http is None
        # No default headers on the shared client: the key goes only on requests to the API.
        self._http = http if http is not None else httpx.Client()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.max_retries = max(0, max_retries)
        self._rng = rng if rng is not None else random.Random()
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"DashScopeClient(base_url={self.base_url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    # -- plumbing --

    def prepare(self, build: Callable[..., httpx.Request], *args: Any) -> httpx.Request:
        """A request from a `build_*(base_url, api_key, ...)` function, with this client's URL, key and
        workspace."""
        request = build(self.base_url, self._api_key, *args)
        if self.workspace:
            request.headers[WORKSPACE_HEADER] = self.workspace
        return request

    def _exchange(self, request: httpx.Request, *, stream: bool = False, redirects: bool = False) -> httpx.Response:
        # A Request built by hand carries no timeout, and httpx would then wait forever.
        request.extensions.setdefault("timeout", httpx.Timeout(self.timeout).as_dict())
        try:
            return self._http.send(request, stream=stream, follow_redirects=redirects)
        except httpx.TransportError as exc:
            # `from None`: the httpx error holds the request, and the request holds the key.
            raise network_error(exc, self._secrets) from None

    def _with_retries(self, operation: Callable[[], T], *, idempotent: bool, what: str) -> T:
        attempt = 0
        while True:
            try:
                return operation()
            except DashScopeError as error:
                error.redact_secrets(self._secrets)
                if attempt >= self.max_retries or not is_retry_safe(error, idempotent=idempotent):
                    raise
                hint = getattr(error, "retry_after", None) or 0.0
                delay = max(backoff(attempt, self._rng), min(hint, MAX_RETRY_AFTER))
                log.warning("%s failed (%s); retry %d in %.2f s", what, error, attempt + 1, delay)
                self.clock.sleep(delay)
                attempt += 1

    def send(
        self,
        request: httpx.Request,
        *,
        idempotent: bool,
        check: Callable[[httpx.Response], None] = raise_for_error,
    ) -> httpx.Response:
        """Send with retries where safe; `check` raises the mapped error for a bad answer."""

        def once() -> httpx.Response:
            response = self._exchange(request)
            check(response)
            return response

        what = f"{request.method} {_safe_url(str(request.url))}"
        return self._with_retries(once, idempotent=idempotent, what=what)

    # -- task calls --

    def submit(self, payload: dict[str, Any]) -> Submitted:
        """Create a task, sent again only after a refusal that proves nothing was created (429, no connection).

        Every answer that shows the request reached the service without a task id (5xx, 408, an
        undecodable or malformed 2xx) raises NetworkError(sent=True): the outcome is unknown.
        """
        request = self.prepare(build_submit, payload)

        def once() -> Submitted:
            response = self._exchange(request)
            if is_unknown_outcome_status(response.status_code):
                body = _json_object(response)
                code = _text(body.get("code")) if body else None
                raise NetworkError(
                    f"HTTP {response.status_code} after the submit reached the service: the task may have been created",
                    sent=True,
                    code=code or f"HTTP{response.status_code}",
                    request_id=_request_id(body, response),
                    status=response.status_code,
                )
            return read_submit(response)

        return self._with_retries(once, idempotent=False, what="submit")

    def list_tasks(self, filters: Mapping[str, str | int]) -> list[TaskSummary]:
        """Every task the list holds for `filters` (start_time, end_time, model_name, status), page by page."""
        found: list[TaskSummary] = []
        for page_no in range(1, LIST_MAX_PAGES + 1):
            query = {**filters, "page_no": page_no, "page_size": LIST_PAGE_SIZE}
            page = self._with_retries(lambda q=query: read_task_list(self._exchange(self.prepare(build_list, q))),  # type: ignore[misc]
                                      idempotent=True, what="list tasks")
            found.extend(page.tasks)
            if len(page.tasks) < LIST_PAGE_SIZE or (page.total is not None and len(found) >= page.total):
                break
        return found

    def _query_once(self, task_id: str) -> TaskState:
        return read_task(self._exchange(self.prepare(build_query, task_id)))

    def query(self, task_id: str) -> TaskState:
        """Read a task's state, retrying throttling, 5xx and network errors (a GET is idempotent)."""
        return self._with_retries(lambda: self._query_once(task_id), idempotent=True, what=f"query {task_id}")

    def cancel(self, task_id: str) -> TaskState | None:
        """Cancel a PENDING task; the state if the answer carries one."""

        def once() -> TaskState | None:
            response = self._exchange(self.prepare(build_cancel, task_id))
            raise_for_error(response)
            output = _output(_json_object(response))
            return read_task(response) if output and _text(output.get("task_status")) else None

        # Cancelling twice is harmless, so a lost answer may be retried.
        return self._with_retries(once, idempotent=True, what=f"cancel {task_id}")

    def wait(
        self,
        task_id: str,
        *,
        deadline: float,
        on_update: Callable[[TaskState], None] | None = None,
    ) -> TaskState:
        """Poll until SUCCEEDED (returned) or FAILED/CANCELED (TaskFailedError), or UNKNOWN several polls in a row.

        `deadline` is a time on `self.clock.monotonic()`; past it, DeadlineExceeded. Throttling,
        5xx and network errors only slow polling down; `on_update` sees every successful poll.
        """
        poll_index = 0
        throttled = unknown = 0
        last_status: str | None = None
        while True:
            hint: float | None = None
            try:
                state = self._query_once(task_id)
            except DashScopeError as error:
                error.redact_secrets(self._secrets)
                if not is_retry_safe(error, idempotent=True):
                    raise
                if isinstance(error, ThrottledError):
                    throttled += 1
                    hint = error.retry_after or throttle_pause(throttled)
                log.warning("poll of %s failed (%s); polling on", task_id, error)
            else:
                throttled = 0
                last_status = state.status
                if on_update is not None:
                    on_update(state)
                unknown = unknown + 1 if state.status == "UNKNOWN" else 0
                if state.status == SUCCEEDED:
                    return state
                if state.status in FAILED_STATUSES and 0 < unknown <= UNKNOWN_POLLS_TOLERATED:
                    pass  # one UNKNOWN answer is not the end of a paid task: ask again
                elif state.status in FAILED_STATUSES:
                    # The task's message is server text: it may echo what we sent.
                    raise _task_failed(task_id, state).redact_secrets(self._secrets)
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(
                    f"task {task_id} not finished by the deadline (last status {last_status})",
                    task_id=task_id,
                    last_status=last_status,
                )
            self.clock.sleep(min(next_poll_interval(poll_index, hint), remaining))
            poll_index += 1

    # -- results --

    def download(self, url: str, dest: Path, *, expected_min_bytes: int = 1,
                 verify: Callable[[Path], str | None] | None = None) -> int:
        """Stream `url` to `dest` atomically (temp file, size checks, fsync, rename); returns the bytes written.

        `verify` reads the finished temporary file and names what is wrong with it (None when it is
        good); a bad file never replaces `dest` and raises DashScopeError(code="NotAVideo").
        """
        dest = Path(dest)
        # No Authorization: the result URL is pre-signed and lives on another host.
        request = httpx.Request("GET", url, headers={"User-Agent": USER_AGENT})
        return self._with_retries(
            lambda: self._download_once(request, dest, expected_min_bytes, verify),
            idempotent=True,
            what=f"download {_safe_url(url)}",
        )

    def _download_once(self, request: httpx.Request, dest: Path, expected_min_bytes: int,
                       verify: Callable[[Path], str | None] | None) -> int:
        # Redirects are followed only here: the request carries no key to hand on.
        response = self._exchange(request, stream=True, redirects=True)
        try:
            if response.status_code in DOWNLOAD_GONE_STATUSES:
                response.read()
                raise DashScopeError(
                    f"HTTP {response.status_code}: the result URL has expired (it is valid for 24 hours)",
                    code="UrlExpired",
                    status=response.status_code,
                )
            if not response.is_success:
                response.read()
                raise_for_error(response)
            return self._save(response, dest, expected_min_bytes, verify)
        finally:
            response.close()

    def _save(self, response: httpx.Response, dest: Path, expected_min_bytes: int,
              verify: Callable[[Path], str | None] | None = None) -> int:
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Same folder as dest, so os.replace is a rename on one file system.
        fd, tmp_name = temp_beside(dest, ".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                written = self._stream_into(response, out)
                _check_size(response, written, expected_min_bytes)
                out.flush()
                os.fchmod(out.fileno(), FILE_MODE)  # mkstemp's 0600 is not what a video should keep
                os.fsync(out.fileno())
            problem = verify(tmp) if verify is not None else None
            if problem:
                raise DashScopeError(f"the download is not the video: {problem}", code="NotAVideo",
                                     status=response.status_code)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(dest.parent)
        return written

    def _stream_into(self, response: httpx.Response, out: Any) -> int:
        written = 0
        try:
            for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                out.write(chunk)
                written += len(chunk)
        except httpx.TransportError as exc:
            raise network_error(exc, self._secrets) from None
        return written


def _check_size(response: httpx.Response, written: int, expected_min_bytes: int) -> None:
    declared = response.headers.get("content-length")
    # Content-Length counts encoded bytes; only comparable when the body is not re-encoded.
    encoded = response.headers.get("content-encoding", "identity").lower() not in ("", "identity")
    if declared is not None and declared.isdigit() and not encoded and int(declared) != written:
        raise NetworkError(
            f"download broke off: {written} of {declared} bytes",
            sent=True,
            code="IncompleteBody",
            status=response.status_code,
        )
    if written < expected_min_bytes:
        raise DashScopeError(
            f"download too small: {written} bytes, expected at least {expected_min_bytes}",
            code="DownloadTooSmall",
            status=response.status_code,
        )


def _task_failed(task_id: str, state: TaskState) -> TaskFailedError:
    detail = f": {state.message}" if state.message else ""
    return TaskFailedError(
        f"task {task_id} ended {state.status}{detail}",
        task_id=state.task_id or task_id,
        task_status=state.status,
        code=state.code or state.status,
        request_id=state.request_id,
    )
