"""Stage 2, resolve: syntax tree to resolved scene (ir.Scene): settings typed, cast imported and numbered, names bound, shots formed."""

from __future__ import annotations

import re
from pathlib import Path

from . import ir
from . import nodes as n
from .diagnostics import Diagnostic, did_you_mean, make
from .limits import MODELS, RATIOS, RESOLUTIONS, SEED_MAX
from .project import Project, find_project
from .source import Span
from .vocabulary import MEDIA_SETTINGS, SETTINGS
from .perf import gc_paused

__all__ = ["resolve", "identifier_for", "holds_only_a_cast"]

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
# Setting key -> ir.Settings field, for the prompt-form settings (absent ones keep the ir default).
PROMPT_FORM_FIELDS = {"DIALOGUE STYLE": "dialogue_style", "QUOTES": "quotes", "STOP AFTER QUOTE": "stop_after_quote",
                      "STORYBOARD OPENER": "storyboard_opener", "SHOT LABEL": "shot_label", "STYLE LINE": "style_line"}
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?|秒)?$", re.IGNORECASE)
TIMING = re.compile(r"^\[\s*(\d+(?:\.\d+)?)\s*s?\s*[-–—~]\s*(\d+(?:\.\d+)?)\s*s?\s*\]$")
LITERAL_IDENTIFIER = re.compile(r"\b(?:Image|Video)\s?\d+\b|图\d+|视频\d+|\breference (?:image|video)\b|参考(?:图片|视频)",
                                re.IGNORECASE)
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
MAX_IMPORT_DEPTH = 8


@gc_paused
def resolve(scene_file: n.SceneFile, *, project: Project | None = None, loader=None) -> tuple[ir.Scene, list[Diagnostic]]:
    """Bind names and number the media.  `loader(path)` parses a cast file (defaults to parse.parse_file)."""
    path = scene_file.source.path
    if project is None:
        project = find_project(path) if path else None
    state = _Resolver(scene_file, project, loader)
    return state.run(), state.diagnostics


def prompt_form_settings(values: dict[str, object]) -> dict[str, object]:
    """The ir.Settings fields of the prompt-form settings the writer gave."""
    return {field: values[key] for key, field in PROMPT_FORM_FIELDS.items() if key in values}


def identifier_for(kind: str, ordinal: int, single: bool, language: str) -> str:
    """The API's name for a reference: 'Image 2', 'Video 1', '图1'; 'reference image' when it is the only one."""
    if language == "zh":
        if single:
            return "参考图片" if kind == "image" else "参考视频"
        return f"{'图' if kind == 'image' else '视频'}{ordinal}"
    if single:
        return f"reference {kind}"
    return f"{'Image' if kind == 'image' else 'Video'} {ordinal}"


def holds_only_a_cast(scene_file: n.SceneFile) -> bool:
    """What a CAST FROM file may hold: CAST blocks and comments, no settings, frames or script."""
    return not (scene_file.settings or scene_file.paragraphs or scene_file.first_frames or scene_file.storyboards)


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
    if first.endswith("s") and not first.endswith(("ss", "us", "ous", "ly")) and first not in NOT_VERBS and len(first) > 2:
        return "delivery"
    return "manner"


