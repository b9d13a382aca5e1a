"""What a render is made of, decided without the network: the local media a compiled payload names (each
hashed), the render's identity (what makes two renders the same, so the journal never pays twice for one),
and the body actually sent (small images inlined as data URIs, the rest uploaded).

Where the media sit in a body, which defaults the service fills in and whether it takes data URIs are the
target's (`Target.media_slots`, `effective_parameters`, `capabilities.data_uri`): this module never walks a
request shape itself, so a `reference_urls` body is filled as surely as an `input.media[]` one."""

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

from compiler import ir, targets
from compiler.check import media_items
from compiler.emit import media_url
from compiler.media import probe_file
from compiler.render.client import encode_payload
from compiler.render.upload import sha256_file
from compiler.targets.base import Target, get_at, set_at

__all__ = ["INLINE_IMAGE_MAX_BYTES", "LocalMedia", "Identity", "MediaError", "target_of_body", "local_media",
           "identity", "effective_payload", "goes_inline", "data_uri", "substitute", "materialize",
           "shorten_data_uris"]


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


def target_of_body(payload: Mapping[str, Any]) -> Target:
    """The target a compiled body was built for, by its `model` (every target's body names its model)."""
    return targets.target_of(str(payload.get("model") or ""))


def local_media(scene: ir.Scene, payload: Mapping[str, Any], target: Target | None = None) -> tuple[LocalMedia, ...]:
    """Every local file the body's media slots name, once, in request order, with its hash (OSError when one
    cannot be read).  The scene says which of the slots' URLs are local files and where they are."""
    local = {media_url(source, scene.project_root): source.local_path
             for _role, source, _owner, _path in media_items(scene)
             if source.scheme == "local" and source.local_path is not None}
    found: dict[str, LocalMedia] = {}
    for slot in (target or target_of_body(payload)).media_slots(payload):
        path = local.get(slot.url)
        if path is not None and slot.url not in found:
            info = probe_file(path)
            found[slot.url] = LocalMedia(slot.url, path, slot.role, sha256_file(path), info.size, info.mime)
    return tuple(found.values())


def effective_payload(payload: Mapping[str, Any], target: Target | None = None) -> dict[str, Any]:
    """The payload with every parameter the request leaves out written as the service's default
    (`Target.effective_parameters`).

    Identity is what the service renders, not how the body spells it: a body that leaves `ratio` out
    and one that sends the default 16:9 are the same render (and scenes rendered before scenec stopped
    sending defaults keep their identity, so they are never paid for again).
    """
    return {**dict(payload), "parameters": (target or target_of_body(payload)).effective_parameters(payload)}


def identity(payload: Mapping[str, Any], media: Iterable[LocalMedia], endpoint: str = "",
             target: Target | None = None) -> Identity:
    """sha256 of the canonical payload (with the endpoint it goes to, when given: a render on another
    region's service is another render), and of the (path, content hash) pairs of its local media."""
    pairs = sorted([item.ref, item.sha256] for item in media)
    effective = effective_payload(payload, target)
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


def goes_inline(media: LocalMedia, target: Target | None = None) -> bool:
    """Small images of a type the target takes go as data URIs, where the target takes data URIs at all (the
    default target when none is given); video, audio, large images and anything else are uploaded."""
    target = target or targets.target_of(targets.DEFAULT_MODEL)
    if not target.capabilities.data_uri or media.role not in ("image", "first frame") or media.mime is None:
        return False
    kind, _, subtype = media.mime.partition("/")
    return kind == "image" and subtype in target.limits.image.formats and media.size <= INLINE_IMAGE_MAX_BYTES


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def substitute(payload: Mapping[str, Any], urls: Mapping[str, str], target: Target | None = None) -> dict[str, Any]:
    """The payload with every media slot's URL found in `urls` replaced (the prompt and other text untouched)."""
    body = copy.deepcopy(dict(payload))
    for slot in (target or target_of_body(payload)).media_slots(payload):
        # get_at, not slot.url: the body as it is now is what gets written, whatever the slot read.
        current = get_at(body, slot.path)
        if isinstance(current, str) and current in urls:
            set_at(body, slot.path, urls[current])
    return body


def materialize(payload: Mapping[str, Any], media: Sequence[LocalMedia],
                upload: Callable[[LocalMedia], str], target: Target | None = None) -> dict[str, Any]:
    """The body to send: local files inlined or uploaded; it must validate as sent (no LOCAL_CONTEXT)."""
    target = target or target_of_body(payload)
    urls = {}
    for item in media:
        urls[item.ref] = data_uri(_read_checked(item), item.mime or "") if goes_inline(item, target) else upload(item)
    body = substitute(payload, urls, target)
    try:  # without LOCAL_CONTEXT a local path anywhere in the body fails here: none goes out
        target.request_model().model_validate(body)
    except ValidationError as error:
        raise MediaError(f"the body to send does not validate: {error.errors()[0]['msg']}") from None
    return body


def _read_checked(item: LocalMedia) -> bytes:
    data = item.path.read_bytes()
    # The identity hashed these bytes: sending others would render something else under its name.
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise MediaError(f"{item.ref} changed while rendering; run again")
    return data
