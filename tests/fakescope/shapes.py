"""The request shape of every model the fake service takes: what a submit body may hold, the defaults the
service fills in, and the usage block a finished task reports.

Each model's rules are this server's own reading of the references (../shared/reference/targets.md and
dashscope-r2v-api.md), written out here on purpose and never imported from compiler/: the server stands in
for the service, so a wrong entry in a compile target must make the tests disagree, not agree.  Where the
references leave a rule open, the choice made here is said in a comment ([inf], [unsettled]).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from tests.fakescope.errors import invalid

SEED_MAX = 2147483647
DATA_IMAGE = re.compile(r"data:image/(?:jpeg|png|bmp|webp);base64,(.+)", re.S)
# The SDK 2.0.2 always adds input.extend_prompt (deprecated) and input.function ("video-synthesis") whatever
# the model, so the service must tolerate both.
SDK_INPUT_KEYS = frozenset({"extend_prompt", "function"})
# A reference video we cannot measure (an http URL is never fetched) is taken as 5 s long.
DEFAULT_VIDEO_SECONDS = 5.0
# The wan billing rule: each reference video counts min(its duration, 5 s / number of reference videos).
BILLED_INPUT_SECONDS = 5.0

# ---------------------------------------------------------------- wan2.7-r2v (dashscope-r2v-api.md, official)

MODELS_WAN27 = frozenset({"wan2.7-r2v", "wan2.7-r2v-2026-06-12"})
PROMPT_MAX_CHARS = 5000
NEGATIVE_PROMPT_MAX_CHARS = 500
MAX_REFERENCES = 5
MAX_FIRST_FRAMES = 1
RESOLUTIONS = {"720P": 720, "1080P": 1080}
RATIOS = frozenset({"16:9", "9:16", "1:1", "4:3", "3:4"})
DURATION_RANGE = (2, 15)
DURATION_RANGE_WITH_VIDEO = (2, 10)
DEFAULTS = {"resolution": "1080P", "ratio": "16:9", "duration": 5, "prompt_extend": True}
PARAMETER_KEYS = frozenset({"resolution", "ratio", "duration", "seed", "prompt_extend", "watermark"})
INPUT_KEYS = frozenset({"prompt", "negative_prompt", "media"}) | SDK_INPUT_KEYS
MEDIA_TYPES = frozenset({"reference_image", "reference_video", "first_frame"})
MEDIA_KEYS = frozenset({"type", "url", "reference_voice"})
VOICE_TYPES = frozenset({"reference_image", "reference_video"})

# ---------------------------------------------------------------- wan3.0-video (targets.md §1, a preview)

WAN30 = "wan3.0-video"
WAN30_PROMPT_MAX_CHARS = 20000  # [wan3]; silently truncated beyond by the real service
WAN30_MEDIA_LIMITS = {"first_frame": 1, "last_frame": 1, "reference_image": 10, "reference_video": 5,
                      "reference_audio": 5}  # [wan3]; `file` and `link` need a thinking mode this server lacks
WAN30_FRAMES = frozenset({"first_frame", "last_frame"})
WAN30_MEDIA_SECONDS = 15.0  # reference videos together [wan3]; only uploaded (measured) clips are counted
WAN30_RESOLUTIONS = {"480P": 480, "720P": 720, "1080P": 1080}  # [3p]
WAN30_DURATION = (2, 30)  # [3p]; -1 lets the model pick the length
WAN30_PICKED_SECONDS = 5  # what this server "picks" for duration -1
WAN30_DEFAULTS = {"resolution": "1080P", "ratio": "16:9", "duration": 5}  # [inf] as wan2.7
WAN30_PARAMETER_KEYS = frozenset({"resolution", "ratio", "duration", "watermark", "seed"})  # no prompt_extend [3p]
WAN30_INPUT_KEYS = frozenset({"prompt", "media"}) | SDK_INPUT_KEYS  # no negative_prompt [3p]

# ---------------------------------------------------------------- happyhorse-1.0-r2v (targets.md §2)

HAPPYHORSE = "happyhorse-1.0-r2v"
HAPPYHORSE_REFERENCES = (1, 9)  # reference_image items only [hh]
HAPPYHORSE_PROMPT_MAX_CHARS = 5000
HAPPYHORSE_PROMPT_MAX_CJK_CHARS = 2500  # [hh]; the rule for mixed text is unsettled: any CJK takes this one
HAPPYHORSE_RESOLUTIONS = {"720P": 720, "1080P": 1080}
HAPPYHORSE_DURATION = (3, 15)
HAPPYHORSE_DEFAULTS = {"resolution": "1080P", "ratio": "16:9", "duration": 5, "watermark": True}
HAPPYHORSE_PARAMETER_KEYS = frozenset({"resolution", "ratio", "duration", "watermark", "seed"})
HAPPYHORSE_INPUT_KEYS = frozenset({"prompt", "media"}) | SDK_INPUT_KEYS
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")

# ---------------------------------------------------------------- wan2.6-r2v, wan2.6-r2v-flash (targets.md §4)

WAN26 = "wan2.6-r2v"
WAN26_FLASH = "wan2.6-r2v-flash"
WAN26_REFERENCES = (1, 5)  # [unsettled in the references]: read as wan2.7's five
# parameters.size "W*H": the official wan2.6 table, the five ratios at 720P and at 1080P.
WAN26_SIZES = {
    "1280*720": 720, "720*1280": 720, "960*960": 720, "1088*832": 720, "832*1088": 720,
    "1920*1080": 1080, "1080*1920": 1080, "1440*1440": 1080, "1632*1248": 1080, "1248*1632": 1080,
}
WAN26_SHOT_TYPES = frozenset({"single", "multi"})
WAN26_DURATION = (2, 10)
WAN26_PROMPT_MAX_CHARS = 1500  # [3p] three resellers agree; no source in our store gives wan2.6 more
WAN26_DEFAULTS = {"size": "1920*1080", "duration": 5, "shot_type": "single", "prompt_extend": True}
WAN26_PARAMETER_KEYS = frozenset({"size", "duration", "shot_type", "prompt_extend", "watermark", "seed"})
WAN26_INPUT_KEYS = frozenset({"prompt", "negative_prompt", "reference_urls"}) | SDK_INPUT_KEYS
VIDEO_SUFFIXES = (".mp4", ".mov")  # how an unmeasured reference URL is told to be a video

# ---------------------------------------------------------------- kling/kling-v3-omni-video-generation (§3)

KLING = "kling/kling-v3-omni-video-generation"
KLING_PROMPT_MAX_CHARS = 2500
KLING_MEDIA_TYPES = frozenset({"refer", "feature", "base", "first_frame", "last_frame"})
KLING_VIDEO_TYPES = frozenset({"feature", "base"})
KLING_MAX_REFER = 7
KLING_MAX_REFER_WITH_FEATURE = 4
KLING_MODES = {"pro": 1080, "std": 720}
KLING_ASPECT_RATIOS = frozenset({"16:9", "9:16", "1:1"})
KLING_DURATION = (3, 15)
KLING_DURATION_WITH_VIDEO = (3, 10)
KLING_DEFAULTS = {"mode": "pro", "aspect_ratio": "16:9", "duration": 5, "audio": False, "watermark": False}
KLING_PARAMETER_KEYS = frozenset({"mode", "aspect_ratio", "duration", "audio", "watermark"})
# input.element_list (stored subjects) exists [kl] but scenec never sends it: this server does not take it.
KLING_INPUT_KEYS = frozenset({"prompt", "negative_prompt", "media", "multi_shot", "shot_type",
                              "multi_prompt"}) | SDK_INPUT_KEYS
KLING_SHOT_TYPES = frozenset({"intelligence", "customize"})
KLING_MAX_SHOTS = 6
KLING_SHOT_PROMPT_MAX_CHARS = 512
KLING_SHOT_KEYS = frozenset({"index", "prompt", "duration"})
KLING_FPS = 24  # [inf]: the usage block carries fps [kl], its value is not documented


class Context(NamedTuple):
    """What a body's media URLs are checked against, and how long an uploaded video is."""

    oss_enabled: bool                              # the submit carried X-DashScope-OssResourceResolve: enable
    uploaded: Callable[[str], bool]                # an oss:// key the fake upload holds
    seconds_of: Callable[[str], float | None]      # an uploaded video's length, None when it cannot be read
    truncate: bool = False                         # cut over-long prompts like the real service


