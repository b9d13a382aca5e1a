"""Tests of temporary-storage uploads: policy, multipart form as the SDK sends it, reuse and skipping."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from compiler.render.client import DashScopeClient
from compiler.render.errors import AuthError, DashScopeError, InvalidParameterError, ServerError
from compiler.render.upload import (
    UPLOAD_TTL_S,
    Uploader,
    UploadPolicy,
    build_policy_request,
    build_upload_request,
    read_policy,
    safe_filename,
    sha256_file,
)

BASE = "https://dashscope.test/api/v1"
KEY = "sk-uploadkey0123456789"
HOST = "https://dashscope-file.oss.test"
MODEL = "wan2.7-r2v"
SDK_FIELDS = ["OSSAccessKeyId", "Signature", "policy", "key", "x-oss-object-acl", "x-oss-forbid-overwrite",
              "success_action_status", "x-oss-content-type", "file"]


def policy_output(**over: Any) -> dict[str, Any]:
    output = {
        "policy": base64.b64encode(b'{"expiration":"2030-01-01T00:10:00.000Z","conditions":[]}').decode(),
        "signature": "sig==",
        "upload_dir": "dashscope-instant/acct/2030-01-01/uuid",
        "upload_host": HOST,
        "expire_in_seconds": 300,
        "max_file_size_mb": 100,
        "oss_access_key_id": "LTAIkey",
        "x_oss_object_acl": "private",
        "x_oss_forbid_overwrite": "true",
    }
    output.update(over)
    return output


def policy_response(**over: Any) -> httpx.Response:
    return httpx.Response(200, json={"request_id": "rq-p", "output": policy_output(**over)})


POLICY = UploadPolicy(policy="cG9s", signature="sig==", upload_dir="dashscope-instant/acct/d/u", upload_host=HOST,
                      oss_access_key_id="LTAIkey", x_oss_object_acl="private", x_oss_forbid_overwrite="true",
                      expires_at=None)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class WallClock:
    """A settable wall clock for policy and upload expiry."""

    def __init__(self, now: float = 1_900_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeStorage:
    """Answers getPolicy and the upload host; records every request."""

    def __init__(self, upload_answers: list[httpx.Response] | None = None, **policy: Any) -> None:
        self.requests: list[httpx.Request] = []
        self.upload_answers = upload_answers or []
        self.policy = policy
        self.policies_served = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if request.url.path.endswith("/uploads"):
            self.policies_served += 1
            return policy_response(signature=f"sig-{self.policies_served}", **self.policy)
        assert str(request.url).startswith(HOST)
        return self.upload_answers.pop(0) if self.upload_answers else httpx.Response(200)

    @property
    def uploads(self) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url).startswith(HOST)]


def make(storage: FakeStorage, wall: WallClock | None = None, **kw: Any) -> Uploader:
    http = httpx.Client(transport=httpx.MockTransport(storage))
    client = DashScopeClient(api_key=KEY, base_url=BASE, http=http, clock=FakeClock(), rng=random.Random(1))
    return Uploader(client, MODEL, now=wall or WallClock(), **kw)


def parse_form(request: httpx.Request) -> list[tuple[Any, ...]]:
    """(name, filename, content, content type) of each multipart part, in order."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.read())
    parts = []
    for part in message.iter_parts():
        parts.append((part.get_param("name", header="content-disposition"), part.get_filename(),
                      part.get_payload(decode=True), part.get("Content-Type")))
    return parts


def write(path: Path, content: bytes) -> tuple[Path, str]:
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


# --- policy -------------------------------------------------------------------------------


def test_build_policy_request() -> None:
    request = build_policy_request(BASE, KEY, MODEL)
    assert request.method == "GET"
    assert request.url.path == "/api/v1/uploads"
    assert dict(request.url.params) == {"action": "getPolicy", "model": MODEL}
    assert request.headers["Authorization"] == f"Bearer {KEY}"


def test_read_policy() -> None:
    policy = read_policy(policy_response(), now=1000.0)
    assert (policy.signature, policy.upload_host) == ("sig==", HOST)
    assert policy.upload_dir == "dashscope-instant/acct/2030-01-01/uuid"
    assert policy.oss_access_key_id == "LTAIkey"
    assert (policy.x_oss_object_acl, policy.x_oss_forbid_overwrite) == ("private", "true")
    assert policy.expires_at == 1300.0
    assert "sig==" not in repr(policy)


def test_read_policy_under_data() -> None:
    """The live service (and fakescope) answer getPolicy under `data`; the SDK takes either."""
    response = httpx.Response(200, json={"request_id": "rq-p", "data": policy_output()})
    assert read_policy(response, now=1000.0).upload_host == HOST


