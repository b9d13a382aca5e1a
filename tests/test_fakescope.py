"""Tests that the fake DashScope server behaves like the real API, checked with httpx and the official SDK."""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakescope import FakeDashScope, make_mp4, mp4_duration, parse_fault_spec
from tests.fakescope.server import parse_multipart

ROOT = Path(__file__).resolve().parent.parent
MODEL = "wan2.7-r2v"
SUBMIT = "/services/aigc/video-generation/video-synthesis"
ASYNC = {"X-DashScope-Async": "enable"}
OSS = {"X-DashScope-OssResourceResolve": "enable"}
FINAL = {"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}
PNG_DATA_URL = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
DELETE = object()


# ---------------------------------------------------------------- helpers


@pytest.fixture
def make_server(fake_servers):
    """Servers with the given options and a short generation delay (conftest stops them)."""

    def factory(**options) -> FakeDashScope:
        options.setdefault("generation_delay", 0.2)
        return fake_servers(**options)

    return factory


@pytest.fixture
def server(make_server) -> FakeDashScope:
    return make_server()


def api(server: FakeDashScope, key: str | None = "sk-test") -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=10)


@pytest.fixture
def client(server):
    with api(server) as c:
        yield c


def valid_body(**parameters) -> dict:
    return {
        "model": MODEL,
        "input": {
            "prompt": "Image 1 waves at the camera.",
            "media": [{"type": "reference_image", "url": "https://example.com/boy.png"}],
        },
        "parameters": {"resolution": "720P", "duration": 5, **parameters},
    }


def edited(path: str, value) -> dict:
    """valid_body() with one dotted path set (or removed with DELETE)."""
    body = valid_body()
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return body


def submit(client: httpx.Client, body: dict | None = None, headers: dict | None = None) -> httpx.Response:
    return client.post(SUBMIT, json=valid_body() if body is None else body, headers={**ASYNC, **(headers or {})})


def submit_id(client: httpx.Client, body: dict | None = None, headers: dict | None = None) -> str:
    response = submit(client, body, headers)
    assert response.status_code == 200, response.text
    return response.json()["output"]["task_id"]


