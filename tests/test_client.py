"""Tests of the DashScope client: pure builders and readers, retries, polling, downloads and key redaction."""

from __future__ import annotations

import contextlib
import json
import logging
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.render.client import (
    MAX_POLL_INTERVAL,
    REGIONS,
    DashScopeClient,
    Submitted,
    TaskState,
    backoff,
    build_cancel,
    build_list,
    build_query,
    build_submit,
    canonical_endpoint,
    is_retry_safe,
    next_poll_interval,
    raise_for_error,
    read_submit,
    read_task,
    read_task_list,
    resolve_base_url,
    throttle_pause,
)
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

BASE = "https://dashscope.test/api/v1"
KEY = "sk-test0123456789abcdef"
SUBMIT_URL = f"{BASE}/services/aigc/video-generation/video-synthesis"

PAYLOAD: dict[str, Any] = {
    "model": "wan2.7-r2v",
    "input": {
        "prompt": "Video 1 走进来。Image 1 replies, 'Let's talk.'",
        "media": [
            {"type": "reference_video", "url": "https://x.test/girl.mp4", "reference_voice": "https://x.test/g.mp3"},
            {"type": "reference_image", "url": "https://x.test/boy.jpg"},
        ],
    },
    "parameters": {"resolution": "1080P", "duration": 10, "prompt_extend": False, "seed": 42},
}


# --- fixtures ---------------------------------------------------------------------------


class FakeClock:
    """A clock whose sleeps only move time forward and are recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """A MockTransport handler answering from a list of responses (or exceptions), recording requests."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer


def make_client(script: Script, clock: FakeClock | None = None, **kw: Any) -> DashScopeClient:
    http = httpx.Client(transport=httpx.MockTransport(script))
    return DashScopeClient(
        api_key=KEY, base_url=BASE, http=http, clock=clock or FakeClock(), rng=random.Random(7), **kw
    )


