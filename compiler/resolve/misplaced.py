"""Lines in the wrong place: a setting or cast line inside the script, a member line the grammar could not
take, capitals read as speech, action that lost its blank line under dialogue.  Each is reported where the
writer can fix it, and nothing is silently turned into prompt text it was not meant to be."""

from __future__ import annotations

import re
from collections.abc import Container

from .. import nodes as n
from ..diagnostics import did_you_mean
from ..source import Span
from ..vocabulary import MEDIA_SETTINGS, SETTINGS
from .names import bare_name, is_caps_name
from .reporter import Reporter

__all__ = ["misplaced_header", "malformed_member", "caps_line_in_dialogue", "swallowed_action", "plain_text"]

HEADER_KEYS = SETTINGS + MEDIA_SETTINGS + ("CAST", "CAST FROM")
MEMBER_LINE = re.compile(r"^(?:[A-Z][A-Z0-9_]*|@\w(?:[\w\-]*\w)?)\s*(?:\([^()]*\)\s*)?:\s*"
                         r"(?:(?:character|object|background)\s+)?(?:image|video)\s+\S")
SETTING_LIKE_VALUE = re.compile(r"^(?:\S*\d\S*|on|off|yes|no|true|false|en|zh|prose|shots)$", re.IGNORECASE)
# A line shaped like a member ("NAME: image path") whose name the grammar did not take: lower case, "LEO-2",
# "LEO LIN", "JOSÉ", "小李", nested parentheses, or "LEO - image ...".  The source must look like a path or
# URL, so "The kid - image of his father" stays action.
MALFORMED_MEMBER = re.compile(
    r"^(?P<name>[^:\s][^:]{0,40}?)\s*(?::|\s[-–—]\s)\s*(?:(?:character|object|background)\s+)?(?:image|video)\s+"
    r"(?:\"[^\"]*\"|\S*[./]\S*)", re.IGNORECASE)
# A spoken line that opens with a cast name and a lower-case word ("MAYA sits down."), or with an @name.
SPEECH_OPENING_NAME = re.compile(r"^((?:[A-Z][A-Z0-9_]*|@\w(?:[\w\-]*\w)?))(\s+[a-z])?")
ONE_WORD_NAME = re.compile(r"\w(?:[\w\-]*\w)?")
CAPS_WITH_HYPHENS = re.compile(r"[A-Z][A-Z0-9_\-]*")
CAPS_WORD = re.compile(r"[A-Z][A-Z0-9_]*")


def misplaced_header(text: str, span: Span, report: Reporter) -> bool:
    """A settings or cast line that landed in the script (after the script began, or without its
    colon): warned and left out of the prompt, so "DURATOIN 10s" never becomes action."""
    kind = _header_kind(text.strip())
    if kind is None:
        return False
    report("header-line-in-script", f"{text.strip()[:60]!r} looks like a {kind} line inside the script: "
           f"it would not take effect", span,
           hint="settings, FIRST FRAME and the cast go above the script, each setting as KEY: value "
                "(start the line with ! if it is action)")
    return True


def malformed_member(text: str, span: Span, report: Reporter) -> bool:
    """'Leo: image media/boy.jpg', 'JOSÉ: ...', 'LEO - image ...': a member the cast would lose, an error."""
    match = MALFORMED_MEMBER.match(text.strip())
    if match is None:
        return False
    name = match.group("name").strip()
    if is_caps_name(name) or name.startswith("@"):
        problem = f"the name {name} must be followed by ':' (or a description and ':')"
    else:
        problem = f"{name[:40]!r} is not written as a cast name{_member_suggestion(name)}"
    report("malformed-member", f"{text.strip()[:60]!r} looks like a cast member line, but {problem}", span,
           hint="a member line reads NAME (description): [character|object|background] image|video SOURCE "
                "under CAST, before the script; NAME is capitals, digits and _ (MAYA, GIRL_2), or @ and "
                "one word in any script (@小李, @José)")
    return True


def caps_line_in_dialogue(part: n.Speech, speaker: str, report: Reporter) -> bool:
    """A capitals line under a cue ('CUT TO:' without its blank line) is read as speech: said so."""
    if not _looks_like_caps_line(part.text):
        return False
    report("caps-line-in-dialogue", f"{part.text[:60]!r} is read as words {speaker} says",
           part.span, hint="end the dialogue with a blank line before a transition or framing")
    return True


def swallowed_action(part: n.Speech, names: Container[str], report: Reporter) -> None:
    """'MAYA sits down.' under a spoken line: action that lost its blank line and is now spoken."""
    match = SPEECH_OPENING_NAME.match(part.text)
    if match and bare_name(match.group(1)) in names and (match.group(1).startswith("@") or match.group(2)):
        report("dialogue-swallows-action", f"{part.text[:60]!r} is read as words the speaker says",
               part.span, hint="if it is action, put a blank line above it to end the dialogue")


def plain_text(segments: tuple[n.Segment, ...]) -> str:
    """A line's text as written, mentions included."""
    return "".join(segment.name if isinstance(segment, n.Mention) else segment.text for segment in segments)


def _member_suggestion(name: str) -> str:
    """'; write it @Leo' for a one-word name, '; write it LEO_LIN' for capitals with spaces, else nothing."""
    words = name.split()
    if len(words) == 1 and ONE_WORD_NAME.fullmatch(name):
        return f"; write it @{name}" + (f" or {name.replace('-', '_')}" if CAPS_WITH_HYPHENS.fullmatch(name) else "")
    if len(words) > 1 and all(CAPS_WORD.fullmatch(word) for word in words):
        return f"; write it {'_'.join(words)}"
    return ""


def _header_kind(text: str) -> str | None:
    """What header line this script line looks like ('DURATION', 'CAST', 'cast member'), if any.

    Exact keys count ("CAST", "CAST FROM x", "DURATION 10s"); a near miss counts only with a colon or a
    value that looks like a setting's ("DURATOIN 10s"), so "CASTLE WALLS rise." stays action.
    """
    if MEMBER_LINE.match(text):
        return "cast member"
    key, colon, rest = text.partition(":")
    written = " ".join(key.upper().split())
    if colon and written in HEADER_KEYS and written != key.strip():
        return written  # "Watermark: on" (any case, exact key only: "Note: ..." stays action)
    words = key.split() if colon else text.split()
    if not words or not all(word.isupper() for word in words[:1]):
        return None
    for size in (2, 1):
        head = " ".join(words[:size])
        if len(words) < size or not head.isupper():
            continue
        remainder = rest.split() if colon else words[size:]
        if head in HEADER_KEYS and (colon or remainder or head == "CAST"):
            return head
        # A near miss only with a colon or a setting-like value (cheap tests first: this runs per action line).
        if colon or (len(remainder) == 1 and SETTING_LIKE_VALUE.match(remainder[0])):
            close = did_you_mean(head, HEADER_KEYS)
            if close:
                return close[0]
    return None


def _looks_like_caps_line(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all("A" <= c <= "Z" for c in letters)
