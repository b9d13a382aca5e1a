"""Stage 1, parse: text to syntax tree (nodes.SceneFile) plus syntax diagnostics; the parse tree never leaves this module."""

from __future__ import annotations

import re
from pathlib import Path

from . import lalr
from . import nodes as n
from .diagnostics import Diagnostic, did_you_mean, make
from .source import Source, Span, span_from
from .perf import gc_paused

__all__ = ["parse_text", "parse_file", "parse_bytes", "MAX_FILE_BYTES", "SETTING_KEYS"]

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_SYNTAX_ERRORS = 25

# Settings the language knows (resolve gives each its meaning); here for "did you mean" in syntax errors.
SETTING_KEYS = (
    "TITLE", "MODEL", "RESOLUTION", "RATIO", "DURATION", "SEED", "WATERMARK", "PROMPT EXTEND",
    "NEGATIVE PROMPT", "LANGUAGE", "PROMPT STYLE", "ATMOSPHERE", "FIRST FRAME", "STORYBOARD",
)

# A capitalised word inside prose: a cast name if it is declared.  Boundaries are ASCII word characters
# only, so a name touching Chinese text ("MAYA走进") is still found.
MENTION = re.compile(r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9_]*(?![A-Za-z0-9_])")

# What the writer would call each terminal, for "expected ..." messages.
TERMINAL_NAMES = {
    "_NL": "the end of the line", "_BLANK": "a blank line", "$END": "the end of the file",
    "_COLON": "':'", "_COMMA": "','", "_DOT": "'.'", "_ON": "ON", "_AND": "AND",
    "SETTING_KEY": "a setting (KEY: value)", "VALUE": "a value", "FIRST_FRAME": "FIRST FRAME",
    "STORYBOARD": "STORYBOARD", "CAST": "CAST", "CAST_FROM": "CAST FROM", "MEMBER": "a cast member (NAME: ...)",
    "DESCRIPTION": "a description in parentheses", "CHARACTER": "character", "OBJECT": "object",
    "BACKGROUND": "background", "IMAGE": "image", "VIDEO": "video", "VOICE": "voice", "LONG": "long",
    "SECONDS": "a length like 6s", "SOURCE": "a path or URL", "HEADING": "a scene heading",
    "FADE": "FADE IN/OUT", "TRANSITION": "a transition (CUT TO ...)", "CUE": "a character cue",
    "CUE_EXTENSION": "a cue extension like (V.O.)", "FRAMING_WORDS": "a framing (WIDE, CLOSE-UP ...)",
    "NAME": "a cast name", "TIMING": "a timing like [0-3s]", "PAREN": "a parenthetical",
    "FORCED_ACTION": "an action line", "TEXT": "a line of text",
}
KEYWORDS = {"CHARACTER": "character", "OBJECT": "object", "BACKGROUND": "background", "IMAGE": "image",
            "VIDEO": "video", "VOICE": "voice", "LONG": "long", "_ON": "ON", "_AND": "AND"}

