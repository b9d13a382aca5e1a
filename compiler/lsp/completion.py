"""Completion: settings keys and values, cast roles and kinds, media paths inside the project, cast names
(action, cues, framing subjects), framings and transitions.  The context is read from the line being typed."""

from __future__ import annotations

import os
import re
from pathlib import Path

from lsprotocol import types as lsp

from ..project import find_project
from ..targets import TARGETS, target_of
from ..vocabulary import MEDIA_SETTINGS, SETTINGS, TRANSITIONS, known_framings
from .analysis import Analysis
from .positions import Encoding, to_offset
from .settings_help import MEANINGS, canonical, values_for

__all__ = ["complete", "media_files"]

Item = tuple[str, lsp.CompletionItemKind, str, str]  # label, kind, detail, the typed text the label replaces

SETTING_LINE = re.compile(r"^(?P<key>[A-Z][A-Z ]*[A-Z])[ \t]*:[ \t]*(?P<value>[^\r\n]*)$")
MEMBER_LINE = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]*)[ \t]*(?:\([^()]*\)[ \t]*)?:[ \t]*(?P<rest>[^\r\n]*)$")
CAST_FROM = re.compile(r"^CAST FROM[ \t]+(?P<path>\S*)$")
SUBJECT = re.compile(r"(?:\bON|\bAND|,)[ \t]+(?P<word>[A-Z0-9_]*)$")
CAPS_START = re.compile(r"^[ \t]*(?P<words>[A-Z][A-Z0-9 '\-]*)?$")
PARTIAL_WORD = re.compile(r"(?P<word>[A-Za-z0-9_]*)$")
PARTIAL_PATH = re.compile(r"(?P<path>[^\s,\"]*)$")
# The media files some target takes (a file the chosen one does not take is reported by check).
EXTENSIONS = {kind: {"." + f for target in TARGETS for f in target.limits.file(kind).formats} | (
              {".jpg"} if kind == "image" else set()) for kind in ("image", "video", "voice")}
EXTENSIONS["cast"] = {".cast"}
MAX_FILES = 2000  # a project folder with more is not walked further


def complete(analysis: Analysis, position: lsp.Position, encoding: Encoding) -> lsp.CompletionList:
    source = analysis.source
    offset = to_offset(source, position, encoding)
    line_start = source.line_starts[min(position.line, len(source.line_starts) - 1)]
    prefix = source.text[line_start:offset]
    items = _items(analysis, prefix, position.line + 1 >= _script_line(analysis))
    return lsp.CompletionList(is_incomplete=False, items=[_with_range(item, position, prefix, encoding)
                                                            for item in items])


def _script_line(analysis: Analysis) -> int:
    """The first line of the script (1-based); a file without script is all header."""
    paragraphs = analysis.scene_file.paragraphs
    return paragraphs[0].span.line if paragraphs else 10**9


def _items(analysis: Analysis, prefix: str, in_script: bool) -> list[Item]:
    """(label, kind, detail, the text typed so far that the label replaces)."""
    names = sorted(member.name for member in analysis.scene.members) if analysis.scene else []
    if not in_script:
        return _header_items(analysis, prefix)
    subject = SUBJECT.search(prefix)
    if subject and prefix.upper() == prefix:
        return [(name, lsp.CompletionItemKind.Variable, "cast member", subject.group("word")) for name in names]
    caps = CAPS_START.match(prefix)
    if caps:
        typed = (caps.group("words") or "")
        if " TO " in typed:  # "CUT TO CLO": the shot the transition goes to
            return _framing_items(typed.split(" TO ", 1)[1])
        return (_name_items(names, typed) + _framing_items(typed) + _transition_items(typed))
    word = _tail(PARTIAL_WORD, prefix, "word")
    if word and word[0].isupper():
        return _name_items(names, word)
    return []


def _tail(pattern: re.Pattern[str], text: str, group: str) -> str:
    """The group of a pattern anchored at the end that can match nothing (so it always matches)."""
    found = pattern.search(text)
    return found.group(group) if found else ""


