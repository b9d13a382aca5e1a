"""The API's limits and defaults in one typed table, easy to change.

Source: shared/reference/dashscope-r2v-api.md, checked 2026-11-24.

Every reader takes its numbers from here: the checks and their messages, the diagnostics registry's
documentation, the request model (payload.py), the cost estimate, the renderer and the language server.
Only the loopback test server (tests/fakescope) keeps its own reading, on purpose.
"""

from __future__ import annotations

from .records import Record

__all__ = ["MODELS", "RESOLUTIONS", "RATIOS", "SEED_MAX", "IMAGE_MIMES", "FileLimits", "Limits", "LIMITS",
           "ApiDefaults", "API_DEFAULTS", "PARAMETERS"]

# wan2.7-r2v and its dated snapshot.  The wan2.6 models take another request shape (reference_urls, size).
MODELS: tuple[str, ...] = ("wan2.7-r2v", "wan2.7-r2v-2026-06-12")
RESOLUTIONS: tuple[str, ...] = ("720P", "1080P")
RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4")
SEED_MAX = 2_147_483_647

# Allowed MIME types of image data URIs.
IMAGE_MIMES: tuple[str, ...] = ("image/jpeg", "image/png", "image/bmp", "image/webp")

_MB = 1024 * 1024


class FileLimits(Record):
    """What the service accepts for one kind of media file: formats (by content), size, sides, length."""

    formats: tuple[str, ...]
    max_bytes: int
    sides: tuple[int, int] | None = None          # px, each side (images and videos)
    seconds: tuple[float, float] | None = None    # length (videos and voices)

    @property
    def max_megabytes(self) -> int:
        return self.max_bytes // _MB


class Limits(Record):
    """The request's limits.  [guide] the vendor's guide, [docs] the official API reference."""

    max_references: int = 5            # reference images + videos together [guide][docs]
    min_references: int = 1
    max_first_frames: int = 1
    prompt_chars: int = 5000           # [docs] official; longer prompts are silently truncated
    negative_prompt_chars: int = 500   # [docs] official
    image: FileLimits = FileLimits(("jpeg", "png", "bmp", "webp"), 20 * _MB, sides=(240, 8000))
    video: FileLimits = FileLimits(("mp4", "mov"), 100 * _MB, sides=(240, 4096), seconds=(1.0, 30.0))
    voice: FileLimits = FileLimits(("wav", "mp3"), 15 * _MB, seconds=(1.0, 10.0))
    aspect: float = 8.0                # longer side at most 8x the shorter, images and videos
    # Output duration in whole seconds.  [docs] official.
    duration: tuple[int, int] = (2, 15)
    duration_with_video: tuple[int, int] = (2, 10)   # when any reference video is in the media

    def duration_range(self, has_video: bool) -> tuple[int, int]:
        """The output durations allowed, with or without a reference video among the media."""
        return self.duration_with_video if has_video else self.duration

    def file(self, kind: str) -> FileLimits:
        """The limits of a media kind: "image", "video" or "voice"."""
        return {"image": self.image, "video": self.video, "voice": self.voice}[kind]


LIMITS = Limits()


class ApiDefaults(Record):
    """What the service uses for a parameter the request leaves out.  [docs] official."""

    model: str = "wan2.7-r2v"
    resolution: str = "1080P"
    ratio: str = "16:9"
    duration: int = 5
    prompt_extend: bool = True
    watermark: bool = False


# The one table of the API's defaults: the request leaves these parameters out unless the writer set
# them, and the cost estimate and the renderer read the effective values from here (through ir.Settings).
API_DEFAULTS = ApiDefaults()

# The request's `parameters`, in the API's order; each is the ir.Settings field of the same name.
PARAMETERS: tuple[str, ...] = ("resolution", "ratio", "duration", "prompt_extend", "watermark", "seed")