def jr(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def err(status: int, code: str, message: str = "m", request_id: str = "rid-1", **headers: str) -> httpx.Response:
    return jr(status, {"request_id": request_id, "code": code, "message": message}, headers)


def task(status: str, task_id: str = "t-1", **output: Any) -> httpx.Response:
    return jr(200, {"request_id": "rq", "output": {"task_id": task_id, "task_status": status, **output}})


SUBMITTED = jr(200, {"request_id": "rq-s", "output": {"task_id": "t-1", "task_status": "PENDING"}})


def boom(exc_type: type[httpx.TransportError], msg: str = "boom") -> Exception:
    return exc_type(msg)


# --- resolve_base_url --------------------------------------------------------------------


def test_base_url_precedence() -> None:
    env = {"DASHSCOPE_HTTP_BASE_URL": "http://127.0.0.1:9/api/v1/", "SCENEC_REGION": "us"}
    assert resolve_base_url("https://explicit.test/api/v1/", "us", env) == "https://explicit.test/api/v1"
    assert resolve_base_url(None, "singapore", env) == "http://127.0.0.1:9/api/v1"
    assert resolve_base_url(None, "singapore", {"SCENEC_REGION": "us"}) == REGIONS["singapore"]
    assert resolve_base_url(None, None, {"SCENEC_REGION": "us"}) == REGIONS["us"]
    assert resolve_base_url(None, None, {}) == REGIONS["beijing"]
    assert resolve_base_url(None, "ap-southeast-1", {}) == REGIONS["singapore"]
    with pytest.raises(ValueError, match="unknown region"):
        resolve_base_url(None, "mars", {})
    with pytest.raises(ValueError):
        resolve_base_url("ftp://x", None, {})


def test_a_workspace_picks_the_regions_workspace_host_and_never_an_explicit_url() -> None:
    assert resolve_base_url(None, "singapore", {}, "llm-ab12") == "https://llm-ab12.ap-southeast-1.maas.aliyuncs.com/api/v1"
    assert resolve_base_url(None, None, {"SCENEC_REGION": "hk"}, "w1") == "https://w1.cn-hongkong.maas.aliyuncs.com/api/v1"
    assert resolve_base_url(None, None, {}, "w1") == "https://w1.cn-beijing.maas.aliyuncs.com/api/v1"
    assert resolve_base_url("http://127.0.0.1:9/api/v1", "us", {}, "w1") == "http://127.0.0.1:9/api/v1"
    assert resolve_base_url(None, "us", {"DASHSCOPE_HTTP_BASE_URL": "http://proxy.test/api/v1"}, "w1") == \
        "http://proxy.test/api/v1"
    with pytest.raises(ValueError, match="not a workspace id"):
        resolve_base_url(None, "beijing", {}, "evil.example.com/x")


# --- request building --------------------------------------------------------------------


def test_build_submit_headers_and_body() -> None:
    request = build_submit(BASE, KEY, PAYLOAD)
    assert request.method == "POST"
    assert str(request.url) == SUBMIT_URL
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-DashScope-Async"] == "enable"
    assert "X-DashScope-OssResourceResolve" not in request.headers
    body = request.read()
    assert body == json.dumps(PAYLOAD, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert "走进来".encode() in body  # not \u-escaped
    assert json.loads(body) == PAYLOAD


def test_build_submit_body_is_deterministic() -> None:
    shuffled = {k: PAYLOAD[k] for k in reversed(list(PAYLOAD))}
    shuffled["parameters"] = dict(reversed(list(PAYLOAD["parameters"].items())))
    assert build_submit(BASE, KEY, PAYLOAD).read() == build_submit(BASE, KEY, shuffled).read()


@pytest.mark.parametrize("where", ["url", "reference_voice"])
def test_build_submit_oss_header(where: str) -> None:
    payload = json.loads(json.dumps(PAYLOAD))
    payload["input"]["media"][1][where] = "oss://dashscope-instant/abc/x.jpg"
    assert build_submit(BASE, KEY, payload).headers["X-DashScope-OssResourceResolve"] == "enable"


def test_oss_in_prompt_text_is_not_a_reference() -> None:
    payload = json.loads(json.dumps(PAYLOAD))
    payload["input"]["prompt"] = "oss://not-a-file"
    assert "X-DashScope-OssResourceResolve" not in build_submit(BASE, KEY, payload).headers


def test_build_query_and_cancel() -> None:
    query = build_query(BASE, KEY, "t-1")
    assert (query.method, str(query.url)) == ("GET", f"{BASE}/tasks/t-1")
    assert query.headers["Authorization"] == f"Bearer {KEY}"
    cancel = build_cancel(BASE, KEY, "t-1")
    assert (cancel.method, str(cancel.url)) == ("POST", f"{BASE}/tasks/t-1/cancel")
    # A hostile id stays one path segment.
    assert str(build_query(BASE, KEY, "../x?y").url) == f"{BASE}/tasks/..%2Fx%3Fy"
    with pytest.raises(ValueError):
        build_query(BASE, KEY, "")


# --- reading answers ----------------------------------------------------------------------


def test_read_submit() -> None:
    assert read_submit(SUBMITTED) == Submitted(task_id="t-1", task_status="PENDING", request_id="rq-s")


@pytest.mark.parametrize("body", [b"", b"not json", b'{"output": {}}', b"[1]"])
def test_read_submit_without_task_id_is_an_unknown_outcome(body: bytes) -> None:
    with pytest.raises(NetworkError) as info:
        read_submit(httpx.Response(200, content=body))
    assert info.value.sent is True
    assert info.value.code == "MalformedResponse"


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "InvalidParameter", InvalidParameterError),
        (400, "DataInspectionFailed", ContentInspectionError),
        (401, "InvalidApiKey", AuthError),
        (403, "AccessDenied", AuthError),
        (429, "Throttling", ThrottledError),
        (429, "Throttling.RateQuota", ThrottledError),
        (429, "Throttling.AllocationQuota", ThrottledError),
        (500, "InternalError", ServerError),
        (503, "ServiceUnavailable", ServerError),
        (404, "ModelNotFound", InvalidParameterError),
        (400, "Arrearage", InvalidParameterError),
    ],
)
def test_every_error_code_is_mapped(status: int, code: str, kind: type[DashScopeError]) -> None:
    with pytest.raises(kind) as info:
        raise_for_error(err(status, code, "it went wrong", "rid-42"))
    error = info.value
    assert type(error) is kind
    assert (error.code, error.request_id, error.status) == (code, "rid-42", status)
    assert "it went wrong" in error.message


@pytest.mark.parametrize(
    ("status", "content", "kind"),
    [(502, b"<html>Bad Gateway</html>", ServerError), (500, b"", ServerError), (401, b"", AuthError),
     (418, b"\xff\xfe", InvalidParameterError), (429, b"slow down", ThrottledError)],
)
def test_error_bodies_that_are_not_json(status: int, content: bytes, kind: type[DashScopeError]) -> None:
    with pytest.raises(kind) as info:
        raise_for_error(httpx.Response(status, content=content))
    assert info.value.status == status
    assert info.value.code == f"HTTP{status}"
    assert str(status) in str(info.value)