class Accepted(NamedTuple):
    """A body the service takes: the task it becomes."""

    model: str
    prompt: str
    params: dict          # the body's parameters with the model's defaults filled in
    output_seconds: int   # the length of the video the task makes
    usage: dict           # the usage block of the SUCCEEDED task
    watermarked_copy: bool = False  # the result also carries watermark_video_url (Kling)


def accept(body: dict, ctx: Context) -> Accepted:
    """Check a submit body by its model's rules (ApiError when refused) and describe the task it makes."""
    model = body.get("model")
    if not model:
        raise invalid('Required parameter "model" missing from request.')
    if not isinstance(model, str) or model not in DIALECTS:
        raise invalid("Model not exist.")  # the real service's answer to a model it does not serve
    inputs = body.get("input")
    if not isinstance(inputs, dict):
        raise invalid('Required parameter "input" missing from request.')
    params = body.get("parameters", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise invalid("parameters must be an object.")
    return DIALECTS[model](model, inputs, params, ctx)


# ---------------------------------------------------------------- shared rules


def _is_int(value: Any) -> bool:
    # JSON true/false decode to bool, a subclass of int: they are not integers here.
    return isinstance(value, int) and not isinstance(value, bool)


def _one_of(value: Any, allowed: Any) -> bool:
    # A JSON list or object is unhashable: test the type before asking a set or dict.
    return isinstance(value, str) and value in allowed


def _only_keys(where: str, mapping: dict, allowed: frozenset[str], model: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise invalid(f"{where}.{unknown[0]} is not supported by {model}.")


def _prompt(inputs: dict, limit: int, ctx: Context) -> str:
    prompt = inputs.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid("input.prompt is required.")
    if ctx.truncate:
        return prompt[:limit]
    if len(prompt) > limit:
        raise invalid(f"input.prompt is {len(prompt)} characters; at most {limit} are allowed.")
    return prompt


def _negative_prompt(inputs: dict, ctx: Context) -> None:
    negative = inputs.get("negative_prompt")
    if negative is None:
        return
    if not isinstance(negative, str):
        raise invalid("input.negative_prompt must be a string.")
    if len(negative) > NEGATIVE_PROMPT_MAX_CHARS and not ctx.truncate:
        raise invalid(
            f"input.negative_prompt is {len(negative)} characters; at most {NEGATIVE_PROMPT_MAX_CHARS} are allowed."
        )


def _url(where: str, url: Any, ctx: Context, *, data_image: bool) -> None:
    """A media URL: http(s), an uploaded oss:// key, or (where `data_image`) an image as a base64 data URL."""
    if not url:
        raise invalid(f"{where} is required.")
    if not isinstance(url, str):
        raise invalid(f"{where} must be a URL (a string).")
    if url.startswith("data:"):
        _data_url(where, url, data_image)
    elif url.startswith("oss://"):
        _oss_url(where, url, ctx)
    else:
        parts = urlsplit(url)
        # http(s) media are accepted unfetched: this server never leaves loopback.
        if parts.scheme not in ("http", "https") or not parts.netloc:
            also = ", or, for images, a base64 data URL" if data_image else ""
            raise invalid(f"{where} must be an http(s) URL or an oss:// URL{also}.")


def _data_url(where: str, url: str, data_image: bool) -> None:
    if not data_image:
        raise invalid(f"{where}: this media must be given by URL (http(s) or oss://), not base64.")
    match = DATA_IMAGE.fullmatch(url)
    if not match:
        raise invalid(f"{where}: a data URL must be data:image/(jpeg|png|bmp|webp);base64,...")
    try:
        base64.b64decode(match.group(1), validate=True)
    except ValueError:
        raise invalid(f"{where}: the base64 data is not valid.") from None


def _oss_url(where: str, url: str, ctx: Context) -> None:
    if not ctx.oss_enabled:
        raise invalid(f"{where}: oss:// URLs need the header X-DashScope-OssResourceResolve: enable.")
    if not ctx.uploaded(url[len("oss://") :]):
        raise invalid(f"{where}: the temporary file {url} does not exist or has expired.")


def _media_items(inputs: dict, model: str, keys: frozenset[str], types: frozenset[str],
                 required: bool) -> list[dict]:
    """input.media as a list of objects with known keys and types (URLs are checked by the caller)."""
    media = inputs.get("media")
    if media is None and not required:
        return []
    if not isinstance(media, list) or (required and not media):
        raise invalid("input.media is required and must hold at least one item.")
    for index, item in enumerate(media):
        where = f"input.media[{index}]"
        if not isinstance(item, dict):
            raise invalid(f"{where} must be an object.")
        _only_keys(where, item, keys, model)
        if not _one_of(item.get("type"), types):
            raise invalid(f"{where}.type must be one of {', '.join(sorted(types))} for {model}.")
    return media


def _choice(params: dict, key: str, allowed: Any) -> None:
    if key in params and not _one_of(params[key], allowed):
        raise invalid(f"parameters.{key} must be one of {', '.join(sorted(allowed))}.")


def _duration(params: dict, low: int, high: int, why: str = "", also: tuple[int, ...] = ()) -> None:
    duration = params.get("duration")
    if "duration" in params and not (_is_int(duration) and (low <= duration <= high or duration in also)):
        extra = "".join(f" or {value}" for value in also)
        raise invalid(f"parameters.duration must be an integer between {low} and {high}{extra}{why}.")


def _seed(params: dict) -> None:
    if "seed" in params and not (_is_int(params["seed"]) and 0 <= params["seed"] <= SEED_MAX):
        raise invalid(f"parameters.seed must be an integer between 0 and {SEED_MAX}.")


def _flags(params: dict, *names: str) -> None:
    for flag in names:
        if flag in params and not isinstance(params[flag], bool):
            raise invalid(f"parameters.{flag} must be a boolean.")


def _video_seconds(url: str, ctx: Context) -> float:
    seconds = ctx.seconds_of(url)
    return DEFAULT_VIDEO_SECONDS if seconds is None else seconds


def _billed_input(video_seconds: list[float], shares: int) -> float:
    """Each video counts min(its length, 5 s / shares)."""
    cap = BILLED_INPUT_SECONDS / shares if shares else 0.0
    return round(sum(min(seconds, cap) for seconds in video_seconds), 2)


def _wan_usage(input_seconds: float, output_seconds: int, resolution: int, extra: dict) -> dict:
    return {
        "duration": round(input_seconds + output_seconds, 2),
        "input_video_duration": input_seconds,
        "output_video_duration": output_seconds,
        "SR": resolution,
        **extra,
        "video_count": 1,
    }


# ---------------------------------------------------------------- wan2.7-r2v


def check_media(media: Any, ctx: Context) -> list[dict]:
    """wan2.7's input.media: typed items, their URLs and the reference counts."""
    media = _media_items({"media": media}, "wan2.7-r2v", MEDIA_KEYS, MEDIA_TYPES, required=True)
    for index, item in enumerate(media):
        where = f"input.media[{index}]"
        _url(f"{where}.url", item.get("url"), ctx, data_image=item["type"] != "reference_video")
        if "reference_voice" in item:
            if item["type"] not in VOICE_TYPES:
                raise invalid(f"{where}.reference_voice is only allowed on reference_image or reference_video.")
            _url(f"{where}.reference_voice", item["reference_voice"], ctx, data_image=False)
    kinds = [item["type"] for item in media]
    references = kinds.count("reference_image") + kinds.count("reference_video")
    if not 1 <= references <= MAX_REFERENCES:
        raise invalid(
            f"input.media must hold between 1 and {MAX_REFERENCES} reference_image/reference_video items; "
            f"got {references}."
        )
    if kinds.count("first_frame") > MAX_FIRST_FRAMES:
        raise invalid("input.media may hold at most one first_frame.")
    return media


def check_parameters(params: dict, has_video: bool) -> dict:
    """wan2.7's parameters, returned with the service defaults filled in."""
    _only_keys("parameters", params, PARAMETER_KEYS, "wan2.7-r2v")
    if "resolution" in params and not _one_of(params["resolution"], RESOLUTIONS):
        raise invalid("parameters.resolution must be 720P or 1080P.")
    _choice(params, "ratio", RATIOS)
    low, high = DURATION_RANGE_WITH_VIDEO if has_video else DURATION_RANGE
    _duration(params, low, high, " when input.media holds a reference_video" if has_video else "")
    _seed(params)
    _flags(params, "prompt_extend", "watermark")
    return {**DEFAULTS, **params}


def _accept_wan27(model: str, inputs: dict, params: dict, ctx: Context) -> Accepted:
    _only_keys("input", inputs, INPUT_KEYS, model)
    prompt = _prompt(inputs, PROMPT_MAX_CHARS, ctx)
    _negative_prompt(inputs, ctx)
    media = check_media(inputs.get("media"), ctx)
    videos = [_video_seconds(item["url"], ctx) for item in media if item["type"] == "reference_video"]
    params = check_parameters(params, bool(videos))
    usage = _wan_usage(_billed_input(videos, len(videos)), params["duration"], RESOLUTIONS[params["resolution"]],
                       {"ratio": params["ratio"]})
    return Accepted(model, prompt, params, params["duration"], usage)


# ---------------------------------------------------------------- wan3.0-video


def _accept_wan30(model: str, inputs: dict, params: dict, ctx: Context) -> Accepted:
    _only_keys("input", inputs, WAN30_INPUT_KEYS, model)
    prompt = _prompt(inputs, WAN30_PROMPT_MAX_CHARS, ctx)
    media = _wan30_media(inputs, model, ctx)
    _only_keys("parameters", params, WAN30_PARAMETER_KEYS, model)
    _choice(params, "resolution", WAN30_RESOLUTIONS)
    _choice(params, "ratio", RATIOS)
    _duration(params, *WAN30_DURATION, also=(-1,))
    _seed(params)
    _flags(params, "watermark")
    params = {**WAN30_DEFAULTS, **params}
    output = WAN30_PICKED_SECONDS if params["duration"] == -1 else params["duration"]
    # Whether 3.0 bills reference seconds is not stated [unsettled]: the wan2.7 rule is assumed [inf].
    videos = [_video_seconds(item["url"], ctx) for item in media if item["type"] == "reference_video"]
    usage = _wan_usage(_billed_input(videos, len(videos)), output, WAN30_RESOLUTIONS[params["resolution"]],
                       {"ratio": params["ratio"]})
    return Accepted(model, prompt, params, output, usage)


def _wan30_media(inputs: dict, model: str, ctx: Context) -> list[dict]:
    listed = inputs.get("media")
    if isinstance(listed, list) and any(isinstance(item, dict) and "reference_voice" in item for item in listed):
        raise invalid(f"input.media[].reference_voice is not supported by {model}: "
                      "give each voice as its own reference_audio item.")
    media = _media_items(inputs, model, frozenset({"type", "url"}), frozenset(WAN30_MEDIA_LIMITS), required=False)
    for index, item in enumerate(media):
        # No data URI is documented for 3.0 [inf]: taken for no item, as the target refuses them.
        _url(f"input.media[{index}].url", item.get("url"), ctx, data_image=False)
    kinds = [item["type"] for item in media]
    for kind, most in WAN30_MEDIA_LIMITS.items():
        if kinds.count(kind) > most:
            raise invalid(f"input.media may hold at most {most} {kind} items for {model}; got {kinds.count(kind)}.")
    if WAN30_FRAMES & set(kinds) and any(kind.startswith("reference_") for kind in kinds):
        raise invalid(f"input.media cannot combine first_frame/last_frame with reference items for {model}.")
    measured = [ctx.seconds_of(item["url"]) for item in media if item["type"] == "reference_video"]
    total = sum(seconds for seconds in measured if seconds is not None)
    if total > WAN30_MEDIA_SECONDS:
        raise invalid(f"input.media reference_video items last {total:g} s together; at most "
                      f"{WAN30_MEDIA_SECONDS:g} s are allowed for {model}.")
    return media


# ---------------------------------------------------------------- happyhorse-1.0-r2v


def _accept_happyhorse(model: str, inputs: dict, params: dict, ctx: Context) -> Accepted:
    _only_keys("input", inputs, HAPPYHORSE_INPUT_KEYS, model)
    prompt = inputs.get("prompt")
    has_cjk = isinstance(prompt, str) and CJK.search(prompt) is not None
    prompt = _prompt(inputs, HAPPYHORSE_PROMPT_MAX_CJK_CHARS if has_cjk else HAPPYHORSE_PROMPT_MAX_CHARS, ctx)
    media = _media_items(inputs, model, frozenset({"type", "url"}), frozenset({"reference_image"}), required=True)
    low, high = HAPPYHORSE_REFERENCES
    if not low <= len(media) <= high:
        raise invalid(f"input.media must hold between {low} and {high} reference_image items; got {len(media)}.")
    for index, item in enumerate(media):
        _url(f"input.media[{index}].url", item.get("url"), ctx, data_image=False)
    _only_keys("parameters", params, HAPPYHORSE_PARAMETER_KEYS, model)
    _choice(params, "resolution", HAPPYHORSE_RESOLUTIONS)
    _choice(params, "ratio", RATIOS)
    _duration(params, *HAPPYHORSE_DURATION)
    _seed(params)
    _flags(params, "watermark")
    params = {**HAPPYHORSE_DEFAULTS, **params}
    # The result's usage shows input_video_duration 0: billed by output seconds [hh].
    usage = _wan_usage(0, params["duration"], HAPPYHORSE_RESOLUTIONS[params["resolution"]],
                       {"ratio": params["ratio"]})
    return Accepted(model, prompt, params, params["duration"], usage)


# ---------------------------------------------------------------- wan2.6-r2v, wan2.6-r2v-flash


def _accept_wan26(model: str, inputs: dict, params: dict, ctx: Context) -> Accepted:
    if "media" in inputs:
        raise invalid(f"input.media is not supported by {model}: give the references in input.reference_urls.")
    _only_keys("input", inputs, WAN26_INPUT_KEYS, model)
    prompt = _prompt(inputs, WAN26_PROMPT_MAX_CHARS, ctx)
    _negative_prompt(inputs, ctx)
    urls = _reference_urls(inputs, ctx)
    flash = model == WAN26_FLASH
    _only_keys("parameters", params, WAN26_PARAMETER_KEYS | ({"audio"} if flash else set()), model)
    _choice(params, "size", WAN26_SIZES)
    _choice(params, "shot_type", WAN26_SHOT_TYPES)
    _duration(params, *WAN26_DURATION)
    _seed(params)
    _flags(params, "prompt_extend", "watermark", "audio")
    params = {**WAN26_DEFAULTS, **({"audio": True} if flash else {}), **params}
    # Input seconds: 5 s shared by all references, images included (dashscope-r2v-api.md, wan2.6 row).
    videos = [_video_seconds(url, ctx) for url in urls if _is_video_url(url, ctx)]
    usage = _wan_usage(_billed_input(videos, len(urls)), params["duration"], WAN26_SIZES[params["size"]],
                       {"size": params["size"]})
    return Accepted(model, prompt, params, params["duration"], usage)


def _reference_urls(inputs: dict, ctx: Context) -> list[str]:
    urls = inputs.get("reference_urls")
    low, high = WAN26_REFERENCES
    if not isinstance(urls, list) or not low <= len(urls) <= high:
        raise invalid(f"input.reference_urls is required and must hold between {low} and {high} URLs.")
    for index, url in enumerate(urls):
        _url(f"input.reference_urls[{index}]", url, ctx, data_image=False)
    return urls


def _is_video_url(url: str, ctx: Context) -> bool:
    return ctx.seconds_of(url) is not None or urlsplit(url).path.lower().endswith(VIDEO_SUFFIXES)


# ---------------------------------------------------------------- kling/kling-v3-omni-video-generation


def _accept_kling(model: str, inputs: dict, params: dict, ctx: Context) -> Accepted:
    _only_keys("input", inputs, KLING_INPUT_KEYS, model)
    prompt = _prompt(inputs, KLING_PROMPT_MAX_CHARS, ctx)
    _negative_prompt(inputs, ctx)
    media = _kling_media(inputs, model, ctx)
    has_video = any(item["type"] in KLING_VIDEO_TYPES for item in media)
    _only_keys("parameters", params, KLING_PARAMETER_KEYS, model)
    _choice(params, "mode", KLING_MODES)
    _choice(params, "aspect_ratio", KLING_ASPECT_RATIOS)
    low, high = KLING_DURATION_WITH_VIDEO if has_video else KLING_DURATION
    _duration(params, low, high, " when input.media holds a video" if has_video else "")
    _flags(params, "audio", "watermark")
    params = {**KLING_DEFAULTS, **params}
    _kling_shots(inputs, params["duration"])
    usage = {"duration": params["duration"], "output_video_duration": params["duration"],
             "size": _kling_size(params["mode"], params["aspect_ratio"]), "fps": KLING_FPS,
             "audio": params["audio"], "video_count": 1}
    return Accepted(model, prompt, params, params["duration"], usage, watermarked_copy=True)


def _kling_media(inputs: dict, model: str, ctx: Context) -> list[dict]:
    media = _media_items(inputs, model, frozenset({"type", "url"}), KLING_MEDIA_TYPES, required=False)
    for index, item in enumerate(media):
        _url(f"input.media[{index}].url", item.get("url"), ctx, data_image=False)
    kinds = [item["type"] for item in media]
    videos = sum(kinds.count(kind) for kind in KLING_VIDEO_TYPES)
    if videos > 1:
        raise invalid(f"input.media may hold at most one video (feature or base) for {model}; got {videos}.")
    most = KLING_MAX_REFER_WITH_FEATURE if "feature" in kinds else KLING_MAX_REFER
    if kinds.count("refer") > most:
        why = " with a feature video" if "feature" in kinds else ""
        raise invalid(f"input.media may hold at most {most} refer items{why}; got {kinds.count('refer')}.")
    for frame in ("first_frame", "last_frame"):
        if kinds.count(frame) > 1:
            raise invalid(f"input.media may hold at most one {frame}.")
    return media


def _kling_shots(inputs: dict, duration: int) -> None:
    """input.multi_shot / shot_type / multi_prompt: custom shots need all three, and fill the duration."""
    multi_shot = inputs.get("multi_shot", False)
    if not isinstance(multi_shot, bool):
        raise invalid("input.multi_shot must be a boolean.")
    if "shot_type" in inputs and not _one_of(inputs["shot_type"], KLING_SHOT_TYPES):
        raise invalid(f"input.shot_type must be one of {', '.join(sorted(KLING_SHOT_TYPES))}.")
    if not multi_shot:
        if "shot_type" in inputs or "multi_prompt" in inputs:
            raise invalid("input.shot_type and input.multi_prompt need input.multi_shot: true.")
        return
    customize = inputs.get("shot_type") == "customize"
    if customize != ("multi_prompt" in inputs):
        raise invalid('input.multi_prompt is required with input.shot_type "customize", and only with it.')
    if customize:
        _multi_prompt(inputs["multi_prompt"], duration)


def _multi_prompt(shots: Any, duration: int) -> None:
    if not isinstance(shots, list) or not 1 <= len(shots) <= KLING_MAX_SHOTS:
        raise invalid(f"input.multi_prompt must hold between 1 and {KLING_MAX_SHOTS} shots.")
    for number, shot in enumerate(shots, start=1):
        where = f"input.multi_prompt[{number - 1}]"
        if not isinstance(shot, dict) or set(shot) != KLING_SHOT_KEYS:
            raise invalid(f"{where} must be an object with exactly index, prompt and duration.")
        if not (_is_int(shot["index"]) and shot["index"] == number):
            raise invalid(f"{where}.index must be {number}: shots are numbered from 1 in order.")
        text = shot["prompt"]
        if not isinstance(text, str) or not text.strip() or len(text) > KLING_SHOT_PROMPT_MAX_CHARS:
            raise invalid(f"{where}.prompt must be a text of 1 to {KLING_SHOT_PROMPT_MAX_CHARS} characters.")
        if not (_is_int(shot["duration"]) and shot["duration"] >= 1):
            raise invalid(f"{where}.duration must be a positive integer.")
    total = sum(shot["duration"] for shot in shots)
    if total != duration:
        raise invalid(f"input.multi_prompt durations add up to {total} s; they must equal parameters.duration "
                      f"({duration} s).")


def _kling_size(mode: str, aspect_ratio: str) -> str:
    short = KLING_MODES[mode]
    long = short * 16 // 9
    return {"16:9": f"{long}*{short}", "9:16": f"{short}*{long}", "1:1": f"{short}*{short}"}[aspect_ratio]


DIALECTS: dict[str, Callable[[str, dict, dict, Context], Accepted]] = {
    **dict.fromkeys(sorted(MODELS_WAN27), _accept_wan27),
    WAN30: _accept_wan30,
    HAPPYHORSE: _accept_happyhorse,
    WAN26: _accept_wan26,
    WAN26_FLASH: _accept_wan26,
    KLING: _accept_kling,
}
MODELS = frozenset(DIALECTS)