def _header_items(analysis: Analysis, prefix: str) -> list[Item]:
    cast_from = CAST_FROM.match(prefix)
    if cast_from:
        return _path_items(analysis, "cast", cast_from.group("path"))
    setting = SETTING_LINE.match(prefix)
    if setting and canonical(setting.group("key")) in MEANINGS:
        return _value_items(analysis, canonical(setting.group("key")), setting.group("value"))
    member = MEMBER_LINE.match(prefix)
    if member:
        return _member_items(analysis, member.group("rest"))
    if re.fullmatch(r"[A-Z ]*", prefix):
        keys = [(key + ": ", lsp.CompletionItemKind.Property, MEANINGS[key], prefix)
                for key in SETTINGS + MEDIA_SETTINGS]
        return keys + [("CAST", lsp.CompletionItemKind.Keyword, "the cast block", prefix),
                       ("CAST FROM ", lsp.CompletionItemKind.Keyword, "import a .cast file", prefix)]
    return []


def _value_items(analysis: Analysis, key: str, typed: str) -> list[Item]:
    if key in MEDIA_SETTINGS:
        return _member_items(analysis, typed)
    target = target_of(analysis.scene.settings.model) if analysis.scene is not None else None
    return [(value, lsp.CompletionItemKind.Value, key, typed) for value in values_for(key, target)]


def _member_items(analysis: Analysis, rest: str) -> list[Item]:
    """After 'NAME (description):' — [role] kind source[, voice SOURCE][, 6s long]."""
    words = rest.split(" ")
    voice = re.search(r",[ \t]*voice[ \t]+(?P<path>[^\s,]*)$", rest)
    if voice:
        return _path_items(analysis, "voice", voice.group("path"))
    option = re.search(r",[ \t]*(?P<word>[a-z]*)$", rest)
    if option:
        return [("voice ", lsp.CompletionItemKind.Keyword, "a voice sample", option.group("word"))]
    kinds = [w for w in words[:-1] if w in ("image", "video")]
    if kinds:
        return _path_items(analysis, kinds[0], _tail(PARTIAL_PATH, rest, "path"))
    typed = words[-1]
    roles: list[str] = [] if any(w in ("character", "object", "background") for w in words[:-1]) else \
        ["character ", "object ", "background "]
    return [(word, lsp.CompletionItemKind.Keyword, "role" if word.strip() in ("character", "object", "background")
             else "kind", typed) for word in roles + ["image ", "video "]]


def _name_items(names: list[str], typed: str) -> list[Item]:
    return [(name, lsp.CompletionItemKind.Variable, "cast member", typed) for name in names if name.startswith(typed)]


def _framing_items(typed: str) -> list[Item]:
    return [(framing + " ON ", lsp.CompletionItemKind.EnumMember, "framing", typed)
            for framing in known_framings() if framing.startswith(typed)]


def _transition_items(typed: str) -> list[Item]:
    labels = [f"{verb} TO " if verb not in ("FADE IN", "FADE OUT") else f"{verb}." for verb in TRANSITIONS]
    return [(label, lsp.CompletionItemKind.Event, "transition", typed) for label in labels if label.startswith(typed)]


def _path_items(analysis: Analysis, kind: str, typed: str) -> list[Item]:
    return [(path, lsp.CompletionItemKind.File, kind, typed) for path in media_files(analysis.path, kind)
            if path.startswith(typed) or typed in path]


def media_files(document: Path, kind: str) -> list[str]:
    """Files of a kind inside the document's project, as paths relative to the document's folder."""
    root = find_project(document).root
    wanted = EXTENSIONS[kind]
    found: list[str] = []
    seen = 0
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(files):
            seen += 1
            if os.path.splitext(name)[1].lower() in wanted:
                found.append(os.path.relpath(os.path.join(folder, name), document.parent).replace(os.sep, "/"))
        if seen > MAX_FILES:
            break
    return found


def _with_range(item: Item, position: lsp.Position, prefix: str, encoding: Encoding) -> lsp.CompletionItem:
    """The item replaces what was typed of it (the range is in the client's encoding)."""
    label, kind, detail, typed = item
    end = encoding.character(prefix, len(prefix) + 1)
    start = encoding.character(prefix, len(prefix) - len(typed) + 1)
    edit = lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=position.line, character=start),
                                        end=lsp.Position(line=position.line, character=end)), new_text=label)
    return lsp.CompletionItem(label=label.strip(), kind=kind, detail=detail, text_edit=edit,
                              filter_text=label)