def test_retry_after_is_read() -> None:
    with pytest.raises(ThrottledError) as info:
        raise_for_error(err(429, "Throttling", **{"Retry-After": "7"}))
    assert info.value.retry_after == 7.0


def test_success_does_not_raise() -> None:
    raise_for_error(SUBMITTED)


def test_read_task_succeeded_leniently() -> None:
    body = {
        "request_id": "rq-9",
        "output": {
            "task_id": "t-1", "task_status": "SUCCEEDED", "video_url": "https://oss.test/v.mp4?Signature=s",
            "submit_time": "2026-01-01 10:00:00.000", "scheduled_time": "2026-01-01 10:00:01.000",
            "end_time": "2026-01-01 10:03:00.000",
        },
        "usage": {"duration": 12.5, "input_video_duration": "2.5", "output_video_duration": 10,
                  "SR": "720", "ratio": "16:9", "video_count": 1},
    }
    state = read_task(jr(200, body))
    assert state.status == "SUCCEEDED" and state.task_id == "t-1"
    assert state.video_url == "https://oss.test/v.mp4?Signature=s"
    assert state.usage == {"duration": 12.5, "input_video_duration": 2.5, "output_video_duration": 10.0,
                           "SR": 720.0, "ratio": "16:9", "video_count": 1.0}
    assert (state.submit_time, state.end_time) == ("2026-01-01 10:00:00.000", "2026-01-01 10:03:00.000")
    assert state.request_id == "rq-9" and state.raw == body


def test_read_task_failed_and_sparse() -> None:
    state = read_task(task("FAILED", code="InternalError.Algo", message="algo failed"))
    assert (state.status, state.code, state.message, state.usage, state.video_url) == (
        "FAILED", "InternalError.Algo", "algo failed", None, None)
    sparse = read_task(jr(200, {"output": {"task_status": "running"}}))
    assert (sparse.status, sparse.task_id, sparse.request_id) == ("RUNNING", "", None)


def test_read_task_without_status_is_a_retryable_server_error() -> None:
    with pytest.raises(ServerError) as info:
        read_task(jr(200, {"output": {"task_id": "t"}}))
    assert info.value.code == "MalformedResponse"
    assert is_retry_safe(info.value, idempotent=True)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
task_like = st.fixed_dictionaries(
    {},
    optional={
        "request_id": json_values,
        "code": json_values,
        "usage": json_values | st.dictionaries(st.sampled_from(["duration", "SR", "ratio"]), json_values),
        "output": json_values | st.fixed_dictionaries(
            {}, optional=dict.fromkeys(
                ["task_id", "task_status", "video_url", "code", "message", "usage", "submit_time"], json_values)),
    },
)


@settings(max_examples=300, deadline=None)
@given(body=json_values | task_like, status=st.sampled_from([200, 200, 200, 400, 404, 429, 500]))
def test_read_task_never_raises_anything_undocumented(body: Any, status: int) -> None:
    response = httpx.Response(status, content=json.dumps(body).encode())
    try:
        state = read_task(response)
    except DashScopeError:
        return
    assert isinstance(state, TaskState) and state.status


@settings(max_examples=100, deadline=None)
@given(content=st.binary(max_size=200), status=st.sampled_from([200, 401, 500]))
def test_read_task_survives_arbitrary_bytes(content: bytes, status: int) -> None:
    with contextlib.suppress(DashScopeError):
        read_task(httpx.Response(status, content=content))


# --- timing policy ------------------------------------------------------------------------


def sdk_schedule(polls: int) -> list[float]:
    """The sleeps of dashscope's BaseAsyncApi.wait, transcribed."""
    wait_seconds, max_wait, steps, out = 1, 5, 3, []
    for step in range(1, polls + 1):
        if wait_seconds < max_wait and step % steps == 0:
            wait_seconds = min(wait_seconds * 2, max_wait)
        out.append(float(wait_seconds))
    return out


def test_poll_schedule_is_the_sdks() -> None:
    assert [next_poll_interval(i, None) for i in range(40)] == sdk_schedule(40)
    assert [next_poll_interval(i, None) for i in range(10)] == [1, 1, 2, 2, 2, 4, 4, 4, 5, 5]
    assert next_poll_interval(10**6, None) == MAX_POLL_INTERVAL


