"""Stage 1, parse: text to syntax tree (nodes.SceneFile) plus syntax diagnostics; the parse tree stays here."""

from __future__ import annotations

import re
from pathlib import Path

from . import lalr
from . import nodes as n
from .diagnostics import Diagnostic, did_you_mean, make
from .perf import gc_paused
from .source import InputRefused, Source, Span, read_input, shifted, span_from
from .vocabulary import MEDIA_SETTINGS, SETTINGS

TYPE_CHECKING = False  # typing is not imported at run time: `scenec check` starts without it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    # A rule's children as the parser hands them over: tokens, and what the builder returned for sub-rules.
    # Their shape is the grammar's (scene.lark), which the type checker cannot see.
    Children = list[Any]
    Tagged = tuple[str, Any]

__all__ = ["parse_text", "reparse_text", "parse_file", "parse_bytes", "MAX_FILE_BYTES"]

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_SYNTAX_ERRORS = 25


# A capitalised word inside prose: a cast name if it is declared.  Boundaries are ASCII word characters
# only, so a name touching Chinese text ("MAYA走进") is still found.  "@" and a word in any script is a
# marked name ("@小李", "@José"); the whole word is kept ("@小李走进茶馆") and resolve finds the declared name
# it starts with, since Chinese has no spaces to end it.
MENTION = re.compile(r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9_]*(?![A-Za-z0-9_])|(?<![A-Za-z0-9_.])@\w(?:[\w\-]*\w)?")

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
    """Read and parse a file; a file that is not a regular file, unreadable, binary or oversized gives a
    diagnostic and an empty scene (source.read_input: never blocks on a FIFO, never reads past the cap)."""
    try:
        data = read_input(path, MAX_FILE_BYTES)
    except InputRefused as refused:
        return n.SceneFile(Source("", path)), [_refused(path, refused)]
    return parse_bytes(data, path)


def _refused(path: Path, refused: InputRefused) -> Diagnostic:
    if refused.too_large:
        return make("file-too-large", f"file is over {MAX_FILE_BYTES // (1024 * 1024)} MiB; scenec does not read it",
                    None, path=str(path))
    return make("unreadable-file", f"cannot read {path}: {refused.reason}", None, path=str(path))


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
            scene = lalr.parse(working, _Builder(source).callbacks())
        except (lalr.UnexpectedToken, lalr.UnexpectedCharacters) as error:
            diagnostic, line = _syntax_diagnostic(error, source, working)
            if line in silenced or len(diagnostics) >= MAX_SYNTAX_ERRORS:
                # Giving up: say so once, and return no syntax tree (callers then check nothing else,
                # rather than report the untouched rest of the file as an empty script).
                diagnostics.append(make("parse-stopped", f"parsing stopped after {len(diagnostics)} syntax "
                                        "error(s); later errors are not reported and the scene is not checked "
                                        "further", diagnostic.span, path=source.name,
                                        hint="fix the errors above and check again"))
                return n.SceneFile(source), diagnostics
            diagnostics.append(diagnostic)
            silenced.add(line)
            working = _silence_line(working, source, line)
            continue
        return scene, diagnostics


# --- incremental parse -----------------------------------------------------------------------
#
# An editor sends one small change at a time.  Script paragraphs are separated by blank lines, and a
# blank line is never inside a token (only the line-end terminals span lines), so the parser is in the
# same state after every paragraph's _BLANK: the paragraphs before an edit keep their nodes, the ones
# after it keep theirs with spans shifted, and only the paragraphs between the blank lines around the
# edit are parsed again, after a one-paragraph prelude that puts the parser in that state.

BLANK_LINE = re.compile(r"^[ \t]*\r?\n", re.MULTILINE)
PRELUDE = "x\n\n"  # an action paragraph: the region after it starts on line 3 of the working text


@gc_paused
def reparse_text(previous: n.SceneFile, previous_diagnostics: list[Diagnostic], text: str,
                 path: Path | None = None) -> tuple[n.SceneFile, list[Diagnostic]]:
    """Exactly parse_text(text, path), reusing the paragraphs of `previous` (the parse of an earlier text
    of the same path) that the change did not touch.  Falls back to a whole parse whenever reuse is not
    known to be exact: syntax errors before or after, a change in the header or cast or first paragraph."""
    reused = _reuse(previous, previous_diagnostics, text, path)
    return reused if reused is not None else parse_text(text, path)