def poll(client: httpx.Client, task_id: str, until=FINAL, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        payload = client.get(f"/tasks/{task_id}").json()
        if payload["output"]["task_status"] in until or time.monotonic() > deadline:
            return payload
        time.sleep(0.02)


def upload(client: httpx.Client, name: str, content: bytes, model: str = MODEL) -> str:
    """Do what the SDK does for a local file: getPolicy, then the OSS form post; return the oss:// URL."""
    policy = client.get("/uploads", params={"action": "getPolicy", "model": model}).json()["data"]
    response = httpx.post(policy["upload_host"], data=oss_form(policy, name), files={"file": (name, content)})
    assert response.status_code == 200 and response.content == b"", response.text
    return f"oss://{policy['upload_dir']}/{name}"


def oss_form(grant: dict, name: str, **overrides) -> dict:
    """The form fields oss_utils.py sends with a file, from a getPolicy answer."""
    form = {
        "OSSAccessKeyId": grant["oss_access_key_id"],
        "Signature": grant["signature"],
        "policy": grant["policy"],
        "key": f"{grant['upload_dir']}/{name}",
        "x-oss-object-acl": grant["x_oss_object_acl"],
        "x-oss-forbid-overwrite": grant["x_oss_forbid_overwrite"],
        "success_action_status": "200",
        "x-oss-content-type": "application/octet-stream",
    }
    form.update(overrides)
    return form


def header(headers: dict, name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def assert_api_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == {"request_id", "code", "message"}
    assert payload["code"] == code and payload["message"] and payload["request_id"]
    return payload


def assert_oss_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/xml"
    assert f"<Code>{code}</Code>" in response.text


# ---------------------------------------------------------------- submit


def test_submit_answers_pending_task(server, client):
    response = submit(client)
    payload = response.json()
    assert response.status_code == 200
    assert set(payload) == {"request_id", "output"}
    assert payload["output"]["task_status"] == "PENDING"
    assert server.submissions == [valid_body()]
    assert server.task_ids == [payload["output"]["task_id"]]


@pytest.mark.parametrize("key", [None, "sk-wrong"])
@pytest.mark.parametrize("call", ["submit", "task", "cancel", "policy"])
def test_api_endpoints_require_the_key(server, key, call):
    with api(server, key) as c:
        response = {
            "submit": lambda: submit(c),
            "task": lambda: c.get("/tasks/any"),
            "cancel": lambda: c.post("/tasks/any/cancel"),
            "policy": lambda: c.get("/uploads", params={"action": "getPolicy", "model": MODEL}),
        }[call]()
    assert_api_error(response, 401, "InvalidApiKey")
    assert server.submissions == []


def test_submit_without_async_header_is_refused(server, client):
    response = client.post(SUBMIT, json=valid_body())
    payload = assert_api_error(response, 403, "AccessDenied")
    assert "synchronous" in payload["message"]
    assert server.submissions == []


LONG = "x" * 5001
INVALID_BODIES = {
    "no model": edited("model", DELETE),
    "unknown model": edited("model", "wan9.9-r2v"),
    "no input": edited("input", DELETE),
    "no prompt": edited("input.prompt", DELETE),
    "blank prompt": edited("input.prompt", "   "),
    "prompt too long": edited("input.prompt", LONG),
    "negative too long": edited("input.negative_prompt", "n" * 501),
    "unknown input field": edited("input.reference_urls", ["https://example.com/a.png"]),
    "no media": edited("input.media", DELETE),
    "empty media": edited("input.media", []),
    "media not a list": edited("input.media", {"type": "reference_image"}),
    "unknown media type": edited("input.media.0.type", "last_frame"),
    "unknown media field": edited("input.media.0.role", "hero"),
    "no url": edited("input.media.0.url", DELETE),
    "ftp url": edited("input.media.0.url", "ftp://example.com/a.png"),
    "bare path": edited("input.media.0.url", "boy.png"),
    "gif data url": edited("input.media.0.url", "data:image/gif;base64,R0lGOD=="),
    "bad base64": edited("input.media.0.url", "data:image/png;base64,***"),
    "base64 video": edited("input.media", [{"type": "reference_video", "url": PNG_DATA_URL}]),
    "base64 voice": edited("input.media.0.reference_voice", "data:audio/mp3;base64,AAAA"),
    "voice on first frame": edited(
        "input.media",
        [
            {"type": "reference_image", "url": "https://example.com/a.png"},
            {"type": "first_frame", "url": "https://example.com/f.png", "reference_voice": "https://example.com/v.mp3"},
        ],
    ),
    "six references": edited("input.media",
                             [{"type": "reference_image", "url": f"https://e.com/{i}.png"} for i in range(6)]),
    "only a first frame": edited("input.media", [{"type": "first_frame", "url": "https://example.com/f.png"}]),
    "two first frames": edited(
        "input.media",
        [{"type": "reference_image", "url": "https://e.com/a.png"}]
        + [{"type": "first_frame", "url": f"https://e.com/f{i}.png"} for i in range(2)],
    ),
    "oss without header": edited("input.media.0.url", "oss://dashscope-instant/x/boy.png"),
    "parameters not an object": edited("parameters", [1]),
    "resolution 480P": edited("parameters.resolution", "480P"),
    "ratio 21:9": edited("parameters.ratio", "21:9"),
    "duration 1": edited("parameters.duration", 1),
    "duration 16": edited("parameters.duration", 16),
    "duration string": edited("parameters.duration", "5"),
    "duration float": edited("parameters.duration", 5.0),
    "duration bool": edited("parameters.duration", True),
    "seed negative": edited("parameters.seed", -1),
    "seed too big": edited("parameters.seed", 2147483648),
    "prompt_extend not bool": edited("parameters.prompt_extend", "yes"),
    "watermark int": edited("parameters.watermark", 1),
    "wan2.6 size": edited("parameters.size", "1280*720"),
    "wan2.6 shot_type": edited("parameters.shot_type", "multi"),
    "audio switch": edited("parameters.audio", True),
}


@pytest.mark.parametrize("body", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_submit_rejects_what_the_service_rejects(server, client, body):
    assert_api_error(submit(client, body), 400, "InvalidParameter")
    assert server.submissions == []


def test_duration_over_ten_is_refused_only_with_a_reference_video(client):
    video = {"type": "reference_video", "url": "https://example.com/girl.mp4"}
    with_video = valid_body(duration=11)
    with_video["input"]["media"].append(video)
    assert_api_error(submit(client, with_video), 400, "InvalidParameter")
    assert submit(client, valid_body(duration=15)).status_code == 200
    with_video["parameters"]["duration"] = 10
    assert submit(client, with_video).status_code == 200


def test_submit_rejects_non_json(client):
    response = client.post(SUBMIT, content=b"{not json", headers={**ASYNC, "Content-Type": "application/json"})
    assert_api_error(response, 400, "InvalidParameter")


VALID_BODIES = {
    "five references with voices": edited(
        "input.media",
        [{"type": "reference_video", "url": "https://e.com/v.mp4", "reference_voice": "https://e.com/v.mp3"}]
        + [{"type": "reference_image", "url": f"https://e.com/{i}.png", "reference_voice": "http://e.com/i.wav"}
           for i in range(4)],
    ),
    "first frame as base64": edited(
        "input.media",
        [{"type": "first_frame", "url": PNG_DATA_URL},
         {"type": "reference_image", "url": "data:image/webp;base64,UklGRg=="}],
    ),
    "prompt of 5000": edited("input.prompt", "x" * 5000),
    "chinese prompt": edited("input.prompt", "图1 对视频1 说：“你好。”"),
    "negative of 500": edited("input.negative_prompt", "n" * 500),
    "all parameters": valid_body(resolution="1080P", ratio="3:4", duration=2, seed=2147483647, prompt_extend=False,
                                 watermark=True),
    "seed zero": valid_body(seed=0),
    "no parameters": edited("parameters", DELETE),
    "sdk extras": {**valid_body(),
                   "input": {**valid_body()["input"], "function": "video-synthesis", "extend_prompt": True}},
}


@pytest.mark.parametrize("body", VALID_BODIES.values(), ids=VALID_BODIES.keys())
def test_submit_accepts_valid_bodies(server, client, body):
    assert submit(client, body).status_code == 200
    assert server.submissions == [body]


def test_oss_urls_need_the_header_and_an_uploaded_key(server, client):
    url = upload(client, "boy.png", b"\x89PNG image")
    assert_api_error(submit(client, edited("input.media.0.url", url)), 400, "InvalidParameter")
    missing = url.replace("boy.png", "nobody.png")
    assert_api_error(submit(client, edited("input.media.0.url", missing), OSS), 400, "InvalidParameter")
    assert submit(client, edited("input.media.0.url", url), OSS).status_code == 200


def test_long_prompts_can_be_cut_like_the_real_service(make_server):
    server = make_server(truncate_long_prompts=True)
    with api(server) as c:
        task_id = submit_id(c, edited("input.prompt", "y" * 6000))
        output = poll(c, task_id)["output"]
    assert output["orig_prompt"] == "y" * 5000


# ---------------------------------------------------------------- task lifecycle


def test_task_goes_pending_running_succeeded(make_server):
    server = make_server(generation_delay=0.6, pending_time=0.3)
    with api(server) as c:
        task_id = submit_id(c)
        seen = []
        while not seen or seen[-1] not in FINAL:
            status = c.get(f"/tasks/{task_id}").json()["output"]["task_status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            time.sleep(0.02)
        payload = c.get(f"/tasks/{task_id}").json()
    assert seen == ["PENDING", "RUNNING", "SUCCEEDED"]
    output = payload["output"]
    assert set(output) >= {"task_id", "task_status", "submit_time", "scheduled_time", "end_time", "orig_prompt",
                           "video_url"}
    assert output["orig_prompt"] == valid_body()["input"]["prompt"]
    assert len(output["end_time"]) == len("2025-01-08 16:42:45.123")
    assert output["submit_time"] <= output["scheduled_time"] <= output["end_time"]
    assert output["video_url"].startswith(server.origin + f"/download/{task_id}.mp4?expires=")
    # usage sits beside output, as the real API and the SDK have it
    assert payload["usage"] == {
        "duration": 5.0, "input_video_duration": 0.0, "output_video_duration": 5,
        "SR": 720, "ratio": "16:9", "video_count": 1,
    }  # fmt: skip
    assert server.task(task_id)["task_status"] == "SUCCEEDED"


def test_pending_and_running_outputs_have_no_result_fields(make_server):
    server = make_server(generation_delay=10, pending_time=5)
    with api(server) as c:
        output = c.get(f"/tasks/{submit_id(c)}").json()
    assert set(output["output"]) == {"task_id", "task_status", "submit_time"}
    assert "usage" not in output


def test_unknown_task_is_unknown(client):
    payload = client.get("/tasks/no-such-task").json()
    assert payload["output"] == {"task_id": "no-such-task", "task_status": "UNKNOWN"}


def test_task_record_raises_for_unknown_id(server):
    with pytest.raises(KeyError):
        server.task("nope")


def test_prompt_extend_reports_actual_prompt(client):
    extended = poll(client, submit_id(client))["output"]
    plain = poll(client, submit_id(client, valid_body(prompt_extend=False)))["output"]
    assert "actual_prompt" in extended and "actual_prompt" not in plain


# ---------------------------------------------------------------- billing


def test_usage_counts_each_reference_video_up_to_its_share(server, client):
    short = upload(client, "short.mp4", make_mp4(1.0))
    body = valid_body(duration=10, resolution="1080P", ratio="9:16")
    body["input"]["media"] += [
        {"type": "reference_video", "url": short},
        {"type": "reference_video", "url": "https://example.com/unmeasured.mp4"},
    ]
    usage = poll(client, submit_id(client, body, OSS))["usage"]
    # min(1, 2.5) + min(5 (assumed for an http URL), 2.5)
    assert usage == {
        "duration": 13.5, "input_video_duration": 3.5, "output_video_duration": 10,
        "SR": 1080, "ratio": "9:16", "video_count": 1,
    }  # fmt: skip


@pytest.mark.parametrize(("videos", "expected"), [(1, 5.0), (2, 5.0), (3, 5.0), (5, 5.0)])
def test_unmeasured_videos_bill_five_seconds_in_all(client, videos, expected):
    body = edited("input.media", [{"type": "reference_video", "url": f"https://e.com/{i}.mp4"} for i in range(videos)])
    assert poll(client, submit_id(client, body))["usage"]["input_video_duration"] == expected


# ---------------------------------------------------------------- cancel


def test_cancel_pending_task(make_server):
    server = make_server(generation_delay=10, pending_time=5)
    with api(server) as c:
        task_id = submit_id(c)
        response = c.post(f"/tasks/{task_id}/cancel")
        assert response.status_code == 200 and set(response.json()) == {"request_id"}
        output = c.get(f"/tasks/{task_id}").json()["output"]
        assert output["task_status"] == "CANCELED" and "end_time" in output
        assert_api_error(c.post(f"/tasks/{task_id}/cancel"), 400, "UnsupportedOperation")


def test_cancel_refuses_running_finished_and_unknown_tasks(make_server):
    server = make_server(generation_delay=10, pending_time=0)
    with api(server) as c:
        running = submit_id(c)
        assert_api_error(c.post(f"/tasks/{running}/cancel"), 400, "UnsupportedOperation")
        assert_api_error(c.post("/tasks/no-such-task/cancel"), 400, "UnsupportedOperation")
    fast = make_server(generation_delay=0)
    with api(fast) as c:
        done = submit_id(c)
        assert poll(c, done)["output"]["task_status"] == "SUCCEEDED"
        assert_api_error(c.post(f"/tasks/{done}/cancel"), 400, "UnsupportedOperation")


def test_max_concurrent_tasks_queue_in_pending(make_server):
    server = make_server(generation_delay=0.4, pending_time=0, max_concurrent_tasks=1)
    with api(server) as c:
        first, second, third = submit_id(c), submit_id(c), submit_id(c)
        assert server.task(first)["task_status"] == "RUNNING"
        assert server.task(second)["task_status"] == "PENDING"
        assert c.post(f"/tasks/{second}/cancel").status_code == 200
        # the canceled task no longer holds the queue: the third starts right after the first
        assert server.task(third)["start_at"] == pytest.approx(server.task(first)["end_at"])
        assert poll(c, third, timeout=3)["output"]["task_status"] == "SUCCEEDED"


# ---------------------------------------------------------------- uploads


def test_policy_and_upload_store_the_file(server, client):
    response = client.get("/uploads", params={"action": "getPolicy", "model": MODEL})
    payload = response.json()
    assert response.status_code == 200 and set(payload) == {"request_id", "data"}
    policy = payload["data"]
    assert policy["upload_host"] == server.origin + "/oss"
    assert {"policy", "signature", "upload_dir", "oss_access_key_id", "x_oss_object_acl",
            "x_oss_forbid_overwrite"} <= set(policy)
    content = bytes(range(256)) * 3 + b"\r\n--tail\r\n"
    response = httpx.post(policy["upload_host"], data=oss_form(policy, "a.bin"), files={"file": ("a.bin", content)})
    assert response.status_code == 200 and response.content == b""
    assert server.uploads == {f"{policy['upload_dir']}/a.bin": content}


def test_upload_without_success_status_answers_204(server, client):
    policy = client.get("/uploads", params={"action": "getPolicy", "model": MODEL}).json()["data"]
    form = oss_form(policy, "a.bin")
    del form["success_action_status"]
    assert httpx.post(policy["upload_host"], data=form, files={"file": ("a.bin", b"x")}).status_code == 204


@pytest.mark.parametrize(
    ("override", "status", "code"),
    [
        ({"Signature": "Zm9v"}, 403, "SignatureDoesNotMatch"),
        ({"OSSAccessKeyId": "LTAIother"}, 403, "InvalidAccessKeyId"),
        ({"policy": "e30="}, 403, "SignatureDoesNotMatch"),
        ({"key": "elsewhere/a.bin"}, 403, "AccessDenied"),
    ],
)
def test_upload_checks_the_policy(server, client, override, status, code):
    policy = client.get("/uploads", params={"action": "getPolicy", "model": MODEL}).json()["data"]
    response = httpx.post(policy["upload_host"], data=oss_form(policy, "a.bin", **override),
                          files={"file": ("a.bin", b"x")})
    assert_oss_error(response, status, code)
    assert server.uploads == {}


def test_upload_refuses_overwrite(client):
    policy = client.get("/uploads", params={"action": "getPolicy", "model": MODEL}).json()["data"]
    post = lambda: httpx.post(policy["upload_host"], data=oss_form(policy, "a.bin"), files={"file": ("a.bin", b"x")})  # noqa: E731
    assert post().status_code == 200
    assert_oss_error(post(), 409, "FileAlreadyExists")


@pytest.mark.parametrize(
    "params",
    [{"action": "nope", "model": MODEL}, {"action": "getPolicy"}, {"action": "getPolicy", "model": "no-model"}],
)
def test_policy_checks_its_query(client, params):
    assert_api_error(client.get("/uploads", params=params), 400, "InvalidParameter")


@settings(max_examples=50, deadline=None)
@given(content=st.binary(max_size=2048),
       fields=st.dictionaries(st.sampled_from(["key", "policy", "x"]), st.text(max_size=20)))
def test_multipart_parser_reads_what_requests_sends(content, fields):
    prepared = requests.Request("POST", "http://127.0.0.1/oss", data=fields,
                                files={"file": ("f.bin", content)}).prepare()
    parsed = parse_multipart(prepared.body, prepared.headers["Content-Type"])
    assert parsed["file"] == ("f.bin", content)
    assert {k: v.decode() for k, (_, v) in parsed.items() if k != "file"} == fields


# ---------------------------------------------------------------- download


def test_download_serves_an_mp4_of_the_task_duration(client):
    url = poll(client, submit_id(client, valid_body(duration=7)))["output"]["video_url"]
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.content[4:8] == b"ftyp"
    assert mp4_duration(response.content) == 7.0


def test_download_serves_given_bytes_and_ranges(make_server):
    server = make_server(video_bytes=b"0123456789")
    with api(server) as c:
        url = poll(c, submit_id(c))["output"]["video_url"]
    assert httpx.get(url).content == b"0123456789"
    partial = httpx.get(url, headers={"Range": "bytes=4-"})
    assert partial.status_code == 206 and partial.content == b"456789"
    assert partial.headers["content-range"] == "bytes 4-9/10"
    head = httpx.head(url)
    assert head.status_code == 200 and head.headers["content-length"] == "10"


def test_download_after_expiry_is_denied(make_server):
    server = make_server(url_ttl=0)
    with api(server) as c:
        url = poll(c, submit_id(c))["output"]["video_url"]
    response = httpx.get(url)
    assert_oss_error(response, 403, "AccessDenied")
    assert "Request has expired" in response.text


def test_download_checks_the_signature(client):
    url = poll(client, submit_id(client))["output"]["video_url"]
    assert_oss_error(httpx.get(url[:-4] + "0000"), 403, "SignatureDoesNotMatch")
    assert_oss_error(httpx.get(url.replace("/download/", "/download/x")), 404, "NoSuchKey")


# ---------------------------------------------------------------- faults


def call(server: FakeDashScope, client: httpx.Client, endpoint: str, ready: dict) -> httpx.Response:
    """One ordinary, valid call of an endpoint; `ready` holds a finished task and a policy made beforehand."""
    if endpoint == "submit":
        return submit(client)
    if endpoint == "task":
        return client.get(f"/tasks/{ready['task_id']}")
    if endpoint == "cancel":
        return client.post("/tasks/no-such-task/cancel")
    if endpoint == "policy":
        return client.get("/uploads", params={"action": "getPolicy", "model": MODEL})
    if endpoint == "list":
        return client.get("/tasks", params={"model_name": MODEL})
    if endpoint == "upload":
        name = f"f{len(server.uploads)}-{time.monotonic_ns()}.bin"
        return httpx.post(ready["policy"]["upload_host"], data=oss_form(ready["policy"], name),
                          files={"file": (name, b"x")})
    return httpx.get(ready["video_url"])


@pytest.fixture
def ready(server, client) -> dict:
    task_id = submit_id(client)
    return {
        "task_id": task_id,
        "video_url": poll(client, task_id)["output"]["video_url"],
        "policy": client.get("/uploads", params={"action": "getPolicy", "model": MODEL}).json()["data"],
    }


NORMAL_STATUS = {"submit": 200, "task": 200, "cancel": 400, "policy": 200, "upload": 200, "download": 200, "list": 200}
ENDPOINTS = list(NORMAL_STATUS)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("fault", "status", "code"),
                         [("throttle", 429, "Throttling.RateQuota"), ("internal", 500, "InternalError")])
def test_error_faults_answer_once_then_recover(server, client, ready, endpoint, fault, status, code):
    server.inject(endpoint, fault)
    response = call(server, client, endpoint, ready)
    if endpoint in ("upload", "download"):
        assert_oss_error(response, status, code)
    else:
        assert_api_error(response, status, code)
    assert call(server, client, endpoint, ready).status_code == NORMAL_STATUS[endpoint]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_drop_closes_without_answer(server, client, ready, endpoint):
    submitted = len(server.submissions)
    server.inject(endpoint, "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        call(server, client, endpoint, ready)
    assert len(server.submissions) == submitted
    assert call(server, client, endpoint, ready).status_code == NORMAL_STATUS[endpoint]


def test_drop_after_submit_creates_the_task_unseen(server, client):
    server.inject("submit", "drop_after")
    with pytest.raises(httpx.RemoteProtocolError):
        submit(client)
    assert len(server.submissions) == 1
    assert poll(client, server.task_ids[0])["output"]["task_status"] == "SUCCEEDED"


def test_drop_after_upload_stores_the_file(server, client, ready):
    server.inject("upload", "drop_after")
    with pytest.raises(httpx.RemoteProtocolError):
        call(server, client, "upload", ready)
    assert len(server.uploads) == 1


def test_drop_after_cancel_cancels(make_server):
    server = make_server(generation_delay=10, pending_time=5)
    server.inject("cancel", "drop_after")
    with api(server) as c:
        task_id = submit_id(c)
        with pytest.raises(httpx.RemoteProtocolError):
            c.post(f"/tasks/{task_id}/cancel")
        assert c.get(f"/tasks/{task_id}").json()["output"]["task_status"] == "CANCELED"


def test_slow_fault_delays_then_answers(server, client):
    server.inject("task", "slow", seconds=0.3)
    started = time.monotonic()
    assert client.get("/tasks/x").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fail_fault_ends_the_task_failed(server, client):
    server.inject("submit", "fail", code="DataInspectionFailed",
                  message="Output data may contain inappropriate content.")
    # a rejected body does not use the fault up
    assert_api_error(submit(client, edited("model", DELETE)), 400, "InvalidParameter")
    payload = poll(client, submit_id(client))
    assert payload["output"]["task_status"] == "FAILED"
    assert payload["output"]["code"] == "DataInspectionFailed"
    assert payload["output"]["message"] == "Output data may contain inappropriate content."
    assert "usage" not in payload and "video_url" not in payload["output"]
    assert poll(client, submit_id(client))["output"]["task_status"] == "SUCCEEDED"


def test_cancel_fault_ends_the_task_canceled(server, client):
    server.inject("submit", "cancel")
    assert poll(client, submit_id(client))["output"]["task_status"] == "CANCELED"


def test_faults_apply_the_given_number_of_times(server, client):
    server.inject("submit", "throttle", times=2)
    assert [submit(client).status_code for _ in range(3)] == [429, 429, 200]
    assert len(server.submissions) == 1


def test_expire_fault_denies_a_valid_url(server, client, ready):
    server.inject("download", "expire")
    response = httpx.get(ready["video_url"])
    assert_oss_error(response, 403, "AccessDenied")
    assert "Request has expired" in response.text
    assert httpx.get(ready["video_url"]).status_code == 200


def test_truncate_fault_cuts_the_video_short(server, client, ready):
    server.inject("download", "truncate")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(ready["video_url"])


@pytest.mark.parametrize(
    ("endpoint", "fault", "times"),
    [("nowhere", "drop", 1), ("submit", "expire", 1), ("task", "fail", 1), ("task", "drop", 0)],
)
def test_inject_rejects_nonsense(server, endpoint, fault, times):
    with pytest.raises(ValueError):
        server.inject(endpoint, fault, times)


def test_faults_can_be_injected_over_http(server, client):
    response = httpx.post(server.origin + "/_fake/inject", json={"endpoint": "task", "fault": "internal", "times": 1})
    assert response.status_code == 200
    assert client.get("/tasks/x").status_code == 500
    bad = httpx.post(server.origin + "/_fake/inject", json={"endpoint": "task", "fault": "expire"})
    assert bad.status_code == 400


def test_parse_fault_spec():
    assert parse_fault_spec("submit:throttle") == ("submit", "throttle", 1, {})
    assert parse_fault_spec("task:slow:2:seconds=1.5") == ("task", "slow", 2, {"seconds": 1.5})
    assert parse_fault_spec("submit:fail::code=X,message=y z") == ("submit", "fail", 1, {"code": "X", "message": "y z"})


# ---------------------------------------------------------------- server mechanics


def test_requests_are_recorded_and_the_log_never_shows_the_key(make_server):
    log = io.StringIO()
    server = make_server(api_key="sk-secret-value", log=log)
    with api(server, "sk-secret-value") as c:
        task_id = submit_id(c)
        c.get(f"/tasks/{task_id}")
    method, path, headers = server.requests[0]
    assert (method, path) == ("POST", "/api/v1" + SUBMIT)
    assert header(headers, "Authorization") == "Bearer sk-secret-value"
    assert header(headers, "X-DashScope-Async") == "enable"
    assert server.requests[1][1] == f"/api/v1/tasks/{task_id}"
    assert "POST /api/v1" + SUBMIT in log.getvalue()
    assert "sk-secret-value" not in log.getvalue()


def test_concurrent_submits_get_distinct_tasks(server):
    ids: list[str] = []

    def worker():
        with api(server) as c:
            for _ in range(5):
                ids.append(submit_id(c))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 40 and len(server.submissions) == 40 and sorted(server.task_ids) == sorted(ids)


def test_stop_is_prompt_even_with_a_request_in_flight():
    server = FakeDashScope(generation_delay=0.2).start()
    server.inject("task", "slow", seconds=30)
    errors: list[Exception] = []

    def stuck():
        try:
            with api(server) as c:
                c.get("/tasks/x")
        except httpx.HTTPError as error:
            errors.append(error)

    thread = threading.Thread(target=stuck)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    server.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 2 and not thread.is_alive() and errors


def test_context_manager_starts_and_stops():
    with FakeDashScope() as server:
        base_url = server.base_url
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/v1")
        with api(server) as c:
            assert c.get("/tasks/x").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/tasks/x", timeout=2)


def test_unknown_paths_answer_404(client):
    assert client.get("/services/nothing").status_code == 404


@pytest.mark.parametrize("seconds", [0.5, 2, 15, 7.25])
def test_mp4_helpers_round_trip(seconds):
    assert mp4_duration(make_mp4(seconds)) == seconds
    assert mp4_duration(b"not an mp4") is None


def test_command_line_serves_with_faults():
    command = [
        sys.executable, "-m", "tests.fakescope", "--port", "0", "--delay", "0.2", "--api-key", "sk-cli",
        "--inject", "submit:throttle", "--inject", "task:internal:1", "--quiet",
    ]  # fmt: skip
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        try:
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/v1")
            with httpx.Client(base_url=base_url, headers={"Authorization": "Bearer sk-cli"}, timeout=5) as c:
                assert submit(c).status_code == 429
                task_id = submit_id(c)
                assert c.get(f"/tasks/{task_id}").status_code == 500
                assert poll(c, task_id)["output"]["task_status"] == "SUCCEEDED"
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=5) == 0


# ---------------------------------------------------------------- the official SDK, unchanged


@pytest.fixture
def sdk(server, monkeypatch):
    """dashscope.VideoSynthesis pointed at the server; its wait() sleeps are shortened, nothing else changes."""
    import dashscope
    from dashscope.client import base_api

    monkeypatch.setattr(dashscope, "base_http_api_url", server.base_url)
    monkeypatch.setattr(dashscope, "api_key", server.api_key)
    real_sleep = time.sleep
    monkeypatch.setattr(base_api, "time", SimpleNamespace(time=time.time, sleep=lambda s: real_sleep(min(s, 0.05))))
    return dashscope.VideoSynthesis


MEDIA = [
    {"type": "reference_video", "url": "https://example.com/girl.mp4", "reference_voice": "https://example.com/girl.mp3"},
    {"type": "reference_image", "url": "https://example.com/boy.jpg"},
]


def test_sdk_async_call_fetch_wait(server, sdk):
    created = sdk.async_call(
        model=MODEL, prompt="Video 1 greets Image 1.", media=copy.deepcopy(MEDIA),
        resolution="720P", ratio="1:1", duration=4, prompt_extend=False, watermark=True, seed=7,
    )  # fmt: skip
    assert created.status_code == 200, created.message
    assert created.output.task_status == "PENDING"
    task_id = created.output.task_id
    sent = server.submissions[-1]
    assert sent["input"]["media"] == MEDIA
    assert sent["parameters"] == {"resolution": "720P", "ratio": "1:1", "duration": 4, "prompt_extend": False,
                                  "watermark": True, "seed": 7}
    fetched = sdk.fetch(created)
    assert fetched.status_code == 200 and fetched.output.task_id == task_id
    assert fetched.output.task_status in {"PENDING", "RUNNING", "SUCCEEDED"}
    done = sdk.wait(created)
    assert done.status_code == 200 and done.output.task_status == "SUCCEEDED"
    assert done.output.video_url.startswith(server.origin + "/download/")
    assert done.output.end_time and done.output.orig_prompt == "Video 1 greets Image 1."
    assert done.usage["duration"] == 9.0 and done.usage["input_video_duration"] == 5.0
    assert done.usage.video_count == 1 and done.usage["SR"] == 720 and done.usage["ratio"] == "1:1"
    assert mp4_duration(httpx.get(done.output.video_url).content) == 4.0


def test_sdk_cancel(make_server, monkeypatch):
    server = make_server(generation_delay=10, pending_time=5)
    import dashscope

    monkeypatch.setattr(dashscope, "base_http_api_url", server.base_url)
    monkeypatch.setattr(dashscope, "api_key", server.api_key)
    created = dashscope.VideoSynthesis.async_call(model=MODEL, prompt="Image 1 waves.", media=copy.deepcopy(MEDIA[1:]))
    canceled = dashscope.VideoSynthesis.cancel(created)
    assert canceled.status_code == 200
    assert dashscope.VideoSynthesis.fetch(created).output.task_status == "CANCELED"
    again = dashscope.VideoSynthesis.cancel(created)
    assert again.status_code == 400 and again.code == "UnsupportedOperation"


def test_sdk_uploads_local_files(server, sdk, tmp_path):
    video, image = tmp_path / "girl.mp4", tmp_path / "boy.png"
    video.write_bytes(make_mp4(2.0))
    image.write_bytes(b"\x89PNG\r\n\x1a\n fake image")
    media = [{"type": "reference_video", "url": f"file://{video}"}, {"type": "reference_image", "url": f"file://{image}"}]
    created = sdk.async_call(model=MODEL, prompt="Video 1 greets Image 1.", media=media, duration=3)
    assert created.status_code == 200, created.message
    sent = server.submissions[-1]["input"]["media"]
    assert all(item["url"].startswith("oss://") for item in sent)
    assert {key.rsplit("/", 1)[1]: data for key, data in server.uploads.items()} == {
        "girl.mp4": video.read_bytes(), "boy.png": image.read_bytes(),
    }  # fmt: skip
    submit_headers = [h for m, p, h in server.requests if p.endswith(SUBMIT)][-1]
    assert header(submit_headers, "X-DashScope-OssResourceResolve") == "enable"
    # the key goes to the API, never to the storage host
    assert all(header(h, "Authorization") is None for m, p, h in server.requests if p.startswith("/oss"))
    assert sum(p.startswith("/api/v1/uploads?action=getPolicy") for _, p, _ in server.requests) == 2
    done = sdk.wait(created)
    assert done.output.task_status == "SUCCEEDED"
    assert done.usage["input_video_duration"] == 2.0 and done.usage["duration"] == 5.0


def test_sdk_sees_error_shapes(server, sdk):
    invalid = sdk.async_call(model=MODEL, prompt="Image 1 waves.", media=copy.deepcopy(MEDIA), duration=11)
    assert invalid.status_code == 400 and invalid.code == "InvalidParameter" and "duration" in invalid.message
    unauthorized = sdk.async_call(model=MODEL, prompt="x", media=copy.deepcopy(MEDIA[1:]), api_key="sk-wrong")
    assert unauthorized.status_code == 401 and unauthorized.code == "InvalidApiKey"
    server.inject("submit", "throttle")
    throttled = sdk.async_call(model=MODEL, prompt="x", media=copy.deepcopy(MEDIA[1:]))
    assert throttled.status_code == 429 and throttled.code == "Throttling.RateQuota"


def test_sdk_failed_task(server, sdk):
    server.inject("submit", "fail", code="DataInspectionFailed", message="blocked")
    done = sdk.wait(sdk.async_call(model=MODEL, prompt="x", media=copy.deepcopy(MEDIA[1:])))
    assert done.output.task_status == "FAILED"
    assert done.output.code == "DataInspectionFailed" and done.output.message == "blocked"


def test_sdk_resends_a_dropped_submit_even_when_the_task_was_made(server, sdk):
    # The SDK retries once on a dropped connection, which is harmless for 'drop'...
    server.inject("submit", "drop")
    assert sdk.async_call(model=MODEL, prompt="x", media=copy.deepcopy(MEDIA[1:])).status_code == 200
    assert len(server.submissions) == 1
    # ...but after 'drop_after' the first task exists too: one call, two billed tasks.
    server.inject("submit", "drop_after")
    assert sdk.async_call(model=MODEL, prompt="x", media=copy.deepcopy(MEDIA[1:])).status_code == 200
    assert len(server.submissions) == 3


def test_sdk_wait_gives_up_on_throttled_polls(server, sdk):
    created = sdk.async_call(model=MODEL, prompt="x", media=copy.deepcopy(MEDIA[1:]))
    server.inject("task", "throttle")
    # wait() only retries 503/504; a 429 while polling ends the wait with the error
    waited = sdk.wait(created)
    assert waited.status_code == 429 and waited.code == "Throttling.RateQuota"


def test_sdk_reads_base_url_from_the_environment_at_import(server):
    env = {**os.environ, "DASHSCOPE_HTTP_BASE_URL": server.base_url, "DASHSCOPE_API_KEY": server.api_key}
    script = (
        "import json, dashscope;"
        "r = dashscope.VideoSynthesis.async_call(model='wan2.7-r2v', prompt='x',"
        " media=[{'type': 'reference_image', 'url': 'https://example.com/a.png'}]);"
        "print(json.dumps([r.status_code, r.output.task_id]))"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    status, task_id = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 200 and server.task_ids == [task_id]


def test_sdk_asyncio_client(make_server, monkeypatch):
    import dashscope
    from dashscope.aigc.video_synthesis import AioVideoSynthesis

    server = make_server(generation_delay=0.3, pending_time=0.2)
    monkeypatch.setattr(dashscope, "base_http_api_url", server.base_url)
    monkeypatch.setattr(dashscope, "api_key", server.api_key)

    async def scenario():
        try:
            media = copy.deepcopy(MEDIA[1:])
            created = await AioVideoSynthesis.async_call(model=MODEL, prompt="Image 1 waves.", media=media, duration=3)
            doomed = await AioVideoSynthesis.async_call(model=MODEL, prompt="Image 1 waves.", media=media, duration=3)
            canceled = await AioVideoSynthesis.cancel(doomed)
            while (fetched := await AioVideoSynthesis.fetch(created)).output.task_status not in FINAL:
                await asyncio.sleep(0.05)
            return created, canceled, fetched, await AioVideoSynthesis.fetch(doomed)
        finally:
            await dashscope.close_shared_aio_session()

    created, canceled, fetched, doomed = asyncio.run(scenario())
    assert created.status_code == 200 and canceled.status_code == 200
    assert fetched.output.task_status == "SUCCEEDED" and fetched.usage["output_video_duration"] == 3
    assert doomed.output.task_status == "CANCELED"


# ---------------------------------------------------------------- the task list and the money faults


def stamp(ts: float) -> str:
    """A list filter time: YYYYMMDDhhmmss in the service's UTC+8."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(ts + 8 * 3600))


def test_list_answers_the_official_shape_newest_first(server, client):
    first, second = submit_id(client), submit_id(client)
    body = client.get("/tasks").json()
    assert set(body) == {"request_id", "data", "total", "page_no", "page_size"}
    assert [t["task_id"] for t in body["data"]] == [second, first] and body["total"] == 2
    entry = body["data"][0]
    assert entry["model_name"] == MODEL and entry["task_status"] in ("PENDING", "RUNNING", "SUCCEEDED")
    assert entry["submit_time"] == server.task(second)["output"]["submit_time"]


def test_list_filters_by_time_model_and_status_and_pages(make_server):
    server = make_server(generation_delay=30)
    with api(server) as client:
        ids = [submit_id(client) for _ in range(5)]
        now = time.time()
        assert client.get("/tasks", params={"start_time": stamp(now + 120)}).json()["data"] == []
        assert client.get("/tasks", params={"end_time": stamp(now - 120)}).json()["data"] == []
        window = {"start_time": stamp(now - 60), "end_time": stamp(now + 60)}
        assert client.get("/tasks", params=window).json()["total"] == 5
        assert client.get("/tasks", params={"model_name": "wan2.6-r2v"}).json()["data"] == []
        assert client.get("/tasks", params={"status": "SUCCEEDED"}).json()["data"] == []
        assert client.get("/tasks", params={"status": "PENDING", "model_name": MODEL}).json()["total"] == 5
        pages = [client.get("/tasks", params={"page_no": n, "page_size": 2}).json()["data"] for n in (1, 2, 3)]
        assert [t["task_id"] for page in pages for t in page] == ids[::-1]
        assert client.get("/tasks", params={"page_no": 0}).status_code == 400
        assert client.get("/tasks", params={"start_time": "2026-01-01"}).status_code == 400


def test_list_lag_hides_recent_tasks_for_the_given_calls(server, client):
    task_id = submit_id(client)
    server.inject("list", "lag", times=2, seconds=60)
    assert client.get("/tasks").json()["data"] == []
    assert client.get("/tasks").json()["data"] == []
    assert [t["task_id"] for t in client.get("/tasks").json()["data"]] == [task_id]


@pytest.mark.parametrize("fault", ["internal_after", "garbled"])
def test_done_faults_create_the_task_and_answer_badly(server, client, fault):
    server.inject("submit", fault)
    response = submit(client)
    assert response.status_code == (500 if fault == "internal_after" else 200)
    assert "task_id" not in response.text  # the answer never names the task it made
    assert len(server.task_ids) == 1 and server.billed() == server.task_ids


def test_task_faults_unknown_and_no_url(server, client):
    task_id = submit_id(client)
    poll(client, task_id)
    server.inject("task", "unknown")
    assert client.get(f"/tasks/{task_id}").json()["output"]["task_status"] == "UNKNOWN"
    server.inject("task", "no_url")
    output = client.get(f"/tasks/{task_id}").json()["output"]
    assert output["task_status"] == "SUCCEEDED" and "video_url" not in output
    assert "video_url" in client.get(f"/tasks/{task_id}").json()["output"]


def test_download_faults_html_and_short(server, client, ready):
    server.inject("download", "html")
    page = httpx.get(ready["video_url"])
    assert page.status_code == 200 and page.headers["content-type"] == "text/html" and b"<html>" in page.content
    server.inject("download", "short")
    short = httpx.get(ready["video_url"])
    assert short.status_code == 200 and len(short.content) == 64 == int(short.headers["content-length"])
    assert httpx.get(ready["video_url"]).content == server.video_for(ready["task_id"])


def test_upload_lose_fault_and_forget_uploads_make_oss_urls_fail(server, client, ready):
    server.inject("upload", "lose")
    assert call(server, client, "upload", ready).status_code == 200
    assert server.uploads == {}
    name = "kept.png"
    key = f"{ready['policy']['upload_dir']}/{name}"
    httpx.post(ready["policy"]["upload_host"], data=oss_form(ready["policy"], name), files={"file": (name, b"x")})
    body = edited("input.media", [{"type": "reference_image", "url": f"oss://{key}"}])
    assert submit(client, body, OSS).status_code == 200
    server.forget_uploads()
    refused = submit(client, body, OSS)
    assert refused.status_code == 400 and f"oss://{key}" in refused.json()["message"]


# ---------------------------------------------------------------- every target's request shape
# One base body per model that the server accepts, then one edit per rule that it must refuse.

WAN30, HAPPYHORSE, KLING = "wan3.0-video", "happyhorse-1.0-r2v", "kling/kling-v3-omni-video-generation"
WAN26, WAN26_FLASH = "wan2.6-r2v", "wan2.6-r2v-flash"


def image(url: str = "https://e.com/a.png", kind: str = "reference_image") -> dict:
    return {"type": kind, "url": url}


BASES = {
    WAN30: {"model": WAN30, "input": {"prompt": "Image 1 waves.", "media": [image()]},
            "parameters": {"resolution": "720P", "duration": 5}},
    HAPPYHORSE: {"model": HAPPYHORSE, "input": {"prompt": "character1 waves.", "media": [image()]},
                 "parameters": {"resolution": "720P", "duration": 5}},
    WAN26: {"model": WAN26, "input": {"prompt": "character1 waves.", "reference_urls": ["https://e.com/a.png"]},
            "parameters": {"size": "1280*720", "duration": 5}},
    WAN26_FLASH: {"model": WAN26_FLASH, "input": {"prompt": "character1 waves.",
                                                  "reference_urls": ["https://e.com/a.png"]},
                  "parameters": {"size": "1280*720", "duration": 5, "audio": False}},
    KLING: {"model": KLING, "input": {"prompt": "<<<image_1>>> waves.", "media": [image(kind="refer")]},
            "parameters": {"mode": "std", "duration": 5}},
}


def changed(model: str, path: str, value) -> dict:
    """The model's base body with one dotted path set (or removed with DELETE)."""
    body = copy.deepcopy(BASES[model])
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return body


def shots(*durations: int, prompt: str = "A shot.") -> list[dict]:
    return [{"index": n, "prompt": prompt, "duration": d} for n, d in enumerate(durations, start=1)]


def kling_with(**fields) -> dict:
    """Kling's base body with these input fields added."""
    body = copy.deepcopy(BASES[KLING])
    body["input"].update(fields)
    return body


def kling_multi(*durations: int, **fields) -> dict:
    return kling_with(**{"multi_shot": True, "shot_type": "customize", "multi_prompt": shots(*durations), **fields})


TARGET_INVALID = {
    # wan3.0-video
    "wan30 reference_voice": changed(WAN30, "input.media.0.reference_voice", "https://e.com/v.mp3"),
    "wan30 negative_prompt": changed(WAN30, "input.negative_prompt", "blur"),
    "wan30 prompt_extend": changed(WAN30, "parameters.prompt_extend", False),
    "wan30 prompt of 20001": changed(WAN30, "input.prompt", "x" * 20001),
    "wan30 resolution 4K": changed(WAN30, "parameters.resolution", "4K"),
    "wan30 duration 31": changed(WAN30, "parameters.duration", 31),
    "wan30 duration 1": changed(WAN30, "parameters.duration", 1),
    "wan30 duration 0": changed(WAN30, "parameters.duration", 0),
    "wan30 eleven images": changed(WAN30, "input.media", [image(f"https://e.com/{i}.png") for i in range(11)]),
    "wan30 six videos": changed(WAN30, "input.media",
                                [image(f"https://e.com/{i}.mp4", "reference_video") for i in range(6)]),
    "wan30 six audios": changed(WAN30, "input.media",
                                [image()] + [image(f"https://e.com/{i}.mp3", "reference_audio") for i in range(6)]),
    "wan30 reference with first frame": changed(WAN30, "input.media", [image(kind="first_frame"), image()]),
    "wan30 reference with last frame": changed(WAN30, "input.media", [image(kind="last_frame"), image()]),
    "wan30 two first frames": changed(WAN30, "input.media", [image(kind="first_frame")] * 2),
    "wan30 unknown media type": changed(WAN30, "input.media.0.type", "refer"),
    "wan30 base64 audio": changed(WAN30, "input.media", [image(), image("data:audio/mp3;base64,AAAA",
                                                                        "reference_audio")]),
    "wan30 image as base64": changed(WAN30, "input.media.0.url", PNG_DATA_URL),  # none documented [inf]
    "wan26 prompt of 1501": changed(WAN26, "input.prompt", "x" * 1501),  # 1500 [3p]
    "wan30 size": changed(WAN30, "parameters.size", "1280*720"),
    # happyhorse-1.0-r2v
    "happyhorse no media": changed(HAPPYHORSE, "input.media", []),
    "happyhorse ten images": changed(HAPPYHORSE, "input.media", [image(f"https://e.com/{i}.png") for i in range(10)]),
    "happyhorse video": changed(HAPPYHORSE, "input.media.0.type", "reference_video"),
    "happyhorse first frame": changed(HAPPYHORSE, "input.media.0.type", "first_frame"),
    "happyhorse reference_voice": changed(HAPPYHORSE, "input.media.0.reference_voice", "https://e.com/v.mp3"),
    "happyhorse negative_prompt": changed(HAPPYHORSE, "input.negative_prompt", "blur"),
    "happyhorse prompt_extend": changed(HAPPYHORSE, "parameters.prompt_extend", True),
    "happyhorse audio": changed(HAPPYHORSE, "parameters.audio", True),
    "happyhorse resolution 480P": changed(HAPPYHORSE, "parameters.resolution", "480P"),
    "happyhorse ratio 21:9": changed(HAPPYHORSE, "parameters.ratio", "21:9"),
    "happyhorse duration 2": changed(HAPPYHORSE, "parameters.duration", 2),
    "happyhorse duration 16": changed(HAPPYHORSE, "parameters.duration", 16),
    "happyhorse watermark string": changed(HAPPYHORSE, "parameters.watermark", "no"),
    "happyhorse seed too big": changed(HAPPYHORSE, "parameters.seed", 2147483648),
    "happyhorse data url": changed(HAPPYHORSE, "input.media.0.url", PNG_DATA_URL),
    "happyhorse chinese prompt of 2501": changed(HAPPYHORSE, "input.prompt", "图" * 2501),
    "happyhorse prompt of 5001": changed(HAPPYHORSE, "input.prompt", "x" * 5001),
    # wan2.6-r2v / -flash
    "wan26 media": changed(WAN26, "input.media", [image()]),
    "wan26 no reference_urls": changed(WAN26, "input.reference_urls", DELETE),
    "wan26 empty reference_urls": changed(WAN26, "input.reference_urls", []),
    "wan26 six reference_urls": changed(WAN26, "input.reference_urls", [f"https://e.com/{i}.png" for i in range(6)]),
    "wan26 reference not a URL": changed(WAN26, "input.reference_urls.0", {"url": "https://e.com/a.png"}),
    "wan26 data url": changed(WAN26, "input.reference_urls.0", PNG_DATA_URL),
    "wan26 size 1280x720": changed(WAN26, "parameters.size", "1280x720"),
    "wan26 size not in table": changed(WAN26, "parameters.size", "1000*1000"),
    "wan26 resolution": changed(WAN26, "parameters.resolution", "720P"),
    "wan26 ratio": changed(WAN26, "parameters.ratio", "16:9"),
    "wan26 shot_type storyboard": changed(WAN26, "parameters.shot_type", "storyboard"),
    "wan26 duration 11": changed(WAN26, "parameters.duration", 11),
    "wan26 duration 1": changed(WAN26, "parameters.duration", 1),
    "wan26 audio without flash": changed(WAN26, "parameters.audio", True),
    "wan26 flash audio not bool": changed(WAN26_FLASH, "parameters.audio", "on"),
    # kling/kling-v3-omni-video-generation
    "kling reference_image type": changed(KLING, "input.media.0.type", "reference_image"),
    "kling eight refer": changed(KLING, "input.media", [image(f"https://e.com/{i}.png", "refer") for i in range(8)]),
    "kling five refer with a feature": changed(
        KLING, "input.media",
        [image("https://e.com/v.mp4", "feature")] + [image(f"https://e.com/{i}.png", "refer") for i in range(5)]),
    "kling two videos": changed(KLING, "input.media",
                                [image("https://e.com/v.mp4", "feature"), image("https://e.com/w.mp4", "base")]),
    "kling two first frames": changed(KLING, "input.media", [image(kind="first_frame")] * 2),
    "kling data url": changed(KLING, "input.media.0.url", PNG_DATA_URL),
    "kling prompt of 2501": changed(KLING, "input.prompt", "x" * 2501),
    "kling resolution": changed(KLING, "parameters.resolution", "720P"),
    "kling ratio": changed(KLING, "parameters.ratio", "16:9"),
    "kling seed": changed(KLING, "parameters.seed", 1),
    "kling mode max": changed(KLING, "parameters.mode", "max"),
    "kling aspect_ratio 4:3": changed(KLING, "parameters.aspect_ratio", "4:3"),
    "kling duration 2": changed(KLING, "parameters.duration", 2),
    "kling duration 16": changed(KLING, "parameters.duration", 16),
    "kling duration 11 with a video": changed(KLING, "input.media", [image("https://e.com/v.mp4", "feature")])
    | {"parameters": {"duration": 11}},
    "kling audio not bool": changed(KLING, "parameters.audio", 1),
    "kling element_list": changed(KLING, "input.element_list", [{"element_id": 1}]),
    "kling multi_prompt without multi_shot": changed(KLING, "input.multi_prompt", shots(5)),
    "kling customize without multi_prompt": kling_with(multi_shot=True, shot_type="customize"),
    "kling shot_type unknown": kling_multi(5, shot_type="manual"),
    "kling seven shots": kling_multi(1, 1, 1, 1, 1, 1, 1) | {"parameters": {"duration": 7}},
    "kling shots not adding up": kling_multi(2, 2),
    "kling shot index from 0": kling_multi(multi_prompt=[{"index": 0, "prompt": "A shot.", "duration": 5}]),
    "kling shot prompt of 513": kling_multi(multi_prompt=shots(5, prompt="x" * 513)),
    "kling shot duration string": kling_multi(multi_prompt=[{"index": 1, "prompt": "A shot.", "duration": "5"}]),
    "kling shot unknown field": kling_multi(
        multi_prompt=[{"index": 1, "prompt": "A shot.", "duration": 5, "camera": "pan"}]),
    "kling shot_type without multi_shot": kling_with(shot_type="intelligence"),
    "kling multi_shot not bool": kling_with(multi_shot="yes"),
}


@pytest.mark.parametrize("body", TARGET_INVALID.values(), ids=TARGET_INVALID.keys())
def test_each_target_refuses_what_its_service_refuses(server, client, body):
    assert_api_error(submit(client, body), 400, "InvalidParameter")
    assert server.submissions == []


@pytest.mark.parametrize(
    ("body", "field"),
    [(changed(WAN30, "input.negative_prompt", "x"), "input.negative_prompt"),
     (changed(WAN26, "parameters.duration", 11), "parameters.duration"),
     (changed(KLING, "parameters.seed", 1), "parameters.seed"),
     (kling_multi(2, 2), "input.multi_prompt"),
     (changed(HAPPYHORSE, "input.media", []), "input.media")],
)
def test_a_refusal_names_the_field(client, body, field):
    assert field in assert_api_error(submit(client, body), 400, "InvalidParameter")["message"]


def test_an_unknown_model_gets_the_services_answer(client):
    payload = assert_api_error(submit(client, changed(KLING, "model", "kling/kling-v3-video")), 400,
                               "InvalidParameter")
    assert payload["message"] == "Model not exist."


TARGET_VALID = {
    "wan30 base": BASES[WAN30],
    "wan30 every reference kind": changed(
        WAN30, "input.media",
        [image(f"https://e.com/{i}.png") for i in range(10)]
        + [image(f"https://e.com/{i}.mp4", "reference_video") for i in range(5)]
        + [image(f"https://e.com/{i}.mp3", "reference_audio") for i in range(5)]),
    "wan30 first and last frame": changed(WAN30, "input.media",
                                          [image(kind="first_frame"), image("https://e.com/z.png", "last_frame")]),
    "wan30 no media": changed(WAN30, "input.media", DELETE),
    "wan30 480P, 30 s, seed, watermark": changed(WAN30, "parameters", {"resolution": "480P", "duration": 30,
                                                                        "ratio": "9:16", "seed": 7, "watermark": True}),
    "wan30 model picks the duration": changed(WAN30, "parameters.duration", -1),
    "wan30 prompt of 20000": changed(WAN30, "input.prompt", "x" * 20000),
    "wan26 prompt of 1500": changed(WAN26, "input.prompt", "x" * 1500),
    "happyhorse base": BASES[HAPPYHORSE],
    "happyhorse nine images, every parameter": changed(HAPPYHORSE, "input.media",
                                                       [image(f"https://e.com/{i}.png") for i in range(9)])
    | {"parameters": {"resolution": "1080P", "ratio": "3:4", "duration": 15, "watermark": False, "seed": 0}},
    "happyhorse duration 3": changed(HAPPYHORSE, "parameters.duration", 3),
    "happyhorse prompt of 5000": changed(HAPPYHORSE, "input.prompt", "x" * 5000),
    "happyhorse chinese prompt of 2500": changed(HAPPYHORSE, "input.prompt", "图" * 2500),
    "wan26 base": BASES[WAN26],
    "wan26 five references, every parameter": changed(WAN26, "input.reference_urls",
                                                      [f"https://e.com/{i}.mp4" for i in range(5)])
    | {"parameters": {"size": "1248*1632", "duration": 10, "shot_type": "multi", "prompt_extend": False,
                      "watermark": True, "seed": 3}},
    "wan26 negative prompt": changed(WAN26, "input.negative_prompt", "blur"),
    "wan26 sdk extras": changed(WAN26, "input.function", "video-synthesis"),
    "wan26 flash base": BASES[WAN26_FLASH],
    "kling base": BASES[KLING],
    "kling seven refer": changed(KLING, "input.media", [image(f"https://e.com/{i}.png", "refer") for i in range(7)]),
    "kling four refer, a feature, a first frame": changed(
        KLING, "input.media",
        [image("https://e.com/v.mp4", "feature"), image(kind="first_frame")]
        + [image(f"https://e.com/{i}.png", "refer") for i in range(4)]) | {"parameters": {"duration": 10}},
    "kling every parameter": changed(KLING, "parameters", {"mode": "pro", "aspect_ratio": "1:1", "duration": 15,
                                                           "audio": True, "watermark": True}),
    "kling six shots filling the duration": kling_multi(1, 1, 1, 1, 1, 10) | {"parameters": {"duration": 15}},
    "kling shots filling the default duration": kling_multi(2, 3) | {"parameters": {}},
    "kling intelligent shots": kling_with(multi_shot=True, shot_type="intelligence"),
    "kling single shot said outright": kling_with(multi_shot=False),
    "kling negative prompt": changed(KLING, "input.negative_prompt", "blur"),
}


@pytest.mark.parametrize("body", TARGET_VALID.values(), ids=TARGET_VALID.keys())
def test_each_target_accepts_its_valid_bodies(server, client, body):
    assert submit(client, body).status_code == 200, submit(client, body).text
    assert server.submissions[0] == body


@pytest.mark.parametrize("model", [WAN30, HAPPYHORSE, WAN26, KLING])
def test_each_target_takes_uploaded_media_and_refuses_missing_uploads(client, model):
    url = upload(client, "a.png", b"\x89PNG image", model=model)
    path = "input.reference_urls.0" if model == WAN26 else "input.media.0.url"
    assert submit(client, changed(model, path, url), OSS).status_code == 200
    assert_api_error(submit(client, changed(model, path, url + "x"), OSS), 400, "InvalidParameter")
    assert_api_error(submit(client, changed(model, path, "ftp://e.com/a.png")), 400, "InvalidParameter")


@pytest.mark.parametrize(
    ("body", "usage"),
    [(BASES[WAN30] | {"parameters": {"resolution": "480P", "duration": 8}},
      {"duration": 8, "input_video_duration": 0, "output_video_duration": 8, "SR": 480, "ratio": "16:9",
       "video_count": 1}),
     (BASES[HAPPYHORSE],
      {"duration": 5, "input_video_duration": 0, "output_video_duration": 5, "SR": 720, "ratio": "16:9",
       "video_count": 1}),
     # two references share 5 s: the unmeasured video (taken as 5 s) bills 2.5 s, the image nothing
     (changed(WAN26, "input.reference_urls", ["https://e.com/a.png", "https://e.com/v.mp4"]),
      {"duration": 7.5, "input_video_duration": 2.5, "output_video_duration": 5, "SR": 720, "size": "1280*720",
       "video_count": 1}),
     (BASES[KLING],
      {"duration": 5, "output_video_duration": 5, "size": "1280*720", "fps": 24, "audio": False,
       "video_count": 1})],
    ids=[WAN30, HAPPYHORSE, WAN26, KLING],
)
def test_each_target_succeeds_with_a_video_and_its_usage(client, body, usage):
    payload = poll(client, submit_id(client, body))
    assert payload["output"]["task_status"] == "SUCCEEDED"
    assert payload["usage"] == usage
    assert mp4_duration(httpx.get(payload["output"]["video_url"]).content) == usage["output_video_duration"]


def test_defaults_fill_what_each_target_leaves_out(server, client):
    for model in (WAN30, HAPPYHORSE, WAN26, WAN26_FLASH, KLING):
        submit_id(client, changed(model, "parameters", DELETE))
    params = [server.task(task_id)["params"] for task_id in server.task_ids]
    assert params == [
        {"resolution": "1080P", "ratio": "16:9", "duration": 5},
        {"resolution": "1080P", "ratio": "16:9", "duration": 5, "watermark": True},
        {"size": "1920*1080", "duration": 5, "shot_type": "single", "prompt_extend": True},
        {"size": "1920*1080", "duration": 5, "shot_type": "single", "prompt_extend": True, "audio": True},
        {"mode": "pro", "aspect_ratio": "16:9", "duration": 5, "audio": False, "watermark": False},
    ]


def test_wan30_model_picked_duration_makes_a_video(client):
    payload = poll(client, submit_id(client, changed(WAN30, "parameters.duration", -1)))
    assert payload["usage"]["output_video_duration"] == 5
    assert mp4_duration(httpx.get(payload["output"]["video_url"]).content) == 5.0


def test_wan30_reference_videos_last_at_most_fifteen_seconds_together(client):
    long_clips = [upload(client, f"v{i}.mp4", make_mp4(8.0), model=WAN30) for i in range(2)]
    body = changed(WAN30, "input.media", [image(url, "reference_video") for url in long_clips])
    assert "15" in assert_api_error(submit(client, body, OSS), 400, "InvalidParameter")["message"]
    body["input"]["media"][1]["url"] = upload(client, "short.mp4", make_mp4(7.0), model=WAN30)
    assert submit(client, body, OSS).status_code == 200


def test_kling_result_has_a_watermarked_copy(client):
    output = poll(client, submit_id(client, BASES[KLING]))["output"]
    watermarked = httpx.get(output["watermark_video_url"])
    assert watermarked.status_code == 200 and mp4_duration(watermarked.content) == 5.0
    assert output["watermark_video_url"] != output["video_url"]


def test_only_kling_results_have_a_watermarked_copy(client):
    output = poll(client, submit_id(client, BASES[HAPPYHORSE]))["output"]
    assert "watermark_video_url" not in output
    forged = output["video_url"].replace(".mp4?", "-watermarked.mp4?")
    assert_oss_error(httpx.get(forged), 404, "NoSuchKey")


@pytest.mark.parametrize("model", [WAN30, HAPPYHORSE, WAN26, WAN26_FLASH, KLING])
def test_the_task_list_filters_each_model(server, client, model):
    submit_id(client)
    task_id = submit_id(client, BASES[model])
    listed = client.get("/tasks", params={"model_name": model}).json()["data"]
    assert [row["task_id"] for row in listed] == [task_id]


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 40) | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)
PLACES = ["input.prompt", "input.negative_prompt", "input.media", "input.media.0", "input.media.0.type",
          "input.media.0.url", "input.media.0.reference_voice", "input.reference_urls", "input.multi_shot",
          "input.shot_type", "input.multi_prompt", "parameters", "parameters.resolution", "parameters.ratio",
          "parameters.duration", "parameters.seed", "parameters.size", "parameters.shot_type", "parameters.mode",
          "parameters.aspect_ratio", "parameters.audio", "parameters.watermark", "input"]


@given(model=st.sampled_from([MODEL, *BASES]), place=st.sampled_from(PLACES), value=JSON)
def test_any_value_anywhere_is_accepted_or_refused_as_invalid(model, place, value):
    """The server never fails on a body: each is a task or a 400 InvalidParameter (checked without HTTP)."""
    from tests.fakescope.errors import ApiError
    from tests.fakescope.shapes import Context, accept

    body = copy.deepcopy(BASES.get(model) or valid_body())
    if model == WAN26:
        place = place.replace("input.media.0", "input.reference_urls.0")
    try:
        body = changed_body(body, place, value)
    except (KeyError, IndexError, TypeError):
        return  # the base body has no such place
    try:
        accept(body, Context(True, lambda key: True, lambda url: None))
    except ApiError as error:
        assert (error.status, error.code) == (400, "InvalidParameter") and error.message


def changed_body(body: dict, path: str, value) -> dict:
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return body