def test_poll_interval_honours_hint() -> None:
    assert next_poll_interval(0, 9.0) == 9.0
    assert next_poll_interval(20, 0.5) == MAX_POLL_INTERVAL  # a hint never speeds polling up
    assert [throttle_pause(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


@given(attempt=st.integers(min_value=-5, max_value=10**6), seed=st.integers())
def test_backoff_within_bounds(attempt: int, seed: int) -> None:
    value = backoff(attempt, random.Random(seed))
    assert 0.0 <= value <= min(20.0, 0.5 * 2 ** max(0, min(attempt, 10)))


def test_is_retry_safe() -> None:
    assert is_retry_safe(ThrottledError("x", status=429))
    assert is_retry_safe(ServerError("x", status=500))
    assert is_retry_safe(NetworkError("x", sent=False))
    assert not is_retry_safe(NetworkError("x", sent=True))
    assert is_retry_safe(NetworkError("x", sent=True), idempotent=True)
    for error in (AuthError("x"), InvalidParameterError("x"), ContentInspectionError("x"), DashScopeError("x")):
        assert not is_retry_safe(error, idempotent=True)


# --- client: retries ------------------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [err(429, "Throttling.RateQuota"), boom(httpx.ConnectError), boom(httpx.ConnectTimeout), boom(httpx.PoolTimeout)],
)
def test_submit_retries_when_safe_then_succeeds(first: Any) -> None:
    script = Script(first, first, SUBMITTED)
    clock = FakeClock()
    with make_client(script, clock) as client:
        assert client.submit(PAYLOAD).task_id == "t-1"
    assert len(script.requests) == 3
    assert len(clock.sleeps) == 2 and all(0 <= s <= 20 for s in clock.sleeps)
    assert script.requests[0].content == script.requests[2].content  # the same body each time


def test_retry_honours_retry_after() -> None:
    script = Script(err(429, "Throttling", **{"Retry-After": "12"}), SUBMITTED)
    clock = FakeClock()
    make_client(script, clock).submit(PAYLOAD)
    assert clock.sleeps[0] >= 12


@pytest.mark.parametrize(
    "failure",
    [boom(httpx.ReadTimeout), boom(httpx.ReadError), boom(httpx.WriteError),
     boom(httpx.RemoteProtocolError, "Server disconnected without sending a response.")],
)
def test_submit_not_retried_after_send(failure: Exception) -> None:
    script = Script(failure, SUBMITTED)
    clock = FakeClock()
    with pytest.raises(NetworkError) as info:
        make_client(script, clock).submit(PAYLOAD)
    assert info.value.sent is True
    assert len(script.requests) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599, 408])
def test_submit_server_error_is_an_unknown_outcome_never_sent_again(status: int) -> None:
    # A 5xx proves the submit reached the service, which may have created (and bill) the task.
    script = Script(httpx.Response(status, content=b"gateway"), SUBMITTED)
    clock = FakeClock()
    with pytest.raises(NetworkError) as info:
        make_client(script, clock).submit(PAYLOAD)
    assert (info.value.sent, info.value.status, len(script.requests), clock.sleeps) == (True, status, 1, [])


def test_submit_500_with_a_vendor_code_keeps_the_code() -> None:
    script = Script(err(500, "InternalError"), SUBMITTED)
    with pytest.raises(NetworkError) as info:
        make_client(script).submit(PAYLOAD)
    assert info.value.code == "InternalError" and info.value.sent and len(script.requests) == 1


@pytest.mark.parametrize("answer", [httpx.Response(200, content=b"<html>ok</html>"),
                                    httpx.Response(200, content=b"\xff\xfe{"), jr(200, {"output": []}),
                                    jr(200, {"output": {"task_id": None}})])
def test_submit_undecodable_answer_is_an_unknown_outcome(answer: httpx.Response) -> None:
    script = Script(answer, SUBMITTED)
    with pytest.raises(NetworkError) as info:
        make_client(script).submit(PAYLOAD)
    assert info.value.sent and len(script.requests) == 1


@pytest.mark.parametrize("answer", [err(400, "InvalidParameter"), err(400, "DataInspectionFailed"),
                                    err(401, "InvalidApiKey")])
def test_client_errors_are_not_retried(answer: httpx.Response) -> None:
    script = Script(answer, SUBMITTED)
    with pytest.raises(DashScopeError):
        make_client(script).submit(PAYLOAD)
    assert len(script.requests) == 1


def test_retries_are_bounded() -> None:
    script = Script(err(429, "Throttling"))
    clock = FakeClock()
    with pytest.raises(ThrottledError):
        make_client(script, clock, max_retries=3).submit(PAYLOAD)
    assert len(script.requests) == 4 and len(clock.sleeps) == 3


@pytest.mark.parametrize("failure", [boom(httpx.ReadTimeout), boom(httpx.RemoteProtocolError), err(500, "x"),
                                     err(429, "Throttling"), jr(200, {"output": {}})])