class _Resolver:
    def __init__(self, scene_file: n.SceneFile, project: Project | None, loader) -> None:
        self.file = scene_file
        self.project = project
        self.loader = loader
        self.path = scene_file.source.name
        self.diagnostics: list[Diagnostic] = []
        self.used: set[str] = set()

    def report(self, code: str, message: str, span: Span | None, *, path: str | None = None, **extra) -> None:
        self.diagnostics.append(make(code, message, span, path=path or self.path, **extra))

    # --- the whole scene ---------------------------------------------------------------
    def run(self) -> ir.Scene:
        settings = self.settings()
        members = self.cast_members()
        storyboard = self.storyboard()
        references = ([storyboard] if storyboard else []) + members
        numbered = self.number(references, settings.language)
        # The storyboard image is named by the prompt's opening, not by the writer.
        names = {member.name: member for member in numbered if member.role != "storyboard"}
        first_frame = self.first_frame()
        shots = self.shots(names, settings.language)
        storyboard_ir = numbered[0] if storyboard else None
        cast_ir = tuple(numbered[1:] if storyboard else numbered)
        self.report_unused(cast_ir)
        root = self.project.root if self.project else None
        extra_frames = tuple(spec.span for spec in self.file.first_frames[1:])
        return ir.Scene(self.path, root, settings, cast_ir, first_frame, storyboard_ir, shots, extra_frames,
                        self.project)

    # --- settings ----------------------------------------------------------------------
    def settings(self) -> ir.Settings:
        values: dict[str, object] = {}
        spans: dict[str, Span] = {}
        for setting in self.file.settings:
            key = SETTING_ALIASES.get(setting.key.text, setting.key.text)
            if key not in SETTINGS:
                close = did_you_mean(key, SETTINGS + MEDIA_SETTINGS)
                self.report("unknown-setting", f"unknown setting {key}", setting.key.span,
                            hint=f"did you mean {close[0]}?" if close else "see docs/language.md for the settings")
                continue
            if key in spans:
                self.report("duplicate-setting", f"{key} is set twice", setting.key.span,
                            related=[(f"{key} first set here", spans[key])])
                continue
            spans[key] = setting.key.span
            value = self.setting_value(key, setting.value)
            if value is not None:
                values[key] = value
        defaults = ir.Settings()
        return ir.Settings(
            title=values.get("TITLE"), model=values.get("MODEL", defaults.model),
            resolution=values.get("RESOLUTION", defaults.resolution), ratio=values.get("RATIO", defaults.ratio),
            duration=values.get("DURATION", defaults.duration), seed=values.get("SEED"),
            watermark=values.get("WATERMARK", defaults.watermark),
            prompt_extend=values.get("PROMPT EXTEND", defaults.prompt_extend), negative_prompt=values.get("NEGATIVE PROMPT"),
            language=values.get("LANGUAGE", "en"), prompt_style=values.get("PROMPT STYLE", "prose"),
            atmosphere=values.get("ATMOSPHERE"), given=frozenset(spans), spans=spans,
            **prompt_form_settings(values))

    def setting_value(self, key: str, value: n.Word):
        text = value.text.strip()
        parsers = {
            "TITLE": lambda: text, "NEGATIVE PROMPT": lambda: text, "ATMOSPHERE": lambda: text,
            "MODEL": lambda: self.choice(key, value, {m: m for m in MODELS}),
            "RESOLUTION": lambda: self.choice(key, value, {r.lower(): r for r in RESOLUTIONS}),
            "RATIO": lambda: self.choice(key, value, {r: r for r in RATIOS}),
            "LANGUAGE": lambda: self.choice(key, value, LANGUAGES),
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

    def choice(self, key: str, value: n.Word, allowed: dict[str, str]):
        found = allowed.get(value.text.strip().lower()) or allowed.get(value.text.strip())
        if found is None:
            options = sorted(set(allowed.values()))
            close = did_you_mean(value.text.strip(), options)
            self.report("bad-setting-value", f"{key} cannot be {value.text!r}; use one of {', '.join(options)}",
                        value.span, hint=f"did you mean {close[0]}?" if close else None)
        return found

    def switch(self, key: str, value: n.Word):
        word = value.text.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        self.report("bad-setting-value", f"{key} is on or off, not {value.text!r}", value.span)
        return None

    def duration(self, value: n.Word):
        match = DURATION.match(value.text.strip())
        if not match or float(match.group(1)) != int(float(match.group(1))):
            self.report("bad-setting-value", f"DURATION must be whole seconds like 10s, not {value.text!r}", value.span)
            return None
        return int(float(match.group(1)))

    def seed(self, value: n.Word):
        text = value.text.strip()
        if not text.isdigit() or not 0 <= int(text) <= SEED_MAX:
            self.report("bad-setting-value", f"SEED must be a whole number from 0 to {SEED_MAX}, not {text!r}", value.span)
            return None
        return int(text)

    # --- media and cast ------------------------------------------------------------------
    def media_source(self, word: n.Word, origin: Path | None, path: str) -> ir.MediaSource:
        text = word.text[1:-1] if word.text.startswith('"') and word.text.endswith('"') and len(word.text) >= 2 else word.text
        scheme_match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", text)
        if scheme_match and len(scheme_match.group(1)) > 1:
            return ir.MediaSource(text, word.span, path, scheme_match.group(1).lower())
        base = origin.parent if origin else Path.cwd()
        return ir.MediaSource(text, word.span, path, "local", (base / text) if text else base)

    def cast_members(self) -> list[ir.CastMember]:
        collected: list[tuple[n.Member, str]] = []
        self.collect(self.file.cast, self.file.source.path, self.path, collected, depth=0, seen=set())
        members: list[ir.CastMember] = []
        declared: dict[str, ir.CastMember] = {}
        for node, path in collected:
            member = self.member(node, path)
            if member.name in declared:
                first = declared[member.name]
                self.report("duplicate-member", f"{member.name} is already in the cast", member.span, path=path,
                            related=[(f"{member.name} first declared here ({first.path})", first.span)])
                continue
            declared[member.name] = member
            members.append(member)
        return members

    def collect(self, items, origin: Path | None, path: str, out: list, *, depth: int, seen: set) -> None:
        for item in items:
            if isinstance(item, n.Member):
                out.append((item, path))
            else:
                self.import_cast(item, origin, path, out, depth, seen)

    def import_cast(self, item: n.CastImport, origin: Path | None, path: str, out: list, depth: int, seen: set) -> None:
        source = self.media_source(item.path, origin, path)
        target = source.local_path
        if source.scheme != "local" or target is None:
            self.report("cast-import-failed", "CAST FROM takes a local path", item.path.span, path=path)
            return
        if self.project and not self.project.contains(target):
            self.report("path-outside-project", f"{source.text} is outside the project folder {self.project.root}",
                        item.path.span, path=path)
            return
        key = str(target.absolute())
        if key in seen or depth >= MAX_IMPORT_DEPTH:
            self.report("cast-import-failed", f"{source.text} imports itself", item.path.span, path=path)
            return
        if self.loader is None:
            from .parse import parse_file as loader
        else:
            loader = self.loader
        cast_file, diagnostics = loader(target)
        self.diagnostics.extend(d for d in diagnostics if d.code != "unreadable-file")
        if any(d.code == "unreadable-file" for d in diagnostics):
            self.report("cast-import-failed", f"cannot read cast file {source.text}", item.path.span, path=path)
            return
        cast_path = cast_file.source.name
        if not holds_only_a_cast(cast_file):
            self.report("cast-file-content", f"{source.text} holds more than a cast (settings or script)",
                        item.path.span, path=path)
        self.collect(cast_file.cast, target, cast_path, out, depth=depth + 1, seen=seen | {key})

    def member(self, node: n.Member, path: str) -> ir.CastMember:
        kind = node.kind.text if node.kind else "image"
        voice = self.media_source(node.media.voice, node.origin, path) if node.media.voice else None
        length = float(node.media.length.text.rstrip("s")) if node.media.length else None
        return ir.CastMember(
            name=node.name.text, span=node.name.span, path=path, role=node.role.text if node.role else "character",
            kind=kind, media=self.media_source(node.media.source, node.origin, path), voice=voice,
            description=node.description.text if node.description else None, length=length,
            media_index=0, ordinal=0, identifier="")

    def storyboard(self) -> ir.CastMember | None:
        if not self.file.storyboards:
            return None
        spec = self.file.storyboards[0]
        for extra in self.file.storyboards[1:]:
            self.report("duplicate-setting", "STORYBOARD is set twice: the multi-panel mode takes one image",
                        extra.span)
        if self.file.cast:
            self.report("storyboard-with-cast", "a STORYBOARD image works alone: remove the cast or the storyboard",
                        spec.source.span)
        origin = self.file.source.path
        voice = self.media_source(spec.voice, origin, self.path) if spec.voice else None
        return ir.CastMember("STORYBOARD", spec.source.span, self.path, "storyboard", "image",
                             self.media_source(spec.source, origin, self.path), voice, None, None, 0, 0, "")

    def first_frame(self) -> ir.FirstFrame | None:
        if not self.file.first_frames:
            return None
        spec = self.file.first_frames[0]
        origin = self.file.source.path
        voice = self.media_source(spec.voice, origin, self.path) if spec.voice else None
        return ir.FirstFrame(self.media_source(spec.source, origin, self.path), voice, spec.span)

    def number(self, references: list[ir.CastMember], language: str) -> list[ir.CastMember]:
        """Media order is declaration order (after a first frame); images and videos are counted separately."""
        offset = 1 if self.file.first_frames else 0
        single = len(references) == 1
        counts = {"image": 0, "video": 0}
        numbered = []
        for index, member in enumerate(references):
            counts[member.kind] += 1
            ordinal = counts[member.kind]
            numbered.append(member._replace(media_index=offset + index, ordinal=ordinal,
                                    identifier=identifier_for(member.kind, ordinal, single, language)))
        return numbered

    def report_unused(self, members: tuple[ir.CastMember, ...]) -> None:
        for member in members:
            if member.name not in self.used:
                self.report("unused-member", f"{member.name} is in the cast but the script never names it",
                            member.span, path=member.path,
                            hint=f"name {member.name} in an action line, a framing line or as a speaker")

    # --- script --------------------------------------------------------------------------
    def pieces(self, segments: tuple[n.Segment, ...], names: dict) -> tuple[ir.Piece, ...]:
        out: list[ir.Piece] = []
        for segment in segments:
            if isinstance(segment, n.Mention) and segment.name in names:
                self.used.add(segment.name)
                out.append(ir.Ref(segment.name, segment.span))
                continue
            if isinstance(segment, n.Mention):
                self.near_miss(segment, names)
            else:
                self.literal_identifiers(segment)
            if out and isinstance(out[-1], ir.Words):
                out[-1] = ir.Words(out[-1].text + segment.name if isinstance(segment, n.Mention) else out[-1].text + segment.text)
            else:
                out.append(ir.Words(segment.name if isinstance(segment, n.Mention) else segment.text))
        return tuple(out)

    def near_miss(self, mention: n.Mention, names: dict) -> None:
        if len(mention.name) < 3:
            return
        close = did_you_mean(mention.name, names)
        if close:
            self.report("possible-misspelt-name", f"{mention.name} is not in the cast, so it stays plain text",
                        mention.span, hint=f"did you mean {close[0]}?")

    def literal_identifiers(self, text: n.Text) -> None:
        for match in LITERAL_IDENTIFIER.finditer(text.text):
            start = text.span.start + match.start()
            span = self.file.source.span(start, start + len(match.group()))
            self.report("literal-identifier", f"{match.group()!r} typed by hand will not follow the cast order",
                        span, hint="write the cast member's name instead")

    def subject(self, word: n.Word, names: dict) -> ir.Ref | None:
        if word.text in names:
            self.used.add(word.text)
            return ir.Ref(word.text, word.span)
        close = did_you_mean(word.text, names)
        self.report("unknown-name", f"{word.text} is not in the cast", word.span,
                    hint=f"did you mean {close[0]}?" if close else "declare it under CAST")
        return None

    def shots(self, names: dict, language: str) -> tuple[ir.Shot, ...]:
        builder = _ShotBuilder()
        for paragraph in self.file.paragraphs:
            for line in paragraph.lines:
                if isinstance(line, n.Transition):
                    builder.transition(self.transition_kind(line.kind), line.span)
                    if line.spec:
                        self.apply_spec(builder, line.spec, names, framing_opens=False)
                elif isinstance(line, n.Framing):
                    self.lone_name(line.spec, names)
                    if not self.misplaced_header(line.spec.framing.text if line.spec.framing else "", line.span):
                        self.apply_spec(builder, line.spec, names, framing_opens=True)
                elif isinstance(line, n.Heading):
                    builder.heading(self.pieces(line.segments, names), line.span)
                elif isinstance(line, n.Action):
                    if not (line.forced or self.misplaced_header(_plain(line.segments), line.span)):
                        builder.beat(ir.ActionBeat(self.pieces(line.segments, names), line.span))
                else:
                    builder.beat(self.dialogue(line, names, language))
        return builder.finish()

    def misplaced_header(self, text: str, span: Span) -> bool:
        """A settings or cast line that landed in the script (after the script began, or without its
        colon): warned and left out of the prompt, so "DURATOIN 10s" never becomes action."""
        kind = _header_kind(text.strip())
        if kind is None:
            return False
        self.report("header-line-in-script", f"{text.strip()!r} looks like a {kind} line inside the script",
                    span, hint="settings and the cast go above the script, each setting as KEY: value "
                               "(start the line with ! if it is action)")
        return True

    def transition_kind(self, word: n.Word) -> str:
        return re.sub(r"\s+TO$", "", word.text.rstrip(":.").strip())

    def apply_spec(self, builder: "_ShotBuilder", spec: n.ShotSpec, names: dict, *, framing_opens: bool) -> None:
        if spec.framing and spec.framing.text in names and not spec.subjects:
            # "LEO" alone on a line (warned as lone-name-line): a shot of LEO, not a framing called "leo".
            spec = spec._replace(framing=None, subjects=(spec.framing,))
        subjects = tuple(ref for ref in (self.subject(w, names) for w in spec.subjects) if ref)
        timing = self.timing(spec.timing) if spec.timing else None
        builder.framing(spec.framing.text if spec.framing else None, subjects, timing,
                        spec.timing.span if spec.timing else None, spec.span, opens=framing_opens)

    def lone_name(self, spec: n.ShotSpec, names: dict) -> None:
        if spec.framing and spec.framing.text in names and not spec.subjects:
            self.report("lone-name-line", f"{spec.framing.text} alone on a line is read as a framing, not a cue",
                        spec.framing.span, hint="put a blank line before a cue and its dialogue right under it")

    def timing(self, word: n.Word) -> tuple[float, float] | None:
        match = TIMING.match(word.text)
        if not match:
            self.report("timing-malformed", f"cannot read the timing {word.text}", word.span,
                        hint="write [START-END] in seconds, e.g. [0-3s]")
            return None
        return float(match.group(1)), float(match.group(2))

    def dialogue(self, line: n.Dialogue, names: dict, language: str) -> ir.DialogueBeat:
        speaker = line.cue.text
        if speaker in names:
            self.used.add(speaker)
        else:
            close = did_you_mean(speaker, names)
            self.report("unknown-speaker", f"{speaker} speaks but is not in the cast", line.cue.span,
                        hint=f"did you mean {close[0]}?" if close else "declare the speaker under CAST")
        parts = []
        extension = EXTENSIONS.get(line.extension.text.strip("()（） ").upper()) if line.extension else None
        if extension:
            parts.append(ir.DialoguePart("manner", (ir.Words(extension[1 if language == "zh" else 0]),)))
        for part in line.parts:
            if isinstance(part, n.Parenthetical):
                kind = classify_parenthetical(part.text, language)
                pieces = self.pieces(_strip(part.segments), names)
                pause = PAUSES.get(part.text.lower()) if language != "zh" else None
                parts.append(ir.DialoguePart(kind, (ir.Words(pause),) if pause else pieces))
            else:
                if _looks_like_caps_line(part.text):
                    self.report("caps-line-in-dialogue", f"{part.text!r} is read as words {speaker} says",
                                part.span, hint="end the dialogue with a blank line before a transition or framing")
                parts.append(ir.DialoguePart("speech", (ir.Words(part.text),)))
        return ir.DialogueBeat(speaker, line.cue.span, tuple(parts))


HEADER_KEYS = SETTINGS + MEDIA_SETTINGS + ("CAST", "CAST FROM")
MEMBER_LINE = re.compile(r"^[A-Z][A-Z0-9_]*\s*(?:\([^()]*\)\s*)?:\s*(?:(?:character|object|background)\s+)?(?:image|video)\s+\S")
SETTING_LIKE_VALUE = re.compile(r"^(?:\S*\d\S*|on|off|yes|no|true|false|en|zh|prose|shots)$", re.IGNORECASE)


def _header_kind(text: str) -> str | None:
    """What header line this script line looks like ('DURATION', 'CAST', 'cast member'), if any.

    Exact keys count ("CAST", "CAST FROM x", "DURATION 10s"); a near miss counts only with a colon or a
    value that looks like a setting's ("DURATOIN 10s"), so "CASTLE WALLS rise." stays action.
    """
    if MEMBER_LINE.match(text):
        return "cast member"
    key, colon, rest = text.partition(":")
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


def _plain(segments: tuple[n.Segment, ...]) -> str:
    return "".join(segment.name if isinstance(segment, n.Mention) else segment.text for segment in segments)


def _strip(segments: tuple[n.Segment, ...]) -> tuple[n.Segment, ...]:
    """Trim the spaces just inside a parenthetical's brackets."""
    if not segments:
        return segments
    items = list(segments)
    if isinstance(items[0], n.Text):
        items[0] = n.Text(items[0].text.lstrip(), items[0].span)
    if isinstance(items[-1], n.Text):
        items[-1] = n.Text(items[-1].text.rstrip(), items[-1].span)
    return tuple(item for item in items if not (isinstance(item, n.Text) and not item.text))


def _looks_like_caps_line(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all("A" <= c <= "Z" for c in letters)


class _ShotBuilder:
    """Groups script lines into shots: a transition or a framing line after content opens a new shot.

    Fields accumulate in a dict and each Shot is built once (a copy per line was the
    hot spot of long scripts).
    """

    def __init__(self) -> None:
        self.done: list[ir.Shot] = []
        self.fields: dict = {}
        self.beats: list[ir.Beat] = []

    def _has_content(self) -> bool:
        fields = self.fields
        return bool(self.beats or fields.get("framing") or fields.get("transition") or fields.get("subjects"))

    def _close(self) -> None:
        self.done.append(ir.Shot(len(self.done) + 1, beats=tuple(self.beats), **self.fields))
        self.fields, self.beats = {}, []

    def _open(self, **fields) -> None:
        if self._has_content():
            self._close()
        elif "heading" in self.fields:
            fields.setdefault("heading", self.fields["heading"])
            fields["span"] = self.fields.get("span") or fields.get("span")
        self.fields = fields

    def transition(self, kind: str, span: Span) -> None:
        self._open(transition=kind, span=span)

    def framing(self, framing, subjects, timing, timing_span, span, *, opens: bool) -> None:
        fields = self.fields
        fresh = not self.beats and not fields.get("framing") and not fields.get("subjects") and not fields.get("timing")
        if opens and not fresh:
            self._open(span=span)
        self.fields.update(framing=framing, subjects=subjects, timing=timing, timing_span=timing_span)
        self.fields.setdefault("span", span)

    def heading(self, pieces, span) -> None:
        if self.beats:
            self._open(span=span)
        self.fields["heading"] = pieces
        if self.fields.get("span") is None:
            self.fields["span"] = span

    def beat(self, beat: ir.Beat) -> None:
        self.beats.append(beat)
        if self.fields.get("span") is None:
            self.fields["span"] = beat.span

    def finish(self) -> tuple[ir.Shot, ...]:
        if self._has_content() or "heading" in self.fields:
            self._close()
        return tuple(self.done)
