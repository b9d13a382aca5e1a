"""The happyhorse-1.0-r2v target: reference images only, named `character1`..`character9` by media position.

Facts: shared/reference/targets.md section 2, read 2026-12-02.  Tags as there: [hh] an Alibaba-adjacent skills
repository's API reference (third party), [hh-3p] Comfy Router and a copy of a vendor example, [inf] ours.
- input.media holds 1-9 items, each {"type": "reference_image", "url": ...}; no other type [hh].
- The prompt calls the item at position N "characterN", lower case, glued [hh][hh-3p]; one copy of a vendor
  example writes "[Image 1]" instead [unsettled]: characterN is built here and nowhere else.
- resolution 720P/1080P (default 1080P), ratio 16:9/9:16/1:1/4:3/3:4 (default 16:9), duration 3-15 (default 5),
  watermark (default true), seed; no negative_prompt, prompt_extend, size, audio or shot_type [hh].
- Prompt at most 5000 characters, or 2500 of Chinese [hh]; the count of mixed text is not stated [unsettled]:
  read here as one rule, a CJK character counting as two (Limits.prompt_length), in check and the request model.
- Billed per output second (usage shows input_video_duration 0) [inf]; no published price.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from .. import ir
from ..limits import ApiDefaults, FileLimits, Limits, cjk_count
from .base import Capabilities, Naming, Target, counted_as_characters
from .wan27 import LIMITS as WAN27_LIMITS

TYPE_CHECKING = False  # spelled out: typing is not imported at start-up (records.py)
if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["TARGET", "HappyHorse", "cjk_count"]

MODEL = "happyhorse-1.0-r2v"
MODELS = (MODEL,)  # a 1.1 r2v exists elsewhere; its DashScope id is not confirmed [unsettled]
RESOLUTIONS = ("720P", "1080P")  # [hh]
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")  # [hh]
PARAMETERS = ("resolution", "ratio", "duration", "watermark", "seed")  # ir.Settings fields, in the API's order
MAX_IMAGES = 9
_MB = 1024 * 1024


class HappyHorse(Target):
    """happyhorse-1.0-r2v: reference images only.  The inherited `refusals` refuses, from `capabilities`, a first
    frame, a storyboard, videos, voices, data URIs, NEGATIVE PROMPT and PROMPT EXTEND, and the setting values it
    lacks."""

    name = MODEL
    models = MODELS
    title = "HappyHorse 1.0 reference-to-video"
    status = "third-party sources"
    sources = ("an Alibaba-adjacent agent-skills API reference (cinience/alicloud-skills) and Comfy Router's "
               "HappyHorse r2v schema [3p]; no official page in our store")
    capabilities = Capabilities(
        voice=False, reference_video=False, max_reference_videos=0, first_frame=False,
        first_frame_with_references=False,
        storyboard=False,  # [inf] its references are characters [hh]; no multi-panel reading is documented
        negative_prompt=False, prompt_extend=False,
        data_uri=False, seed=True, multi_shot_field=False)
    limits = Limits(
        max_references=MAX_IMAGES,
        min_references=1,
        max_first_frames=0,
        prompt_chars=5000,              # [hh]
        negative_prompt_chars=0,        # none taken: NEGATIVE PROMPT is refused at its line
        # [hh] JPEG/JPG/PNG/WEBP, short side >= 400 px (so each side), <= 10 MB; no longest side is stated:
        # wan2.7's 8000 px [inf].
        image=FileLimits(("jpeg", "png", "webp"), 10 * _MB, sides=(400, 8000)),
        video=WAN27_LIMITS.video,       # never used: reference videos are refused
        voice=WAN27_LIMITS.voice,       # never used: voices are refused
        aspect=WAN27_LIMITS.aspect,     # not stated: wan2.7's [inf]
        duration=(3, 15),
        duration_with_video=(3, 15),    # never used: reference videos are refused
        # [hh] "<= 5000 non-CJK or <= 2500 CJK characters".  How mixed text counts is not stated [unsettled]: a
        # CJK character counts as two (Limits.prompt_length) [inf], whatever the scene's LANGUAGE, the same rule
        # in check.py and in the request model; both readings' ends (5000 Latin, 2500 Chinese) hold exactly.
        cjk_prompt_chars=2500,
    )
    # prompt_extend: no such parameter [hh]; the model is taken not to rewrite the prompt [inf].
    defaults = ApiDefaults(model=MODEL, resolution="1080P", ratio="16:9", duration=5, prompt_extend=False,
                           watermark=True)
    resolutions = RESOLUTIONS
    ratios = RATIOS
    parameters = PARAMETERS
    regions = ("beijing", "singapore")  # [hh]
    currency = None
    prices: Mapping[str, Mapping[str, float]] = {}  # no official price seen
    prices_checked = None
    billing_rule = "output"  # usage: input_video_duration 0, duration = output seconds [hh]

    reasons: Mapping[str, str] = {"storyboard": " (each reference is one character, not panels)"}

    def naming(self, scene: ir.Scene) -> Naming:
        return counted_as_characters(scene)  # N the item's position in media, every item an image [hh][hh-3p]

    def payload_dict(self, scene: ir.Scene, prompt: str, naming: Naming) -> dict[str, object]:
        from ..emit import media_url

        root = scene.project_root
        media = [{"type": "reference_image", "url": media_url(member.media, root)} for member in scene.references]
        settings = scene.settings
        return {"model": settings.model, "input": {"prompt": prompt, "media": media},
                "parameters": self.sent_parameters(scene)}

    def request_model(self) -> type[BaseModel]:
        return _request_model()


@functools.cache
def _request_model() -> type[BaseModel]:
    """The request body: unknown fields forbidden, 1-9 reference images, the API's ranges."""
    from typing import Literal

    from pydantic import Field, field_validator

    from ..payload import Strict, UrlItem, checked_body, settings_parameters

    limits = TARGET.limits

    class Media(UrlItem):
        type: Literal["reference_image"]

    class Input(Strict):
        prompt: str = Field(min_length=1, max_length=limits.prompt_chars)
        media: list[Media] = Field(min_length=limits.min_references, max_length=limits.max_references)

        @field_validator("prompt")
        @classmethod
        def _weighted_length(cls, value: str) -> str:
            # The rule check.py holds (Limits.prompt_length): a CJK character counts as two [inf].
            length = limits.prompt_length(value)
            if length > limits.prompt_chars:
                raise ValueError(f"the prompt counts {length} characters, a CJK one as {limits.cjk_weight}; at most "
                                 f"{limits.prompt_chars} (a Chinese prompt has at most {limits.cjk_prompt_chars})")
            return value

    parameters = settings_parameters(PARAMETERS, resolutions=RESOLUTIONS, ratios=RATIOS, duration=limits.duration)
    return checked_body("HappyHorsePayload", MODELS, Input, parameters)


TARGET = HappyHorse()
