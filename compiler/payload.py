"""The request body of wan2.7-r2v as pydantic models: unknown fields forbidden, the API's value rules enforced."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .limits import API_DEFAULTS, IMAGE_MIMES, LIMITS, RATIOS, RESOLUTIONS, SEED_MAX

# The allowed values come from the limits table: pydantic validates against Literal[table], while a checker,
# which cannot read a Literal built at run time, sees plain strings.
if TYPE_CHECKING:
    Resolution = str
    Ratio = str
else:
    Resolution = Literal[RESOLUTIONS]
    Ratio = Literal[RATIOS]

__all__ = ["MediaEntry", "Input", "Parameters", "Payload", "to_json", "LOCAL_CONTEXT"]

# Compiled payloads may still name local files (as project-relative paths) that `render` uploads or
# inlines; validate with context=LOCAL_CONTEXT to accept them.  What is sent is validated without it.
LOCAL_CONTEXT = {"allow_local": True}
_URL = re.compile(r"^(?:https?|oss)://\S+$")
_IMAGE_DATA = re.compile(r"^data:(" + "|".join(re.escape(m) for m in IMAGE_MIMES) + r");base64,[A-Za-z0-9+/=]+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")


def _check_url(value: str, info: ValidationInfo, *, image: bool) -> str:
    if _URL.match(value) or (image and _IMAGE_DATA.match(value)):
        return value
    local_ok = bool(info.context and info.context.get("allow_local"))
    if local_ok and value and not _SCHEME.match(value):
        return value
    raise ValueError("must be an http(s) or oss:// URL" + (" or an image data URI" if image else ""))


def _count_word(count: int) -> str:
    """A small count as a reader says it: "at most one first_frame"."""
    return "one" if count == 1 else str(count)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MediaEntry(_Strict):
    type: Literal["reference_image", "reference_video", "first_frame"]
    url: str
    reference_voice: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        return _check_url(value, info, image=info.data.get("type") != "reference_video")

    @field_validator("reference_voice")
    @classmethod
    def _voice(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _check_url(value, info, image=False)


class Input(_Strict):
    prompt: str = Field(min_length=1, max_length=LIMITS.prompt_chars)
    negative_prompt: str | None = Field(default=None, max_length=LIMITS.negative_prompt_chars)
    media: list[MediaEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _counts(self) -> Input:
        references = [m for m in self.media if m.type != "first_frame"]
        if not LIMITS.min_references <= len(references) <= LIMITS.max_references:
            raise ValueError(f"{LIMITS.min_references} to {LIMITS.max_references} reference images and videos, "
                             f"not {len(references)}")
        if len(self.media) - len(references) > LIMITS.max_first_frames:
            raise ValueError(f"at most {_count_word(LIMITS.max_first_frames)} first_frame")
        return self


class Parameters(_Strict):
    """Every parameter is optional: an absent one takes the service's default (limits.API_DEFAULTS)."""

    resolution: Resolution | None = None
    ratio: Ratio | None = None
    duration: int | None = Field(default=None, ge=LIMITS.duration[0], le=LIMITS.duration[1])
    prompt_extend: bool | None = None
    watermark: bool | None = None
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)


class Payload(_Strict):
    model: str
    input: Input
    parameters: Parameters

    @model_validator(mode="after")
    def _video_duration(self) -> Payload:
        duration = self.parameters.duration if self.parameters.duration is not None else API_DEFAULTS.duration
        longest = LIMITS.duration_with_video[1]
        if any(m.type == "reference_video" for m in self.input.media) and duration > longest:
            raise ValueError(f"duration is at most {longest} s when a reference video is given")
        return self


def to_json(payload: Payload, *, indent: int | None = 2) -> str:
    """Deterministic JSON: fields in model order, absent options left out, UTF-8 text kept as is."""
    return json.dumps(payload.model_dump(mode="json", exclude_none=True), ensure_ascii=False, indent=indent)
