"""The wan3.0-video target (preview): typed `input.media[]` with images, videos and voices as `reference_audio`.

Facts: shared/reference/targets.md section 1, read 2026-12-02.  Tags as there: [off] Alibaba's Wan 3.0 API
reference (a preview), [3p] resellers restating it, [inf] our inference, [unsettled] where sources disagree.
- The media array's order numbers the references per type: "Image N", "Video N", "Audio N" [off].  Chinese
  图N / 视频N / 音频N [unsettled] (no Chinese forms in the sources read);
  "Image 1" even for a single reference (no "reference image" form documented) [inf].
- reference_image <= 10, reference_video <= 5 (together <= 15 s), reference_audio <= 5 (together <= 15 s) [off];
  a first_frame cannot go with any reference_* item [off].
- No reference_voice: a member's voice is its own reference_audio entry, after all references in cast order [inf].
- negative_prompt and prompt_extend were removed in 3.0 [3p][unsettled]: refused at their lines, never sent.
- resolution 480P/720P/1080P, duration 2-30 (default 5) [3p]; the defaults 1080P, 16:9 and no watermark are
  wan2.7's [inf] (no default resolution stated; ratio and watermark "as in 2.7").
- A storyboard is one more reference image, "Image N" [inf]: no storyboard form is documented for 3.0.
- No published price [unsettled]: `prices` is empty and the estimate shows seconds only.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from .. import ir
from ..diagnostics import Diagnostic
from ..limits import ApiDefaults, Limits
from .base import Capabilities, Naming, Target, counted_per_kind
from .wan27 import LIMITS as WAN27_LIMITS

TYPE_CHECKING = False  # spelled out: typing is not imported at start-up (records.py)
if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["TARGET", "Wan30"]

MODEL = "wan3.0-video"
MODELS = (MODEL,)  # wan3.0-video-prime is named by resellers only [3p][unsettled]: not taken
MAX_IMAGES = 10            # reference_image items [off]
MAX_VIDEOS = 5             # reference_video items [off]
MAX_VOICES = 5             # reference_audio items [off]
MAX_VIDEO_SECONDS = 15.0   # the reference videos together [off]
MAX_VOICE_SECONDS = 15.0   # the voices (reference_audio) together [off]
RESOLUTIONS = ("480P", "720P", "1080P")  # [3p]
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")  # the five of 2.7 [3p]
PARAMETERS = ("resolution", "ratio", "duration", "watermark", "seed")  # ir.Settings fields, in the API's order

_WORDS = {"en": {"image": "Image {}", "video": "Video {}", "voice": "Audio {}"},
          "zh": {"image": "图{}", "video": "视频{}", "voice": "音频{}"}}


def _count_label(language: str, kind: str, ordinal: int) -> str:
    words = _WORDS["zh" if language == "zh" else "en"]
    return words[kind].format(ordinal)


class Wan30(Target):
    name = MODEL
    models = MODELS
    title = "Wan 3.0 video (references)"
    status = "preview"
    sources = ("Alibaba Model Studio, Wan 3.0 video generation API reference (preview, Aug-Oct 2026) [off]; "
               "resolution, duration, removed negative prompt / prompt extend from resellers [3p]")
    capabilities = Capabilities(
        voice=True, reference_video=True, max_reference_videos=MAX_VIDEOS, first_frame=True,
        first_frame_with_references=False, storyboard=True,  # one more image [inf]
        negative_prompt=False, prompt_extend=False,
        data_uri=False, seed=True, multi_shot_field=False)
    # File limits per kind are not in the sources read [unsettled]: wan2.7's table until confirmed.
    limits = Limits(
        max_references=MAX_IMAGES + MAX_VIDEOS,   # per kind refused in `refusals`
        min_references=0,                         # a first frame alone is image-to-video [off]
        max_first_frames=1,
        prompt_chars=20_000,                      # [off] longer prompts are silently truncated
        negative_prompt_chars=0,                  # none taken: NEGATIVE PROMPT is refused at its line
        image=WAN27_LIMITS.image,
        video=WAN27_LIMITS.video._replace(seconds=(1.0, MAX_VIDEO_SECONDS)),  # one clip cannot pass the total [inf]
        voice=WAN27_LIMITS.voice,
        aspect=WAN27_LIMITS.aspect,
        duration=(2, 30),                         # [3p]; -1 ("model picks") is never sent
        duration_with_video=(2, 30),              # no other range stated [unsettled]
        video_total_seconds=MAX_VIDEO_SECONDS,    # checked by check.py with declared or probed lengths
        voice_total_seconds=MAX_VOICE_SECONDS,
    )
    # resolution, ratio, watermark: wan2.7's defaults [inf]; duration 5 [3p].  prompt_extend: no such parameter in
    # 3.0 [3p]; the model is taken not to rewrite the prompt [inf].
    defaults = ApiDefaults(model=MODEL, resolution="1080P", ratio="16:9", duration=5, prompt_extend=False,
                           watermark=False)
    resolutions = RESOLUTIONS
    ratios = RATIOS
    parameters = PARAMETERS
    regions = ("singapore", "beijing", "us", "hongkong")  # [off]
    currency = None
    prices: Mapping[str, Mapping[str, float]] = {}  # no official price seen; resellers' prices are not ours
    prices_checked = None
    # Whether reference video seconds are billed as input is not stated [unsettled]: counted as in 2.7, so an
    # estimate errs high rather than low.
    billing_rule = "wan2.7"

    def naming(self, scene: ir.Scene) -> Naming:
        """Images and videos numbered per type in media order (a first frame goes first; with references it is
        refused); voices "Audio N" in cast order."""
        language = scene.settings.language
        naming = counted_per_kind(scene, lambda kind, number: _count_label(language, kind, number),
                                  1 if scene.first_frame else 0)
        voiced = [member.name for member in scene.references if member.voice is not None]
        voices = {name: _count_label(language, "voice", number) for number, name in enumerate(voiced, 1)}
        return naming._replace(voices=voices)

    # Voice reasons: the first-frame rule [off]; NEGATIVE PROMPT and PROMPT EXTEND [3p].
    reasons: Mapping[str, str] = {"setting": " (removed in Wan 3.0)",
                                  "first frame voice": " (audio cannot go with a first frame)"}

    def refusals(self, scene: ir.Scene) -> list[Diagnostic]:
        """The inherited ones (a first frame's voice, videos over five, data URIs, settings, values), a first frame
        with references, more than ten images or five voices (the 15 s totals are check.py's, with the probed
        lengths: Limits.video_total_seconds and voice_total_seconds)."""
        return self._first_frame_refusals(scene) + super().refusals(scene) + self._count_refusals(scene)

    def _first_frame_refusals(self, scene: ir.Scene) -> list[Diagnostic]:
        if scene.first_frame is None or not scene.references:
            return []
        return [self.refuse(scene, "cannot take a FIRST FRAME together with reference images or videos: remove "
                                   "FIRST FRAME, or compile for wan2.7-r2v", scene.first_frame.span)]

    def _count_refusals(self, scene: ir.Scene) -> list[Diagnostic]:
        """Images and voices over their counts, at the first member over each (videos over five: `refused_videos`)."""
        found = []
        images = [m for m in scene.references if m.kind == "image"]
        voiced = [m for m in scene.references if m.voice is not None]
        if len(images) > MAX_IMAGES:
            extra = images[MAX_IMAGES]
            found.append(self.refuse(scene, f"takes at most {MAX_IMAGES} reference images, and {extra.name} is "
                                            f"number {MAX_IMAGES + 1}: drop or merge references", extra.media.span,
                                     extra.path))
        if len(voiced) > MAX_VOICES:
            extra = voiced[MAX_VOICES]
            assert extra.voice is not None
            found.append(self.refuse(scene, f"takes at most {MAX_VOICES} voices, and {extra.name}'s is number "
                                            f"{MAX_VOICES + 1}: remove a VOICE", extra.voice.span, extra.path))
        return found

    def payload_dict(self, scene: ir.Scene, prompt: str, naming: Naming) -> dict[str, object]:
        """References in cast order, then each voice as a reference_audio entry in the same order."""
        from ..emit import media_url

        root = scene.project_root
        media: list[dict[str, str]] = []
        if scene.first_frame is not None:
            media.append({"type": "first_frame", "url": media_url(scene.first_frame.media, root)})
        for member in scene.references:
            media.append({"type": f"reference_{member.kind}", "url": media_url(member.media, root)})
        for member in scene.references:
            if member.voice is not None:
                media.append({"type": "reference_audio", "url": media_url(member.voice, root)})
        inputs: dict[str, object] = {"prompt": prompt}
        if media:
            inputs["media"] = media
        return {"model": scene.settings.model, "input": inputs, "parameters": self.sent_parameters(scene)}

    def request_model(self) -> type[BaseModel]:
        return _request_model()


@functools.cache
def _request_model() -> type[BaseModel]:
    """The request body: unknown fields forbidden; the per-type counts and the first-frame exclusion enforced."""
    from typing import Literal

    from pydantic import Field, model_validator

    from ..payload import Strict, UrlItem, checked_body, settings_parameters

    class Media(UrlItem):
        type: Literal["reference_image", "reference_video", "reference_audio", "first_frame"]

    class Input(Strict):
        prompt: str = Field(min_length=1, max_length=TARGET.limits.prompt_chars)
        media: list[Media] | None = Field(default=None, min_length=1)

        @model_validator(mode="after")
        def _counts(self) -> Input:
            types: list[str] = [item.type for item in self.media or []]
            for kind, limit in (("reference_image", MAX_IMAGES), ("reference_video", MAX_VIDEOS),
                                ("reference_audio", MAX_VOICES), ("first_frame", 1)):
                if types.count(kind) > limit:
                    raise ValueError(f"at most {limit} {kind} items, not {types.count(kind)}")
            if "first_frame" in types and len(types) > 1:
                raise ValueError("a first_frame cannot go with reference_* items")
            return self

    parameters = settings_parameters(PARAMETERS, resolutions=RESOLUTIONS, ratios=RATIOS,
                                     duration=TARGET.limits.duration)
    return checked_body("Wan30Payload", MODELS, Input, parameters)


TARGET = Wan30()
