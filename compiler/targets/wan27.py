"""The wan2.7-r2v target (the default): typed `input.media[]` with a `reference_voice` per entity, references
named "Image N" / "Video N" counted per kind.

Source: shared/reference/dashscope-r2v-api.md ([w27]: the official API reference [docs] and the vendor's
guide [guide]), checked 2026-11-24.  The request model is built on first use (`request_model`): `scenec check`
imports this module and must not load pydantic.
"""

from __future__ import annotations

import functools

from .. import ir
from ..limits import ApiDefaults, FileLimits, Limits
from ..records import Record
from .base import Capabilities, Naming, Target, counted_per_kind

TYPE_CHECKING = False  # spelled out: typing is not imported at start-up (records.py)
if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import BaseModel

__all__ = ["TARGET", "Wan27", "MODELS", "RESOLUTIONS", "RATIOS", "SEED_MAX", "IMAGE_MIMES", "LIMITS",
           "API_DEFAULTS", "PARAMETERS", "PRICES", "PRICES_CHECKED", "identifier_for", "request_models",
           "RequestModels"]

# wan2.7-r2v and its dated snapshot [docs].
MODELS: tuple[str, ...] = ("wan2.7-r2v", "wan2.7-r2v-2026-06-12")
RESOLUTIONS: tuple[str, ...] = ("720P", "1080P")   # [docs]: no 480P
RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4")
SEED_MAX = 2_147_483_647

_MB = 1024 * 1024

LIMITS = Limits(
    max_references=5,            # reference images + videos together [guide][docs]
    min_references=1,
    max_first_frames=1,
    prompt_chars=5000,           # [docs] official; longer prompts are silently truncated
    negative_prompt_chars=500,   # [docs] official
    image=FileLimits(("jpeg", "png", "bmp", "webp"), 20 * _MB, sides=(240, 8000)),
    video=FileLimits(("mp4", "mov"), 100 * _MB, sides=(240, 4096), seconds=(1.0, 30.0)),
    voice=FileLimits(("wav", "mp3"), 15 * _MB, seconds=(1.0, 10.0)),
    aspect=8.0,                  # longer side at most 8x the shorter, images and videos
    duration=(2, 15),            # output duration in whole seconds [docs]
    duration_with_video=(2, 10),  # when any reference video is in the media [docs]
)

# Allowed MIME types of image data URIs: those of the image formats.
IMAGE_MIMES: tuple[str, ...] = tuple(f"image/{name}" for name in LIMITS.image.formats)

# What the service uses for a parameter the request leaves out [docs].
API_DEFAULTS = ApiDefaults(model="wan2.7-r2v", resolution="1080P", ratio="16:9", duration=5, prompt_extend=True,
                           watermark=False)

# The request's `parameters`, in the API's order; each is the ir.Settings field of the same name.
PARAMETERS: tuple[str, ...] = ("resolution", "ratio", "duration", "prompt_extend", "watermark", "seed")

# CNY per billable second, from the vendor price list (Model Studio "model-pricing"), region -> resolution.
# Virginia (US) does not list wan2.7-r2v, so it has no price (and is not among the regions).
PRICES: dict[str, dict[str, float]] = {
    "beijing": {"720P": 0.6, "1080P": 1.0},
    "singapore": {"720P": 0.733924, "1080P": 1.100886},
}
PRICES_CHECKED = "2026-11-24"


def identifier_for(kind: str, ordinal: int, single: bool, language: str) -> str:
    """The API's name for a reference: 'Image 2', 'Video 1', '图1'; 'reference image' when it is the only one."""
    if language == "zh":
        if single:
            return "参考图片" if kind == "image" else "参考视频"
        return f"{'图' if kind == 'image' else '视频'}{ordinal}"
    if single:
        return f"reference {kind}"
    return f"{'Image' if kind == 'image' else 'Video'} {ordinal}"


