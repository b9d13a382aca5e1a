"""The settings block typed: each key read in any case and spelling the language allows, each value checked
against its choices, ranges or form; the result is ir.Settings with the effective values."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .. import ir
from .. import nodes as n
from ..diagnostics import did_you_mean
from ..project import first_given
from ..source import Span
from ..vocabulary import MEDIA_SETTINGS, RATIOS, RESOLUTIONS, SEED_MAX, SETTING_FIELDS, SETTINGS
from .reporter import Reporter

# Spelled out rather than imported from typing: `scenec check` runs on every save and does not import
# typing (records.py); checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["read_settings", "configured_value", "DEFAULT_CHOICES", "SETTING_ALIASES", "TRUE_WORDS",
           "FALSE_WORDS", "LANGUAGES",
           "STYLES", "DIALOGUE_STYLES", "QUOTE_STYLES", "OPENERS", "SHOT_LABELS"]

SETTING_ALIASES = {"PROMPT EXTENSION": "PROMPT EXTEND", "NEGATIVE": "NEGATIVE PROMPT", "STYLE": "PROMPT STYLE",
                   "ASPECT RATIO": "RATIO", "LANG": "LANGUAGE"}
TRUE_WORDS = {"on", "yes", "true", "1"}
FALSE_WORDS = {"off", "no", "false", "0"}
LANGUAGES = {"en": "en", "english": "en", "zh": "zh", "chinese": "zh", "中文": "zh", "cn": "zh"}
STYLES = {"prose": "prose", "shots": "shots", "shot list": "shots", "storyboard": "shots", "timed": "timed",
          "time-coded": "timed", "time coded": "timed"}
DIALOGUE_STYLES = {"separate": "separate", "joined": "joined"}
QUOTE_STYLES = {"single": "single", "double": "double"}
OPENERS = {"sentence": "sentence", "comma": "comma"}
SHOT_LABELS = {"shot": "shot", "scene": "scene"}
# The header keys a project's configuration may give a default for (project.DEFAULT_KEYS), with the values
# each takes: the header's own tables, so a configured value is read exactly as LANGUAGE: is.  MODEL is
# kept as written: which models exist is the compile targets' knowledge (the back-end reports an unknown one).
DEFAULT_CHOICES: dict[str, dict[str, str]] = {"LANGUAGE": LANGUAGES}
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?|秒)?$", re.IGNORECASE)


def read_settings(settings: Sequence[n.Setting], report: Reporter,
                  configured: dict[str, str] | None = None) -> ir.Settings:
    """The settings the writer gave, typed; unknown keys, repeats and bad values reported and left out.

    `configured`: the project's defaults by configuration key ("model", "language"), as written there; the
    scene's header wins over them (project.PRECEDENCE).  A value the header would refuse is left out here:
    compiler/config.py reports it at its line in the configuration."""
    values: dict[str, Any] = {}  # each value has the type its key's reader gives
    spans: dict[str, Span] = {}
    value_spans: dict[str, Span] = {}
    reader = _ValueReader(report)
    for setting in settings:
        written = " ".join(setting.key.text.upper().split())  # keys are read in any case: "Duration: 10s"
        key = SETTING_ALIASES.get(written, written)
        if key not in SETTINGS:
            close = did_you_mean(key, SETTINGS + MEDIA_SETTINGS)
            report("unknown-setting", f"unknown setting {key}", setting.key.span,
                   hint=f"did you mean {close[0]}?" if close else "see docs/language.md for the settings")
            continue
        if key in spans:
            report("duplicate-setting", f"{key} is set twice", setting.key.span,
                   related=[(f"{key} first set here", spans[key])])
            continue
        spans[key] = setting.key.span
        value_spans[key] = setting.value.span
        value = reader.read(key, setting.value)
        if value is not None:
            values[key] = value
    # Absent settings keep ir.Settings' defaults (the language's; the target settles the API's parameters), but
    # for the two a project's configuration may set (project.PRECEDENCE).
    fields = {SETTING_FIELDS[key]: value for key, value in values.items()}
    defaults = ir.Settings()
    fields["model"] = _effective("model", values, configured, defaults.model)
    fields["language"] = _effective("language", values, configured, defaults.language)
    return ir.Settings(given=frozenset(spans), spans=spans, value_spans=value_spans, **fields)


def _effective(key: str, values: dict[str, Any], configured: dict[str, str] | None, default: str) -> str:
    """A default-able setting's value: the header's, the configuration's, the default (project.PRECEDENCE)."""
    header = key.upper()
    from_config = configured_value(header, configured[key]) if configured and key in configured else None
    found = first_given(key, {"scene header": values.get(header), "configuration": from_config,
                              "API default": default, "default": default})
    return found[0] if found else default


