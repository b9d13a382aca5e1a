"""How a render's billable seconds are counted, one rule per `Target.billing_rule`: plain numbers in, seconds out.

Every rule bills the output seconds; they differ in what the reference videos add (images, first frames and
voices are free under each):

    "wan2.7"  each reference video counts min(its length, 5 s / number of reference videos)   [guide]
    "wan2.6"  each reference video counts min(its length, 5 s / number of all references)      [docs; images
              in the divisor is our reading of "5 s / number of all references", unsettled]
    "output"  nothing: output seconds only, for a target with no published rule               [inf]

Prices are not here: a target's `prices` table turns seconds into money (`Target.estimate`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

__all__ = ["INPUT_VIDEO_CAP_SECONDS", "RULES", "truncation_limit", "input_video_cap", "billable_seconds"]

# The most reference-video time any rule bills, shared among the videos (or, for wan2.6, all references).
INPUT_VIDEO_CAP_SECONDS = 5.0


def truncation_limit(n_videos: int) -> float:
    """The most seconds one of `n_videos` reference videos can be billed under wan2.7: exactly 5 / n.

    The guide's table shows 1.65 s for 3 videos, while its formula gives 5 / 3 = 1.666… s (1.65 is neither
    the truncated 1.66 nor the rounded 1.67: a rounding in the table, not a rule).  We use the exact 5 / n:
    it follows the stated formula and can only over-estimate (by at most 0.05 s in total), the safe side
    for a budget; `usage.duration` in each result tells the truth afterwards.
    """
    if n_videos < 1:
        raise ValueError(f"truncation_limit needs at least one video, got {n_videos}")
    return INPUT_VIDEO_CAP_SECONDS / n_videos


def _wan27_cap(n_videos: int, n_references: int) -> float:
    return truncation_limit(n_videos) if n_videos else 0.0


def _wan26_cap(n_videos: int, n_references: int) -> float:
    # The same 5 s, shared among every reference (images too), so an image lowers what each video bills.
    return INPUT_VIDEO_CAP_SECONDS / n_references if n_videos else 0.0


def _output_only_cap(n_videos: int, n_references: int) -> float:
    return 0.0


# billing_rule -> the most one reference video is billed, from (number of videos, number of all references).
RULES: dict[str, Callable[[int, int], float]] = {
    "wan2.7": _wan27_cap,
    "wan2.6": _wan26_cap,
    "output": _output_only_cap,
}


def input_video_cap(rule: str, n_videos: int, n_references: int) -> float:
    """The most seconds one reference video is billed under `rule` (0 when the rule bills no input).  It is
    also what a video of unknown length is counted as: an upper bound."""
    if n_videos < 0 or n_references < n_videos:
        raise ValueError(f"need 0 <= videos <= references, got {n_videos} videos of {n_references} references")
    try:
        cap = RULES[rule]
    except KeyError:
        raise ValueError(f"unknown billing rule {rule!r}; known: {', '.join(RULES)}") from None
    return cap(n_videos, n_references)


def billable_seconds(rule: str, video_seconds: Sequence[float], n_references: int,
                     output_seconds: float) -> tuple[float, float]:
    """(billable reference-video seconds, billable output seconds) of one render under `rule`.

    `video_seconds` are the reference videos' lengths, in any order; `n_references` counts every reference
    image and video (the first frame is not a reference)."""
    for seconds in (*video_seconds, output_seconds):
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"a number of seconds must be finite and >= 0, got {seconds}")
    cap = input_video_cap(rule, len(video_seconds), n_references)
    return sum((min(float(seconds), cap) for seconds in video_seconds), 0.0), float(output_seconds)
