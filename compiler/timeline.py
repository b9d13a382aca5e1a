"""The time-coded prompt style's time plan: every shot's [start-end] segment, and whether they add up to DURATION.

Pure arithmetic over the shots' timings, shared by prompt (which writes the segments) and check (which
reports a plan that does not add up).  Shots without a timing share the time left between their timed
neighbours (or the scene's start and end) evenly.
"""

from __future__ import annotations

from .records import Record

__all__ = ["Gap", "plan", "segment_text"]

# Segment ends are rounded to hundredths: an even split of 10 s in 3 reads 0-3.33s, 3.33-6.67s, 6.67-10s.
_DIGITS = 2


class Gap(Record):
    """Seconds of the scene that no shot covers (start < end), or untimed shots left with no time (start == end)."""

    start: float
    end: float
    shot_index: int          # 0-based index of the shot after the gap (len(shots) for a gap at the end)
    untimed: int = 0         # how many untimed shots were to share [start, end]


def plan(timings: list[tuple[float, float] | None], duration: float) -> tuple[list[tuple[float, float]], list[Gap]]:
    """Each shot's segment, and the gaps that keep the segments from covering 0..duration exactly.

    Timings that overlap, go backwards or run past duration are check.check_timings's to report; the plan
    then has no gaps of its own to add.
    """
    if not _well_ordered(timings, duration):
        return [timing or (0.0, 0.0) for timing in timings], []
    segments: list[tuple[float, float]] = []
    gaps: list[Gap] = []
    index = 0
    while index < len(timings):
        timing = timings[index]
        if timing is not None:
            start, end = timing
            previous_end = segments[-1][1] if segments else 0.0
            if start > previous_end:
                gaps.append(Gap(previous_end, start, index))
            segments.append((start, end))
            index += 1
            continue
        run_end = _next_timed(timings, index)
        start = segments[-1][1] if segments else 0.0
        next_timing = timings[run_end] if run_end < len(timings) else None
        stop = next_timing[0] if next_timing is not None else float(duration)
        count = run_end - index
        if stop <= start:
            gaps.append(Gap(start, start, index, untimed=count))
        segments += _split(start, max(stop, start), count)
        index = run_end
    if segments and segments[-1][1] < duration:
        gaps.append(Gap(segments[-1][1], float(duration), len(timings)))
    return segments, gaps


def segment_text(segment: tuple[float, float], unit: str) -> str:
    start, end = segment
    return f"{start:g}-{end:g}{unit}"


def _well_ordered(timings: list[tuple[float, float] | None], duration: float) -> bool:
    previous_end = 0.0
    for timing in timings:
        if timing is None:
            continue
        start, end = timing
        if end <= start or start < previous_end or end > duration:
            return False
        previous_end = end
    return True


def _next_timed(timings: list[tuple[float, float] | None], index: int) -> int:
    while index < len(timings) and timings[index] is None:
        index += 1
    return index


def _split(start: float, stop: float, count: int) -> list[tuple[float, float]]:
    width = (stop - start) / count
    bounds = [start] + [round(start + width * step, _DIGITS) for step in range(1, count)] + [stop]
    return [(bounds[i], bounds[i + 1]) for i in range(count)]
