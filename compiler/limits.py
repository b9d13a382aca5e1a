"""The types of a compile target's limits and defaults (each target's values: compiler/targets/).

Every reader takes its numbers from the chosen target's table: the checks and their messages, the request
model, the cost estimate, the renderer and the language server.  Only the loopback test server
(tests/fakescope) keeps its own reading, on purpose.
"""

from __future__ import annotations

from .records import Record

__all__ = ["FileLimits", "Limits", "ApiDefaults", "cjk_count"]

_MB = 1024 * 1024


def cjk_count(text: str) -> int:
    """The CJK ideographs, kana and hangul in a text, and their full-width punctuation."""
    return sum(1 for char in text if _is_cjk(char))


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (0x2E80 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF
            or 0xFF00 <= code <= 0xFFEF or 0x20000 <= code <= 0x3FFFF)


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
    aspect: float                       # longer side at most this many times the shorter (see aspect_kinds)
    duration: tuple[int, int]           # output duration in whole seconds
    duration_with_video: tuple[int, int]  # when any reference video is in the media
    # A prompt wholly of CJK characters has at most this many, where the target says so (HappyHorse: 2500 beside
    # 5000): each CJK character then counts as prompt_chars / cjk_prompt_chars characters (`prompt_length`).
    cjk_prompt_chars: int | None = None
    video_total_seconds: float | None = None  # the reference videos' lengths together, where the target has a bound
    voice_total_seconds: float | None = None  # the voices' lengths together, where the target has a bound
    aspect_kinds: tuple[str, ...] = ("image", "video")  # the media kinds a source bounds by `aspect`

    def prompt_limit(self, language: str) -> int:
        """The prompt's limit, in characters as `prompt_length` counts them, whatever the scene's language (the
        argument is kept for callers; a Chinese prompt's own rule is the weight of its characters)."""
        return self.prompt_chars

    @property
    def cjk_weight(self) -> int:
        """What one CJK character counts for against `prompt_chars` (1 where the target has no rule of its own)."""
        if not self.cjk_prompt_chars:
            return 1
        return -(-self.prompt_chars // self.cjk_prompt_chars)

    def prompt_length(self, text: str) -> int:
        """The prompt's length as the target's limit counts it: each CJK character weighs `cjk_weight`, so that
        5000 other characters or 2500 CJK ones (HappyHorse) both just fill the limit, and mixed text in between."""
        weight = self.cjk_weight
        return len(text) + (weight - 1) * cjk_count(text) if weight > 1 else len(text)

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