def test_query_is_retried(failure: Any) -> None:
    script = Script(failure, task("RUNNING"))
    assert make_client(script).query("t-1").status == "RUNNING"
    assert len(script.requests) == 2


def test_requests_carry_a_timeout() -> None:
    script = Script(task("RUNNING"))
    make_client(script, timeout=12.0).query("t-1")
    assert script.requests[0].extensions["timeout"]["read"] == 12.0


def test_cancel() -> None:
    assert make_client(Script(jr(200, {"request_id": "r"}))).cancel("t-1") is None
    state = make_client(Script(task("CANCELED"))).cancel("t-1")
    assert state is not None and state.status == "CANCELED"
    script = Script(err(400, "UnsupportedOperation", "not pending"))
    with pytest.raises(InvalidParameterError):
        make_client(script).cancel("t-1")
    assert script.requests[0].url.path.endswith("/tasks/t-1/cancel")


# --- client: waiting ---------------------------------------------------------------------


def test_wait_through_pending_running_succeeded() -> None:
    script = Script(task("PENDING"), task("RUNNING"), task("RUNNING"), task("RUNNING"),
                    task("SUCCEEDED", video_url="https://oss.test/v.mp4"))
    clock = FakeClock()
    seen: list[str] = []
    state = make_client(script, clock).wait("t-1", deadline=clock.now + 600, on_update=lambda s: seen.append(s.status))
    assert state.status == "SUCCEEDED" and state.video_url == "https://oss.test/v.mp4"
    assert seen == ["PENDING", "RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"]
    assert clock.sleeps == [1, 1, 2, 2]
    assert all(r.method == "GET" and r.url.path.endswith("/tasks/t-1") for r in script.requests)


def test_wait_long_schedule_matches_sdk() -> None:
    script = Script(*[task("RUNNING")] * 12, task("SUCCEEDED"))
    clock = FakeClock()
    make_client(script, clock).wait("t-1", deadline=clock.now + 3600)
    assert clock.sleeps == sdk_schedule(12)


def test_throttled_polls_slow_down_but_do_not_fail() -> None:
    script = Script(task("RUNNING"), err(429, "Throttling"), err(429, "Throttling"),
                    err(429, "Throttling", **{"Retry-After": "30"}), task("RUNNING"), task("SUCCEEDED"))
    clock = FakeClock()
    state = make_client(script, clock).wait("t-1", deadline=clock.now + 3600)
    assert state.status == "SUCCEEDED"
    normal = [next_poll_interval(i, None) for i in range(5)]
    assert clock.sleeps == [1, 5, 10, 30, 2]
    assert all(s >= n for s, n in zip(clock.sleeps, normal, strict=True))


def test_network_and_server_errors_during_wait_keep_polling() -> None:
    script = Script(boom(httpx.ReadTimeout), err(500, "InternalError"), boom(httpx.ConnectError), task("SUCCEEDED"))
    clock = FakeClock()
    assert make_client(script, clock).wait("t-1", deadline=clock.now + 100).status == "SUCCEEDED"
    assert clock.sleeps == [1, 1, 2]


def test_wait_deadline() -> None:
    script = Script(task("RUNNING"))
    clock = FakeClock()
    start = clock.now
    with pytest.raises(DeadlineExceeded) as info:
        make_client(script, clock).wait("t-1", deadline=start + 10)
    assert (info.value.task_id, info.value.last_status) == ("t-1", "RUNNING")
    assert clock.now == start + 10  # never sleeps past the deadline
    assert clock.sleeps == [1, 1, 2, 2, 2, 2]  # the last sleep is cut to the deadline
    assert len(script.requests) == 7  # one last look at the deadline itself


def test_wait_deadline_while_throttled() -> None:
    script = Script(err(429, "Throttling"))
    clock = FakeClock()
    with pytest.raises(DeadlineExceeded) as info:
        make_client(script, clock).wait("t-1", deadline=clock.now + 30)
    assert info.value.last_status is None


@pytest.mark.parametrize("status", ["FAILED", "CANCELED", "UNKNOWN"])
def test_wait_failed_task(status: str) -> None:
    answer = jr(200, {"request_id": "rq-f", "output": {
        "task_id": "t-1", "task_status": status, "code": "DataInspectionFailed", "message": "output flagged"}})
    with pytest.raises(TaskFailedError) as info:
        make_client(Script(task("RUNNING"), answer)).wait("t-1", deadline=10**9)
    error = info.value
    assert (error.task_id, error.task_status) == ("t-1", status)
    assert (error.code, error.request_id) == ("DataInspectionFailed", "rq-f")
    assert "output flagged" in error.message


