"""Uploads local reference files to DashScope's temporary storage as the SDK does, returning their oss:// URLs."""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import json
import math
import mimetypes
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from compiler.render.client import USER_AGENT, DashScopeClient, classify_error, raise_for_error
from compiler.render.errors import AuthError, ServerError

# Temporary files live 48 h; an hour less leaves room for a task that waits in the queue.
UPLOAD_TTL_S = 47 * 3600.0
# A policy this close to expiry is not started with: a large upload could outlive it.
POLICY_MARGIN_S = 60.0
# OSS answers 409 FileAlreadyExists when x-oss-forbid-overwrite is set and the key exists;
# keys are content-addressed, so the object there already holds these bytes.
UPLOAD_OK_STATUSES = frozenset({200, 204, 409})
MAX_NAME_CHARS = 80

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_SHA256 = re.compile(r"\A[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class UploadPolicy:
    """A signed permission to POST files into one folder of the temporary bucket."""

    policy: str = field(repr=False)
    signature: str = field(repr=False)
    upload_dir: str
    upload_host: str
    oss_access_key_id: str
    x_oss_object_acl: str
    x_oss_forbid_overwrite: str
    expires_at: float | None

    def usable_at(self, now: float) -> bool:
        """Whether an upload may start with this policy at wall-clock time `now`."""
        return self.expires_at is None or now < self.expires_at - POLICY_MARGIN_S


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def build_policy_request(base_url: str, api_key: str, model: str) -> httpx.Request:
    """The GET that asks for an upload policy for files meant for `model`."""
    url = f"{base_url.rstrip('/')}/uploads"
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json", "User-Agent": USER_AGENT}
    return httpx.Request("GET", url, params={"action": "getPolicy", "model": model}, headers=headers)


def _field_text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None


def _policy_expiration(policy: str) -> float | None:
    """The `expiration` inside an OSS POST policy (base64 JSON), as epoch seconds."""
    try:
        document = json.loads(base64.b64decode(policy, validate=False))
        stamp = document["expiration"]
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
        return None


_POLICY_FIELDS = (
    "policy",
    "signature",
    "upload_dir",
    "upload_host",
    "oss_access_key_id",
    "x_oss_object_acl",
    "x_oss_forbid_overwrite",
)


def _policy_fields(body: object) -> dict[str, object]:
    """The policy object: the SDK reads `output`, and the live service answers it under `data`."""
    if not isinstance(body, dict):
        return {}
    for name in ("output", "data"):
        found = body.get(name)
        if isinstance(found, dict):
            return found
    return {}


def read_policy(response: httpx.Response, *, now: float | None = None) -> UploadPolicy:
    """The policy from a getPolicy answer; expiry = `now` (wall clock, default time.time()) + expire_in_seconds."""
    raise_for_error(response)
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        body = None
    output = _policy_fields(body)
    values = {name: _field_text(output.get(name)) for name in _POLICY_FIELDS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ServerError(
            f"HTTP {response.status_code}: upload policy lacks {', '.join(missing)}",
            code="MalformedResponse",
            request_id=_field_text(body.get("request_id")) if isinstance(body, dict) else None,
            status=response.status_code,
        )
    if urllib.parse.urlsplit(values["upload_host"] or "").scheme not in ("http", "https"):
        raise ServerError("upload policy has no http(s) upload host", code="MalformedResponse")
    fetched_at = time.time() if now is None else now
    ttl = _seconds(output.get("expire_in_seconds"))
    # The relative TTL is immune to clock skew; the policy's own timestamp is the fallback.
    expires_at = fetched_at + ttl if ttl is not None else _policy_expiration(values["policy"] or "")
    return UploadPolicy(**values, expires_at=expires_at)  # type: ignore[arg-type]


def safe_filename(name: str) -> str:
    """A file name OSS and URLs take as is: ASCII letters, digits, dot, dash, underscore."""
    base = Path(name).name
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE_NAME_CHARS.sub("_", stem).strip("._") or "file"
    suffix = _UNSAFE_NAME_CHARS.sub("", suffix)[:10]
    return stem[:MAX_NAME_CHARS] + (f".{suffix}" if suffix else "")


def object_key(policy: UploadPolicy, path: Path, content_hash: str) -> str:
    """Content-addressed object key: upload_dir/<16 hex of the hash>-<safe file name>."""
    return f"{policy.upload_dir.rstrip('/')}/{content_hash[:16]}-{safe_filename(path.name)}"


def build_upload_request(
    policy: UploadPolicy, path: Path, content_hash: str, *, now: float | None = None
) -> tuple[httpx.Request, str]:
    """The multipart POST to the upload host with the SDK's fields in the SDK's order, and the file's oss:// URL.

    The file is read whole and checked against `content_hash`, so the bytes sent are
    the bytes the content-addressed key names (references are at most 100 MB).
    """
    data = Path(path).read_bytes()
    if not _SHA256.match(content_hash) or hashlib.sha256(data).hexdigest() != content_hash:
        raise ValueError(f"{path}: content does not match sha256 {content_hash[:16]}...")
    key = object_key(policy, Path(path), content_hash)
    mime = mimetypes.guess_type(Path(path).name)[0] or "application/octet-stream"
    form = {
        "OSSAccessKeyId": policy.oss_access_key_id,
        "Signature": policy.signature,
        "policy": policy.policy,
        "key": key,
        "x-oss-object-acl": policy.x_oss_object_acl,
        "x-oss-forbid-overwrite": policy.x_oss_forbid_overwrite,
        "success_action_status": "200",
        "x-oss-content-type": mime,
    }
    headers = {
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        "Date": email.utils.formatdate(time.time() if now is None else now, usegmt=True),
    }
    # httpx writes data fields first, in order, then the file: the SDK's layout.
    files = {"file": (Path(path).name, data, mime)}
    request = httpx.Request("POST", policy.upload_host, data=form, files=files, headers=headers)
    return request, f"oss://{key}"


def check_upload_response(response: httpx.Response) -> None:
    """Raise the mapped error for a failed POST to the upload host (OSS answers XML)."""
    if response.status_code in UPLOAD_OK_STATUSES:
        return
    text = response.content[:2000].decode("utf-8", "replace")

    def tag(name: str) -> str | None:
        found = re.search(rf"<{name}>(.*?)</{name}>", text, re.S)
        return found.group(1).strip() if found else None

    message = tag("Message") or text.strip()[:300] or response.reason_phrase
    raise classify_error(
        response.status_code,
        tag("Code") or f"HTTP{response.status_code}",
        f"upload HTTP {response.status_code}: {message}",
        tag("RequestId"),
    )


class Uploader:
    """Uploads local files for one model, reusing a policy while it is valid and skipping known content."""

    def __init__(
        self,
        client: DashScopeClient,
        model: str,
        *,
        lookup: Callable[[str], str | None] | None = None,
        remember: Callable[[str, str, float], None] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.model = model
        self._lookup = lookup
        self._remember = remember
        self._now = now
        self._policy: UploadPolicy | None = None
        # Within one run, the same bytes are uploaded once even without a journal.
        self._seen: dict[str, tuple[str, float]] = {}

    def _known(self, sha256: str) -> str | None:
        seen = self._seen.get(sha256)
        if seen is not None and seen[1] > self._now():
            return seen[0]
        return self._lookup(sha256) if self._lookup is not None else None

    def policy(self) -> UploadPolicy:
        """The current policy, fetched anew when absent or about to expire."""
        if self._policy is None or not self._policy.usable_at(self._now()):
            # Expiry is counted from before the request: the conservative end.
            asked_at = self._now()
            response = self._client.send(self._client.prepare(build_policy_request, self.model), idempotent=True)
            self._policy = read_policy(response, now=asked_at)
        return self._policy

    def _post(self, path: Path, sha256: str) -> str:
        request, url = build_upload_request(self.policy(), path, sha256, now=self._now())
        # Repeating is safe: the key is content-addressed and a repeat answers 409 (success).
        self._client.send(request, idempotent=True, check=check_upload_response)
        return url

    def upload(self, path: Path, sha256: str) -> str:
        """The oss:// URL of `path` (whose SHA-256 is `sha256`), uploading only if its content is not known."""
        known = self._known(sha256)
        if known:
            return known
        try:
            url = self._post(path, sha256)
        except AuthError as error:
            if error.status != 403:
                raise
            # The policy expired or was revoked early: one fresh policy, one more try.
            self._policy = None
            url = self._post(path, sha256)
        expires_at = self._now() + UPLOAD_TTL_S
        self._seen[sha256] = (url, expires_at)
        if self._remember is not None:
            self._remember(sha256, url, expires_at)
        return url

    def __repr__(self) -> str:
        return f"Uploader(model={self.model!r})"
