"""The types of a compile target's limits and defaults (each target's values: compiler/targets/).

Every reader takes its numbers from the chosen target's table: the checks and their messages, the request
model, the cost estimate, the renderer and the language server.  Only the loopback test server
(tests/fakescope) keeps its own reading, on purpose.
"""

from __future__ import annotations

from .records import Record

__all__ = ["FileLimits", "Limits", "ApiDefaults"]

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
    """A target's request limits: every field given by the target (compiler/targets/<module>.py)."""

    max_references: int                 # reference images + videos together
    min_references: int
    max_first_frames: int
    prompt_chars: int                   # longer prompts are refused (the service would cut them)
    negative_prompt_chars: int
    image: FileLimits
    video: FileLimits
    voice: FileLimits
    aspect: float                       # longer side at most this many times the shorter, images and videos
    duration: tuple[int, int]           # output duration in whole seconds
    duration_with_video: tuple[int, int]  # when any reference video is in the media
    cjk_prompt_chars: int | None = None  # a Chinese (LANGUAGE: zh) prompt's own limit, where the target has one
    video_total_seconds: float | None = None  # the reference videos' lengths together, where the target has a bound
    voice_total_seconds: float | None = None  # the voices' lengths together, where the target has a bound

    def prompt_limit(self, language: str) -> int:
        """The prompt's limit in characters for a scene of this language."""
        return self.cjk_prompt_chars if language == "zh" and self.cjk_prompt_chars is not None else self.prompt_chars

    def duration_range(self, has_video: bool) -> tuple[int, int]:
        """The output durations allowed, with or without a reference video among the media."""
        return self.duration_with_video if has_video else self.duration

    def file(self, kind: str) -> FileLimits:
        """The limits of a media kind: "image", "video" or "voice"."""
        return {"image": self.image, "video": self.video, "voice": self.voice}[kind]


class ApiDefaults(Record):
    """What the service uses for a parameter the request leaves out (every field given by the target)."""

    model: str
    resolution: str
    ratio: str
    duration: int
    prompt_extend: bool
    watermark: bool
