"""The Kling V3 Omni target on DashScope (`kling/kling-v3-omni-video-generation`): reference images as `refer`
media named <<<image_N>>>, one reference video as `feature` named <<<video_1>>>, the scene's timed shots as
Kling's own per-shot prompts (`multi_prompt`).

Facts from shared/reference/targets.md section 3: the DashScope request from Alibaba-adjacent skills [kl], the
multi-shot item layout and per-shot limits from Comfy's copy of Kling's schema [kl-3p].  Every DashScope-specific
fact has a single third-party source; docs/targets-notes/kling.md says which choices rest on what.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from .. import ir
from ..diagnostics import Diagnostic
from ..limits import ApiDefaults, FileLimits, Limits
from .base import Capabilities, Naming, Target, counted_per_kind, parameters_of, speaks

TYPE_CHECKING = False  # spelled out: typing is not imported at start-up (records.py)
if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["TARGET", "Kling", "MODES", "MULTI_SHOTS", "SHOT_PROMPT_CHARS", "multi_shot", "shot_bound",
           "shot_prompts", "shot_seconds"]

_MB = 1024 * 1024

MODES = {"1080P": "pro", "720P": "std"}  # RESOLUTION -> parameters.mode [kl]
_RESOLUTION_OF_MODE = {mode: resolution for resolution, mode in MODES.items()}
MULTI_SHOTS = (2, 6)                    # shots one request may carry as multi_prompt items [kl-3p]
SHOT_PROMPT_CHARS = 512                 # each multi_prompt item's prompt [kl-3p]
MAX_IMAGES_WITH_VIDEO = 4               # refer images beside the one feature video [kl]
_MEDIA_TYPES = {"image": "refer", "video": "feature"}   # a cast member's kind -> its media type [kl]

_WAN = "compile for wan2.7-r2v"


class Kling(Target):
    """kling/kling-v3-omni-video-generation: Beijing only, no voices, one video, per-shot prompts when timed."""

    name = "kling/kling-v3-omni-video-generation"
    models = ("kling/kling-v3-omni-video-generation",)
    title = "Kling V3 Omni on DashScope"
    status = "third-party sources"
    sources = ("Alibaba-adjacent skills for DashScope [kl] (cinience/alicloud-skills, aliyun-kling-video) and "
               "Comfy Router's Kling V3 Omni schema [kl-3p]; no official DashScope page in our store")
    capabilities = Capabilities(
        voice=False,                  # the audio switch only generates sound [kl]
        reference_video=True,         # one `feature` video [kl]
        max_reference_videos=1,       # "exactly one video in any case" [kl]
        first_frame=True,             # `first_frame` media [kl]
        first_frame_with_references=True,  # with the feature video; not with refer images (refusals) [kl]
        storyboard=False,             # no multi-panel reading in [kl]: a refer image is a subject [inf]
        negative_prompt=True,         # input.negative_prompt [kl]
        prompt_extend=False,          # not in the schema [kl]
        data_uri=False,               # URLs only in [kl]'s media [unsettled]
        seed=False,                   # not in the schema [kl]
        multi_shot_field=True,        # multi_shot + multi_prompt [kl][kl-3p]
    )
    limits = Limits(
        max_references=7,             # refer images (+ elements) <= 7; with a video, 4 images + the video [kl]
        min_references=0,             # the Omni model also makes video from text or a first frame alone [kl]
        max_first_frames=1,
        prompt_chars=2500,            # [kl]
        negative_prompt_chars=2500,   # [unsettled] none stated on DashScope; Kling's own API takes 2500
        image=FileLimits(("jpeg", "png"), 10 * _MB, sides=(300, 8000)),                          # [kl]
        video=FileLimits(("mp4", "mov"), 200 * _MB, sides=(720, 2160), seconds=(3.0, 10.0)),     # [kl]
        voice=FileLimits(("wav", "mp3"), 15 * _MB, seconds=(1.0, 10.0)),   # unused: voices are refused
        aspect=2.5,                   # images 1:2.5 to 2.5:1 [kl-3p]
        aspect_kinds=("image",),      # none stated for videos: their sides (720-2160 px) are the bound [kl]
        duration=(3, 15),             # [kl]
        duration_with_video=(3, 10),  # [kl]
    )
    defaults = ApiDefaults(
        model="kling/kling-v3-omni-video-generation",
        resolution="1080P",           # mode pro [kl]
        ratio="16:9",                 # [kl]
        duration=5,                   # [kl]
        prompt_extend=False,          # no such switch: the prompt is used as written [inf]
        watermark=False,              # [kl]
    )
    resolutions = ("720P", "1080P")
    ratios = ("16:9", "9:16", "1:1")
    parameters = ("resolution", "ratio", "duration", "watermark")
    regions = ("beijing",)            # "Beijing region only. No Singapore endpoint." [kl]
    currency = None                   # no official DashScope price seen [kl]: none is invented
    prices: Mapping[str, Mapping[str, float]] = {}
    prices_checked = None
    billing_rule = "output"           # by mode and audio, per output second [kl] [inf]

    # --- names ------------------------------------------------------------------------------------------

    def naming(self, scene: ir.Scene) -> Naming:
        # Numbered per kind in media order, lower case, an underscore before the number [kl]; the first frame last.
        return counted_per_kind(scene, lambda kind, number: f"<<<{kind}_{number}>>>")

    # --- refusals ---------------------------------------------------------------------------------------

    reasons: Mapping[str, str] = {
        "voice": " (its audio switch only makes sound)",
        "first frame voice": " (its audio switch only makes sound)",
        "storyboard": " (a refer image is a subject to show, not panels to follow)"}

    def refusals(self, scene: ir.Scene) -> list[Diagnostic]:
        """The inherited ones (a first frame's voice, a storyboard, a second video, voices, data URIs, SEED,
        PROMPT EXTEND, RATIO 4:3 and 3:4, RESOLUTION 480P), Kling's combinations and, for a timed scene, its
        shots."""
        found = super().refusals(scene) + self._combination_refusals(scene)
        if multi_shot(scene):
            found += self._shot_refusals(scene)
        return found

    def _combination_refusals(self, scene: ir.Scene) -> list[Diagnostic]:
        """[kl]: at most four refer images beside the feature video; a first frame with a feature video only."""
        found = []
        videos = [member for member in scene.references if member.kind == "video"]
        images = [member for member in scene.references if member.kind == "image"]
        if videos and len(images) > MAX_IMAGES_WITH_VIDEO and len(scene.references) <= self.limits.max_references:
            # More than max_references is check.py's (limits); this is the tighter rule beside a video.
            member = images[MAX_IMAGES_WITH_VIDEO]
            found.append(self.refuse(scene, f"takes at most {MAX_IMAGES_WITH_VIDEO} reference images beside a "
                                            "reference video: remove this one or make the video an image",
                                     member.media.span, member.path))
        if scene.first_frame is not None and images:
            # [kl] lists first_frame with a feature video, never with refer images.
            found.append(self.refuse(scene, "takes a FIRST FRAME with a reference video only, not with "
                                            f"reference images: remove FIRST FRAME or {_WAN}", scene.first_frame.span))
        return found

    def _shot_refusals(self, scene: ir.Scene) -> list[Diagnostic]:
        """Timed shots become multi_prompt items: at most six, each prompt short, whole seconds adding up to
        the scene's duration."""
        shots = scene.shots
        found = []
        if len(shots) > MULTI_SHOTS[1]:
            shot = shots[MULTI_SHOTS[1]]
            found.append(self.refuse(scene, f"takes at most {MULTI_SHOTS[1]} timed shots: join this shot to "
                                            "another or remove its timing", shot.timing_span or shot.span))
        found += self._long_shot_refusals(scene, shots[:MULTI_SHOTS[1]])
        for shot in shots[:MULTI_SHOTS[1]]:
            if not float(shot_seconds(shot)).is_integer():
                found.append(self.refuse(scene, f"takes shots of whole seconds, not {shot_seconds(shot):g} s: "
                                                "round this timing", shot.timing_span))
        total, duration = sum(shot_seconds(shot) for shot in shots), self.settle(scene.settings).duration
        if total != duration:
            last = shots[-1]
            found.append(self.refuse(scene, f"needs the shots' timings to add up to DURATION ({duration} s), "
                                            f"not {total:g} s: change this timing or DURATION",
                                     last.timing_span or last.span))
        return found

    def _long_shot_refusals(self, scene: ir.Scene, shots: tuple[ir.Shot, ...]) -> list[Diagnostic]:
        """A shot whose own prompt is over the limit, at the shot.  The templates render only when a shot's bound
        passes the limit: check stays fast (no jinja2) on the usual timed scene."""
        bounds = [shot_bound(scene, shot) for shot in shots]
        if all(bound is not None and bound <= SHOT_PROMPT_CHARS for bound in bounds):
            return []
        found = []
        for shot, text in zip(shots, shot_prompts(scene, self.naming(scene)), strict=False):
            if len(text) > SHOT_PROMPT_CHARS:
                found.append(self.refuse(scene, f"takes at most {SHOT_PROMPT_CHARS} characters per shot, and "
                                                f"this shot's prompt has {len(text)}: shorten it or split it",
                                         shot.span or shot.timing_span))
        return found

    def prompt_is_read(self, scene: ir.Scene) -> bool:
        """With multi_shot the service ignores input.prompt [kl-3p]: the items carry the scene instead."""
        return not multi_shot(scene)

    def shot_requests(self, scene: ir.Scene, naming: Naming) -> list[str] | None:
        return shot_prompts(scene, naming) if multi_shot(scene) else None

    # --- the request --------------------------------------------------------------------------------------

    def payload_dict(self, scene: ir.Scene, prompt: str, naming: Naming) -> dict[str, object]:
        settings = scene.settings
        inputs = self.prompt_input(scene, prompt)
        media = _media(scene)
        if media:  # none: the Omni model makes the video from the text alone
            inputs["media"] = media
        if multi_shot(scene):
            inputs["multi_shot"] = True
            inputs["shot_type"] = "customize"
            inputs["multi_prompt"] = [
                {"index": number, "prompt": text, "duration": _whole(shot_seconds(shot))}
                for number, (shot, text) in enumerate(zip(scene.shots, shot_prompts(scene, naming), strict=True), 1)]
        return {"model": settings.model, "input": inputs, "parameters": self._parameters(scene)}

    def _parameters(self, scene: ir.Scene) -> dict[str, object]:
        """What the writer set, in Kling's names and order; aspect_ratio also when left out, as [kl] marks it
        required for reference-to-video, and never with a first frame: the video takes the frame's shape (as
        for wan2.7, check warns ratio-with-first-frame); audio true when anyone speaks, left out otherwise."""
        settings = self.settle(scene.settings)
        given = settings.given
        parameters: dict[str, object] = {}
        if "RESOLUTION" in given:
            parameters["mode"] = MODES.get(settings.resolution, settings.resolution)  # unknown: the model refuses
        if scene.first_frame is None:
            parameters["aspect_ratio"] = settings.ratio
        if "DURATION" in given:
            parameters["duration"] = settings.duration
        if speaks(scene):
            # Without it the video is silent [kl] and the dialogue would be lost; it raises the price [kl] [inf].
            parameters["audio"] = True
        if "WATERMARK" in given:
            parameters["watermark"] = settings.watermark
        return parameters

    def request_model(self) -> type[BaseModel]:
        return _request_model(self.models, self.limits, self.ratios, self.defaults.duration)

    def effective_parameters(self, body: Mapping[str, object]) -> dict[str, object]:
        """The body's parameters with the service's defaults, and mode and aspect_ratio also read back as
        RESOLUTION and RATIO (the names the price table and the other targets use)."""
        sent = parameters_of(body)
        defaults = self.defaults
        mode = str(sent.get("mode", MODES[defaults.resolution]))
        ratio = sent.get("aspect_ratio", defaults.ratio)
        return {"mode": mode, "resolution": _RESOLUTION_OF_MODE.get(mode, defaults.resolution),
                "aspect_ratio": ratio, "ratio": ratio, "duration": sent.get("duration", defaults.duration),
                "audio": sent.get("audio", False), "watermark": sent.get("watermark", defaults.watermark)}


