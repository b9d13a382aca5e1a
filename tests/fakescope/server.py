"""A loopback stand-in for the DashScope video-synthesis HTTP API (every model scenec compiles for), with
fault injection.

Its request rules (models, request shapes, lengths, counts, durations, defaults, usage) live in shapes.py,
its own reading of the API references, never imported from compiler/: it stands in for the service, so a
wrong entry in a compile target must make the tests disagree, not agree.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import hmac
import json
import re
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, TextIO
from urllib.parse import parse_qs, urlsplit

from tests.fakescope.errors import ApiError, invalid
from tests.fakescope.shapes import MODELS, Accepted, Context, accept, check_parameters

__all__ = ["ApiError", "FakeDashScope", "MODELS", "check_parameters", "make_mp4", "mp4_duration", "parse_fault_spec"]

API_PREFIX = "/api/v1"
SUBMIT_PATH = API_PREFIX + "/services/aigc/video-generation/video-synthesis"
POLICY_PATH = API_PREFIX + "/uploads"
TASK_PATH = re.compile(re.escape(API_PREFIX) + r"/tasks/([^/]+)")
LIST_PATH = API_PREFIX + "/tasks"
CANCEL_PATH = re.compile(re.escape(API_PREFIX) + r"/tasks/([^/]+)/cancel")
UPLOAD_PATH = "/oss"
DOWNLOAD_PATH = re.compile(r"/download/([^/]+)\.mp4")
WATERMARKED = "-watermarked"  # the file id of a task's watermarked copy (Kling's watermark_video_url)
ADMIN_INJECT_PATH = "/_fake/inject"

POLICY_TTL = 300.0
MAX_UPLOAD_BYTES = 100 * 1024 * 1024

# The real service answers a submit without X-DashScope-Async with this status and code.
SYNC_CALL_STATUS = 403
SYNC_CALL_CODE = "AccessDenied"
SYNC_CALL_MESSAGE = "current user api does not support synchronous calls"

ENDPOINTS = ("submit", "task", "cancel", "policy", "upload", "download", "list")
TRANSPORT_FAULTS = frozenset({"throttle", "internal", "slow", "drop", "drop_after"})
OUTCOME_FAULTS = frozenset({"fail", "cancel"})
# Faults where the work is done (the task created, the upload accepted) but the answer is bad:
# internal_after answers 500, garbled answers a 200 that is not JSON.
DONE_FAULTS = frozenset({"internal_after", "garbled"})
FAULTS = {
    "submit": TRANSPORT_FAULTS | OUTCOME_FAULTS | DONE_FAULTS,
    # unknown: this query answers UNKNOWN; no_url: a SUCCEEDED answer without video_url.
    "task": TRANSPORT_FAULTS | {"unknown", "no_url"},
    "cancel": TRANSPORT_FAULTS,
    "policy": TRANSPORT_FAULTS,
    # lose: the upload is answered 204 but the object is not kept (the service loses it).
    "upload": TRANSPORT_FAULTS | {"lose"},
    # html: a 200 HTML page; short: a complete answer whose body is only the video's first bytes.
    "download": TRANSPORT_FAULTS | {"expire", "truncate", "html", "short"},
    # lag: tasks submitted in the last `seconds` (default: all) are missing from the list.
    "list": TRANSPORT_FAULTS | {"lag"},
}
# These endpoints stand for OSS, which answers errors in XML rather than DashScope JSON.
OSS_ENDPOINTS = frozenset({"upload", "download"})

FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})


class Reply(NamedTuple):
    """An HTTP answer ready to send."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


class Request(NamedTuple):
    """The parts of an HTTP request the endpoints read."""

    method: str
    path: str
    query: dict[str, str]
    headers: Any  # email.message.Message: case-insensitive .get()
    body: bytes
    fault: Any = None  # the Fault this call carries, for faults an endpoint applies itself


def new_request_id() -> str:
    return str(uuid.uuid4())


def json_reply(status: int, payload: dict) -> Reply:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request_id = str(payload.get("request_id", ""))
    return Reply(status, body, (("Content-Type", "application/json"), ("X-Request-Id", request_id)))


