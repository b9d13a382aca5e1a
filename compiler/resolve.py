"""Stage 2, resolve: syntax tree to resolved scene (ir.Scene): settings typed, cast imported and numbered, names bound, shots formed."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from . import ir
from . import nodes as n
from .diagnostics import Diagnostic, Suggestions, did_you_mean, make
from .limits import MODELS, RATIOS, RESOLUTIONS, SEED_MAX
from .project import Project, find_project
from .source import Span
from .vocabulary import MEDIA_SETTINGS, SETTING_FIELDS, SETTINGS, framing_entry, known_framings
from .perf import gc_paused

__all__ = ["resolve", "identifier_for", "holds_only_a_cast", "bare_name"]

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
# A cast file that gave one of these has no members to offer (parse.parse_file's refusals).
NOT_PARSED = frozenset({"not-text", "file-too-large", "parse-stopped"})
MAX_IMPORT_DEPTH = 64  # cast files importing cast files; deeper chains are refused (and recursion stays bounded)


@gc_paused
def resolve(scene_file: n.SceneFile, *, project: Project | None = None, loader=None) -> tuple[ir.Scene, list[Diagnostic]]:
    """Bind names and number the media.  `loader(path)` parses a cast file (defaults to parse.parse_file)."""
    path = scene_file.source.path
    if project is None:
        project = find_project(path) if path else None
    state = _Resolver(scene_file, project, loader)
    return state.run(), state.diagnostics


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
        self.imported_by: dict[str, n.CastImport] = {}  # member name -> the scene's CAST FROM line
        self.name_suggestions: Suggestions | None = None
        # A CAST FROM file could not be read: a name not in the cast may be in it, so none is reported.
        self.names_unchecked = False
        self.longest_name = 0  # of the cast, for '@' mentions (set once the cast is resolved)
        self.folded: dict[str, str] | None = None      # casefolded cast name -> name, for other_case
        self.roles: dict[str, str] = {}
        self.case_pattern: re.Pattern | None = None

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
            written = " ".join(setting.key.text.upper().split())  # keys are read in any case: "Duration: 10s"
            key = SETTING_ALIASES.get(written, written)
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
        # Absent settings keep ir.Settings' defaults (the API's, from limits.API_DEFAULTS).
        fields = {SETTING_FIELDS[key]: value for key, value in values.items()}
        return ir.Settings(given=frozenset(spans), spans=spans, **fields)

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
    def cast_members(self) -> list[ir.CastMember]:
        importer = _CastImports(self.file, self.project, self.loader, self.report)
        self.names_unchecked = importer.incomplete
        members: list[ir.CastMember] = []
        declared: dict[str, ir.CastMember] = {}
        for node, path, via in importer.members():
            member = self.member(node, path)
            if member.name in declared:
                first = declared[member.name]
                self.report("duplicate-member", f"{member.name} is already in the cast", member.span, path=path,
                            related=[(f"{member.name} first declared here ({first.path})", first.span)])
                continue
            declared[member.name] = member
            members.append(member)
            if via is not None:
                self.imported_by[member.name] = via
            self.common_word(member)
        return members

    def common_word(self, member: ir.CastMember) -> None:
        if len(member.name) == 1 or member.name in COMMON_WORDS:
            self.report("common-word-name", f"{member.name} is also an ordinary word: wherever it is written in "
                        f"capitals in the script it names this reference", member.span, path=member.path,
                        hint="choose a name that is not a word, e.g. a character's own name")

    def member(self, node: n.Member, path: str) -> ir.CastMember:
        kind = node.kind.text if node.kind else "image"
        voice = media_source(node.media.voice, node.origin, path) if node.media.voice else None
        length = float(node.media.length.text.rstrip("s")) if node.media.length else None
        return ir.CastMember(
            name=bare_name(node.name.text), span=node.name.span, path=path, role=node.role.text if node.role else "character",
            kind=kind, media=media_source(node.media.source, node.origin, path), voice=voice,
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
        voice = media_source(spec.voice, origin, self.path) if spec.voice else None
        return ir.CastMember("STORYBOARD", spec.source.span, self.path, "storyboard", "image",
                             media_source(spec.source, origin, self.path), voice, None, None, 0, 0, "")

    def first_frame(self) -> ir.FirstFrame | None:
        if not self.file.first_frames:
            return None
        spec = self.file.first_frames[0]
        origin = self.file.source.path
        voice = media_source(spec.voice, origin, self.path) if spec.voice else None
        return ir.FirstFrame(media_source(spec.source, origin, self.path), voice, spec.span)

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
        """Unused members, each where the scene can fix it: its own declaration, or the CAST FROM line that
        brought it in (a shared cast file is not wrong because one scene uses part of it)."""
        for member in members:
            if member.name in self.used:
                continue
            via = self.imported_by.get(member.name)
            if via is None:
                self.report("unused-member", f"{member.name} is in the cast but the script never names it",
                            member.span, path=member.path,
                            hint=f"name {written_name(member.name)} in an action line, a framing line or as a speaker")
            else:
                self.report("unused-member", f"{member.name}, imported from {via.path.text}, is never named in "
                            "the script", via.span, hint=f"name {member.name} in the script, or import only the "
                            f"members it uses: CAST FROM {via.path.text}: NAME, NAME")

    # --- script --------------------------------------------------------------------------
    def pieces(self, segments: tuple[n.Segment, ...], names: dict) -> tuple[ir.Piece, ...]:
        out: list[ir.Piece] = []
        for segment in segments:
            if isinstance(segment, n.Mention) and segment.name.startswith("@"):
                out.extend(self.marked(segment, names))
                continue
            if isinstance(segment, n.Mention) and segment.name in names:
                self.used.add(segment.name)
                out.append(ir.Ref(segment.name, segment.span))
                continue
            if isinstance(segment, n.Mention):
                self.near_miss(segment, names)
            else:
                self.literal_identifiers(segment)
                self.other_case(segment, names)
            if out and isinstance(out[-1], ir.Words):
                out[-1] = ir.Words(out[-1].text + segment.name if isinstance(segment, n.Mention) else out[-1].text + segment.text)
            else:
                out.append(ir.Words(segment.name if isinstance(segment, n.Mention) else segment.text))
        return tuple(out)

    def marked(self, mention: n.Mention, names: dict) -> list[ir.Piece]:
        """'@小李走进' -> the reference 小李, then the words '走进': the longest declared name the word starts with."""
        word = mention.name[1:]
        if not self.longest_name:
            self.longest_name = max(map(len, names), default=0)
        # Longest prefix first, looked up by hash: the cost is the word's length, not the cast's size.
        found = next((word[:k] for k in range(min(len(word), self.longest_name), 0, -1)
                      if word[:k] in names and _ends_name(word, k)), None)
        if found is None:
            if self.names_unchecked:  # a CAST FROM file could not be read: the name may be in it
                return [ir.Words(mention.name)]
            close = self.suggest_name(word, names)
            self.report("unknown-name", f"{mention.name} is not in the cast", mention.span,
                        hint=f"did you mean @{close[0]}?" if close else "declare it under CAST, e.g. @名字: image path")
            return [ir.Words(mention.name)]
        self.used.add(found)
        start = mention.span.start
        out: list[ir.Piece] = [ir.Ref(found, self.file.source.span(start, start + 1 + len(found)))]
        if len(word) > len(found):
            out.append(ir.Words(word[len(found):]))
        return out

    def other_case(self, text: n.Text, names: dict) -> None:
        """'Maya' or 'maya' for MAYA, 'José' without its '@': plain text the writer probably meant as the name."""
        pattern = self.other_case_pattern(names)
        if pattern is None:
            return
        assert self.folded is not None
        for match in pattern.finditer(text.text):
            name = self.folded.get(match.group().casefold())
            if name is None:
                continue  # a case match that folds differently ("İ" for "I"): not worth a guess
            if match.group().islower() and self.roles.get(name) in ("object", "background"):
                continue  # "the tray" is the common noun
            start = text.span.start + match.start()
            marked = written_name(name)
            self.report("name-not-as-declared", f"{match.group()!r} is not written as the cast name {marked}, "
                        f"so it stays plain text", self.file.source.span(start, start + len(match.group())),
                        hint=f"write {marked} to name the reference")

    def other_case_pattern(self, names: dict) -> re.Pattern | None:
        """One pattern for every cast name in any case, built on first use (names are final by then)."""
        if self.folded is None:
            self.folded = {name.casefold(): name for name in names
                           if len(name) > 1 and name not in COMMON_WORDS}
            self.roles = {name: member.role for name, member in names.items()}
            words = sorted(self.folded, key=len, reverse=True)
            self.case_pattern = re.compile("|".join(map(_name_pattern, words)), re.IGNORECASE) if words else None
        return self.case_pattern

    def near_miss(self, mention: n.Mention, names: dict) -> None:
        if len(mention.name) < 3 or self.names_unchecked:
            return
        close = self.suggest_name(mention.name, names)
        if close:
            self.report("possible-misspelt-name", f"{mention.name} is not in the cast, so it stays plain text",
                        mention.span, hint=f"did you mean {written_name(close[0])}?")

    def suggest_name(self, word: str, names: dict) -> list[str]:
        """'did you mean' among the cast names: one bounded, cached Suggestions per scene (names are fixed
        once the cast is resolved), so a script of many unknown capitalised words stays linear."""
        if self.name_suggestions is None:
            self.name_suggestions = Suggestions(names)
        return self.name_suggestions(word)

    def literal_identifiers(self, text: n.Text) -> None:
        for match in LITERAL_IDENTIFIER.finditer(text.text):
            start = text.span.start + match.start()
            span = self.file.source.span(start, start + len(match.group()))
            self.report("literal-identifier", f"{match.group()!r} typed by hand will not follow the cast order",
                        span, hint="write the cast member's name instead")

    def subject(self, word: n.Word, names: dict) -> ir.Ref | None:
        name = bare_name(word.text)
        if name in names:
            self.used.add(name)
            return ir.Ref(name, word.span)
        if self.names_unchecked:
            return None
        close = self.suggest_name(name, names)
        self.report("unknown-name", f"{word.text} is not in the cast", word.span,
                    hint=f"did you mean {written_name(close[0])}?" if close else "declare it under CAST")
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
                    if self.misplaced_header(line.spec.framing.text if line.spec.framing else "", line.span):
                        continue
                    if self.capitals_action(line, names):
                        builder.beat(ir.ActionBeat(self.pieces(line.segments, names), line.span))
                    else:
                        self.apply_spec(builder, line.spec, names, framing_opens=True)
                elif isinstance(line, n.Heading):
                    builder.heading(self.pieces(line.segments, names), line.span)
                elif isinstance(line, n.Action):
                    # "!" forces action: the line is kept as written (after the "!"), never read as a header line.
                    if line.forced or not (self.misplaced_header(_plain(line.segments), line.span)
                                           or self.malformed_member(_plain(line.segments), line.span)):
                        builder.beat(ir.ActionBeat(self.pieces(line.segments, names), line.span))
                else:
                    builder.beat(self.dialogue(line, names, language))
        return builder.finish()

    def capitals_action(self, line: n.Framing, names: dict) -> bool:
        """A capitals line that names no known framing ("BOOM.", "LATER") is a sound or a beat: action.

        A line with ON subjects or a timing is a framing whatever its words; so is a cast name alone
        (lone-name-line).  When the words are close to a known framing, the writer is told which way it went.
        """
        spec = line.spec
        if spec.framing is None or spec.subjects or spec.timing or spec.framing.text in names:
            return False
        if framing_entry(spec.framing.text) is not None:
            return False
        # A sound effect repeats ("BOOM."): the vocabulary's cached search works its distances out once.
        close = did_you_mean(spec.framing.text, known_framings())
        if close:
            self.report("unknown-framing", f"{spec.framing.text} is not a framing scenec knows, so the line is "
                        f"action, written as it stands", spec.framing.span,
                        hint=f"did you mean {close[0]}? Start the line with ! to keep it as action")
        return True

    def malformed_member(self, text: str, span: Span) -> bool:
        """'Leo: image media/boy.jpg', 'JOSÉ: ...', 'LEO - image ...': a member the cast would lose, an error."""
        match = MALFORMED_MEMBER.match(text.strip())
        if match is None:
            return False
        name = match.group("name").strip()
        if _is_caps_name(name) or name.startswith("@"):
            problem = f"the name {name} must be followed by ':' (or a description and ':')"
        else:
            problem = f"{name[:40]!r} is not written as a cast name{_member_suggestion(name)}"
        self.report("malformed-member", f"{text.strip()[:60]!r} looks like a cast member line, but {problem}", span,
                    hint="a member line reads NAME (description): [character|object|background] image|video SOURCE "
                         "under CAST, before the script; NAME is capitals, digits and _ (MAYA, GIRL_2), or @ and "
                         "one word in any script (@小李, @José)")
        return True

    def misplaced_header(self, text: str, span: Span) -> bool:
        """A settings or cast line that landed in the script (after the script began, or without its
        colon): warned and left out of the prompt, so "DURATOIN 10s" never becomes action."""
        kind = _header_kind(text.strip())
        if kind is None:
            return False
        self.report("header-line-in-script", f"{text.strip()[:60]!r} looks like a {kind} line inside the script: "
                    f"it would not take effect", span,
                    hint="settings, FIRST FRAME and the cast go above the script, each setting as KEY: value "
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
        speaker = bare_name(line.cue.text)
        if speaker in names:
            self.used.add(speaker)
        elif not self.names_unchecked:
            close = self.suggest_name(speaker, names)
            self.report("unknown-speaker", f"{speaker} speaks but is not in the cast", line.cue.span,
                        hint=f"did you mean {written_name(close[0])}?" if close else "declare the speaker under CAST")
        parts = []
        extension = EXTENSIONS.get(line.extension.text.strip("()（） ").upper()) if line.extension else None
        if extension:
            parts.append(ir.DialoguePart("manner", (ir.Words(extension[1 if language == "zh" else 0]),)))
        spoken = False
        for part in line.parts:
            if isinstance(part, n.Parenthetical):
                kind = classify_parenthetical(part.text, language)
                pieces = self.pieces(_strip(part.segments), names)
                pause = PAUSES.get(part.text.lower()) if language != "zh" else None
                parts.append(ir.DialoguePart(kind, (ir.Words(pause),) if pause else pieces))
            else:
                if _looks_like_caps_line(part.text):
                    self.report("caps-line-in-dialogue", f"{part.text[:60]!r} is read as words {speaker} says",
                                part.span, hint="end the dialogue with a blank line before a transition or framing")
                elif spoken:
                    self.swallowed_action(part, names)
                spoken = True
                parts.append(ir.DialoguePart("speech", (ir.Words(part.text),)))
        return ir.DialogueBeat(speaker, line.cue.span, tuple(parts))

    def swallowed_action(self, part: n.Speech, names: dict) -> None:
        """'MAYA sits down.' under a spoken line: action that lost its blank line and is now spoken."""
        match = SPEECH_OPENING_NAME.match(part.text)
        if match and bare_name(match.group(1)) in names and (match.group(1).startswith("@") or match.group(2)):
            self.report("dialogue-swallows-action", f"{part.text[:60]!r} is read as words the speaker says",
                        part.span, hint="if it is action, put a blank line above it to end the dialogue")


def media_source(word: n.Word, origin: Path | None, path: str) -> ir.MediaSource:
    """A media path or URL as written: its scheme, and for a local path the file it names (relative to
    the file that wrote it)."""
    text = word.text[1:-1] if word.text.startswith('"') and word.text.endswith('"') and len(word.text) >= 2 else word.text
    scheme_match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", text)
    if scheme_match and len(scheme_match.group(1)) > 1:
        return ir.MediaSource(text, word.span, path, scheme_match.group(1).lower())
    base = origin.parent if origin else Path.cwd()
    return ir.MediaSource(text, word.span, path, "local", (base / text) if text else base)


class _CastImports:
    """The cast members a scene gets from its CAST blocks and CAST FROM lines, each file read once.

    Every imported file is loaded and walked once per scene (a diamond or a fan-out reads a shared file
    once, and its diagnostics are reported once); import lines that close a loop are dropped and reported
    as one error, and imports nest at most MAX_IMPORT_DEPTH files deep.  Then the members are laid out in declaration order: a whole-file import includes a
    file's members once, wherever else it is imported again; `CAST FROM f: A, B` picks A and B (in that
    order) from f's cast and its imports.  Work is linear in the files and members, except a named import,
    which searches that file's imports (and stops once every name is found).
    """

    def __init__(self, scene_file: n.SceneFile, project: Project | None, loader, report) -> None:
        self.project, self.report = project, report
        if loader is None:
            from .parse import parse_file as loader
        self.loader = loader
        self.root_key = str(scene_file.source.path.absolute()) if scene_file.source.path else "<text>"
        # file key -> (its cast entries, the path its diagnostics name); an entry is a Member or
        # (import line, target key or None when it could not be imported).
        self.files: dict[str, tuple[list, str]] = {}
        self.unreadable: dict[str, str] = {}  # file key -> why it could not be read (read once, too)
        self.incomplete = False  # a cast file could not be read: the script's names cannot all be checked
        self.walking: dict[str, None] = {}  # the files being walked, in order (a dict: O(1) membership)
        self.loops: list[tuple[n.CastImport, str]] = []
        self.too_deep: list[tuple[n.CastImport, str]] = []
        self.inside: dict[Path, bool] = {}
        self.first_loop: list[str] = []
        self.suggestions: dict[str, Suggestions] = {}  # file key -> "did you mean" among the names it offers
        self.visit(self.root_key, scene_file.cast, scene_file.source.path, scene_file.source.name)
        self.report_once(self.loops, f"imports itself: {' -> '.join(self.first_loop)}", "close loops",
                         "remove the CAST FROM lines that lead back to a file")
        self.report_once(self.too_deep, f"is nested more than {MAX_IMPORT_DEPTH} cast files deep", "are as deep",
                         "import the files from fewer levels")

    def report_once(self, lines: list[tuple[n.CastImport, str]], what: str, others: str, hint: str) -> None:
        """Import lines dropped for one reason are one error, at the first of them, with the count of the rest
        (a mesh of cast files importing each other would otherwise give one error per import line)."""
        if not lines:
            return
        item, path = lines[0]
        more = len(lines) - 1
        self.report("cast-import-failed", f"{item.path.text} {what}"
                    + (f" (and {more} more CAST FROM line{'s' if more > 1 else ''} {others})" if more else ""),
                    item.path.span, path=path, hint=hint)

    # --- reading: each file once ---------------------------------------------------------
    def visit(self, key: str, items, origin: Path | None, path: str) -> None:
        entries: list = []
        self.files[key] = (entries, path)
        self.walking[key] = None
        for item in items:
            entries.append(item if isinstance(item, n.Member) else (item, self.follow(item, origin, path)))
        del self.walking[key]

    def follow(self, item: n.CastImport, origin: Path | None, path: str) -> str | None:
        """The key of the file an import line names, read and walked if new; None when it cannot be imported."""
        target = self.target(item, origin, path)
        if target is None:
            return None
        key = str(target.absolute())
        if key in self.walking:
            if not self.loops:
                keys = list(self.walking)
                self.first_loop = [self.files[k][1] for k in keys[keys.index(key):]] + [self.files[key][1]]
            self.loops.append((item, path))
            return None
        if key in self.files:
            return key
        if len(self.walking) >= MAX_IMPORT_DEPTH:
            self.too_deep.append((item, path))
            return None
        reason = self.unreadable.get(key)
        if reason is None:
            cast_file, diagnostics = self.loader(target)
            unreadable = [d for d in diagnostics if d.code == "unreadable-file"]
            unparsed = [d for d in diagnostics if d.code in NOT_PARSED]
            if not unreadable and not unparsed:
                return self.walk_new(key, item, target, path, cast_file, diagnostics)
            for diagnostic in unparsed:
                self.report_as_is(diagnostic)  # the cast file's own error says what is wrong in it
            reason = self.unreadable[key] = (unreadable[0].message.rsplit(": ", 1)[-1] if unreadable
                                             else "it could not be parsed")
        self.incomplete = True
        self.report("cast-import-failed", f"cannot read cast file {item.path.text}: {reason}; names from it are "
                    "not checked", item.path.span, path=path)
        return None

    def walk_new(self, key: str, item: n.CastImport, target: Path, path: str, cast_file: n.SceneFile,
                 diagnostics: list[Diagnostic]) -> str:
        for diagnostic in diagnostics:
            self.report_as_is(diagnostic)
        if not holds_only_a_cast(cast_file):
            self.report("cast-file-content", f"{item.path.text} holds more than a cast (settings or script)",
                        item.path.span, path=path)
        self.visit(key, cast_file.cast, target, cast_file.source.name)
        return key

    def report_as_is(self, diagnostic: Diagnostic) -> None:
        self.report(diagnostic.code, diagnostic.message, diagnostic.span, path=diagnostic.path,
                    hint=diagnostic.hint, related=diagnostic.related, severity=diagnostic.severity)

    def target(self, item: n.CastImport, origin: Path | None, path: str) -> Path | None:
        source = media_source(item.path, origin, path)
        text, target = source.text, source.local_path
        if source.scheme != "local" or target is None or not text:
            self.report("cast-import-failed", "CAST FROM takes a local path", item.path.span, path=path)
            return None
        inside = self.inside.get(target)
        if inside is None:  # many files naming the same file resolve its path once
            inside = self.inside[target] = self.project is None or self.project.contains(target)
        if not inside:
            self.report("path-outside-project", f"{text} is outside the project folder {self.project.root}",
                        item.path.span, path=path)
            return None
        return target

    # --- laying out the members ----------------------------------------------------------
    def members(self) -> list[tuple[n.Member, str, n.CastImport | None]]:
        """(member, path of its file, the scene's import line that brought it or None), in media order."""
        out: list = []
        placed: set[int] = set()
        entries, path = self.files[self.root_key]
        for entry in entries:
            if isinstance(entry, n.Member):
                self.place(entry, path, None, out, placed)
                continue
            item, key = entry
            if key is None:
                continue
            if item.names:
                self.pick(item, key, path, out, placed)
            else:
                self.whole(key, item, out, placed, set())
        return out

    @staticmethod
    def place(member: n.Member, path: str, via, out: list, placed: set[int]) -> None:
        if id(member) not in placed:  # the same declaration reached twice (a diamond) counts once
            placed.add(id(member))
            out.append((member, path, via))

    def whole(self, key: str, via: n.CastImport, out: list, placed: set[int], done: set[str]) -> None:
        if key in done:
            return
        done.add(key)
        entries, path = self.files[key]
        for entry in entries:
            if isinstance(entry, n.Member):
                self.place(entry, path, via, out, placed)
            elif entry[1] is not None:
                if entry[0].names:
                    self.pick(entry[0], entry[1], path, out, placed, via=via)
                else:
                    self.whole(entry[1], via, out, placed, done)

    def pick(self, item: n.CastImport, key: str, path: str, out: list, placed: set[int], via=None) -> None:
        """The members `CAST FROM f: A, B` names, found in f's cast and its imports; unknown names reported."""
        wanted = {word.text for word in item.names}
        found: dict[str, tuple[n.Member, str]] = {}
        self.search(key, wanted, found, set())
        for word in item.names:
            if word.text in found:
                member, member_path = found[word.text]
                self.place(member, member_path, via or item, out, placed)
                continue
            suggest = self.suggestions.get(key)
            if suggest is None:  # one bounded, cached search per cast file, however many names miss
                suggest = self.suggestions[key] = Suggestions(self.declared_names(key))
            close = suggest(word.text)
            self.report("unknown-import-name", f"{word.text} is not in {item.path.text}", word.span, path=path,
                        hint=f"did you mean {close[0]}?" if close else None)

    def search(self, key: str, wanted: set[str], found: dict, seen: set) -> None:
        """Fill `found` with the wanted names declared in a file's cast or reached by its imports."""
        mark = (key, frozenset(wanted))
        if mark in seen or wanted <= found.keys():
            return
        seen.add(mark)
        for entry in self.files[key][0]:
            if isinstance(entry, n.Member):
                if entry.name.text in wanted and entry.name.text not in found:
                    found[entry.name.text] = (entry, self.files[key][1])
            elif entry[1] is not None:
                # A named import passes on only the names it lists.
                names = wanted & {w.text for w in entry[0].names} if entry[0].names else wanted
                if names:
                    self.search(entry[1], names, found, seen)

    def declared_names(self, key: str) -> list[str]:
        """Every name a file's cast offers (for "did you mean")."""
        names: list[str] = []
        stack, seen = [key], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for entry in self.files[current][0]:
                if isinstance(entry, n.Member):
                    names.append(entry.name.text)
                elif entry[0].names:
                    names += [word.text for word in entry[0].names]
                elif entry[1] is not None:
                    stack.append(entry[1])
        return names


HEADER_KEYS = SETTINGS + MEDIA_SETTINGS + ("CAST", "CAST FROM")
MEMBER_LINE = re.compile(r"^(?:[A-Z][A-Z0-9_]*|@\w(?:[\w\-]*\w)?)\s*(?:\([^()]*\)\s*)?:\s*(?:(?:character|object|background)\s+)?(?:image|video)\s+\S")
SETTING_LIKE_VALUE = re.compile(r"^(?:\S*\d\S*|on|off|yes|no|true|false|en|zh|prose|shots)$", re.IGNORECASE)


# A line shaped like a member ("NAME: image path") whose name the grammar did not take: lower case, "LEO-2",
# "LEO LIN", "JOSÉ", "小李", nested parentheses, or "LEO - image ...".  The source must look like a path or
# URL, so "The kid - image of his father" stays action.
MALFORMED_MEMBER = re.compile(
    r"^(?P<name>[^:\s][^:]{0,40}?)\s*(?::|\s[-–—]\s)\s*(?:(?:character|object|background)\s+)?(?:image|video)\s+"
    r"(?:\"[^\"]*\"|\S*[./]\S*)", re.IGNORECASE)
# Words a cast name should not be: in capitals they are ordinary words ("It MAY rain"), and a single letter
# ("A", "I") is one too.  Names in this list are also left out of the other-case check.
COMMON_WORDS = frozenset("""
    AN THE AND OR BUT IF SO AS AT BY IN ON OF TO UP NO NOT YES OK ALL ANY ONE
    ME MY WE US YOU HE SHE IT ITS HIS HER THEY THEM
    AM IS ARE WAS BE DO GO CAN MAY MIGHT MUST WILL SHALL SHOULD WOULD
    NOW THEN HERE THERE WHO WHAT WHY HOW
""".split())
# A spoken line that opens with a cast name and a lower-case word ("MAYA sits down."), or with an @name.
SPEECH_OPENING_NAME = re.compile(r"^((?:[A-Z][A-Z0-9_]*|@\w(?:[\w\-]*\w)?))(\s+[a-z])?")


def _member_suggestion(name: str) -> str:
    """'; write it @Leo' for a one-word name, '; write it LEO_LIN' for capitals with spaces, else nothing."""
    words = name.split()
    if len(words) == 1 and re.fullmatch(r"\w(?:[\w\-]*\w)?", name):
        return f"; write it @{name}" + (f" or {name.replace('-', '_')}" if re.fullmatch(r"[A-Z][A-Z0-9_\-]*", name) else "")
    if len(words) > 1 and all(re.fullmatch(r"[A-Z][A-Z0-9_]*", word) for word in words):
        return f"; write it {'_'.join(words)}"
    return ""


def written_name(name: str) -> str:
    """A cast name as the writer types it in the script: 'MAYA', or '@小李' for a name that needs its marker."""
    return name if _is_caps_name(name) else "@" + name


def bare_name(text: str) -> str:
    """A cast name as declared or used, without its '@' marker: '@小李' and '小李' are the same name."""
    return text[1:] if text.startswith("@") else text


def _is_caps_name(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Z][A-Z0-9_]*", name))


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _ends_name(word: str, length: int) -> bool:
    """Whether a marked name may end after `length` characters of word: at a non-letter, or where Chinese
    or Japanese text (written without spaces) runs on, so '@小李走进' is 小李 but '@Joséphine' is not José."""
    if length >= len(word):
        return True
    after = word[length]
    return not (after.isalnum() or after == "_") or _wide(after) or _wide(word[length - 1])


def _name_pattern(folded: str) -> str:
    """A name as a whole word, any case; a name in a script written without spaces needs no boundary."""
    escaped = re.escape(folded)
    if _wide(folded[0]):
        return f"(?<!@){escaped}"
    return f"(?<![\\w@]){escaped}(?!\\w)"


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
