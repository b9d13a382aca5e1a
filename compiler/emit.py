"""Stage 4, emit: a checked scene and its prompt to the request body (payload.Payload), plus the cast table."""

from __future__ import annotations

from pathlib import Path

from . import ir
from .diagnostics import Diagnostic, make
from .limits import PARAMETERS
from .vocabulary import SETTING_FIELDS

# Spelled out rather than imported from typing (see records.py); the request model loads only in emit().
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .payload import Payload

__all__ = ["emit", "payload_dict", "sent_parameters", "cast_table", "media_url", "PARAMETER_SETTINGS"]


def media_url(source: ir.MediaSource, root: Path | None) -> str:
    """URLs and data URIs as written; local files as a path relative to the project root (render replaces them)."""
    if source.scheme != "local" or source.local_path is None:
        return source.text
    base = root or Path.cwd()
    import os.path

    # normpath: "cast/../media/x.jpg" names the same file as "media/x.jpg" (symlinks are checked elsewhere).
    absolute = Path(os.path.normpath(source.local_path.absolute()))
    try:
        return absolute.relative_to(Path(os.path.normpath(base.absolute()))).as_posix()
    except ValueError:
        return absolute.as_posix()


def payload_dict(scene: ir.Scene, prompt: str) -> dict[str, object]:
    """The request body as plain data, in the API's field order."""
    root = scene.project_root
    media = []
    if scene.first_frame:
        media.append(_entry("first_frame", scene.first_frame.media, scene.first_frame.voice, root))
    for member in scene.references:
        media.append(_entry(f"reference_{member.kind}", member.media, member.voice, root))
    settings = scene.settings
    inputs = {"prompt": prompt, "negative_prompt": settings.negative_prompt, "media": media}
    return {"model": settings.model, "input": inputs, "parameters": sent_parameters(scene)}


# Parameter -> the setting that gives it, in the API's order.  The API requires none of them (each has a
# service default, limits.API_DEFAULTS), so the policy is: send what the writer set, nothing else.
PARAMETER_SETTINGS = {name: key for name in PARAMETERS for key, field in SETTING_FIELDS.items() if field == name}


def sent_parameters(scene: ir.Scene) -> dict[str, object]:
    """The parameters the writer set, in the API's order; RATIO is left out with a first frame (the API ignores it,
    check warns ratio-with-first-frame)."""
    settings = scene.settings
    given = {name: getattr(settings, name) for name, key in PARAMETER_SETTINGS.items() if key in settings.given}
    if scene.first_frame:
        given.pop("ratio", None)
    return given


def _entry(kind: str, media: ir.MediaSource, voice: ir.MediaSource | None, root: Path | None) -> dict[str, str]:
    entry = {"type": kind, "url": media_url(media, root)}
    if voice:
        entry["reference_voice"] = media_url(voice, root)
    return entry


def emit(scene: ir.Scene, prompt: str) -> tuple[Payload | None, list[Diagnostic]]:
    """Validate the body with the request model; a failure is a compiler bug, reported as a diagnostic."""
    from pydantic import ValidationError

    from .payload import LOCAL_CONTEXT, Payload

    try:
        return Payload.model_validate(payload_dict(scene, prompt), context=LOCAL_CONTEXT), []
    except ValidationError as error:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        return None, [make("invalid-payload", f"the request failed validation: {details}", None, path=scene.path)]


def cast_table(scene: ir.Scene) -> list[dict[str, object]]:
    """One row per media entry: name, kind, media index, identifier, voice (what --explain prints)."""
    root = scene.project_root
    rows = []
    if scene.first_frame:
        rows.append({"name": "FIRST FRAME", "kind": "first_frame", "index": 0, "identifier": "(not named)",
                     "source": media_url(scene.first_frame.media, root),
                     "voice": media_url(scene.first_frame.voice, root) if scene.first_frame.voice else None})
    for member in scene.references:
        rows.append({"name": member.name, "kind": f"reference_{member.kind}", "index": member.media_index,
                     "identifier": member.identifier, "source": media_url(member.media, root),
                     "voice": media_url(member.voice, root) if member.voice else None})
    return rows