def configured_value(key: str, text: str) -> str | None:
    """A configured default for the header key MODEL or LANGUAGE, read as the header reads it; None if refused
    (a model is kept as written, stripped: compiler/config.py checks it against the targets' models)."""
    if key == "MODEL":
        return text.strip() or None
    allowed = DEFAULT_CHOICES[key]
    return allowed.get(text.strip().lower()) or allowed.get(text.strip())



class _ValueReader:
    """One setting's value, read by its key's rule; None (after a diagnostic) when it cannot be read."""

    def __init__(self, report: Reporter) -> None:
        self.report = report

    def read(self, key: str, value: n.Word) -> object:
        text = value.text.strip()
        parsers: dict[str, Callable[[], object]] = {
            "TITLE": lambda: text, "NEGATIVE PROMPT": lambda: text, "ATMOSPHERE": lambda: text,
            "MODEL": lambda: text,  # kept as written: the compile target reports a model it does not know
            "RESOLUTION": lambda: self.choice(key, value, {r.lower(): r for r in RESOLUTIONS}),
            "RATIO": lambda: self.choice(key, value, {r: r for r in RATIOS}),
            "LANGUAGE": lambda: self.choice(key, value, DEFAULT_CHOICES[key]),
            "PROMPT STYLE": lambda: self.choice(key, value, STYLES),
            "WATERMARK": lambda: self.switch(key, value), "PROMPT EXTEND": lambda: self.switch(key, value),
            "DURATION": lambda: self.duration(value), "SEED": lambda: self.seed(value),
            # The prompt forms (docs/language.md, "Prompt forms").
            "DIALOGUE STYLE": lambda: self.choice(key, value, DIALOGUE_STYLES),
            "QUOTES": lambda: self.choice(key, value, QUOTE_STYLES),
            "STOP AFTER QUOTE": lambda: self.switch(key, value),
            "STORYBOARD OPENER": lambda: self.choice(key, value, OPENERS),
            "SHOT LABEL": lambda: self.choice(key, value, SHOT_LABELS),
            "STYLE LINE": lambda: text,
        }
        return parsers[key]()

    def choice(self, key: str, value: n.Word, allowed: dict[str, str]) -> str | None:
        found = allowed.get(value.text.strip().lower()) or allowed.get(value.text.strip())
        if found is None:
            options = sorted(set(allowed.values()))
            close = did_you_mean(value.text.strip(), options)
            self.report("bad-setting-value", f"{key} cannot be {value.text!r}; use one of {', '.join(options)}",
                        value.span, hint=f"did you mean {close[0]}?" if close else None)
        return found

    def switch(self, key: str, value: n.Word) -> bool | None:
        word = value.text.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        self.report("bad-setting-value", f"{key} is on or off, not {value.text!r}", value.span)
        return None

    def duration(self, value: n.Word) -> int | None:
        match = DURATION.match(value.text.strip())
        if not match or float(match.group(1)) != int(float(match.group(1))):
            self.report("bad-setting-value", f"DURATION must be whole seconds like 10s, not {value.text!r}", value.span)
            return None
        return int(float(match.group(1)))

    def seed(self, value: n.Word) -> int | None:
        text = value.text.strip()
        if not text.isdigit() or not 0 <= int(text) <= SEED_MAX:
            self.report("bad-setting-value", f"SEED must be a whole number from 0 to {SEED_MAX}, not {text!r}",
                        value.span)
            return None
        return int(text)
