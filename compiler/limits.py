"""The API's limits in one table, easy to change (sources: shared/reference/dashscope-r2v-api.md, checked 2026-11-24)."""

from __future__ import annotations

__all__ = ["MODELS", "RESOLUTIONS", "RATIOS", "SEED_MAX", "LIMITS", "IMAGE_MIMES", "DURATION_RANGE", "ApiDefaults",
           "API_DEFAULTS"]

# wan2.7-r2v and its dated snapshot.  The wan2.6 models take another request shape (reference_urls, size).
MODELS = ("wan2.7-r2v", "wan2.7-r2v-2026-06-12")
RESOLUTIONS = ("720P", "1080P")
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")
SEED_MAX = 2_147_483_647

# Allowed MIME types of image data URIs and, for local files, the formats each kind accepts.
IMAGE_MIMES = ("image/jpeg", "image/png", "image/bmp", "image/webp")

LIMITS = {
    "max_references": 5,             # reference images + videos together [guide][docs]
    "min_references": 1,
    "max_first_frames": 1,
    "prompt_chars": 5000,            # [docs] official; longer prompts are silently truncated
    "negative_prompt_chars": 500,    # [docs] official
    "image_formats": ("jpeg", "png", "bmp", "webp"),
    "image_bytes": 20 * 1024 * 1024,
    "image_side": (240, 8000),
    "video_formats": ("mp4", "mov"),
    "video_bytes": 100 * 1024 * 1024,
    "video_side": (240, 4096),
    "video_seconds": (1.0, 30.0),
    "voice_formats": ("wav", "mp3"),
    "voice_bytes": 15 * 1024 * 1024,
    "voice_seconds": (1.0, 10.0),
    "aspect": 8.0,                   # longer side at most 8x the shorter, images and videos
}

# Output duration in whole seconds: (with any reference video, without).  [docs] official.
DURATION_RANGE = {"with_video": (2, 10), "without_video": (2, 15)}


class ApiDefaults:
    """What the service uses for a parameter the request leaves out.  [docs] official.  Read-only."""

    __slots__ = ()
    model: str = "wan2.7-r2v"
    resolution: str = "1080P"
    ratio: str = "16:9"
    duration: int = 5
    prompt_extend: bool = True
    watermark: bool = False


# The one table of the API's defaults: the request leaves these parameters out unless the writer set
# them, and the cost estimate and the renderer read the effective values from here (through ir.Settings).
API_DEFAULTS = ApiDefaults()