def parse_file(path: Path) -> tuple[n.SceneFile, list[Diagnostic]]:
    """Read and parse a file; unreadable, binary or oversized files give a diagnostic and an empty scene."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        source = Source("", path)
        return n.SceneFile(source), [make("unreadable-file", f"cannot read {path}: {error.strerror or error}",
                                          None, path=str(path))]
    return parse_bytes(data, path)


def parse_bytes(data: bytes, path: Path | None = None) -> tuple[n.SceneFile, list[Diagnostic]]:
    name = str(path) if path else None
    if len(data) > MAX_FILE_BYTES:
        return n.SceneFile(Source("", path)), [make(
            "file-too-large", f"file is over {MAX_FILE_BYTES // (1024 * 1024)} MiB; scenec does not read it",
            None, path=name)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return n.SceneFile(Source("", path)), [make(
            "not-text", f"not UTF-8 text (byte {error.start} is 0x{data[error.start]:02x})", None, path=name,
            hint="save the file as UTF-8")]
    return parse_text(text, path)


@gc_paused
def parse_text(text: str, path: Path | None = None) -> tuple[n.SceneFile, list[Diagnostic]]:
    """Parse a scene (or cast) text.  Syntax errors are reported per line and parsing resumes after them."""
    source = Source(text, path)
    if "\x00" in text:
        offset = text.index("\x00")
        return n.SceneFile(source), [make("not-text", "the file contains NUL bytes: it is not a text file",
                                          source.span(offset, offset + 1), path=source.name)]
    # A BOM becomes a space so that offsets stay those of the file.
    working = text.replace("\ufeff", " ")
    working += ("" if working.endswith("\n") else "\n") + "\n"
    diagnostics: list[Diagnostic] = []
    silenced: set[int] = set()
    while True:
        try:
            tree = lalr.parse(working)
        except (lalr.UnexpectedToken, lalr.UnexpectedCharacters) as error:
            diagnostic, line = _syntax_diagnostic(error, source, working)
            if diagnostic is None or line in silenced or len(diagnostics) >= MAX_SYNTAX_ERRORS:
                if diagnostic is not None and line not in silenced and len(diagnostics) < MAX_SYNTAX_ERRORS:
                    diagnostics.append(diagnostic)
                return n.SceneFile(source), diagnostics
            diagnostics.append(diagnostic)
            silenced.add(line)
            working = _silence_line(working, source, line)
            continue
        return _Builder(source).scene(tree), diagnostics


def _silence_line(working: str, source: Source, line: int) -> str:
    """Turn a line into a comment of the same length, so parsing can go on with offsets unchanged."""
    starts = source.line_starts
    if line > len(starts):
        return working
    begin = starts[line - 1]
    end = working.find("\n", begin)
    end = len(working) if end == -1 else end
    width = end - begin
    if width >= 2:
        return working[:begin] + "--" + " " * (width - 2) + working[end:]
    return working[:begin] + " " * width + working[end:]


def _syntax_diagnostic(error: Exception, source: Source, working: str) -> tuple[Diagnostic | None, int]:
    if isinstance(error, lalr.UnexpectedToken):
        token = error.token
        start = token.start_pos if token.start_pos is not None else len(source.text)
        end = token.end_pos if token.end_pos is not None else start
        if token.type in ("_NL", "_BLANK", "$END"):
            start = end = min(start, len(source.text))
            found = "the end of the line" if token.type != "$END" else "the end of the file"
        else:
            found = repr(str(token))
        expected = sorted({TERMINAL_NAMES.get(name, name) for name in error.expected if not name.startswith("__")})
        message = f"unexpected {found}; expected {_one_of(expected)}"
        hint = _syntax_hint(str(token), error.expected, source, start)
    else:
        start = end = error.pos_in_stream
        end = start + 1
        char = working[start] if start < len(working) else ""
        allowed = sorted({TERMINAL_NAMES.get(name, name) for name in (error.allowed or ()) if not name.startswith("__")})
        message = f"unexpected character {char!r}" + (f"; expected {_one_of(allowed)}" if allowed else "")
        hint = None
    span = source.span(start, end)
    code = "unexpected-token" if isinstance(error, lalr.UnexpectedToken) else "unexpected-character"
    return make(code, message, span, path=source.name, hint=hint), span.line


def _one_of(names: list[str]) -> str:
    if len(names) <= 1:
        return names[0] if names else "something else"
    return ", ".join(names[:-1]) + " or " + names[-1]


def _syntax_hint(found: str, expected: set[str], source: Source, offset: int) -> str | None:
    """'did you mean' against the keywords allowed here, and the commonest misplacement: a setting below CAST."""
    keywords = [KEYWORDS[name] for name in expected if name in KEYWORDS]
    close = did_you_mean(found, keywords) if keywords and found.strip() else []
    if close:
        return f"did you mean {close[0]!r}?"
    line_text = source.line_text(source.position(offset)[0])
    key = line_text.split(":", 1)[0].strip()
    if ":" in line_text and key in SETTING_KEYS:
        return f"{key} is a setting: settings go at the top, before CAST"
    return None


class _Builder:
    """Reshapes the Lark tree into nodes; it never raises on user input (the grammar already accepted it)."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def span_of(self, item) -> Span:
        """A token's span from lark's own counters; a subtree spans its first to its last token."""
        if type(item) is lalr.Token:
            return span_from((item.start_pos, item.end_pos, item.line, item.column, item.end_line, item.end_column))
        first, last = _first_token(item), _last_token(item)
        if first is None or last is None:
            return self.source.span(0, 0)
        return span_from((first.start_pos, last.end_pos, first.line, first.column, last.end_line, last.end_column))

    def word(self, token) -> n.Word:
        return n.Word(str(token), self.span_of(token))

    def within(self, token, start: int, end: int) -> Span:
        """The span of characters start:end of a one-line token."""
        column = token.column
        offset = token.start_pos
        return span_from((offset + start, offset + end, token.line, column + start, token.line, column + end))

    def segments(self, text: str, token, skip: int = 0) -> tuple[n.Segment, ...]:
        """Split prose into plain text and capitalised words (mentions); text starts `skip` chars into token."""
        parts: list[n.Segment] = []
        cursor = 0
        for match in MENTION.finditer(text):
            start, end = match.span()
            if start > cursor:
                parts.append(n.Text(text[cursor:start], self.within(token, skip + cursor, skip + start)))
            parts.append(n.Mention(match.group(), self.within(token, skip + start, skip + end)))
            cursor = end
        if cursor < len(text):
            parts.append(n.Text(text[cursor:], self.within(token, skip + cursor, skip + len(text))))
        return tuple(parts)

    def scene(self, tree) -> n.SceneFile:
        settings, first_frames, storyboards, cast, paragraphs = [], [], [], [], []
        for child in tree.children:
            if child.data == "header":
                for item in child.children:
                    if item.data == "setting":
                        key, value = item.children
                        settings.append(n.Setting(self.word(key), self.word(value), self.span_of(item)))
                    elif item.data == "first_frame":
                        first_frames.append(self.media(item.children[1]))
                    else:
                        storyboards.append(self.media(item.children[1]))
            elif child.data == "cast":
                cast.extend(self.cast(child))
            elif child.data == "script":
                paragraphs.extend(self.paragraph(p) for p in child.children)
        return n.SceneFile(self.source, tuple(settings), tuple(first_frames), tuple(storyboards), tuple(cast),
                           tuple(paragraphs))

    def media(self, tree) -> n.MediaSpec:
        source = self.word(tree.children[0])
        voice = length = None
        for option in tree.children[1:]:
            if option.data == "voice":
                voice = self.word(option.children[1])
            else:
                length = self.word(option.children[0])
        return n.MediaSpec(source, voice, length, self.span_of(tree))

    def cast(self, tree) -> list[n.Member | n.CastImport]:
        items: list[n.Member | n.CastImport] = []
        for part in tree.children:
            if part.data == "cast_import":
                items.append(n.CastImport(self.word(part.children[1]), self.span_of(part)))
                continue
            for member in part.children[1:]:
                if hasattr(member, "data"):
                    items.append(self.member(member))
        return items

    def member(self, tree) -> n.Member:
        name = self.word(tree.children[0])
        description = role = kind = None
        media = None
        for child in tree.children[1:]:
            if hasattr(child, "data"):
                if child.data == "role":
                    role = self.word(child.children[0])
                elif child.data == "kind":
                    kind = self.word(child.children[0])
                elif child.data == "media":
                    media = self.media(child)
            elif child.type == "DESCRIPTION":
                description = n.Word(str(child)[1:-1].strip(), self.span_of(child))
        return n.Member(name, description, role, kind, media, self.span_of(tree), self.source.path)

    def paragraph(self, tree) -> n.Paragraph:
        return n.Paragraph(tuple(self.line(child) for child in tree.children), self.span_of(tree))

    def line(self, tree) -> n.Line:
        kind = tree.data
        if kind == "action":
            token = tree.children[0]
            forced = token.type == "FORCED_ACTION"
            text = str(token)[1:] if forced else str(token)
            stripped = text.rstrip()
            return n.Action(self.segments(stripped, token, 1 if forced else 0), self.span_of(token), forced)
        if kind == "heading":
            token = tree.children[0]
            text = str(token).rstrip()
            return n.Heading(text, self.segments(text, token), self.span_of(token))
        if kind == "transition":
            spec = self.shot_spec(tree.children[1]) if len(tree.children) > 1 else None
            return n.Transition(self.word(tree.children[0]), spec, self.span_of(tree))
        if kind == "framing":
            return n.Framing(self.shot_spec(tree.children[0]), self.span_of(tree))
        return self.dialogue(tree)

    def shot_spec(self, tree) -> n.ShotSpec:
        framing = timing = None
        subjects: tuple[n.Word, ...] = ()
        for child in tree.children:
            if hasattr(child, "data"):
                subjects = tuple(self.word(token) for token in child.children)
            elif child.type == "FRAMING_WORDS":
                framing = n.Word(" ".join(str(child).split()), self.span_of(child))
            elif child.type == "TIMING":
                timing = self.word(child)
        return n.ShotSpec(framing, subjects, timing, self.span_of(tree))

    def dialogue(self, tree) -> n.Dialogue:
        cue = self.word(tree.children[0])
        extension = None
        parts: list[n.Parenthetical | n.Speech] = []
        for child in tree.children[1:]:
            if not hasattr(child, "data"):
                extension = self.word(child)
                continue
            token = child.children[0]
            text = str(token).rstrip()
            if child.data == "parenthetical":
                inner = text[1:-1]
                parts.append(n.Parenthetical(inner.strip(), self.segments(inner, token, 1), self.span_of(token)))
            else:
                parts.append(n.Speech(text, self.span_of(token)))
        return n.Dialogue(cue, extension, tuple(parts), self.span_of(tree))


def _first_token(tree):
    for child in tree.children:
        token = _first_token(child) if hasattr(child, "data") else child
        if token is not None and token.line is not None:
            return token
    return None


def _last_token(tree):
    for child in reversed(tree.children):
        token = _last_token(child) if hasattr(child, "data") else child
        if token is not None and token.line is not None and not token.type.startswith("_"):
            return token
    return None
