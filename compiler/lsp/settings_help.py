"""What each setting means and which values it takes, for hover and completion.

The values come from the compiler's own tables (the chosen compile target's, the language's); only the
sentences live here, and a test fails when the vocabulary gains a key without one.
"""

from __future__ import annotations

from ..resolve.settings import (
    DIALOGUE_STYLES,
    FALSE_WORDS,
    LANGUAGES,
    OPENERS,
    QUOTE_STYLES,
    SETTING_ALIASES,
    SHOT_LABELS,
    STYLES,
    TRUE_WORDS,
)
from ..targets import Target, all_models, target_of
from ..vocabulary import DEFAULT_MODEL, SEED_MAX

__all__ = ["MEANINGS", "values_for", "describe", "canonical"]

MEANINGS = {
    "TITLE": "A title for your own reference; never sent to the service.",
    "MODEL": "The video model the request is for.",
    "RESOLUTION": "The output resolution.",
    "RATIO": "The output aspect ratio (ignored with a FIRST FRAME: the video takes its aspect).",
    "DURATION": "The video's length in whole seconds.",
    "SEED": "The random seed, for repeatable results.",
    "WATERMARK": "Whether the service adds its watermark.",
    "PROMPT EXTEND": "Whether the service rewrites and extends the prompt before generating.",
    "NEGATIVE PROMPT": "What the video should not show (sent as negative_prompt).",
    "LANGUAGE": "The language the prompt is written in.",
    "PROMPT STYLE": "How the prompt is laid out: flowing prose, a storyboard list of shots, or time-coded shots.",
    "ATMOSPHERE": "Mood, light and sound; opens the prompt.",
    "STYLE LINE": "A style sentence that opens the prompt, before ATMOSPHERE.",
    "DIALOGUE STYLE": "Whether a speech stands alone or joins its speaker's action line before it.",
    "QUOTES": "The quote marks around speech (single or double; Chinese ‘’ or “”).",
    "STOP AFTER QUOTE": "Whether a full stop follows the closing quote.",
    "STORYBOARD OPENER": "How a storyboard-image prompt opens: its own sentence, or 'Reference image, ...'.",
    "SHOT LABEL": "The label of each line in the timed style: Shot or Scene.",
    "FIRST FRAME": "An image the video starts from (a media spec, like a cast line's).",
    "STORYBOARD": "One multi-panel storyboard image, used alone without a cast.",
}
SWITCH = tuple(sorted(TRUE_WORDS)) + tuple(sorted(FALSE_WORDS))


def values_for(key: str, target: Target | None = None) -> tuple[str, ...]:
    """The values to offer for a setting, as the writer would type them (empty for free text): every model, and
    the values the chosen target (the default model's unless given) takes."""
    target = target or target_of(DEFAULT_MODEL)
    low, high = target.limits.duration
    return {
        "MODEL": all_models(), "RESOLUTION": target.resolutions, "RATIO": target.ratios,
        "DURATION": tuple(f"{seconds}s" for seconds in range(low, high + 1)),
        "WATERMARK": ("on", "off"), "PROMPT EXTEND": ("on", "off"),
        "LANGUAGE": tuple(sorted(set(LANGUAGES.values()))), "PROMPT STYLE": tuple(sorted(set(STYLES.values()))),
        "DIALOGUE STYLE": tuple(DIALOGUE_STYLES), "QUOTES": tuple(QUOTE_STYLES), "STOP AFTER QUOTE": ("on", "off"),
        "STORYBOARD OPENER": tuple(OPENERS), "SHOT LABEL": tuple(SHOT_LABELS),
    }.get(key, ())


def allowed_text(key: str, target: Target | None = None) -> str:
    target = target or target_of(DEFAULT_MODEL)
    with_video, without = target.limits.duration_with_video, target.limits.duration
    return {
        "MODEL": ", ".join(all_models()), "RESOLUTION": ", ".join(target.resolutions),
        "RATIO": ", ".join(target.ratios),
        "DURATION": f"{without[0]}-{without[1]} s, or {with_video[0]}-{with_video[1]} s with any reference video",
        "SEED": f"a whole number from 0 to {SEED_MAX}",
        "WATERMARK": " / ".join(SWITCH), "PROMPT EXTEND": " / ".join(SWITCH),
        "LANGUAGE": ", ".join(sorted(LANGUAGES)), "PROMPT STYLE": ", ".join(sorted(STYLES)),
        "NEGATIVE PROMPT": "text", "TITLE": "text", "ATMOSPHERE": "text", "STYLE LINE": "text",
        "DIALOGUE STYLE": ", ".join(DIALOGUE_STYLES), "QUOTES": ", ".join(QUOTE_STYLES),
        "STOP AFTER QUOTE": " / ".join(SWITCH), "STORYBOARD OPENER": ", ".join(OPENERS),
        "SHOT LABEL": ", ".join(SHOT_LABELS),
        "FIRST FRAME": "image SOURCE[, voice SOURCE]", "STORYBOARD": "image SOURCE",
    }.get(key, "")


def canonical(key: str) -> str:
    return SETTING_ALIASES.get(key, key)


def describe(key: str, target: Target | None = None) -> str | None:
    """A setting's meaning and the values the target (the default model's unless given) takes."""
    key = canonical(key)
    meaning = MEANINGS.get(key)
    if meaning is None:
        return None
    allowed = allowed_text(key, target)
    where = f" ({target.name})" if target is not None and key not in ("MODEL", "LANGUAGE") and allowed else ""
    return f"**{key}**: {meaning}" + (f"\n\nAllowed{where}: {allowed}" if allowed else "")