def test_read_policy_expiry_from_the_policy_document() -> None:
    policy = read_policy(policy_response(expire_in_seconds=None), now=0.0)
    assert policy.expires_at == 1893456600.0  # 2030-01-01T00:10:00Z
    undated = read_policy(policy_response(expire_in_seconds="x", policy="bm90IGpzb24="), now=0.0)
    assert undated.expires_at is None


def test_read_policy_errors() -> None:
    with pytest.raises(ServerError):
        read_policy(policy_response(signature=None))
    with pytest.raises(ServerError):
        read_policy(httpx.Response(200, content=b"nope"))
    with pytest.raises(AuthError):
        read_policy(httpx.Response(401, json={"code": "InvalidApiKey", "message": "bad"}))


# --- the form -------------------------------------------------------------------------------


def test_upload_form_fields(tmp_path: Path) -> None:
    path, digest = write(tmp_path / "girl photo.PNG", b"\x89PNG\r\n\x1a\nfake")
    request, url = build_upload_request(POLICY, path, digest, now=0.0)
    key = f"dashscope-instant/acct/d/u/{digest[:16]}-girl_photo.PNG"
    assert url == f"oss://{key}"
    assert (request.method, str(request.url)) == ("POST", HOST)
    assert "Authorization" not in request.headers  # the DashScope key never goes to the storage host
    assert request.headers["Accept"] == "application/json"
    parts = parse_form(request)
    assert [p[0] for p in parts] == SDK_FIELDS
    fields = {name: content.decode() for name, _, content, _ in parts[:-1]}
    assert fields == {
        "OSSAccessKeyId": "LTAIkey", "Signature": "sig==", "policy": "cG9s", "key": key,
        "x-oss-object-acl": "private", "x-oss-forbid-overwrite": "true", "success_action_status": "200",
        "x-oss-content-type": "image/png",
    }
    assert parts[-1][1:] == ("girl photo.PNG", b"\x89PNG\r\n\x1a\nfake", "image/png")


def test_form_matches_the_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the official SDK's upload against a stub and compare field names, order and values."""
    oss_utils = pytest.importorskip("dashscope.utils.oss_utils")
    path, digest = write(tmp_path / "clip.mp4", b"video bytes")
    captured: dict[str, Any] = {}

    class StubResponse:
        status_code = 200

    def post(self: Any, url: str, files: dict[str, Any], data: dict[str, str], **kw: Any) -> StubResponse:
        captured.update(url=url, data=dict(data), files=list(files))
        return StubResponse()

    monkeypatch.setattr(oss_utils.requests.Session, "post", post)
    cert = {"policy": POLICY.policy, "signature": POLICY.signature, "upload_dir": POLICY.upload_dir,
            "upload_host": HOST, "oss_access_key_id": "LTAIkey", "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true"}
    sdk_url, _ = oss_utils.OssUtils.upload(model=MODEL, file_path=str(path), api_key="unused", upload_certificate=cert)

    request, url = build_upload_request(POLICY, path, digest)
    parts = parse_form(request)
    assert [p[0] for p in parts] == list(captured["data"]) + captured["files"]
    ours = {name: content.decode() for name, _, content, _ in parts[:-1]}
    # Only the key differs: ours is content-addressed, the SDK's is the bare file name.
    assert ours.pop("key") == f"{POLICY.upload_dir}/{digest[:16]}-clip.mp4"
    assert captured["data"].pop("key") == f"{POLICY.upload_dir}/clip.mp4"
    assert ours == captured["data"]
    assert sdk_url.startswith("oss://") and url.startswith("oss://")


def test_upload_request_refuses_a_changed_file(tmp_path: Path) -> None:
    path, digest = write(tmp_path / "a.jpg", b"one")
    path.write_bytes(b"two")
    with pytest.raises(ValueError):
        build_upload_request(POLICY, path, digest)


@pytest.mark.parametrize(("name", "safe"), [("a.jpg", "a.jpg"), ("../../etc/passwd", "passwd"),
                                            ("my photo (1).PNG", "my_photo_1.PNG"), ("图1.jpg", "1.jpg"),
                                            ("..", "file"), ("noext", "noext")])
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_sha256_file(tmp_path: Path) -> None:
    content = bytes(range(256)) * 20_000
    path, digest = write(tmp_path / "big.bin", content)
    assert sha256_file(path) == digest


# --- the uploader ---------------------------------------------------------------------------


