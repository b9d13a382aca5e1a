"""Timing: how long the dialogue takes to say, against each timed shot and the scene's DURATION (warnings).

The estimate counts words of Latin-script text and characters of Chinese (and Japanese kana) text in
the spoken lines only; parentheticals and action are not spoken.  The default rates are typical
conversational figures, not measurements of the model's voices (docs/writers-loop.md gives sources):

- 2.7 words per second, about 160 words a minute: conversational English runs 150-170 wpm, the range
  broadcast and subtitling practice times dialogue at (the clip must hold it at an unhurried pace).
- 5 characters per second for Chinese: Mandarin read speech measured 5.18 syllables a second
  (Pellegrino, Coupé and Marsico 2011, "A cross-language perspective on speech information rate",
  Language 87(3)); one character is one syllable.

The warnings fire only when the estimate is over the time available, so a line that fits at these
rates is never flagged; a writer with a faster speaker may ignore them.
"""

from __future__ import annotations

import re

from . import ir
from .diagnostics import Diagnostic, make

TYPE_CHECKING = False  # spelled out: importing typing is a start-up cost `scenec check` avoids (records.py)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from .source import Span

__all__ = ["WORDS_PER_SECOND", "CHARS_PER_SECOND", "Speech", "speech_of_text", "shot_speech", "scene_speech",
           "check_speech", "describe"]

WORDS_PER_SECOND = 2.7
CHARS_PER_SECOND = 5.0

# A word of ASCII text: letters or digits, with inner apostrophes and hyphens ("don't", "well-known").  Other
# scripts are counted by _count_any: a regex over all of Unicode's letters, or the CJK ranges, takes several
# milliseconds to compile (sre builds a table of the whole plane), too much for every `scenec check`.
ASCII_WORD = re.compile(r"[A-Za-z0-9]+(?:['\-][A-Za-z0-9]+)*")
JOINERS = "'’-"


class Speech:
    """Words and syllabic characters to be spoken, and the seconds they take at the given rates."""

    __slots__ = ("words", "chars", "words_per_second", "chars_per_second")

    def __init__(self, words: int = 0, chars: int = 0, words_per_second: float = WORDS_PER_SECOND,
                 chars_per_second: float = CHARS_PER_SECOND) -> None:
        self.words, self.chars = words, chars
        self.words_per_second, self.chars_per_second = words_per_second, chars_per_second

    @property
    def seconds(self) -> float:
        return self.words / self.words_per_second + self.chars / self.chars_per_second

    def rates(self) -> str:
        """The rates that this estimate used, as the message shows them ("2.7 words/s")."""
        used = []
        if self.words or not self.chars:
            used.append(f"{self.words_per_second:g} words/s")
        if self.chars:
            used.append(f"{self.chars_per_second:g} characters/s")
        return " and ".join(used)


def speech_of_text(text: str, *, words_per_second: float = WORDS_PER_SECOND,
                   chars_per_second: float = CHARS_PER_SECOND) -> Speech:
    words, chars = (len(ASCII_WORD.findall(text)), 0) if text.isascii() else _count_any(text)
    return Speech(words, chars, words_per_second, chars_per_second)


def _syllabic(char: str) -> bool:
    """Spoken one syllable each: CJK ideographs (with extensions) and kana."""
    code = ord(char)
    return (0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF
            or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FA1F)


def _count_any(text: str) -> tuple[int, int]:
    """(words, syllabic characters) of any text.  A word is a run of letters or digits of a script that is not
    syllabic, and an apostrophe or hyphen between two such runs joins them, as ASCII_WORD does for ASCII."""
    words = chars = 0
    in_word = joining = False
    for char in text:
        if _syllabic(char):
            chars += 1
            in_word = joining = False
        elif char.isalnum():
            words += not (in_word or joining)
            in_word, joining = True, False
        elif in_word and char in JOINERS:
            in_word, joining = False, True
        else:
            in_word = joining = False
    return words, chars


def _spoken_lines(shot: ir.Shot) -> Iterator[tuple[ir.DialogueBeat, str]]:
    for beat in shot.beats:
        if type(beat) is ir.DialogueBeat:
            for part in beat.parts:
                if part.kind == "speech":
                    yield beat, "".join(getattr(piece, "text", "") for piece in part.pieces)


def shot_speech(shot: ir.Shot, **rates: float) -> Speech:
    return _speech((shot,), **rates)


def scene_speech(scene: ir.Scene, **rates: float) -> Speech:
    return _speech(scene.shots, **rates)


def _speech(shots: Iterable[ir.Shot], **rates: float) -> Speech:
    # One pass of each pattern over all the lines: per-line calls were most of the cost on long scripts.
    return speech_of_text("\n".join(text for shot in shots for _, text in _spoken_lines(shot)), **rates)


def describe(seconds: float) -> str:
    """Seconds as the messages show them: one decimal, never '0.0' for a spoken word."""
    return f"{max(seconds, 0.1):.1f}"


def check_speech(scene: ir.Scene, **rates: float) -> list[Diagnostic]:
    """Warn when a timed shot's dialogue, or the whole scene's, cannot be said in the time it has."""
    found: list[Diagnostic] = []
    for shot in scene.shots:
        if shot.timing:
            found += _shot_too_short(scene, shot, shot.timing, shot_speech(shot, **rates))
    total = scene_speech(scene, **rates)
    duration = scene.settings.duration
    if total.seconds > duration:
        found.append(make(
            "speech-exceeds-duration",
            f"the dialogue needs about {describe(total.seconds)} s at {total.rates()}; the clip is {duration:g} s",
            scene.settings.spans.get("DURATION") or _first_cue(scene), path=scene.path,
            hint="cut lines, split the scene, or raise DURATION"))
    return found


def _shot_too_short(scene: ir.Scene, shot: ir.Shot, timing: tuple[float, float],
                    speech: Speech) -> list[Diagnostic]:
    start, end = timing
    length = end - start
    if length <= 0 or not speech.words + speech.chars or speech.seconds <= length:
        return []  # a backwards timing is timing-overlap's to report
    return [make("speech-exceeds-shot",
                 f"shot {shot.number}'s dialogue needs about {describe(speech.seconds)} s at {speech.rates()}; "
                 f"the shot is {length:g} s ({start:g}-{end:g}s)",
                 shot.timing_span, path=scene.path, hint="cut the lines, or give the shot more time")]


def _first_cue(scene: ir.Scene) -> Span | None:
    for shot in scene.shots:
        for beat, _ in _spoken_lines(shot):
            return beat.span
    return None
