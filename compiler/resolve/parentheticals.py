"""Parentheticals and cue extensions: how a wryly or a (V.O.) joins its line of dialogue."""

from __future__ import annotations

from .. import nodes as n

__all__ = ["classify_parenthetical", "pause", "extension_manner", "strip_brackets_space", "PAUSES", "EXTENSIONS"]

# Parentheticals: what comes before the line ("after seeing LEO") or how it is said ("replies", "softly").
LEAD_IN_WORDS = {"after", "before", "when", "while", "as", "once", "upon", "until", "still", "then", "without",
                 "suddenly", "finally", "later"}
# Screenplay shorthands that are pauses, not ways of speaking: "(beat)" becomes "After a beat, ...".
PAUSES = {"beat": "after a beat", "a beat": "after a beat", "pause": "after a pause", "a pause": "after a pause",
          "long pause": "after a long pause", "then": "then"}
NOT_VERBS = {"is", "was", "has", "this", "his", "hers", "its", "as", "yes", "us", "less", "across", "always"}
# Cue extensions that change how a line is heard; the rest ("CONT'D") change nothing in the prompt.
EXTENSIONS = {"V.O.": ("in voice-over", "画外音"), "VO": ("in voice-over", "画外音"),
              "O.S.": ("off-screen", "在画外"), "OS": ("off-screen", "在画外"),
              "O.C.": ("off-screen", "在画外"), "OC": ("off-screen", "在画外")}
ZH_LEAD_IN_ENDINGS = ("后", "时", "着", "中", "前")
ZH_SPEECH_VERBS = ("说", "道", "答", "问", "喊", "叫", "唱", "念", "回答", "低语", "嘀咕")


def classify_parenthetical(text: str, language: str) -> str:
    """How a parenthetical joins its line (English examples; docs/language.md has the table):

    'lead-in'  a clause before the line: "(after seeing LEO)", "(turning away)" -> "After seeing Image 1, X says"
    'delivery' a verb instead of "says":  "(replies)", "(whispers to LEO)"      -> "X replies, ..."
    'manner'   words after "says":        "(quietly)", "(to LEO)", "(in French)" -> "X says quietly, ..."
    Chinese: ending in 后/时/着/中/前 is a lead-in, ending in a speech verb (回答, 喊) a delivery, else a manner.
    """
    words = text.replace(",", " ").split()
    if language == "zh":
        if text.endswith(ZH_LEAD_IN_ENDINGS):
            return "lead-in"
        return "delivery" if text.endswith(ZH_SPEECH_VERBS) else "manner"
    if not words:
        return "manner"
    first = words[0].lower()
    if first in LEAD_IN_WORDS or text.lower() in PAUSES or (first.endswith("ing") and len(first) > 4):
        return "lead-in"
    if (first.endswith("s") and not first.endswith(("ss", "us", "ous", "ly")) and first not in NOT_VERBS
            and len(first) > 2):
        return "delivery"
    return "manner"


def pause(text: str, language: str) -> str | None:
    """'(beat)' -> 'after a beat': a screenplay pause, in English scenes."""
    return PAUSES.get(text.lower()) if language != "zh" else None


def extension_manner(extension: n.Word | None, language: str) -> str | None:
    """'(V.O.)' -> 'in voice-over' (画外音): how the extension makes the line heard, if it changes it."""
    found = EXTENSIONS.get(extension.text.strip("()（） ").upper()) if extension else None
    return found[1 if language == "zh" else 0] if found else None


def strip_brackets_space(segments: tuple[n.Segment, ...]) -> tuple[n.Segment, ...]:
    """Trim the spaces just inside a parenthetical's brackets."""
    if not segments:
        return segments
    items = list(segments)
    if isinstance(items[0], n.Text):
        items[0] = n.Text(items[0].text.lstrip(), items[0].span)
    if isinstance(items[-1], n.Text):
        items[-1] = n.Text(items[-1].text.rstrip(), items[-1].span)
    return tuple(item for item in items if not (isinstance(item, n.Text) and not item.text))