def multi_shot(scene: ir.Scene) -> bool:
    """Whether the scene's shots go to multi_prompt: two or more shots, every one timed.  An untimed scene is
    one prompt (its shots stay in the text, as for the other targets)."""
    return len(scene.shots) >= MULTI_SHOTS[0] and all(shot.timing for shot in scene.shots)


def shot_seconds(shot: ir.Shot) -> float:
    start, end = shot.timing or (0.0, 0.0)
    return end - start


def shot_prompts(scene: ir.Scene, naming: Naming) -> list[str]:
    """Each multi_prompt item's prompt: the scene's opening (what the template writes before the first shot: style
    line, atmosphere, cast descriptions) and then the shot, as if the shot were the whole scene.  With multi_shot
    the service ignores input.prompt [kl-3p], so an item must carry the opening itself.  The shot keeps no mark of
    the whole scene's clock ("(4-10s)"): the item's own `duration` says how long it lasts; a template that must
    write a segment (PROMPT STYLE: timed) gets the item's own, from 0."""
    from ..prompt import prompt_from_output, prompt_template, shot_views, template_context

    template = prompt_template(scene)
    context = template_context(scene, naming)
    unit = "秒" if scene.settings.language == "zh" else "s"
    prompts = []
    for shot, view in zip(scene.shots, shot_views(scene, naming), strict=True):
        view.timing = None
        view.segment = f"0-{shot_seconds(shot):g}{unit}"
        prompts.append(prompt_from_output(scene, template.render(shots=[view], **context)))
    return prompts


