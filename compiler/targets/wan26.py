"""The wan2.6-r2v and wan2.6-r2v-flash target: references as a plain `input.reference_urls` list named
character1..N, the output picture as `parameters.size`, several shots as `parameters.shot_type: "multi"`.

Facts from shared/reference/targets.md section 4 and dashscope-r2v-api.md ([w27], [legacy26], both official);
where those are silent, from third-party restatements of the API ([3p]), said so at each number and in
docs/targets-notes/wan26.md.  Alibaba calls this API legacy ("only supports wan2.6 models", 2026-10-12).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from .. import ir
from ..limits import ApiDefaults, FileLimits, Limits
from ..vocabulary import SEED_MAX
from .base import Capabilities, Naming, Slot, Target, counted_as_characters, parameters_of, speaks

TYPE_CHECKING = False  # spelled out: typing is not imported at start-up (records.py)
if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["TARGET", "Wan26", "SIZES"]

_MB = 1024 * 1024
FLASH = "wan2.6-r2v-flash"  # the one model of the two with an `audio` switch [w27]
US_DURATIONS = (5, 10)      # all that US (Virginia) takes [w27]

# (RESOLUTION, RATIO) -> parameters.size.  The API takes a pixel size instead of resolution and ratio; these
# ten are the sizes every restatement lists, by tier [3p: Comfy's wan2.6 node, gmicloud, wavespeed].
SIZES: dict[tuple[str, str], str] = {
    ("720P", "16:9"): "1280*720", ("720P", "9:16"): "720*1280", ("720P", "1:1"): "960*960",
    ("720P", "4:3"): "1088*832", ("720P", "3:4"): "832*1088",
    ("1080P", "16:9"): "1920*1080", ("1080P", "9:16"): "1080*1920", ("1080P", "1:1"): "1440*1440",
    ("1080P", "4:3"): "1632*1248", ("1080P", "3:4"): "1248*1632",
}
_TIER_OF_SIZE = {size: pair for pair, size in SIZES.items()}

# A reference's kind cannot be read from a plain URL list; the renderer asks for the role of each slot, and
# these are the container suffixes the API takes for videos (MP4/MOV [3p]).
_VIDEO_SUFFIXES = (".mp4", ".mov")


class Wan26(Target):
    """wan2.6-r2v(-flash): URLs only, no voices, no first frame, one size parameter."""

    name = "wan2.6-r2v"
    models = ("wan2.6-r2v", FLASH)
    title = "Wan 2.6 reference-to-video (legacy)"
    status = "legacy"
    sources = ("Alibaba's legacy wan2.6 R2V reference [legacy26] and the wan2.6 notes of dashscope-r2v-api.md "
               "(official); sizes, counts, file limits and prompt length from third-party restatements [3p]")
    capabilities = Capabilities(
        voice=False,                  # no reference_voice [w27]
        reference_video=True,         # images and videos in one list [legacy26]
        max_reference_videos=3,       # [3p: vtrix, evolink, fal]
        first_frame=False,            # no typed first frame [w27]
        first_frame_with_references=False,
        storyboard=False,             # [inf] references are characters; no multi-panel reading is documented
        negative_prompt=True,         # input.negative_prompt [3p: gmicloud, Comfy, wavespeed]
        prompt_extend=True,           # [3p: aimlapi, toapis]
        data_uri=False,               # reference_urls are URLs [w27]
        seed=True,                    # 0..2147483647 [3p: gmicloud, Comfy]
        multi_shot_field=False,       # shot_type switches multi-shot on; the shots stay in the prompt
    )
    limits = Limits(
        max_references=5,             # images + videos, at most 5 images and 3 videos [3p: vtrix]
        min_references=1,             # reference_urls is required [legacy26]
        max_first_frames=0,           # refused
        prompt_chars=1500,            # [3p: gmicloud, vtrix, evolink]; longer is truncated
        negative_prompt_chars=500,    # [3p: gmicloud]
        image=FileLimits(("jpeg", "png", "bmp", "webp"), 10 * _MB, sides=(360, 2000)),             # [3p: vtrix]
        video=FileLimits(("mp4", "mov"), 100 * _MB, seconds=(2.0, 30.0)),  # [3p: evolink, fal; vtrix says 3 s]
        voice=FileLimits(("wav", "mp3"), 15 * _MB, seconds=(1.0, 10.0)),   # unused: voices are refused
        aspect=8.0,                   # [unsettled] not stated for wan2.6: wan2.7's bound
        duration=(2, 10),             # whole seconds [w27]; US (Virginia) only 5 or 10
        duration_with_video=(2, 10),
    )
    defaults = ApiDefaults(
        model="wan2.6-r2v",
        resolution="1080P", ratio="16:9",  # size 1920*1080 when left out [3p: gmicloud]
        duration=5,                   # [3p: gmicloud, Comfy]
        prompt_extend=True,           # [3p: aimlapi]
        watermark=False,              # [3p: gmicloud, Comfy]
    )
    resolutions = ("720P", "1080P")
    ratios = ("16:9", "9:16", "1:1", "4:3", "3:4")
    parameters = ("resolution", "ratio", "duration", "prompt_extend", "watermark", "seed")
    # [legacy26] endpoints, for both models: no source in our store says -flash is not served in US.
    regions = ("beijing", "singapore", "us")
    currency = None                  # the reference gives no wan2.6 price: none is invented
    prices: Mapping[str, Mapping[str, float]] = {}
    prices_checked = None
    billing_rule = "wan2.6"          # input = 5 s / number of all references, plus output seconds [w27]

    def naming(self, scene: ir.Scene) -> Naming:
        return counted_as_characters(scene)  # one count over images and videos [w27][legacy26]

    # Why each is refused, for the messages (the inherited `refusals` reads `capabilities`); SIZES has a size for
    # every pair of the RESOLUTION and RATIO values above, so another value, which has none, is refused too.
    reasons: Mapping[str, str] = {
        "voice": " (a reference video lends its own)",
        "first frame": " (its references are characters, none opens the video)",
        "storyboard": " (each reference is one character, not panels)"}

    def payload_dict(self, scene: ir.Scene, prompt: str, naming: Naming) -> dict[str, object]:
        from ..emit import media_url

        settings = scene.settings
        inputs = self.prompt_input(scene, prompt)
        inputs["reference_urls"] = [media_url(member.media, scene.project_root) for member in scene.references]
        return {"model": settings.model, "input": inputs, "parameters": self._parameters(scene)}

    def _parameters(self, scene: ir.Scene) -> dict[str, object]:
        """What the writer set, in the API's names and order, plus shot_type when the scene has several shots and,
        for wan2.6-r2v-flash, audio when anyone speaks."""
        settings = self.settle(scene.settings)
        given = settings.given
        parameters: dict[str, object] = {}
        if "RESOLUTION" in given or "RATIO" in given:
            # An empty size (a pair refusals() refused) fails the request model rather than vanishing.
            parameters["size"] = SIZES.get((settings.resolution, settings.ratio), "")
        if "DURATION" in given:
            parameters["duration"] = settings.duration
        if len(scene.shots) > 1:
            # [inf] the scene's cuts are the writer's shots; the API would otherwise make one continuous shot.
            parameters["shot_type"] = "multi"
        if scene.settings.model == FLASH and speaks(scene):
            # Only -flash has the switch [w27]; its default is not in our sources [unsettled], so a scene with
            # dialogue asks for sound rather than risk a silent video.  wan2.6-r2v has no switch: always sound [inf].
            parameters["audio"] = True
        if "PROMPT EXTEND" in given:
            parameters["prompt_extend"] = settings.prompt_extend
        if "WATERMARK" in given:
            parameters["watermark"] = settings.watermark
        if "SEED" in given:
            parameters["seed"] = settings.seed
        return parameters

    def request_model(self) -> type[BaseModel]:
        return _request_model(self.models, self.limits)

    def media_slots(self, body: Mapping[str, object]) -> list[Slot]:
        urls = body["input"]["reference_urls"]  # type: ignore[index]
        return [Slot(("input", "reference_urls", index), _role(url), url) for index, url in enumerate(urls)]

    def region_refusal(self, scene: ir.Scene, region: str | None) -> str | None:
        """US (Virginia) takes only 5 or 10 s [w27]; the other regions the whole 2-10 s range."""
        duration = self.settle(scene.settings).duration
        if region != "us" or duration in US_DURATIONS:
            return None
        return (f"{scene.settings.model} in us (Virginia) makes videos of {US_DURATIONS[0]} or {US_DURATIONS[1]} s "
                f"only, not {duration} s: set DURATION to one of them, or pass --region beijing")

    def effective_parameters(self, body: Mapping[str, object]) -> dict[str, object]:
        """The body's parameters with the service's defaults filled in, and the size read back as RESOLUTION and
        RATIO (the names the price table and the other targets use)."""
        sent = parameters_of(body)
        defaults = self.defaults
        size = str(sent.get("size", SIZES[(defaults.resolution, defaults.ratio)]))
        resolution, ratio = _TIER_OF_SIZE.get(size, (defaults.resolution, defaults.ratio))
        effective: dict[str, object] = {
            "size": size, "resolution": resolution, "ratio": ratio,
            "duration": sent.get("duration", defaults.duration), "shot_type": sent.get("shot_type", "single"),
            "prompt_extend": sent.get("prompt_extend", defaults.prompt_extend),
            "watermark": sent.get("watermark", defaults.watermark)}
        for name in ("audio", "seed"):  # audio: -flash only, its default unknown [unsettled]
            if name in sent:
                effective[name] = sent[name]
        return effective


def _role(url: str) -> str:
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    return "video" if path.endswith(_VIDEO_SUFFIXES) else "image"


@functools.cache
def _request_model(models: tuple[str, ...], limits: Limits) -> type[BaseModel]:
    """The body's pydantic model, built on first use (pydantic is not imported by `scenec check`)."""
    from typing import Literal

    from pydantic import Field, ValidationInfo, field_validator, model_validator

    from ..payload import Strict, check_url

    class Input(Strict):
        prompt: str = Field(min_length=1, max_length=limits.prompt_chars)
        negative_prompt: str | None = Field(default=None, max_length=limits.negative_prompt_chars)
        reference_urls: list[str] = Field(min_length=limits.min_references, max_length=limits.max_references)

        @field_validator("reference_urls")
        @classmethod
        def _urls(cls, urls: list[str], info: ValidationInfo) -> list[str]:
            return [check_url(url, info, image=False) for url in urls]  # no data URIs: URLs only

    class Parameters(Strict):
        size: Literal[tuple(SIZES.values())] | None = None  # type: ignore[valid-type]
        duration: int | None = Field(default=None, ge=limits.duration[0], le=limits.duration[1])
        shot_type: Literal["single", "multi"] | None = None
        audio: bool | None = None
        prompt_extend: bool | None = None
        watermark: bool | None = None
        seed: int | None = Field(default=None, ge=0, le=SEED_MAX)

    class Payload(Strict):
        model: Literal[models]  # type: ignore[valid-type]
        input: Input
        parameters: Parameters

        @model_validator(mode="after")
        def _audio(self) -> Payload:
            if self.parameters.audio is not None and self.model != FLASH:
                raise ValueError(f"only {FLASH} takes audio")
            return self

    return Payload


TARGET = Wan26()