def error_reply(error: ApiError, oss: bool) -> Reply:
    request_id = new_request_id()
    if not oss:
        return json_reply(error.status, {"request_id": request_id, "code": error.code, "message": error.message})
    fields = {"Code": error.code, "Message": error.message, "RequestId": request_id, "HostId": "fakescope"}
    fields.update(error.extra)
    inner = "".join(f"  <{k}>{_xml_escape(v)}</{k}>\n" for k, v in fields.items())
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n{inner}</Error>\n'.encode()
    return Reply(error.status, body, (("Content-Type", "application/xml"), ("x-oss-request-id", request_id)))


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# The service speaks China Standard Time (UTC+8) in task times and in the list's time filters.
SERVICE_UTC_OFFSET = 8 * 3600


def format_time(ts: float) -> str:
    """Render a timestamp the way task outputs do, in UTC+8: "2025-01-08 16:42:45.123"."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts + SERVICE_UTC_OFFSET)) + f".{int(ts * 1000) % 1000:03d}"


def parse_filter_time(text: str) -> float:
    """A list filter time, YYYYMMDDhhmmss in UTC+8, as a timestamp (ValueError when malformed)."""
    if not re.fullmatch(r"\d{14}", text):
        raise ValueError(text)
    import calendar

    return calendar.timegm(time.strptime(text, "%Y%m%d%H%M%S")) - SERVICE_UTC_OFFSET


# ---------------------------------------------------------------- MP4 boxes


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def make_mp4(duration: float, timescale: int = 1000) -> bytes:
    """A small MP4 whose movie header (mvhd) says `duration` seconds: ftyp + moov/mvhd + mdat."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, 0, 0, timescale, round(duration * timescale))
        + struct.pack(">IH10x", 0x10000, 0x100)
        + matrix
        + bytes(24)
        + struct.pack(">I", 2),
    )
    return ftyp + _box(b"moov", mvhd) + _box(b"mdat", b"fakescope video payload\n" * 4)


def _iter_boxes(data: bytes, start: int = 0, end: int | None = None):
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def mp4_duration(data: bytes) -> float | None:
    """The duration an MP4/MOV's mvhd declares, or None when it has none we can read."""
    for kind, body, stop in _iter_boxes(data):
        if kind != b"moov":
            continue
        for child, cbody, _ in _iter_boxes(data, body, stop):
            if child == b"mvhd":
                return _mvhd_seconds(data[cbody:])
    return None


def _mvhd_seconds(mvhd: bytes) -> float | None:
    if not mvhd:
        return None
    if mvhd[0] == 1:
        if len(mvhd) < 32:
            return None
        timescale, duration = struct.unpack(">IQ", mvhd[20:32])
    else:
        if len(mvhd) < 20:
            return None
        timescale, duration = struct.unpack(">II", mvhd[12:20])
    return duration / timescale if timescale else None


# ---------------------------------------------------------------- request validation


def _parse_json(body: bytes) -> dict:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise invalid("The request body must be a JSON object.")
    return value


# ---------------------------------------------------------------- multipart (what requests sends to OSS)


def parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """Form fields by name: (filename or None, raw bytes); exact, unlike email parsing of binary parts."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/form-data") or not match:
        raise ApiError(400, "InvalidArgument", "The body of your POST request is not well-formed multipart/form-data.")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'\bname="([^"]*)"', head)
        if not sep or not name:
            raise ApiError(400, "InvalidArgument", "A multipart part has no name.")
        filename = re.search(rb'\bfilename="([^"]*)"', head)
        fields[name.group(1).decode()] = (
            filename.group(1).decode() if filename else None,
            content.removesuffix(b"\r\n"),
        )
    return fields


# ---------------------------------------------------------------- state


@dataclass
class Task:
    """One generation task; its status is a function of the clock."""

    task_id: str
    model: str
    body: dict
    prompt: str
    params: dict
    usage: dict
    submit_at: float
    output_seconds: float = 5.0
    watermarked_copy: bool = False
    start_at: float = 0.0
    end_at: float = 0.0
    outcome: str = "SUCCEEDED"
    code: str | None = None
    message: str | None = None
    canceled_at: float | None = None

    def status(self, now: float) -> str:
        if self.canceled_at is not None:
            return "CANCELED"
        if now < self.start_at:
            return "PENDING"
        if now < self.end_at:
            return "RUNNING"
        return self.outcome

    def occupies_slot(self) -> bool:
        return self.canceled_at is None and self.end_at > self.start_at


@dataclass
class Policy:
    """An upload policy handed out by getPolicy."""

    upload_dir: str
    signature: str
    access_key_id: str
    expires_at: float


@dataclass
class Fault:
    """A queued fault and the calls it still applies to."""

    kind: str
    remaining: int
    options: dict = field(default_factory=dict)


class FakeDashScope:
    """A DashScope-compatible video-synthesis server on loopback, for tests."""

    def __init__(
        self,
        *,
        api_key: str = "sk-test",
        generation_delay: float = 0.5,
        host: str = "127.0.0.1",
        port: int = 0,
        video_bytes: bytes | None = None,
        url_ttl: float = 86400.0,
        max_concurrent_tasks: int | None = None,
        pending_time: float | None = None,
        truncate_long_prompts: bool = False,
        log: TextIO | None = None,
    ) -> None:
        self.api_key = api_key
        self.generation_delay = generation_delay
        # A task waits in PENDING for this long, then RUNS for the rest of generation_delay.
        self.pending_time = generation_delay / 2 if pending_time is None else pending_time
        self.host, self.port = host, port
        self.video_bytes = video_bytes
        self.url_ttl = url_ttl
        self.max_concurrent_tasks = max_concurrent_tasks
        self.truncate_long_prompts = truncate_long_prompts
        self.log = log
        self.base_url = ""
        self.origin = ""
        self.submissions: list[dict] = []
        self.uploads: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.task_ids: list[str] = []  # every created task, in submit order
        self._lock = threading.RLock()
        self._tasks: dict[str, Task] = {}
        self._policies: dict[str, Policy] = {}
        self._faults: dict[tuple[str, bool], deque[Fault]] = {}
        self._secret = uuid.uuid4().bytes
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeDashScope:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _Handler)
        server.app = self
        self.port = server.server_address[1]
        self.origin = f"http://{self.host}:{self.port}"
        self.base_url = self.origin + API_PREFIX
        self._server = server
        self._thread = threading.Thread(
            # A short poll: stop() waits for the next one, and the suite stops a server after every test.
            target=server.serve_forever, kwargs={"poll_interval": 0.005}, name="fakescope", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a 'slow' fault
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeDashScope:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test-facing API

    def inject(self, endpoint: str, fault: str, times: int = 1, **options: Any) -> None:
        """Queue a fault for the next `times` calls of `endpoint`; see FAULTS for what each endpoint takes."""
        if endpoint not in FAULTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
        if fault not in FAULTS[endpoint]:
            raise ValueError(f"fault {fault!r} does not apply to {endpoint!r}; "
                             f"expected one of {sorted(FAULTS[endpoint])}")
        if times < 1:
            raise ValueError("times must be at least 1")
        # Outcome faults wait for the next *accepted* submit, so a rejected body does not use them up.
        queue_key = (endpoint, fault in OUTCOME_FAULTS)
        with self._lock:
            self._faults.setdefault(queue_key, deque()).append(Fault(fault, times, dict(options)))

    def task(self, task_id: str) -> dict:
        """The current record of a task (KeyError when unknown), including its API `output` and `usage`."""
        with self._lock:
            task = self._tasks[task_id]
            now = time.time()
            record = copy.deepcopy(task.__dict__)
            record["task_status"] = task.status(now)
            record["output"] = self._task_output(task, now)
        return record

    def forget_uploads(self) -> None:
        """The service loses every temporary upload (as it does when they expire)."""
        with self._lock:
            self.uploads.clear()

    def billed(self) -> list[str]:
        """The task ids that bill: every created task not FAILED or CANCELED by now."""
        with self._lock:
            now = time.time()
            return [t.task_id for t in self._tasks.values() if t.status(now) not in ("FAILED", "CANCELED")]

    def video_for(self, task_id: str) -> bytes:
        """The bytes the download endpoint serves for a task."""
        with self._lock:
            task = self._tasks[task_id]
        return self.video_bytes if self.video_bytes is not None else make_mp4(task.output_seconds)

    # -- plumbing shared with the handler

    def _log(self, line: str) -> None:
        if self.log is not None:
            with self._lock:
                self.log.write(line.rstrip("\n") + "\n")
                self.log.flush()

    def _record(self, method: str, path: str, headers: dict) -> None:
        with self._lock:
            self.requests.append((method, path, headers))

    def _take_fault(self, endpoint: str, outcome: bool) -> Fault | None:
        with self._lock:
            queue = self._faults.get((endpoint, outcome))
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
            return Fault(fault.kind, 1, fault.options)

    def _route(self, method: str, path: str) -> tuple[str, Callable[[Request], Reply]] | None:
        if path == SUBMIT_PATH and method == "POST":
            return "submit", self._submit
        if path == POLICY_PATH and method == "GET":
            return "policy", self._policy
        if path == LIST_PATH and method == "GET":
            return "list", self._list
        if path == UPLOAD_PATH and method == "POST":
            return "upload", self._upload
        for pattern, verb, endpoint, action in (
            (CANCEL_PATH, "POST", "cancel", self._cancel),
            (TASK_PATH, "GET", "task", self._query),
            (DOWNLOAD_PATH, "GET", "download", self._download),
            (DOWNLOAD_PATH, "HEAD", "download", self._download),
        ):
            match = pattern.fullmatch(path)
            if match and method == verb:
                return endpoint, _bind(action, match.group(1))
        return None

    def _fault_reply(self, endpoint: str, kind: str) -> Reply:
        errors = {
            "throttle": ApiError(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
            "internal": ApiError(500, "InternalError", "An internal error has occured, please try again later."),
            "expire": ApiError(403, "AccessDenied", "Request has expired."),
        }
        return error_reply(errors[kind], endpoint in OSS_ENDPOINTS)

    def _authorize(self, req: Request) -> None:
        header = req.headers.get("Authorization")
        if not header:
            raise ApiError(401, "InvalidApiKey", "No API-key provided.")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), self.api_key.encode()):
            raise ApiError(401, "InvalidApiKey", "Invalid API-key provided.")

    # -- submit

    def _submit(self, req: Request) -> Reply:
        self._authorize(req)
        if req.headers.get("X-DashScope-Async", "").lower() != "enable":
            raise ApiError(SYNC_CALL_STATUS, SYNC_CALL_CODE, SYNC_CALL_MESSAGE)
        body = _parse_json(req.body)
        oss_enabled = req.headers.get("X-DashScope-OssResourceResolve", "").lower() == "enable"
        with self._lock:
            task = self._accept(body, oss_enabled)
        return json_reply(
            200, {"request_id": new_request_id(), "output": {"task_id": task.task_id, "task_status": "PENDING"}}
        )

    def _accept(self, body: dict, oss_enabled: bool) -> Task:
        context = Context(oss_enabled, self.uploads.__contains__, self._measured_seconds, self.truncate_long_prompts)
        accepted: Accepted = accept(body, context)
        task = Task(
            task_id=str(uuid.uuid4()),
            model=accepted.model,
            body=copy.deepcopy(body),
            prompt=accepted.prompt,
            params=accepted.params,
            usage=accepted.usage,
            submit_at=time.time(),
            output_seconds=accepted.output_seconds,
            watermarked_copy=accepted.watermarked_copy,
        )
        self._schedule(task, list(self._tasks.values()))
        self._apply_outcome_fault(task)
        self._tasks[task.task_id] = task
        self.submissions.append(copy.deepcopy(body))
        self.task_ids.append(task.task_id)
        return task

    def _measured_seconds(self, url: str) -> float | None:
        """The length of an uploaded video; None for an http URL (never fetched) or bytes that are no MP4."""
        data = self.uploads.get(url[len("oss://") :]) if url.startswith("oss://") else None
        return mp4_duration(data) if data else None

    def _apply_outcome_fault(self, task: Task) -> None:
        fault = self._take_fault("submit", outcome=True)
        if fault is None:
            return
        if fault.kind == "cancel":
            task.outcome = "CANCELED"
            task.end_at = task.start_at  # canceled by the service as it would have started: holds no slot
        else:
            task.outcome = "FAILED"
            task.code = str(fault.options.get("code", "InternalError.Algo"))
            task.message = str(fault.options.get("message", "An internal error occurred during video generation."))

    def _schedule(self, task: Task, earlier: list[Task]) -> None:
        """Start after pending_time, FIFO, when a slot under max_concurrent_tasks is free."""
        start = task.submit_at + self.pending_time
        if self.max_concurrent_tasks:
            live = [t for t in earlier if t.occupies_slot()]
            start = max([start] + [t.start_at for t in live])
            ends = sorted(t.end_at for t in live if t.end_at > start)
            if len(ends) >= self.max_concurrent_tasks:
                start = ends[len(ends) - self.max_concurrent_tasks]
        task.start_at = start
        run = 0.0 if task.outcome == "CANCELED" else max(self.generation_delay - self.pending_time, 0.0)
        task.end_at = start + run

    def _reschedule(self, now: float) -> None:
        """After a cancel frees the queue, move still-waiting tasks forward."""
        ordered = sorted(self._tasks.values(), key=lambda t: t.submit_at)
        for index, task in enumerate(ordered):
            if task.canceled_at is None and task.start_at > now:
                self._schedule(task, ordered[:index])

    # -- query and cancel

    def _query(self, req: Request, task_id: str) -> Reply:
        self._authorize(req)
        kind = req.fault.kind if req.fault else None
        with self._lock:
            task = self._tasks.get(task_id)
            now = time.time()
            if task is None or kind == "unknown":
                output = {"task_id": task_id, "task_status": "UNKNOWN"}
                return json_reply(200, {"request_id": new_request_id(), "output": output})
            payload = {"request_id": new_request_id(), "output": self._task_output(task, now)}
            if kind == "no_url":
                payload["output"].pop("video_url", None)
            if task.status(now) == "SUCCEEDED":
                # usage sits beside output, which is where the SDK reads it from.
                payload["usage"] = dict(task.usage)
        return json_reply(200, payload)

    def _task_output(self, task: Task, now: float) -> dict:
        status = task.status(now)
        output: dict[str, Any] = {"task_id": task.task_id, "task_status": status,
                                  "submit_time": format_time(task.submit_at)}
        if status != "PENDING" and task.canceled_at is None:
            output["scheduled_time"] = format_time(task.start_at)
        if status in FINAL_STATUSES:
            output["end_time"] = format_time(task.canceled_at if task.canceled_at is not None else task.end_at)
        if status == "SUCCEEDED":
            output["orig_prompt"] = task.prompt
            if task.params.get("prompt_extend"):
                output["actual_prompt"] = task.prompt  # no rewriting is simulated
            output["video_url"] = self._video_url(task)
            if task.watermarked_copy:
                output["watermark_video_url"] = self._video_url(task, WATERMARKED)
        elif status == "FAILED":
            output["code"], output["message"] = task.code, task.message
        return output

    def _cancel(self, req: Request, task_id: str) -> Reply:
        self._authorize(req)
        with self._lock:
            task = self._tasks.get(task_id)
            now = time.time()
            if task is None:
                raise ApiError(400, "UnsupportedOperation",
                               f"Failed to cancel the task: task {task_id} does not exist.")
            if task.status(now) != "PENDING":
                raise ApiError(
                    400,
                    "UnsupportedOperation",
                    "Failed to cancel the task, please confirm if the task is in PENDING status.",
                )
            task.canceled_at = now
            self._reschedule(now)
        return json_reply(200, {"request_id": new_request_id()})

    # -- the task list

    def _list(self, req: Request) -> Reply:
        """GET /tasks: the tasks of the account, newest first, filtered and paged as the API documents."""
        self._authorize(req)
        page_no, page_size = _positive(req.query, "page_no", 1), _positive(req.query, "page_size", 10)
        try:
            start = parse_filter_time(req.query["start_time"]) if "start_time" in req.query else None
            end = parse_filter_time(req.query["end_time"]) if "end_time" in req.query else None
        except ValueError:
            raise invalid("start_time and end_time must be YYYYMMDDhhmmss.") from None
        model, status = req.query.get("model_name"), req.query.get("status")
        hide_after = float("inf")
        if req.fault and req.fault.kind == "lag":
            hide_after = time.time() - float(req.fault.options.get("seconds", float("inf")))
        with self._lock:
            now = time.time()
            chosen = [t for t in sorted(self._tasks.values(), key=lambda t: t.submit_at, reverse=True)
                      if (start is None or t.submit_at >= start) and (end is None or t.submit_at <= end + 1)
                      and (model is None or t.model == model) and (status is None or t.status(now) == status)
                      and t.submit_at <= hide_after]
            page = chosen[(page_no - 1) * page_size : page_no * page_size]
            data = [{"task_id": t.task_id, "task_status": t.status(now), "model_name": t.model,
                     "submit_time": format_time(t.submit_at),
                     **({"end_time": format_time(t.end_at)} if t.status(now) in FINAL_STATUSES else {})}
                    for t in page]
        return json_reply(200, {"request_id": new_request_id(), "data": data, "total": len(chosen),
                                "page_no": page_no, "page_size": page_size})

    # -- signed download

    def _sign(self, file_id: str, expires: str) -> str:
        return hmac.new(self._secret, f"{file_id}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def _video_url(self, task: Task, suffix: str = "") -> str:
        expires = str(int(task.end_at + self.url_ttl))
        file_id = task.task_id + suffix
        signature = self._sign(file_id, expires)
        return f"{self.origin}/download/{file_id}.mp4?expires={expires}&signature={signature}"

    def _download(self, req: Request, file_id: str) -> Reply:
        expires, signature = req.query.get("expires", ""), req.query.get("signature", "")
        task_id = file_id.removesuffix(WATERMARKED)
        with self._lock:
            task = self._tasks.get(task_id)
            ready = task is not None and task.status(time.time()) == "SUCCEEDED"
            ready = ready and (task_id == file_id or task.watermarked_copy)
        if not ready:
            raise ApiError(404, "NoSuchKey", "The specified key does not exist.")
        if not (expires.isdigit() and hmac.compare_digest(signature, self._sign(file_id, expires))):
            raise ApiError(403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature you provided.")
        if time.time() > int(expires):
            raise ApiError(403, "AccessDenied", "Request has expired.", Expires=expires)
        kind = req.fault.kind if req.fault else None
        if kind == "html":
            page = b"<!DOCTYPE html><html><body><h1>Welcome</h1><p>Please sign in.</p></body></html>\n"
            return Reply(200, page, (("Content-Type", "text/html"),))
        if kind == "short":
            return Reply(200, self.video_for(task_id)[:64], (("Content-Type", "video/mp4"),))
        return _ranged(self.video_for(task_id), req.headers.get("Range"))

    # -- temporary uploads

    def _policy(self, req: Request) -> Reply:
        self._authorize(req)
        if req.query.get("action") != "getPolicy":
            raise invalid("action must be getPolicy.")
        model = req.query.get("model")
        if not model:
            raise invalid("model is required.")
        if model not in MODELS:
            raise invalid("Model not exist.")
        upload_dir = f"dashscope-instant/{uuid.uuid4().hex}/{time.strftime('%Y-%m-%d')}/{uuid.uuid4()}"
        expires_at = time.time() + POLICY_TTL
        policy = _policy_document(upload_dir, expires_at)
        signature = self._policy_signature(policy)
        access_key_id = "LTAIfakescope" + uuid.uuid4().hex[:8]
        with self._lock:
            self._policies[access_key_id] = Policy(upload_dir, signature, access_key_id, expires_at)
        data = {
            "policy": policy,
            "signature": signature,
            "upload_dir": upload_dir,
            "upload_host": self.origin + UPLOAD_PATH,
            "expire_in_seconds": int(POLICY_TTL),
            "max_file_size_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
            "capacity_limit_mb": 999999999,
            "oss_access_key_id": access_key_id,
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }
        # The real service answers getPolicy under "data" (not "output"); the SDK accepts either.
        return json_reply(200, {"request_id": new_request_id(), "data": data})

    def _policy_signature(self, policy: str) -> str:
        return base64.b64encode(hmac.new(self._secret, policy.encode(), hashlib.sha1).digest()).decode()

    def _upload(self, req: Request) -> Reply:
        form = parse_multipart(req.body, req.headers.get("Content-Type", ""))
        fields = {name: value.decode("utf-8", "replace")
                  for name, (filename, value) in form.items() if filename is None}
        if "file" not in form or "key" not in fields:
            raise ApiError(400, "InvalidArgument", "The form must carry a key field and a file part.")
        key, content = fields["key"], form["file"][1]
        with self._lock:
            self._check_upload(fields, key, len(content))
            if not (req.fault and req.fault.kind == "lose"):
                self.uploads[key] = content
        status = 200 if fields.get("success_action_status") == "200" else 204
        etag = '"' + hashlib.md5(content).hexdigest().upper() + '"'
        return Reply(status, b"", (("ETag", etag), ("x-oss-request-id", new_request_id())))

    def _check_upload(self, fields: dict[str, str], key: str, size: int) -> None:
        policy = self._policies.get(fields.get("OSSAccessKeyId", ""))
        if policy is None:
            raise ApiError(403, "InvalidAccessKeyId",
                           "The OSS Access Key Id you provided does not exist in our records.")
        # Like OSS, sign the policy as sent: an edited policy fails here, so its conditions can be trusted below.
        expected = self._policy_signature(fields.get("policy", ""))
        if not (fields.get("Signature") == expected == policy.signature):
            raise ApiError(403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature you provided.")
        if time.time() > policy.expires_at:
            raise ApiError(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        if not key.startswith(policy.upload_dir + "/"):
            raise ApiError(403, "AccessDenied",
                           "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\"]")
        if size > MAX_UPLOAD_BYTES:
            raise ApiError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
        if fields.get("x-oss-forbid-overwrite") == "true" and key in self.uploads:
            raise ApiError(409, "FileAlreadyExists",
                           "The object you specified already exists and can not be overwritten.")


def _positive(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name, str(default))
    if not value.isdigit() or int(value) < 1:
        raise invalid(f"{name} must be a positive integer.")
    return int(value)


def _bind(action: Callable[[Request, str], Reply], arg: str) -> Callable[[Request], Reply]:
    return lambda req: action(req, arg)


def _policy_document(upload_dir: str, expires_at: float) -> str:
    expiration = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(expires_at))
    conditions = [["content-length-range", 0, MAX_UPLOAD_BYTES], ["starts-with", "$key", upload_dir]]
    return base64.b64encode(json.dumps({"expiration": expiration, "conditions": conditions}).encode()).decode()


def _ranged(data: bytes, range_header: str | None) -> Reply:
    """Serve the whole video, or one byte range of it so an interrupted download can resume."""
    headers = [("Content-Type", "video/mp4"), ("Accept-Ranges", "bytes"),
               ("ETag", '"' + hashlib.md5(data).hexdigest() + '"')]
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", (range_header or "").strip())
    if not range_header or not match or match.groups() == ("", ""):
        return Reply(200, data, tuple(headers))
    first, last = match.groups()
    if first:
        start, stop = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
    else:
        start, stop = max(len(data) - int(last), 0), len(data) - 1
    if start >= len(data) or start > stop:
        return Reply(416, b"", (("Content-Range", f"bytes */{len(data)}"),))
    headers.append(("Content-Range", f"bytes {start}-{stop}/{len(data)}"))
    return Reply(206, data[start : stop + 1], tuple(headers))


def parse_fault_spec(spec: str) -> tuple[str, str, int, dict]:
    """Read 'ENDPOINT:FAULT[:TIMES][:key=value,...]' (the CLI's --inject form) into inject() arguments."""
    parts = spec.split(":", 3)
    if len(parts) < 2:
        raise ValueError(f"fault spec {spec!r} is not ENDPOINT:FAULT[:TIMES][:key=value,...]")
    endpoint, fault = parts[0], parts[1]
    times = int(parts[2]) if len(parts) > 2 and parts[2] else 1
    options: dict[str, Any] = {}
    if len(parts) > 3 and parts[3]:
        for pair in parts[3].split(","):
            name, _, value = pair.partition("=")
            options[name.strip()] = float(value) if name.strip() == "seconds" else value
    return endpoint, fault, times, options


# ---------------------------------------------------------------- HTTP transport


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: FakeDashScope

    def __init__(self, address: tuple[str, int], handler: type) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address):  # type: ignore[override]
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):  # type: ignore[override]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections so stop() leaves no handler thread waiting on a client."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:  # type: ignore[override]
        # Clients hanging up (and stop() cutting them off) are expected here, not worth a traceback.
        self.app._log(f"connection from {client_address[0]}:{client_address[1]} ended with an error")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pooled session expects
    # Headers and body go out in two writes; without TCP_NODELAY a kept-alive client waits ~40 ms for its
    # delayed ACK on every request (measured by bench/bench_render.py), which real servers do not impose.
    disable_nagle_algorithm = True
    server_version = "fakescope"
    timeout = 60
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def log_message(self, format: str, *args: Any) -> None:
        # Only the request line and status reach the log, never a header (so never a key).
        self.server.app._log(f"{self.address_string()} {format % args}")

    def _dispatch(self, method: str) -> None:
        app = self.server.app
        body = self._read_body()
        parts = urlsplit(self.path)
        # The SDK's asyncio client asks for /tasks/{id}/ and /tasks/{id}/cancel/; the gateway accepts both forms.
        path = parts.path.rstrip("/") or "/"
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        req = Request(method, path, query, self.headers, body)
        if path == ADMIN_INJECT_PATH and method == "POST":
            self._send(self._admin_inject(app, body))
            return
        app._record(method, self.path, dict(self.headers.items()))
        route = app._route(method, path)
        if route is None:
            missing = ApiError(404, "NotFound", f"No route for {method} {path}.")
            self._send(error_reply(missing, False), head=method == "HEAD")
            return
        endpoint, action = route
        self._serve(app, endpoint, action, req)

    def _serve(self, app: FakeDashScope, endpoint: str, action: Callable[[Request], Reply], req: Request) -> None:
        fault = app._take_fault(endpoint, outcome=False)
        kind = fault.kind if fault else None
        if kind == "slow" and app._stopping.wait(float(fault.options.get("seconds", 1.0))):
            kind = "drop"  # the server is stopping: the slow answer never comes
        if kind == "drop":
            self._hang_up()
            return
        if kind in ("throttle", "internal", "expire"):
            reply = app._fault_reply(endpoint, kind)
        else:
            reply = self._run(action, req, endpoint in OSS_ENDPOINTS, fault)
        if kind == "drop_after":
            self._hang_up()  # the work is done but the client never hears of it
            return
        if kind == "internal_after":
            reply = app._fault_reply(endpoint, "internal")  # the work is done, the answer says it failed
        elif kind == "garbled":
            reply = Reply(200, b"<html><body>Service temporarily busy</body></html>", (("Content-Type", "text/html"),))
        self._send(reply, head=req.method == "HEAD", truncate=kind == "truncate")

    @staticmethod
    def _run(action: Callable[[Request], Reply], req: Request, oss: bool, fault: Fault | None = None) -> Reply:
        try:
            return action(req._replace(fault=fault)) if fault is not None else action(req)
        except ApiError as error:
            return error_reply(error, oss)

    def _admin_inject(self, app: FakeDashScope, body: bytes) -> Reply:
        try:
            spec = json.loads(body or b"{}")
            options = {k: v for k, v in spec.items() if k not in ("endpoint", "fault", "times")}
            app.inject(spec["endpoint"], spec["fault"], int(spec.get("times", 1)), **options)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return json_reply(400, {"request_id": new_request_id(), "code": "InvalidParameter", "message": str(error)})
        return json_reply(200, {"request_id": new_request_id(), "injected": spec})

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _hang_up(self) -> None:
        self.close_connection = True
        self.log_message('"%s" dropped by fault injection', self.requestline)

    def _send(self, reply: Reply, head: bool = False, truncate: bool = False) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        # 'truncate' promises the whole length but sends half, then hangs up.
        self.wfile.write(reply.body[: len(reply.body) // 2] if truncate else reply.body)
        if truncate:
            self.close_connection = True