def _reuse(previous: n.SceneFile, previous_diagnostics: list[Diagnostic], text: str,
           path: Path | None) -> tuple[n.SceneFile, list[Diagnostic]] | None:
    old = previous.source.text
    if previous_diagnostics or previous.source.path != path or "\x00" in text:
        return None
    start, old_end, new_end = _changed(old, text)
    region_start = _after_blank_before(text, start)
    if region_start is None:
        return None
    before = [p for p in previous.paragraphs if p.span.end < region_start]
    if not before:
        return None  # the change is in the header, the cast or the first paragraph (whose state follows them)
    shift = len(text) - len(old)
    region_end = _after_blank_from(text, new_end)
    after = [p for p in previous.paragraphs if p.span.start >= region_end - shift] if region_end else []
    middle = _parse_region(text, region_start, region_end or len(text))
    if middle is None:
        return None
    line_shift = text.count("\n", start, new_end) - old.count("\n", start, old_end)
    moved = [shifted(p, shift, line_shift, _NODE_TYPES) for p in after] if shift or line_shift else after
    scene = previous._replace(source=Source(text, path), paragraphs=tuple(before) + middle + tuple(moved))
    return scene, []


def _changed(old: str, new: str) -> tuple[int, int, int]:
    """Where two texts differ: the common prefix's length, and the ends of the differing parts in each."""
    limit = min(len(old), len(new))
    start = _common_length(lambda k: old[:k] == new[:k], limit)
    rest = limit - start
    suffix = _common_length(lambda k: old[len(old) - k:] == new[len(new) - k:], rest)
    return start, len(old) - suffix, len(new) - suffix


def _common_length(agree: Callable[[int], bool], limit: int) -> int:
    """The largest k <= limit with agree(k), agree being monotone: a binary search of slice comparisons,
    each done in C, rather than a Python loop over every character of a long text."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if agree(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _after_blank_before(text: str, offset: int) -> int | None:
    """The end of the last blank line that ends before `offset` (and follows a line end), if any."""
    found = None
    for match in BLANK_LINE.finditer(text, 0, offset):
        if match.end() <= offset and match.start() > 0:
            found = match.end()
    return found


def _after_blank_from(text: str, offset: int) -> int | None:
    """The end of the first blank line that starts at or after `offset`'s line end, None at the end of the text."""
    line_end = text.find("\n", offset)
    if line_end == -1:
        return None
    match = BLANK_LINE.search(text, line_end + 1)
    return match.end() if match else None


def _parse_region(text: str, start: int, end: int) -> tuple[n.Paragraph, ...] | None:
    """The paragraphs of text[start:end] as the whole text's parse makes them; None if it holds a syntax error."""
    region = PRELUDE + text[start:end]
    if end == len(text):
        region += ("" if region.endswith("\n") else "\n") + "\n"
    try:  # as parse_text: the builder reads the text as written, the lexer a BOM as a space
        scene = lalr.parse(region.replace("\ufeff", " "), _Builder(Source(region)).callbacks())
    except (lalr.UnexpectedToken, lalr.UnexpectedCharacters):
        return None
    line = text.count("\n", 0, start) + 1
    return tuple(shifted(p, start - len(PRELUDE), line - 3, _NODE_TYPES) for p in scene.paragraphs[1:])


_NODE_TYPES = frozenset({n.Word, n.Text, n.Mention, n.Action, n.Heading, n.ShotSpec, n.Transition, n.Framing,
                         n.Parenthetical, n.Speech, n.Dialogue, n.Paragraph, tuple})


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


def _syntax_diagnostic(error: lalr.UnexpectedToken | lalr.UnexpectedCharacters, source: Source,
                       working: str) -> tuple[Diagnostic, int]:
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
        allowed = sorted({TERMINAL_NAMES.get(name, name) for name in (error.allowed or ())
                          if not name.startswith("__")})
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
    if ":" in line_text and (key in SETTINGS or key in MEDIA_SETTINGS):
        return f"{key} is a setting: settings go at the top, before CAST"
    return None


