"""scenec fmt: one canonical layout for .scene files, read from the syntax tree; every comment and word is kept.

The layout: file comments first; settings in the reference's order with canonical keys ("KEY: value");
one blank line; the cast, its lines aligned after the colon; one blank line; the script, with one
blank line between paragraphs; no trailing spaces (but the one after a bare heading: "INT " is a heading,
"INT" is action); one final newline.  Action and dialogue text is never rewritten, and blank lines inside
the script are only collapsed, never added or removed, since they end paragraphs and dialogue.

Conservative by construction: a line is rebuilt from its node only when the result differs from the
original by whitespace alone, and the whole result is parsed again and must give the same syntax tree
(spans aside, settings in canonical order); otherwise only whitespace at line ends is normalised, and
if even that changed the tree, the text is left as it is.  A file with syntax errors is not touched.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from . import _scene_tables as tables
from . import nodes as n
from .diagnostics import ERROR, Diagnostic
from .parse import parse_text
from .vocabulary import MEDIA_SETTINGS, SETTINGS

__all__ = ["Formatted", "format_text", "syntax_shape"]

# Spelled out rather than imported from typing, which `scenec fmt` does not otherwise import (records.py).
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Literal, TypeAlias

    # What a line of the file holds: a kind, and the node of that kind that starts on the line.
    _HeaderRole: TypeAlias = (tuple[Literal["setting"], n.Setting]
                              | tuple[Literal["first_frame", "storyboard"], n.MediaSpec])
    _CastRole: TypeAlias = tuple[Literal["member"], n.Member] | tuple[Literal["import"], n.CastImport]
    _ScriptRole: TypeAlias = (tuple[Literal["cue"], n.Dialogue]
                              | tuple[Literal["part"], n.Parenthetical | n.Speech]
                              | tuple[Literal["shot"], n.Transition | n.Framing]
                              | tuple[Literal["text"], n.Action | n.Heading])
    _Role: TypeAlias = _HeaderRole | _CastRole | _ScriptRole
    # The tree without positions: tuples of names, texts and flags (Shape, as _shape builds it).
    Shape: TypeAlias = tuple[object, ...]

# Spellings that resolve reads as another key; fmt writes the canonical one.
from .resolve import SETTING_ALIASES  # noqa: E402  (a constant; resolve is imported anyway by compile)

# What the scene is, what the clip is, how the prompt is made, then media: the examples' order.
CANONICAL_ORDER = ("TITLE", "LANGUAGE", "MODEL", "DURATION", "RESOLUTION", "RATIO", "SEED", "WATERMARK",
                   "PROMPT EXTEND", "PROMPT STYLE", "ATMOSPHERE", "NEGATIVE PROMPT", "FIRST FRAME", "STORYBOARD")
# A key added to the vocabulary but not above goes after the known ones, before unknown keys.
SETTING_ORDER = {key: index for index, key in enumerate(
    CANONICAL_ORDER + tuple(k for k in SETTINGS + MEDIA_SETTINGS if k not in CANONICAL_ORDER))}
COMMENT = re.compile(r"^[ \t]*--")
CAST_KEYWORD = re.compile(r"^[ \t]*CAST[ \t]*:?[ \t]*$")
CAST_IMPORT = re.compile(r"^[ \t]*CAST FROM[ \t]+(\S+)[ \t]*$")
SPACES = re.compile(r"[ \t]+")
# The parser reads a byte-order mark anywhere as a space, so at a line's start it is whitespace too.
LEADING = re.compile(r"^[\s\ufeff]+")
# A heading line as the grammar reads it: "INT " with nothing after is a heading only with its space.
HEADING = re.compile(tables.TERMINALS["HEADING"][0])


def _trim(line: str) -> str:
    return LEADING.sub("", line).rstrip()


class Formatted:
    """The result of formatting one text: the new text, whether it changed, and why it was not formatted."""

    __slots__ = ("text", "changed", "diagnostics", "note")

    def __init__(self, text: str, changed: bool, diagnostics: list[Diagnostic] | None = None,
                 note: str | None = None) -> None:
        self.text, self.changed, self.diagnostics, self.note = text, changed, diagnostics or [], note


def format_text(text: str, path: Path | None = None) -> Formatted:
    """The canonical layout of a scene or cast text; the text itself when it has syntax errors."""
    scene_file, diagnostics = parse_text(text, path)
    if any(d.severity == ERROR for d in diagnostics):
        return Formatted(text, False, diagnostics)
    shape = None
    for layout in (_canonical, _trimmed):
        candidate = layout(text, scene_file)
        if candidate == text:
            return Formatted(text, False, diagnostics)  # already canonical: nothing to verify
        shape = shape or syntax_shape(scene_file)
        if _same_tree(candidate, path, shape):
            return Formatted(candidate, True, diagnostics)
    return Formatted(text, False, diagnostics, note="left as it is: formatting would change its syntax tree "
                                                     "(a scenec bug, please report it)")


def _same_tree(candidate: str, path: Path | None, shape: Shape) -> bool:
    reparsed, diagnostics = parse_text(candidate, path)
    return not any(d.severity == ERROR for d in diagnostics) and syntax_shape(reparsed) == shape


# --- the syntax tree without positions: what formatting must keep ----------------------------

def syntax_shape(scene_file: n.SceneFile) -> Shape:
    """The tree as nested tuples without spans, settings in canonical order with canonical keys."""
    settings = sorted(scene_file.settings, key=lambda s: _order(s.key.text))
    return (tuple((_canonical_key(s.key.text), s.value.text) for s in settings),
            _shape(scene_file.first_frames), _shape(scene_file.storyboards), _shape(scene_file.cast),
            _shape(scene_file.paragraphs))


def _shape(value: object) -> object:
    """A record as (its type's name, its fields' shapes...), spans and paths left out; tuples item by item."""
    fields: tuple[str, ...] | None = getattr(value, "_fields", None)
    if fields is not None:
        return (type(value).__name__,) + tuple(_shape(getattr(value, f)) for f in fields
                                               if f not in ("span", "origin", "source"))
    if isinstance(value, tuple):
        return tuple(_shape(item) for item in value)
    return value


def _canonical_key(key: str) -> str:
    return SETTING_ALIASES.get(key, key)


def _order(key: str) -> int:
    return SETTING_ORDER.get(_canonical_key(key), len(SETTING_ORDER))


# --- the light layout: whitespace at line ends and blank runs only ---------------------------

def _trimmed(text: str, scene_file: n.SceneFile) -> str:
    lines = [line.rstrip() for line in _split(text)]
    return _join(_collapse_blanks(lines))


def _split(text: str) -> list[str]:
    """Lines as the parser counts them (on \\n only: a form feed or U+2028 stays inside its line)."""
    text = text[1:] if text.startswith("\ufeff") else text  # a byte-order mark opening the file
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _collapse_blanks(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if _trim(line) or (out and _trim(out[-1])):
            out.append(line if _trim(line) else "")
    return out


def _join(lines: list[str]) -> str:
    while lines and not _trim(lines[-1]):
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


# --- the canonical layout --------------------------------------------------------------------

class _Item:
    """A line of the header or cast with the comment lines just above it (they move with it)."""

    __slots__ = ("comments", "text", "order")

    def __init__(self, comments: list[str], text: str, order: int = 0) -> None:
        self.comments, self.text, self.order = comments, text, order


def _canonical(text: str, scene_file: n.SceneFile) -> str:
    lines = [line.rstrip() for line in _split(text)]
    roles = _line_roles(scene_file)
    script_start = min((p.span.line for p in scene_file.paragraphs), default=len(lines) + 1)
    top = next((i for i in range(1, script_start) if i in roles or CAST_KEYWORD.match(lines[i - 1])), script_start)
    lead, pending = _split_lead(_collapse_blanks(lines[: top - 1]))
    header, cast = [], []
    for number in range(top, script_start):
        line = lines[number - 1]
        if not _trim(line):
            continue
        if COMMENT.match(line):
            pending.append(line)
            continue
        role = roles.get(number)
        if role is not None and (role[0] == "setting" or role[0] == "first_frame" or role[0] == "storyboard"):
            header.append(_Item(pending, _header_line(role, line), _order(_setting_key(role))))
        else:
            cast.append(_Item(pending, _cast_line(role, line)))
        pending = []
    header.sort(key=lambda item: item.order)
    _align(cast)
    script = _script_lines(lines[script_start - 1:], roles, script_start)
    out = lead
    for block in (_items(header), _items(cast), pending + script):
        if block:
            out += ([""] if out and out[-1] else []) + block
    return _join(out)


def _split_lead(lead: list[str]) -> tuple[list[str], list[str]]:
    """The file's opening comments (up to the last blank line, which stays) and those glued to the first
    item below them, which move with it like any comment above a line."""
    if "" not in lead:
        return [], lead
    cut = len(lead) - lead[::-1].index("")
    return lead[:cut], lead[cut:]


def _items(items: list[_Item]) -> list[str]:
    return [line for item in items for line in item.comments + [item.text]]


def _line_roles(scene_file: n.SceneFile) -> dict[int, _Role]:
    """What each line of the file holds, by the nodes that start on it."""
    roles: dict[int, _Role] = {}
    for setting in scene_file.settings:
        roles[setting.span.line] = ("setting", setting)
    for spec in scene_file.first_frames:
        roles[spec.span.line] = ("first_frame", spec)
    for spec in scene_file.storyboards:
        roles[spec.span.line] = ("storyboard", spec)
    for item in scene_file.cast:
        roles[item.span.line] = ("member", item) if isinstance(item, n.Member) else ("import", item)
    for paragraph in scene_file.paragraphs:
        for line in paragraph.lines:
            if isinstance(line, n.Dialogue):
                roles[line.cue.span.line] = ("cue", line)
                for part in line.parts:
                    roles.setdefault(part.span.line, ("part", part))
            elif isinstance(line, (n.Transition, n.Framing)):
                roles.setdefault(line.span.line, ("shot", line))
            else:
                roles.setdefault(line.span.line, ("text", line))
    return roles


def _if_only_spacing(rebuilt: str, original: str) -> str:
    """The rebuilt line when it differs from the original by whitespace alone, else the original."""
    if SPACES.sub("", rebuilt) == SPACES.sub("", original):
        return rebuilt
    return _trim(original)


def _setting_key(role: _HeaderRole) -> str:
    if role[0] == "setting":
        return role[1].key.text
    return "FIRST FRAME" if role[0] == "first_frame" else "STORYBOARD"


def _header_line(role: _HeaderRole, original: str) -> str:
    if role[0] == "setting":
        key = role[1].key.text
        rebuilt = _if_only_spacing(f"{key}: {role[1].value.text}", original)
        canonical = _canonical_key(key)
        return canonical + rebuilt[len(key):] if rebuilt.startswith(key + ":") and canonical != key else rebuilt
    return _if_only_spacing(f"{_setting_key(role)}: {_media(role[1])}", original)


def _media(spec: n.MediaSpec) -> str:
    text = spec.source.text
    if spec.voice:
        text += f", voice {spec.voice.text}"
    if spec.length:
        text += f", {spec.length.text} long"
    return text


def _cast_line(role: _CastRole | _ScriptRole | None, original: str) -> str:
    if role is None:
        return "CAST" if CAST_KEYWORD.match(original) else _trim(original)
    if role[0] != "member":  # a CAST FROM line (the script's lines start after the cast)
        match = CAST_IMPORT.match(original)
        return f"CAST FROM {match.group(1)}" if match else _trim(original)
    node = role[1]
    head = node.name.text + (f" ({node.description.text})" if node.description else "") + ":"
    body = (f"{node.role.text} " if node.role else "") + f"{node.kind.text} {_media(node.media)}"
    rebuilt = _if_only_spacing(f"{head} {body}", original)
    return rebuilt if rebuilt.startswith(head + " ") else _trim(original)


def _align(cast: list[_Item]) -> None:
    """Members of the cast start their kind in one column (width in terminal cells: CJK counts two)."""
    heads = [_member_head(item.text) for item in cast]
    width = max((_cells(head) for head in heads if head), default=0)
    for item, head in zip(cast, heads, strict=True):
        if head:
            item.text = head + " " * (width - _cells(head) + 1) + item.text[len(head):].lstrip()


def _member_head(line: str) -> str | None:
    """'NAME (description):' of a member line, or None for CAST lines and lines kept as written."""
    match = re.match(r"^[A-Z][A-Z0-9_]*(?: \([^()]*\))?:(?= )", line)
    return match.group(0) if match and not line.startswith("CAST") else None


def _cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _script_lines(lines: list[str], roles: dict[int, _Role], first: int) -> list[str]:
    out = []
    for number, line in enumerate(lines, first):
        role = roles.get(number)
        if role is None or COMMENT.match(line) or not _trim(line):
            out.append(line.rstrip() if _trim(line) else "")
        else:
            out.append(_script_line(role, line))
    return _collapse_blanks(out)


def _script_line(role: _Role, line: str) -> str:
    if role[0] == "cue":
        node = role[1]
        cue = node.cue.text + (f" {node.extension.text}" if node.extension else "")
        return _if_only_spacing(cue, line)
    if role[0] == "text" and isinstance(role[1], n.Heading) and not HEADING.fullmatch(_trim(line)):
        return _trim(line) + " "  # a bare "INT " keeps the one space that makes it a heading
    # Framing and transition lines keep their inner spacing: "CUT  TO" is a framing, "CUT TO" a transition.
    return _trim(line)
