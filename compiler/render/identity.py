"""What a render is made of, decided without the network: the local media a compiled payload names (each
hashed), the render's identity (what makes two renders the same, so the journal never pays twice for one),
and the body actually sent (small images inlined as data URIs, the rest uploaded)."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compiler import ir
from compiler.check import media_items
from compiler.emit import media_url
from compiler.media import probe_file
from compiler.render.client import encode_payload
from compiler.render.upload import sha256_file
from compiler.targets import target_of
from compiler.targets.wan27 import API_DEFAULTS, IMAGE_MIMES

__all__ = ["INLINE_IMAGE_MAX_BYTES", "LocalMedia", "Identity", "MediaError", "local_media", "identity",
           "effective_payload", "goes_inline", "data_uri", "substitute", "materialize", "shorten_data_uris"]


# Images up to this size go inline as data URIs (no upload round trip); larger ones are
# uploaded, which keeps request bodies small (base64 adds a third).
INLINE_IMAGE_MAX_BYTES = 2 * 1024 * 1024


_DATA_URI = re.compile(r"^data:([^;,]+);base64,(.*)$", re.S)


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


class MediaError(Exception):
    """Local media could not be turned into URLs; nothing was submitted."""


# --- the identity --------------------------------------------------------------------------------


def local_media(scene: ir.Scene) -> tuple[LocalMedia, ...]:
    """Every local file of a scene once, in media order, with its hash (OSError when one cannot be read)."""
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


# --- the body to send ----------------------------------------------------------------------------


def goes_inline(media: LocalMedia) -> bool:
    """Small images of an accepted type go as data URIs; video, audio and large images are uploaded."""
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


def materialize(payload: Mapping[str, Any], media: Sequence[LocalMedia],
                upload: Callable[[LocalMedia], str]) -> dict[str, Any]:
    """The body to send: local files inlined or uploaded; it must validate as sent (no LOCAL_CONTEXT)."""
    urls = {}
    for item in media:
        urls[item.ref] = data_uri(_read_checked(item), item.mime or "") if goes_inline(item) else upload(item)
    body = substitute(payload, urls)
    try:
        target_of(str(body.get("model", ""))).request_model().model_validate(body)
    except ValidationError as error:
        raise MediaError(f"the body to send does not validate: {error.errors()[0]['msg']}") from None
    return body


def _read_checked(item: LocalMedia) -> bytes:
    data = item.path.read_bytes()
    # The identity hashed these bytes: sending others would render something else under its name.
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise MediaError(f"{item.ref} changed while rendering; run again")
    return data
