"""Stage 4, emit: a target's request body validated by its request model, plus what every target's body builder
shares (media URLs, the parameters the writer set) and the cast table of `compile --explain`.

The target itself (compiler/targets/) builds the body; this module comes before the targets so that they
can use it, and knows none of them."""

from __future__ import annotations

from pathlib import Path

from . import ir
from .diagnostics import Diagnostic, make
from .vocabulary import SETTING_FIELDS

# Spelled out rather than imported from typing (see records.py); pydantic loads only in validate().
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import BaseModel

__all__ = ["validate", "sent_parameters", "cast_table", "media_url", "PARAMETER_SETTINGS", "API_SETTINGS"]


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


# ir.Settings field -> the setting that gives it.  No API requires a parameter (each has a service default,
# the target's `defaults`), so the policy is: send what the writer set, nothing else.
PARAMETER_SETTINGS = {field: key for key, field in SETTING_FIELDS.items()}


# The settings that are request parameters, in the order the DashScope video APIs list them.
API_SETTINGS: tuple[str, ...] = ("resolution", "ratio", "duration", "prompt_extend", "watermark", "seed")


def sent_parameters(scene: ir.Scene, parameters: tuple[str, ...] = API_SETTINGS) -> dict[str, object]:
    """The parameters (ir.Settings fields, in the request's order) the writer set, with their values; a target
    renames them to its API's names where they differ."""
    settings = scene.settings
    return {name: getattr(settings, name) for name in parameters if PARAMETER_SETTINGS[name] in settings.given}


def validate(path: str, body: dict[str, object], model: type[BaseModel]) -> tuple[BaseModel | None, list[Diagnostic]]:
    """Validate the body with the target's request model; a failure is a compiler bug, reported as a diagnostic."""
    from pydantic import ValidationError

    from .payload import LOCAL_CONTEXT

    try:
        return model.model_validate(body, context=LOCAL_CONTEXT), []
    except ValidationError as error:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        return None, [make("invalid-payload", f"the request failed validation: {details}", None, path=path)]


def cast_table(scene: ir.Scene, identifiers: Mapping[str, str], media_index: Mapping[str, int],
               voices: Mapping[str, str] | None = None) -> list[dict[str, object]]:
    """One row per media entry: name, kind, media index, identifier, voice (what --explain prints), from the
    target's naming."""
    root = scene.project_root
    rows = []
    if scene.first_frame:
        rows.append({"name": "FIRST FRAME", "kind": "first_frame", "index": 0, "identifier": "(not named)",
                     "source": media_url(scene.first_frame.media, root),
                     "voice": media_url(scene.first_frame.voice, root) if scene.first_frame.voice else None})
    for member in scene.references:
        voice = media_url(member.voice, root) if member.voice else None
        if voice and voices and member.name in voices:
            voice = f"{voices[member.name]}: {voice}"
        rows.append({"name": member.name, "kind": f"reference_{member.kind}", "index": media_index.get(member.name),
                     "identifier": identifiers.get(member.name, ""), "source": media_url(member.media, root),
                     "voice": voice})
    return rows