def test_wait_outlives_a_passing_unknown_answer() -> None:
    # The service briefly not knowing a task (lag, a gateway) must not end a paid task.
    unknown = jr(200, {"output": {"task_id": "t-1", "task_status": "UNKNOWN"}})
    script = Script(task("RUNNING"), unknown, unknown, task("SUCCEEDED", video_url="https://v/x.mp4"))
    state = make_client(script).wait("t-1", deadline=10**9)
    assert state.status == "SUCCEEDED" and len(script.requests) == 4


def test_wait_auth_error_raises_at_once() -> None:
    script = Script(err(401, "InvalidApiKey"))
    with pytest.raises(AuthError):
        make_client(script).wait("t-1", deadline=10**9)
    assert len(script.requests) == 1


# --- client: download ---------------------------------------------------------------------


class BreakingStream(httpx.SyncByteStream):
    """A body that yields some bytes and then loses the connection."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        raise httpx.ReadError("connection reset by peer")


VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_atomic(tmp_path: Path) -> None:
    script = Script(httpx.Response(200, content=VIDEO))
    dest = tmp_path / "out" / "scene.mp4"
    assert make_client(script).download("https://oss.test/v.mp4?Signature=abc", dest) == len(VIDEO)
    assert dest.read_bytes() == VIDEO
    assert leftovers(dest.parent) == ["scene.mp4"]
    assert "Authorization" not in script.requests[0].headers  # the key never goes to the result host


def test_download_to_a_name_near_the_file_system_limit(tmp_path: Path) -> None:
    # A scene named with 249 bytes renders to a legal 253-byte video name; its temporary name must fit too.
    script = Script(httpx.Response(200, content=VIDEO))
    dest = tmp_path / ("a" * 249 + ".mp4")
    assert make_client(script).download("https://oss.test/v.mp4?Signature=abc", dest) == len(VIDEO)
    assert dest.read_bytes() == VIDEO and leftovers(tmp_path) == [dest.name]


def test_download_broken_stream_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "scene.mp4"
    dest.write_bytes(b"old render")
    script = Script(lambda r: httpx.Response(200, headers={"Content-Length": str(len(VIDEO))},
                                             stream=BreakingStream([VIDEO[:1000]])))
    clock = FakeClock()
    with pytest.raises(NetworkError):
        make_client(script, clock, max_retries=2).download("https://oss.test/v.mp4", dest)
    assert dest.read_bytes() == b"old render"
    assert leftovers(tmp_path) == ["scene.mp4"]
    assert len(script.requests) == 3  # a GET is retried


def test_download_short_body_is_caught(tmp_path: Path) -> None:
    dest = tmp_path / "scene.mp4"
    script = Script(httpx.Response(200, headers={"Content-Length": "999999"}, content=VIDEO))
    with pytest.raises(NetworkError) as info:
        make_client(script, max_retries=0).download("https://oss.test/v.mp4", dest)
    assert info.value.code == "IncompleteBody"
    assert leftovers(tmp_path) == []


def test_download_recovers_after_break(tmp_path: Path) -> None:
    dest = tmp_path / "scene.mp4"
    script = Script(lambda r: httpx.Response(200, stream=BreakingStream([VIDEO[:10]])),
                    httpx.Response(200, content=VIDEO))
    assert make_client(script).download("https://oss.test/v.mp4", dest) == len(VIDEO)
    assert dest.read_bytes() == VIDEO and leftovers(tmp_path) == ["scene.mp4"]


def test_download_expired_url(tmp_path: Path) -> None:
    dest = tmp_path / "scene.mp4"
    xml = b"<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>"
    script = Script(httpx.Response(403, content=xml))
    with pytest.raises(DashScopeError) as info:
        make_client(script).download("https://oss.test/v.mp4", dest)
    assert info.value.code == "UrlExpired"
    assert len(script.requests) == 1 and not dest.exists() and leftovers(tmp_path) == []


def test_download_too_small(tmp_path: Path) -> None:
    script = Script(httpx.Response(200, content=b"tiny"))
    with pytest.raises(DashScopeError) as info:
        make_client(script).download("https://oss.test/v.mp4", tmp_path / "v.mp4", expected_min_bytes=1000)
    assert info.value.code == "DownloadTooSmall"
    assert leftovers(tmp_path) == []


# --- the key never leaks --------------------------------------------------------------------


def echo(status: int, code: str) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        header = request.headers["Authorization"]
        bare = header.split()[-1]
        return jr(status, {"request_id": f"rid {bare}", "code": code,
                           "message": f"bad header {header!r}; key={bare}; again {bare}"})
    return answer


@pytest.mark.parametrize(("status", "code"), [(401, "InvalidApiKey"), (400, "InvalidParameter"),
                                              (500, "InternalError"), (429, "Throttling")])
def test_key_never_in_errors_or_logs(status: int, code: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(Script(echo(status, code)), max_retries=2)
    for call in (lambda: client.submit(PAYLOAD), lambda: client.query("t-1")):
        with pytest.raises(DashScopeError) as info:
            call()
        for text in (str(info.value), repr(info.value), str(info.value.args), caplog.text):
            assert KEY not in text
            assert "sk-test" not in text
        assert "***" in str(info.value)
    assert KEY not in repr(client)


def test_key_without_a_recognisable_shape_is_still_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    plain = "plainsecretvalue"
    http = httpx.Client(transport=httpx.MockTransport(lambda r: jr(500, {"code": "X", "message": f"k={plain}"})))
    client = DashScopeClient(api_key=plain, base_url=BASE, http=http, clock=FakeClock(), max_retries=1)
    with pytest.raises(ServerError) as info:
        client.query("t-1")
    assert plain not in str(info.value) and plain not in repr(info.value) and plain not in caplog.text


def test_key_never_in_network_errors() -> None:
    script = Script(httpx.ConnectError(f"refused while sending Bearer {KEY}"))
    with pytest.raises(NetworkError) as info:
        make_client(script, max_retries=0).submit(PAYLOAD)
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_redact() -> None:
    text = "Authorization: Bearer abc.def-123, key sk-abcdef123456 and mysecret"
    out = redact(text, ["mysecret"])
    assert out == "Authorization: Bearer ***, key *** and ***"
    assert redact("no secrets here", []) == "no secrets here"
    assert redact("ab abc", ["ab", "abc"]) == "*** ***"


def test_key_never_in_task_failures() -> None:
    answer = jr(200, {"output": {"task_id": "t-1", "task_status": "FAILED", "message": f"bad {KEY[3:]} {KEY}"}})
    http = httpx.Client(transport=httpx.MockTransport(lambda r: answer))
    client = DashScopeClient(api_key=KEY[3:], base_url=BASE, http=http, clock=FakeClock())
    with pytest.raises(TaskFailedError) as info:
        client.wait("t-1", deadline=10**9)
    assert KEY[3:] not in str(info.value) and KEY[3:] not in repr(info.value)


# --- canonical endpoints ------------------------------------------------------------------


@pytest.mark.parametrize("spelling", [
    "http://localhost:8080/api/v1", "HTTP://LOCALHOST:8080/api/v1/", "http://127.0.0.1:8080/api/v1",
    "http://127.1:8080/api/v1", "http://[::1]:8080/api/v1//", "http://user@localhost:8080/api/v1",
    " http://0x7f.0.0.1:8080/api/v1 ", "http://[::ffff:127.0.0.1]:8080/api/v1"])
def test_canonical_endpoint_folds_loopback_aliases_case_and_slashes(spelling: str) -> None:
    assert canonical_endpoint(spelling) == "http://localhost:8080/api/v1"


def test_canonical_endpoint_drops_default_ports_and_keeps_real_differences() -> None:
    assert canonical_endpoint("HTTPS://DashScope.AliyunCS.com:443/api/v1/") == REGIONS["beijing"]
    assert canonical_endpoint(REGIONS["beijing"]) == REGIONS["beijing"]
    assert canonical_endpoint("http://example.com:80/api/v1") == "http://example.com/api/v1"
    assert canonical_endpoint("http://localhost:8081/api/v1") != canonical_endpoint("http://localhost:8080/api/v1")
    assert canonical_endpoint("https://localhost/api/v1") != canonical_endpoint("http://localhost/api/v1")
    assert canonical_endpoint("http://127.0.0.2/api/v1") == "http://127.0.0.2/api/v1"
    assert canonical_endpoint("http://h/API/v1") != canonical_endpoint("http://h/api/v1")  # paths keep their case


@pytest.mark.parametrize("region", ["beijing", "singapore", "us"])
def test_a_regions_workspace_host_is_the_same_endpoint_as_its_legacy_host(region: str) -> None:
    workspace_url = resolve_base_url(None, region, {}, "llm-Ws1")
    assert workspace_url != REGIONS[region]
    assert canonical_endpoint(workspace_url) == canonical_endpoint(REGIONS[region]) == REGIONS[region]


# --- the workspace header -------------------------------------------------------------------------


def workspace_client(script: Script, base_url: str, workspace: str | None = None) -> DashScopeClient:
    http = httpx.Client(transport=httpx.MockTransport(script))
    return DashScopeClient(api_key=KEY, base_url=base_url, http=http, clock=FakeClock(), workspace=workspace)


def test_every_api_request_through_a_workspace_host_carries_the_workspace_header() -> None:
    script = Script(jr(200, {"request_id": "r", "output": {"task_id": "t-1", "task_status": "PENDING"}}),
                    task("RUNNING"), jr(200, {"request_id": "r"}), jr(200, {"data": [], "total": 0}))
    client = workspace_client(script, "https://llm-ab12.cn-beijing.maas.aliyuncs.com/api/v1")
    client.submit(PAYLOAD)
    client.query("t-1")
    client.cancel("t-1")
    client.list_tasks({"model_name": "wan2.7-r2v"})
    assert [r.url.host for r in script.requests] == ["llm-ab12.cn-beijing.maas.aliyuncs.com"] * 4
    assert [r.headers.get("X-DashScope-WorkSpace") for r in script.requests] == ["llm-ab12"] * 4


def test_a_workspace_given_with_another_endpoint_is_sent_as_the_header_only() -> None:
    script = Script(task("RUNNING"))
    workspace_client(script, BASE, workspace="ws-7").query("t-1")
    [request] = script.requests
    assert request.url.host == "dashscope.test" and request.headers["X-DashScope-WorkSpace"] == "ws-7"


def test_no_workspace_no_header() -> None:
    script = Script(task("RUNNING"))
    workspace_client(script, REGIONS["beijing"]).query("t-1")
    assert "X-DashScope-WorkSpace" not in script.requests[0].headers


@pytest.mark.parametrize("bad", ["ws 1", "ws\r\nX-Evil: 1", "-ws", "a.b"])
def test_a_client_refuses_a_workspace_that_is_not_an_id(bad: str) -> None:
    with pytest.raises(ValueError, match="not a workspace id"):
        workspace_client(Script(task("RUNNING")), BASE, workspace=bad)


# --- the task list ------------------------------------------------------------------------


def test_build_list_sends_the_filters_as_query_parameters() -> None:
    request = build_list(BASE, KEY, {"model_name": "wan2.7-r2v", "start_time": "20260101000000", "page_no": 2})
    assert request.method == "GET" and request.url.path.endswith("/api/v1/tasks")
    assert dict(request.url.params) == {"model_name": "wan2.7-r2v", "start_time": "20260101000000", "page_no": "2"}
    assert request.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("body", [
    {"request_id": "r", "data": [{"task_id": "a", "task_status": "RUNNING", "submit_time": "2026-01-01 10:00:00.000",
                                  "model_name": "wan2.7-r2v"}], "total": 1, "page_no": 1, "page_size": 10},
    {"output": {"data": [{"task_id": "a", "status": "running", "gmt_create": "2026-01-01 10:00:00.000",
                          "model": "wan2.7-r2v"}], "total": 1}},
    {"output": [{"output": {"task_id": "a", "task_status": "RUNNING", "submit_time": "2026-01-01 10:00:00.000"},
                 "model_name": "wan2.7-r2v"}]},
    {"data": {"list": [{"task_id": "a", "task_status": "RUNNING", "submit_time": "2026-01-01 10:00:00.000",
                        "model_name": "wan2.7-r2v"}, {"no": "id"}, "junk"]}},
])
def test_task_list_is_read_leniently(body: dict) -> None:
    page = read_task_list(jr(200, body))
    [entry] = page.tasks
    assert (entry.task_id, entry.status, entry.submit_time) == ("a", "RUNNING", "2026-01-01 10:00:00.000")
    assert entry.model == "wan2.7-r2v"


@pytest.mark.parametrize("answer", [jr(200, {"request_id": "r"}), httpx.Response(200, content=b"<html>"),
                                    jr(200, {"data": "none"})])
def test_a_task_list_answer_without_a_list_is_a_retry_safe_server_error(answer: httpx.Response) -> None:
    with pytest.raises(ServerError):
        read_task_list(answer)


def test_list_tasks_reads_every_page() -> None:
    def page(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page_no"])
        size = int(request.url.params["page_size"])
        ids = [f"t-{i}" for i in range((number - 1) * size, min(number * size, 130))]
        return jr(200, {"data": [{"task_id": i} for i in ids], "total": 130})

    script = Script(page)
    found = make_client(script).list_tasks({"model_name": "wan2.7-r2v"})
    assert [t.task_id for t in found] == [f"t-{i}" for i in range(130)] and len(script.requests) == 2