def shot_bound(scene: ir.Scene, shot: ir.Shot) -> int | None:
    """An upper bound of the shot's multi_prompt item without the templates: what prompt.length_bound counts for
    the scene's opening and this one shot (a test holds it).  None with a project's own templates or a template
    folder of Kling's, which may write anything."""
    from ..prompt import length_bound, project_templates

    if project_templates(scene) is not None or Kling.template_folder:
        return None
    return length_bound(scene._replace(shots=(shot,)))


def _whole(seconds: float) -> int | float:
    # A fractional length stays fractional, so the request model refuses it rather than rounding it away.
    return int(seconds) if float(seconds).is_integer() else seconds


def _media(scene: ir.Scene) -> list[dict[str, str]]:
    """refer and feature items in cast order, then the first frame: last, so that no reading of "image N" that
    counts every image could take the first frame for a reference."""
    from ..emit import media_url

    root = scene.project_root
    media = [{"type": _MEDIA_TYPES[member.kind], "url": media_url(member.media, root)} for member in scene.references]
    if scene.first_frame:
        media.append({"type": "first_frame", "url": media_url(scene.first_frame.media, root)})
    return media


@functools.cache
def _request_model(models: tuple[str, ...], limits: Limits, ratios: tuple[str, ...],
                   default_duration: int) -> type[BaseModel]:
    """The body's pydantic model, built on first use (pydantic is not imported by `scenec check`)."""
    from typing import Literal

    from pydantic import Field, model_validator

    from ..payload import Strict, UrlItem

    class MediaItem(UrlItem):  # URLs only: no data URIs [kl]
        type: Literal["refer", "feature", "first_frame"]

    class ShotPrompt(Strict):
        index: int = Field(ge=1, le=MULTI_SHOTS[1])
        prompt: str = Field(min_length=1, max_length=SHOT_PROMPT_CHARS)
        duration: int = Field(ge=1, le=limits.duration[1])

    class Input(Strict):
        prompt: str = Field(min_length=1)  # held to prompt_chars unless multi_shot: see _combinations
        negative_prompt: str | None = Field(default=None, max_length=limits.negative_prompt_chars)
        media: list[MediaItem] | None = Field(default=None, min_length=1)
        multi_shot: bool | None = None
        shot_type: Literal["intelligence", "customize"] | None = None
        multi_prompt: list[ShotPrompt] | None = Field(default=None, min_length=MULTI_SHOTS[0],
                                                      max_length=MULTI_SHOTS[1])

        @model_validator(mode="after")
        def _combinations(self) -> Input:
            _check_media([item.type for item in self.media or []], limits)
            if not self.multi_shot and len(self.prompt) > limits.prompt_chars:
                # With multi_shot the service ignores the prompt [kl-3p], so its length is not held [unsettled].
                raise ValueError(f"the prompt has at most {limits.prompt_chars} characters, not {len(self.prompt)}")
            if self.multi_prompt is not None:
                if not (self.multi_shot and self.shot_type == "customize"):
                    raise ValueError("multi_prompt needs multi_shot true and shot_type customize")
                if [item.index for item in self.multi_prompt] != list(range(1, len(self.multi_prompt) + 1)):
                    raise ValueError("multi_prompt indexes count 1, 2, 3 ...")
            return self

    class Parameters(Strict):
        mode: Literal["pro", "std"] | None = None
        aspect_ratio: Literal[ratios] | None = None  # type: ignore[valid-type]
        duration: int | None = Field(default=None, ge=limits.duration[0], le=limits.duration[1])
        audio: bool | None = None
        watermark: bool | None = None

    class Payload(Strict):
        model: Literal[models]  # type: ignore[valid-type]
        input: Input
        parameters: Parameters

        @model_validator(mode="after")
        def _durations(self) -> Payload:
            duration = self.parameters.duration if self.parameters.duration is not None else default_duration
            if any(item.type == "feature" for item in self.input.media or []) and \
                    duration > limits.duration_with_video[1]:
                raise ValueError(f"duration is at most {limits.duration_with_video[1]} s with a feature video")
            shots = self.input.multi_prompt
            if shots is not None and sum(item.duration for item in shots) != duration:
                raise ValueError(f"the multi_prompt durations must add up to the duration, {duration} s")
            return self

    return Payload


def _check_media(kinds: list[str], limits: Limits) -> None:
    """Kling's combinations [kl], by media type in order: one feature video at most; refer images <= 7, <= 4
    beside the video; a first frame at most once, and only with a video."""
    images, videos, firsts = kinds.count("refer"), kinds.count("feature"), kinds.count("first_frame")
    if videos > 1:
        raise ValueError("at most one feature video")
    most = MAX_IMAGES_WITH_VIDEO if videos else limits.max_references
    if images > most:
        raise ValueError(f"at most {most} refer images" + (" beside a feature video" if videos else ""))
    if firsts > limits.max_first_frames:
        raise ValueError("at most one first_frame")
    if firsts and images:
        raise ValueError("a first_frame goes with a feature video, not with refer images")


TARGET = Kling()
