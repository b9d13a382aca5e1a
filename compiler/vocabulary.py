"""The language's vocabulary: settings keys, and the framings and transitions the templates know (English, Chinese)."""

from __future__ import annotations

__all__ = ["SETTINGS", "SETTING_FIELDS", "MEDIA_SETTINGS", "FRAMINGS", "TRANSITIONS", "framing_entry",
           "RESOLUTIONS", "RATIOS", "SEED_MAX", "DEFAULT_MODEL", "DEFAULT_RESOLUTION", "DEFAULT_RATIO",
           "DEFAULT_DURATION", "DEFAULT_PROMPT_EXTEND", "DEFAULT_WATERMARK"]

# The values the language itself takes (resolve refuses others); a compile target may take fewer and refuses
# the rest at the setting's line (compiler/targets/, docs/targets.md).
RESOLUTIONS: tuple[str, ...] = ("480P", "720P", "1080P")
RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4")
SEED_MAX = 2_147_483_647

# The language's defaults (ir.Settings'): a scene without MODEL compiles for DEFAULT_MODEL, and the compile
# target then replaces every API parameter the writer left out by its own default (Target.settle).
DEFAULT_MODEL = "wan2.7-r2v"
DEFAULT_RESOLUTION = "1080P"
DEFAULT_RATIO = "16:9"
DEFAULT_DURATION = 5
DEFAULT_PROMPT_EXTEND = True
DEFAULT_WATERMARK = False

# The settings keys of the header ("KEY: value"), each with the ir.Settings field that holds its value.
# The grammar reads any key; resolve checks them and stores each value given under its field, and an
# absent one keeps ir.Settings' default (the language's, below; the target's for the API's parameters).
SETTING_FIELDS: dict[str, str] = {
    "TITLE": "title", "MODEL": "model", "RESOLUTION": "resolution", "RATIO": "ratio", "DURATION": "duration",
    "SEED": "seed", "WATERMARK": "watermark", "PROMPT EXTEND": "prompt_extend",
    "NEGATIVE PROMPT": "negative_prompt", "LANGUAGE": "language", "PROMPT STYLE": "prompt_style",
    "ATMOSPHERE": "atmosphere",
    # The prompt forms (docs/language.md, "Prompt forms").
    "DIALOGUE STYLE": "dialogue_style", "QUOTES": "quotes", "STOP AFTER QUOTE": "stop_after_quote",
    "STORYBOARD OPENER": "storyboard_opener", "SHOT LABEL": "shot_label", "STYLE LINE": "style_line",
}
SETTINGS = tuple(SETTING_FIELDS)
# Keys with a media spec after the colon, which the grammar names itself.
MEDIA_SETTINGS = ("FIRST FRAME", "STORYBOARD")

# canonical framing -> (English noun phrase, Chinese term).  Aliases map to a canonical entry.
FRAMINGS = {
    "EXTREME CLOSE-UP": ("extreme close-up", "大特写"),
    "CLOSE-UP": ("close-up", "特写"),
    "MEDIUM CLOSE-UP": ("medium close-up", "近景"),
    "MEDIUM SHOT": ("medium shot", "中景"),
    "MEDIUM WIDE SHOT": ("medium wide shot", "中全景"),
    "WIDE SHOT": ("wide shot", "全景"),
    "EXTREME WIDE SHOT": ("extreme wide shot", "远景"),
    "FULL SHOT": ("full shot", "全身镜头"),
    "TWO SHOT": ("two shot", "双人镜头"),
    "OVER THE SHOULDER": ("over-the-shoulder shot", "过肩镜头"),
    "POV": ("point-of-view shot", "主观镜头"),
    "INSERT": ("insert shot", "插入镜头"),
    "TRACKING SHOT": ("tracking shot", "跟拍镜头"),
    "AERIAL SHOT": ("aerial shot", "航拍镜头"),
    "ESTABLISHING SHOT": ("establishing shot", "建立镜头"),
    "LOW ANGLE": ("low-angle shot", "低角度镜头"),
    "HIGH ANGLE": ("high-angle shot", "高角度镜头"),
    "ANGLE": ("angle", "角度"),
    "BLACK": ("black", "黑场"),
}
ALIASES = {
    "CLOSE": "CLOSE-UP", "CLOSE UP": "CLOSE-UP", "CU": "CLOSE-UP", "ECU": "EXTREME CLOSE-UP",
    "EXTREME CLOSE UP": "EXTREME CLOSE-UP", "MEDIUM": "MEDIUM SHOT", "MS": "MEDIUM SHOT", "MCU": "MEDIUM CLOSE-UP",
    "WIDE": "WIDE SHOT", "WS": "WIDE SHOT", "LONG SHOT": "EXTREME WIDE SHOT", "EXTREME WIDE": "EXTREME WIDE SHOT",
    "FULL": "FULL SHOT", "OTS": "OVER THE SHOULDER", "OVER THE SHOULDER SHOT": "OVER THE SHOULDER",
    "POV SHOT": "POV", "INSERT SHOT": "INSERT", "TRACKING": "TRACKING SHOT", "AERIAL": "AERIAL SHOT",
    "ESTABLISHING": "ESTABLISHING SHOT", "LOW ANGLE SHOT": "LOW ANGLE", "HIGH ANGLE SHOT": "HIGH ANGLE",
    "ANGLE ON": "ANGLE", "TWO-SHOT": "TWO SHOT",
}

# transition verb -> (English "the shot ... to", Chinese "随后...到")
TRANSITIONS = {
    "CUT": ("cuts", "切换"),
    "SMASH CUT": ("smash-cuts", "硬切"),
    "MATCH CUT": ("match-cuts", "匹配剪辑切换"),
    "JUMP CUT": ("jump-cuts", "跳切"),
    "HARD CUT": ("cuts", "硬切"),
    "DISSOLVE": ("dissolves", "叠化"),
    "FADE": ("fades", "渐变"),
    "WIPE": ("wipes", "划变"),
    "FADE IN": ("fades in", "淡入"),
    "FADE OUT": ("fades out", "淡出"),
}


def framing_entry(framing: str) -> tuple[str, str] | None:
    """(English, Chinese) for a framing as written, or None when scenec does not know it."""
    key = " ".join(framing.upper().replace(".", "").split())
    key = ALIASES.get(key, key)
    return FRAMINGS.get(key)


# A tuple: "did you mean" keeps one bounded, cached search per fixed vocabulary.
KNOWN_FRAMINGS = tuple(sorted(set(FRAMINGS) | set(ALIASES)))


def known_framings() -> tuple[str, ...]:
    return KNOWN_FRAMINGS