class Wan27(Target):
    """wan2.7-r2v: everything a scene may ask for, within its limits (the inherited `refusals` refuses only
    setting values: its capabilities take everything else)."""

    name = "wan2.7-r2v"
    models = MODELS
    title = "Wan 2.7 reference-to-video"
    status = "official"
    sources = "Alibaba Model Studio: the wan2.7-r2v API reference and guide (shared/reference/dashscope-r2v-api.md)"
    capabilities = Capabilities(
        voice=True, reference_video=True, max_reference_videos=LIMITS.max_references, first_frame=True,
        first_frame_with_references=True, storyboard=True, negative_prompt=True, prompt_extend=True,
        data_uri=True, seed=True, multi_shot_field=False, first_frame_voice=True)  # "not recommended" [guide]
    limits = LIMITS
    defaults = API_DEFAULTS
    resolutions = RESOLUTIONS
    ratios = RATIOS
    parameters = PARAMETERS
    # Virginia (US) is left out on our reading [inf]: the price list does not list wan2.7-r2v there [docs]; no
    # source says the endpoint refuses it.
    regions = ("beijing", "singapore")
    currency = "CNY"
    prices = PRICES
    prices_checked = PRICES_CHECKED
    billing_rule = "wan2.7"

    def naming(self, scene: ir.Scene) -> Naming:
        """Media order is the cast order after a first frame; images and videos are counted separately."""
        single, language = len(scene.references) == 1, scene.settings.language
        return counted_per_kind(scene, lambda kind, number: identifier_for(kind, number, single, language),
                                1 if scene.first_frame else 0)

    def payload_dict(self, scene: ir.Scene, prompt: str, naming: Naming) -> dict[str, object]:
        """The request body as plain data, in the API's field order: the first frame, then the cast."""
        root = scene.project_root
        media = []
        if scene.first_frame:
            media.append(_entry("first_frame", scene.first_frame.media, scene.first_frame.voice, root))
        for member in scene.references:
            media.append(_entry(f"reference_{member.kind}", member.media, member.voice, root))
        settings = scene.settings
        inputs = {"prompt": prompt, "negative_prompt": settings.negative_prompt, "media": media}
        return {"model": settings.model, "input": inputs, "parameters": self.sent_parameters(scene)}

    def request_model(self) -> type[BaseModel]:
        return request_models().Payload


def _entry(kind: str, media: ir.MediaSource, voice: ir.MediaSource | None, root: Path | None) -> dict[str, str]:
    from ..emit import media_url

    entry = {"type": kind, "url": media_url(media, root)}
    if voice:
        entry["reference_voice"] = media_url(voice, root)
    return entry


class RequestModels(Record):
    """The request body's pydantic models (built on first use): the body and its parts."""

    Payload: type[BaseModel]
    Input: type[BaseModel]
    Parameters: type[BaseModel]
    MediaEntry: type[BaseModel]


@functools.cache
def request_models() -> RequestModels:
    """The body of wan2.7-r2v as pydantic models: unknown fields forbidden, the API's value rules enforced."""
    from typing import Literal

    from pydantic import Field, ValidationInfo, field_validator, model_validator

    from ..payload import Strict, check_url, count_word, settings_parameters

    class MediaEntry(Strict):
        type: Literal["reference_image", "reference_video", "first_frame"]
        url: str
        reference_voice: str | None = None

        @field_validator("url")
        @classmethod
        def _url(cls, value: str, info: ValidationInfo) -> str:
            return check_url(value, info, image=info.data.get("type") != "reference_video", image_mimes=IMAGE_MIMES)

        @field_validator("reference_voice")
        @classmethod
        def _voice(cls, value: str | None, info: ValidationInfo) -> str | None:
            return None if value is None else check_url(value, info, image=False)

    class Input(Strict):
        prompt: str = Field(min_length=1, max_length=LIMITS.prompt_chars)
        negative_prompt: str | None = Field(default=None, max_length=LIMITS.negative_prompt_chars)
        media: list[MediaEntry] = Field(min_length=1)

        @model_validator(mode="after")
        def _counts(self) -> Input:
            references = [m for m in self.media if m.type != "first_frame"]
            if not LIMITS.min_references <= len(references) <= LIMITS.max_references:
                raise ValueError(f"{LIMITS.min_references} to {LIMITS.max_references} reference images and "
                                 f"videos, not {len(references)}")
            if len(self.media) - len(references) > LIMITS.max_first_frames:
                raise ValueError(f"at most {count_word(LIMITS.max_first_frames)} first_frame")
            return self

    # Every parameter is optional: an absent one takes the service's default (API_DEFAULTS).
    Parameters = settings_parameters(PARAMETERS, resolutions=RESOLUTIONS, ratios=RATIOS, duration=LIMITS.duration)

    class Payload(Strict):
        model: str
        input: Input
        parameters: Parameters  # type: ignore[valid-type]

        @model_validator(mode="after")
        def _video_duration(self) -> Payload:
            sent = getattr(self.parameters, "duration", None)
            duration = sent if sent is not None else API_DEFAULTS.duration
            longest = LIMITS.duration_with_video[1]
            if any(m.type == "reference_video" for m in self.input.media) and duration > longest:
                raise ValueError(f"duration is at most {longest} s when a reference video is given")
            return self

    return RequestModels(Payload, Input, Parameters, MediaEntry)


TARGET = Wan27()