class _Builder:
    """Builds nodes bottom-up as the parser reduces each rule (no parse tree is built, then walked).

    Each method takes the rule's children (tokens, or what the methods below returned) and never
    raises on user input: the grammar already accepted it.
    """

    def __init__(self, source: Source) -> None:
        self.source = source

    def callbacks(self) -> dict[str, Callable[[Children], object]]:
        names = ("start", "header", "setting", "first_frame", "storyboard", "cast", "cast_list", "cast_import",
                 "member", "role", "kind", "media", "voice", "length", "script", "paragraph", "action", "heading",
                 "transition", "framing", "shot_spec", "subjects", "dialogue", "parenthetical", "speech")
        return {name: getattr(self, "rule_" + name) for name in names}

    # --- positions -------------------------------------------------------------------------
    @staticmethod
    def span_of(token: lalr.Token) -> Span:
        return span_from((token.start_pos, token.end_pos, token.line, token.column, token.end_line, token.end_column))

    def word(self, token: lalr.Token) -> n.Word:
        return n.Word(str(token), self.span_of(token))

    @staticmethod
    def join(first: Span, last: Span) -> Span:
        return span_from((first.start, last.end, first.line, first.column, last.end_line, last.end_column))

    @staticmethod
    def within(token: lalr.Token, start: int, end: int) -> Span:
        """The span of characters start:end of a one-line token."""
        column = token.column
        offset = token.start_pos
        return span_from((offset + start, offset + end, token.line, column + start, token.line, column + end))

    def segments(self, text: str, token: lalr.Token, skip: int = 0) -> tuple[n.Segment, ...]:
        """Split prose into plain text and capitalised words (mentions); text starts `skip` chars into token."""
        parts: list[n.Segment] = []
        cursor = 0
        within = self.within
        for match in MENTION.finditer(text):
            start, end = match.span()
            if start > cursor:
                parts.append(n.Text(text[cursor:start], within(token, skip + cursor, skip + start)))
            parts.append(n.Mention(match.group(), within(token, skip + start, skip + end)))
            cursor = end
        if cursor < len(text):
            parts.append(n.Text(text[cursor:], within(token, skip + cursor, skip + len(text))))
        return tuple(parts)

    # --- header ------------------------------------------------------------------------------
    def rule_start(self, children: Children) -> n.SceneFile:
        settings: list[n.Setting] = []
        first_frames: list[n.MediaSpec] = []
        storyboards: list[n.MediaSpec] = []
        cast: tuple[n.Member | n.CastImport, ...] = ()
        paragraphs: tuple[n.Paragraph, ...] = ()
        for tag, value in children:
            if tag == "header":
                for kind, item in value:
                    if kind == "setting":
                        settings.append(item)
                    else:
                        (first_frames if kind == "first_frame" else storyboards).append(item)
            elif tag == "cast":
                cast = value
            else:
                paragraphs = value
        return n.SceneFile(self.source, tuple(settings), tuple(first_frames), tuple(storyboards), cast, paragraphs)

    def rule_header(self, children: Children) -> Tagged:
        return "header", children

    def rule_setting(self, children: Children) -> Tagged:
        key, value = children
        return "setting", n.Setting(self.word(key), self.word(value), self.join(self.span_of(key), self.span_of(value)))

    def rule_first_frame(self, children: Children) -> Tagged:
        return "first_frame", children[1]

    def rule_storyboard(self, children: Children) -> Tagged:
        return "storyboard", children[1]

    def rule_media(self, children: Children) -> n.MediaSpec:
        source = self.word(children[0])
        options = dict(children[1:])
        last = children[-1][1].span if len(children) > 1 else source.span
        return n.MediaSpec(source, options.get("voice"), options.get("length"), self.join(source.span, last))

    def rule_voice(self, children: Children) -> Tagged:
        return "voice", self.word(children[1])

    def rule_length(self, children: Children) -> Tagged:
        return "length", self.word(children[0])

    # --- cast --------------------------------------------------------------------------------
    def rule_cast(self, children: Children) -> Tagged:
        return "cast", tuple(item for part in children for item in part)

    def rule_cast_list(self, children: Children) -> list[n.Member]:
        return children[1:]

    def rule_cast_import(self, children: Children) -> list[n.CastImport]:
        source = children[1]
        text = str(source)
        # A bare path swallows the colon that introduces the names ("leads.cast: MAYA").
        path = n.Word(text[:-1], self.within(source, 0, len(text) - 1)) if text.endswith(":") and len(text) > 1 \
            else self.word(source)
        names = tuple(self.word(token) for token in children[2:])
        last = names[-1].span if names else self.span_of(source)
        return [n.CastImport(path, self.join(self.span_of(children[0]), last), names)]

    def rule_role(self, children: Children) -> Tagged:
        return "role", self.word(children[0])

    def rule_kind(self, children: Children) -> Tagged:
        return "kind", self.word(children[0])

    def rule_member(self, children: Children) -> n.Member:
        name = self.word(children[0])
        description = role = None
        kind, media = children[-2][1], children[-1]  # the grammar: NAME DESCRIPTION? _COLON role? kind media
        for child in children[1:-2]:
            if type(child) is lalr.Token:
                description = n.Word(str(child)[1:-1].strip(), self.span_of(child))
            else:
                role = child[1]
        return n.Member(name, description, role, kind, media, self.join(name.span, media.span), self.source.path)

    # --- script ------------------------------------------------------------------------------
    def rule_script(self, children: Children) -> Tagged:
        return "script", tuple(children)

    def rule_paragraph(self, children: Children) -> n.Paragraph:
        return n.Paragraph(tuple(children), self.join(children[0].span, children[-1].span))

    def rule_action(self, children: Children) -> n.Action:
        token = children[0]
        forced = token.type == "FORCED_ACTION"
        text = (str(token)[1:] if forced else str(token)).rstrip()
        return n.Action(self.segments(text, token, 1 if forced else 0), self.span_of(token), forced)

    def rule_heading(self, children: Children) -> n.Heading:
        token = children[0]
        text = str(token).rstrip()
        return n.Heading(text, self.segments(text, token), self.span_of(token))

    def rule_transition(self, children: Children) -> n.Transition:
        kind = self.word(children[0])
        spec = children[1] if len(children) > 1 else None
        return n.Transition(kind, spec, self.join(kind.span, spec.span) if spec else kind.span)

    def rule_framing(self, children: Children) -> n.Framing:
        spec = children[0]
        if spec.subjects or spec.timing or spec.framing is None:
            return n.Framing(spec, spec.span)  # a framing whatever its words: no prose needed
        # Words alone ("BOOM.") may be action: keep the whole line as prose, its final "." included.
        span = spec.span
        text = self.source.text
        end = text.find("\n", span.start)
        line = text[span.start:len(text) if end == -1 else end].rstrip()
        return n.Framing(spec, span, self.segments_at(line, span))

    def segments_at(self, text: str, at: Span) -> tuple[n.Segment, ...]:
        """Like segments, for one line of text that starts where `at` starts."""
        def within(start: int, end: int) -> Span:
            return span_from((at.start + start, at.start + end, at.line, at.column + start, at.line, at.column + end))

        parts: list[n.Segment] = []
        cursor = 0
        for match in MENTION.finditer(text):
            start, end = match.span()
            if start > cursor:
                parts.append(n.Text(text[cursor:start], within(cursor, start)))
            parts.append(n.Mention(match.group(), within(start, end)))
            cursor = end
        if cursor < len(text):
            parts.append(n.Text(text[cursor:], within(cursor, len(text))))
        return tuple(parts)

    def rule_shot_spec(self, children: Children) -> n.ShotSpec:
        framing = timing = None
        subjects: tuple[n.Word, ...] = ()
        spans = []
        for child in children:
            if type(child) is tuple:
                subjects = child[1]
                spans += [subjects[0].span, subjects[-1].span]
            elif child.type == "FRAMING_WORDS":
                framing = n.Word(" ".join(str(child).split()), self.span_of(child))
                spans.append(framing.span)
            else:
                timing = self.word(child)
                spans.append(timing.span)
        return n.ShotSpec(framing, subjects, timing, self.join(spans[0], spans[-1]))

    def rule_subjects(self, children: Children) -> Tagged:
        return "subjects", tuple(self.word(token) for token in children)

    def rule_dialogue(self, children: Children) -> n.Dialogue:
        cue = self.word(children[0])
        extension = None
        parts = []
        for child in children[1:]:
            if type(child) is lalr.Token:
                extension = self.word(child)
            else:
                parts.append(child)
        return n.Dialogue(cue, extension, tuple(parts), self.join(cue.span, parts[-1].span))

    def rule_parenthetical(self, children: Children) -> n.Parenthetical:
        token = children[0]
        inner = str(token).rstrip()[1:-1]
        return n.Parenthetical(inner.strip(), self.segments(inner, token, 1), self.span_of(token))

    def rule_speech(self, children: Children) -> n.Speech:
        token = children[0]
        return n.Speech(str(token).rstrip(), self.span_of(token))