def test_policy_reused_for_two_files(tmp_path: Path) -> None:
    storage = FakeStorage()
    remembered: list[tuple[str, str, float]] = []
    wall = WallClock()
    uploader = make(storage, wall, remember=lambda *args: remembered.append(args))
    a, ha = write(tmp_path / "a.jpg", b"aaa")
    b, hb = write(tmp_path / "b.mp4", b"bbb")
    url_a = uploader.upload(a, ha)
    wall.now += 100
    url_b = uploader.upload(b, hb)
    assert storage.policies_served == 1 and len(storage.uploads) == 2
    assert url_a.endswith(f"/{ha[:16]}-a.jpg") and url_b.endswith(f"/{hb[:16]}-b.mp4")
    assert remembered == [(ha, url_a, wall.now - 100 + UPLOAD_TTL_S), (hb, url_b, wall.now + UPLOAD_TTL_S)]
    policy_request = storage.requests[0]
    assert policy_request.url.params["model"] == MODEL
    assert policy_request.headers["Authorization"] == f"Bearer {KEY}"


def test_policy_refetched_near_expiry(tmp_path: Path) -> None:
    storage = FakeStorage()
    wall = WallClock()
    uploader = make(storage, wall)
    a, ha = write(tmp_path / "a.jpg", b"aaa")
    b, hb = write(tmp_path / "b.jpg", b"bbb")
    uploader.upload(a, ha)
    wall.now += 300 - 59  # inside the last minute of the 300 s policy
    uploader.upload(b, hb)
    assert storage.policies_served == 2
    assert [parse_form(r)[1][2] for r in storage.uploads] == [b"sig-1", b"sig-2"]


def test_forbidden_upload_refetches_policy_once(tmp_path: Path) -> None:
    expired = httpx.Response(403, content=b"<Error><Code>AccessDenied</Code>"
                                          b"<Message>Invalid according to Policy: Policy expired.</Message></Error>")
    storage = FakeStorage([expired, httpx.Response(200)])
    a, ha = write(tmp_path / "a.jpg", b"aaa")
    assert make(storage).upload(a, ha).startswith("oss://")
    assert storage.policies_served == 2 and len(storage.uploads) == 2


def test_forbidden_twice_raises(tmp_path: Path) -> None:
    forbidden = httpx.Response(403, content=b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>")
    storage = FakeStorage([forbidden, forbidden])
    a, ha = write(tmp_path / "a.jpg", b"aaa")
    with pytest.raises(AuthError) as info:
        make(storage).upload(a, ha)
    assert info.value.code == "AccessDenied" and len(storage.uploads) == 2


def test_too_large_is_not_retried(tmp_path: Path) -> None:
    storage = FakeStorage([httpx.Response(400, content=b"<Error><Code>EntityTooLarge</Code></Error>")])
    a, ha = write(tmp_path / "a.mp4", b"aaa")
    with pytest.raises(InvalidParameterError) as info:
        make(storage).upload(a, ha)
    assert info.value.code == "EntityTooLarge" and len(storage.uploads) == 1


def test_existing_object_counts_as_uploaded(tmp_path: Path) -> None:
    storage = FakeStorage([httpx.Response(500), httpx.Response(409, content=b"<Code>FileAlreadyExists</Code>")])
    a, ha = write(tmp_path / "a.jpg", b"aaa")
    assert make(storage).upload(a, ha).endswith(f"{ha[:16]}-a.jpg")
    assert len(storage.uploads) == 2


def test_skip_upload_when_lookup_hits(tmp_path: Path) -> None:
    storage = FakeStorage()
    asked: list[str] = []

    def lookup(sha: str) -> str | None:
        asked.append(sha)
        return "oss://dashscope-instant/old/a.jpg"

    a, ha = write(tmp_path / "a.jpg", b"aaa")
    assert make(storage, lookup=lookup, remember=lambda *a: pytest.fail("nothing new")).upload(a, ha) == (
        "oss://dashscope-instant/old/a.jpg")
    assert asked == [ha] and storage.requests == []


def test_same_content_uploaded_once_per_run(tmp_path: Path) -> None:
    storage = FakeStorage()
    uploader = make(storage, lookup=lambda sha: None)
    a, ha = write(tmp_path / "a.jpg", b"same")
    b, hb = write(tmp_path / "copy.jpg", b"same")
    assert uploader.upload(a, ha) == uploader.upload(b, hb)
    assert len(storage.uploads) == 1


def test_upload_errors_never_carry_the_key(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": "InvalidApiKey", "message": request.headers["Authorization"]})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    uploader = Uploader(DashScopeClient(api_key=KEY, base_url=BASE, http=http, clock=FakeClock()), MODEL)
    a, ha = write(tmp_path / "a.jpg", b"aaa")
    with pytest.raises(DashScopeError) as info:
        uploader.upload(a, ha)
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert KEY not in repr(uploader)
