"""Diagnostics as data: one frozen type, and the registry of every code the compiler can report."""

from __future__ import annotations

from collections.abc import Iterable

from .records import Record
from .source import Span

__all__ = ["Diagnostic", "Code", "CODES", "ERROR", "WARNING", "GROUPS", "make", "did_you_mean", "Suggestions",
           "has_errors", "sort_key"]

ERROR = "error"
WARNING = "warning"

# The stage groups, in the order docs/diagnostics.md lists them; select/ignore accept a group's name.
GROUPS = {
    "syntax": "the text does not follow the grammar",
    "names": "cast names, speakers, settings keys and cast files",
    "constraints": "the API's rules: counts, media, values, lengths, timings, paths",
    "style": "probably not what the writer meant",
    "config": "project settings and suppression comments",
    "payload": "the emitted request",
}


class Code(Record):
    """A registered diagnostic code: a stable slug, its stage group, default severity and documentation."""

    slug: str
    group: str
    severity: str
    summary: str
    explanation: str
    # False for every error: an error makes compile refuse to build the request (the API would reject it,
    # or scenec could not read the scene whole), so silencing it in check would let CI pass a scene that
    # cannot be sent.  Warnings can be silenced by a directive or by [tool.scenec] ignore.
    suppressible: bool = True


class Diagnostic(Record):
    code: str
    severity: str
    message: str
    span: Span | None
    path: str | None = None
    hint: str | None = None
    related: tuple[tuple[str, Span], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "span": self.span.to_dict() if self.span else None,
            "hint": self.hint,
            "related": [{"message": m, "span": s.to_dict()} for m, s in self.related],
        }


# Each compile target has its own limits (compiler/targets/): the registry's texts name none of them and point
# to docs/targets.md, which is generated from the targets' tables; the messages give the chosen target's numbers.
_LIMITS = "docs/targets.md lists each target's limits"


def _codes(*rows: tuple[str, str, str, str, str]) -> dict[str, Code]:
    return {slug: Code(slug, group, severity, summary, text, severity == WARNING)
            for group, slug, severity, summary, text in rows}


# The registry.  Slugs are stable: tools and CI configurations refer to them.
CODES: dict[str, Code] = _codes(
    # --- syntax: the text does not follow the grammar ---------------------------------
    ("syntax", "unexpected-token", ERROR, "A word or line that the grammar does not allow here.",
     "The parser found something it did not expect at this point of the file. The message lists what "
     "would be allowed. Parsing resumes at the next line, so several such errors can be reported."),
    ("syntax", "unexpected-character", ERROR, "A character that starts no valid token here.",
     "Usually a stray symbol in a settings or cast line."),
    ("syntax", "not-text", ERROR, "The file is not UTF-8 text.",
     "A .scene file must be UTF-8 text without NUL bytes. Binary files are not parsed."),
    ("syntax", "file-too-large", ERROR, "The file is larger than scenec reads.",
     "Scenes are short; files over the limit are refused rather than read into memory."),
    ("syntax", "parse-stopped", ERROR, "Too many syntax errors: parsing stopped.",
     "After 25 syntax errors (or an error it cannot step over) the parser stops and says so once. "
     "The rest of the file is not checked, so no error is invented about it; fix the errors and check again."),
    ("syntax", "config-error", ERROR,
     "scenec.toml (or [tool.scenec] in pyproject.toml) cannot be read, is not valid TOML, or a key has the wrong type.",
     "Reported at its line for every scene of the project. While the configuration is broken its allowances "
     "([media] allow, allow_anywhere) are ignored, so media outside the project folder are refused. "
     "select and ignore take a list of codes or groups, warnings-as-errors true or false, model, language and "
     "region a string (docs/ci.md)."),
    ("syntax", "unreadable-file", ERROR, "The file cannot be read.",
     "The operating system refused to read the file (missing, a folder, or no permission)."),
    # --- names: cast names, speakers, settings keys -----------------------------------
    ("names", "unknown-speaker", ERROR, "A dialogue cue names no cast member.",
     "Every character cue must be a cast member's name, written exactly as declared."),
    ("names", "unknown-name", ERROR, "A framing or transition names no cast member.",
     "Names after ON in framing lines must be declared in the cast."),
    ("names", "possible-misspelt-name", WARNING, "A capitalised word in the text is close to a cast name.",
     "Capitalised words that are cast names become references; this one is not a name but looks like one, "
     "so it stays plain text. Fix the spelling if it was meant as a reference."),
    ("names", "name-in-setting", WARNING, "A cast name written in ATMOSPHERE, STYLE LINE or NEGATIVE PROMPT.",
     "These settings are sent as written: a cast name in them is not replaced by the reference's identifier "
     "(\"Image 1\"), so the model reads a name it was never shown. Describe without the name, or say it in an "
     "action line of the script, where it is bound."),
    ("names", "duplicate-member", ERROR, "Two cast members share a name.",
     "Each cast name must be unique across the scene and every cast file it imports."),
    ("names", "header-line-in-script", ERROR, "A setting, first frame or cast line inside the script.",
     "Settings (KEY: value), FIRST FRAME, STORYBOARD and the CAST come before the script; a line like "
     "'WATERMARK: on', 'FIRST FRAME: x.jpg', 'DURATOIN 10s' or a member line below the first action would change "
     "what is paid for without taking effect, so it is an error (and left out of the prompt). Move it up, or "
     "start the line with ! to keep it as action."),
    ("names", "malformed-member", ERROR, "A line shaped like a cast member whose name is not a cast name.",
     "'Leo: image media/boy.jpg', 'LEO-2: ...', 'LEO LIN: ...', 'JOSÉ: ...' or 'LEO - image ...' would be lost "
     "from the cast and sent as prompt text. A member line reads NAME (description): [role] image|video SOURCE, "
     "where NAME is capitals, digits and _ (MAYA, GIRL_2), or @ and one word in any script (@小李, @José)."),
    ("names", "common-word-name", WARNING, "A cast name that is also an ordinary word or a single letter.",
     "A cast name written in capitals anywhere in action becomes the reference: with a cast member MAY, "
     "'It MAY rain' names it. Single letters and a short list of common words (docs/language.md) are warned."),
    ("names", "name-not-as-declared", WARNING, "A cast name written in another case, or without its @.",
     "Only the name as declared names the reference ('MAYA', '@小李'); 'Maya', 'maya' or a bare '小李' stay plain "
     "text. Lower-case object and background names ('the tray') are not reported."),
    ("names", "unused-member", WARNING, "A cast member is never referenced.",
     "A reference that the prompt never names still costs an upload, and the model cannot know its role."),
    ("names", "unknown-setting", ERROR, "A settings key that scenec does not know.",
     "See the language reference for the list of settings."),
    ("names", "duplicate-setting", ERROR, "A setting is given twice.",
     "Each setting may appear once; remove one of them."),
    ("names", "cast-file-content", ERROR, "A cast file holds more than a cast.",
     "Files imported with CAST FROM may only contain CAST blocks and comments."),
    ("names", "cast-import-failed", ERROR, "A CAST FROM file cannot be read or imports itself.",
     "The path is relative to the file that imports it. It must be a regular file inside the project. "
     "A file imported again (by another file, or twice) is read once; an import that closes a loop is "
     "reported once, at the first such line, and ignored. When a cast file cannot be read or parsed, the "
     "script's names are not checked against the cast (they may be in that file)."),
    ("names", "unknown-import-name", ERROR, "CAST FROM file: NAME names a member the file does not have.",
     "`CAST FROM file: A, B` imports only the members A and B, found in the file's cast or in the files "
     "it imports; each name must be declared there."),
    # --- constraints: the API's rules ------------------------------------------------
    ("constraints", "too-many-references", ERROR, "More reference images and videos than the target takes.",
     f"Each model takes at most so many reference images and videos together; {_LIMITS}."),
    ("constraints", "unsupported-by-target", ERROR, "Something the chosen model cannot express.",
     "Each compile target (MODEL, --model, docs/targets.md) takes only some of what a scene may ask for: a "
     "voice, a reference video, a first frame, a storyboard image, a negative prompt, a data URI, a setting's "
     "value. Whatever it cannot express is refused at the line that asks for it, never silently dropped: remove "
     "that line or choose a model that takes it."),
    ("constraints", "no-reference", ERROR, "No reference image or video.",
     "A reference-to-video model needs at least one reference image or video (a first frame alone is not enough). "
     "Kling V3 Omni (kling/kling-v3-omni-video-generation) needs none: it also makes a video from the text or a "
     "first frame alone."),
    ("constraints", "multiple-first-frames", ERROR, "More than one first frame.",
     "The media array may hold at most one first_frame."),
    ("constraints", "voice-on-first-frame", WARNING, "A voice attached to the first frame.",
     "The vendor advises against reference_voice on a first frame: attach voices to the cast."),
    ("constraints", "unheard-voice", WARNING, "A voice that the prompt never ties to anyone.",
     "A target that sends voices as clips of their own (wan3.0-video: `reference_audio`, named \"Audio 1\") ties a "
     "clip to its cast member only where that member speaks (\"Image 1 says in the voice of Audio 1, ...\"). A "
     "voice on a member who never speaks is sent, but the model is told nothing about it: give the member a line, "
     "or remove the voice."),
    ("constraints", "base64-not-allowed", ERROR, "A video or audio given as a data URI.",
     "Only images may be inlined as base64; videos and voices must be URLs or local files."),
    ("constraints", "bad-data-uri", ERROR, "A malformed image data URI, or one of the wrong MIME type.",
     "Use data:{MIME};base64,{data} with the MIME type of an image format the target takes, matching the content "
     f"(the message lists them; {_LIMITS})."),
    ("constraints", "url-scheme", ERROR, "A URL that is not http(s).",
     "Remote media must be http:// or https:// URLs; local files are written as paths."),
    ("constraints", "url-credentials", ERROR, "A URL with a user name or password in it.",
     "A URL such as https://user:pass@host/a.jpg would hand the login to the service and to every host it is "
     "fetched from; scenec refuses it (and its URL check never sends credentials). Host the file where no "
     "login is needed."),
    ("constraints", "ratio-with-first-frame", WARNING, "RATIO given together with a first frame.",
     "With a first frame the service ignores ratio: the video takes the first frame's aspect."),
    ("constraints", "duration-out-of-range", ERROR, "DURATION outside what the model allows.",
     "Each model takes its own range of whole seconds, often shorter when a reference video is in the media; "
     f"the message gives the chosen model's range ({_LIMITS})."),
    ("constraints", "prompt-too-long", ERROR, "The compiled prompt is over the length limit.",
     "The service silently truncates a longer prompt, so scenec refuses it."),
    ("constraints", "negative-prompt-too-long", ERROR, "The negative prompt is over the length limit.",
     "The service silently truncates a longer negative prompt, so scenec refuses it."),
    ("constraints", "empty-prompt", ERROR, "The script is empty.",
     "The prompt is compiled from the script; a scene needs at least one line of action or dialogue."),
    ("constraints", "bad-setting-value", ERROR, "A setting's value is not one the API takes.",
     "The message lists the allowed values. Also reported at its line in scenec.toml or [tool.scenec] for the "
     "project defaults model, language and region (docs/ci.md); the value is then not used."),
    ("constraints", "file-missing", ERROR, "A local media file does not exist.",
     "Paths are relative to the file that names them."),
    ("constraints", "file-wrong-type", ERROR, "A local media file is not of the kind declared.",
     "The type is read from the file's content, not its name."),
    ("constraints", "file-too-large", ERROR, "A local media file is over the size limit.",
     f"Images, videos and voices each have a size limit of the target's; the message gives it ({_LIMITS})."),
    ("constraints", "media-dimensions", ERROR, "An image or video is too small, too large or too elongated.",
     "Each side of an image or video must lie in the target's range of pixels, and the longer side must not "
     f"exceed the target's aspect bound times the shorter; the message gives the numbers ({_LIMITS})."),
    ("constraints", "media-duration", ERROR, "A video or voice is too short or too long.",
     f"Reference videos and voices must last within the target's range; the message gives it ({_LIMITS})."),
    ("constraints", "image-transparency", ERROR, "A reference image that is not fully opaque.",
     "The API takes images without transparency; flatten the image. A PNG is judged by its pixels (an RGBA "
     "export whose pixels are all opaque passes); a PNG colour key, an interlaced or unreadable RGBA PNG, and a "
     "WEBP with its alpha flag set count as transparent."),
    ("constraints", "path-outside-project", ERROR, "A media path, cast file or walked scene leaves the project folder.",
     "A scene must not make you upload files from outside its project (an absolute path, '..', or a "
     "symlink that points out). Allow extra folders for media in scenec.toml: [media] allow = [\"/path\"]. "
     "CAST FROM files must lie inside the project, and `scenec check FOLDER` does not follow a .scene "
     "symlink that leaves both the folder and its project."),
    ("constraints", "timing-malformed", ERROR, "A shot timing that scenec cannot read.",
     "Write timings as [START-END] in seconds, e.g. [0-3s] or [2.5s-5s]."),
    ("constraints", "timing-overlap", ERROR, "Two shot timings overlap or go backwards.",
     "Each shot's timing must start at or after the previous one's end."),
    ("constraints", "timing-exceeds-duration", ERROR, "A shot timing runs past DURATION.",
     "Shot timings must end within the scene's duration."),
    ("constraints", "timings-do-not-add-up", ERROR, "In the timed prompt style, the shots do not cover DURATION.",
     "PROMPT STYLE: timed writes every shot as 'Shot 1 [0-3s]: ...', so the segments must run from 0 to DURATION "
     "without a gap; shots without a timing share the time left between their neighbours evenly and need some."),
    ("constraints", "speech-exceeds-shot", WARNING, "A timed shot's dialogue takes longer to say than the shot lasts.",
     "Spoken lines are estimated at 2.7 words a second (5 characters a second in Chinese); when a shot with "
     "a timing like [4-7s] holds more than it can say, the model rushes or cuts it. See docs/writers-loop.md."),
    ("constraints", "speech-exceeds-duration", WARNING, "The scene's dialogue takes longer to say than DURATION.",
     "All spoken lines together, estimated at 2.7 words a second (5 characters a second in Chinese), do "
     "not fit the clip. Cut lines, split the scene, or raise DURATION. See docs/writers-loop.md."),
    ("constraints", "storyboard-with-cast", ERROR, "A multi-panel storyboard image together with a cast.",
     "The multi-panel mode takes exactly one image, which the prompt names alone ('reference image' for "
     "wan2.7-r2v); a target without the mode refuses STORYBOARD."),
    # --- style: probably not what the writer meant ----------------------------------
    ("style", "literal-identifier", WARNING, "An API identifier typed in the text.",
     "An identifier of any target typed by hand ('Image 2', 'Video 1', 'Audio 1', '图1', 'character2', "
     "'<<<image_1>>>', 'reference image') does not follow the cast when it is reordered, nor the target when "
     "another model is chosen; use the name."),
    ("style", "unknown-framing", WARNING, "A framing line in capitals that scenec does not know.",
     "Known framings are listed in the language reference. A capitals line with ON subjects or a timing is a "
     "framing and an unknown one is passed through in lower case; a capitals line alone ('BOOM.', 'LATER') is "
     "action, and this warning says so when its words are close to a known framing."),
    ("style", "unknown-transition", WARNING, "A transition scenec does not know.",
     "Known transitions: CUT TO, SMASH CUT TO, MATCH CUT TO, JUMP CUT TO, DISSOLVE TO, FADE TO, WIPE TO, FADE IN, "
     "FADE OUT."),
    ("style", "lone-name-line", WARNING, "A cast name alone on a line, not read as a cue.",
     "A character cue needs its dialogue on the very next line and a blank line before it."),

    ("style", "dialogue-swallows-action", WARNING, "A line that reads like action inside dialogue.",
     "Dialogue runs until a blank line: 'MAYA sits down.' right under a spoken line is spoken. Put a blank line "
     "above it if it is action."),
    ("style", "caps-line-in-dialogue", WARNING, "A line in capitals inside dialogue.",
     "Dialogue runs until a blank line; a transition or framing line right under it is read as spoken words."),
    # --- config: project settings and suppression comments (docs/ci.md) ---------------
    ("config", "config-unknown-key", WARNING, "scenec.toml or [tool.scenec] holds a key scenec does not read.",
     "A misspelt key would otherwise be silently ignored. The keys are select, ignore, warnings-as-errors "
     "and the tables [media] (allow, allow_anywhere) and, in scenec.toml, [network] (allow_hosts, "
     "allow_private). The message suggests the nearest key."),
    ("config", "unused-suppression", WARNING, "A suppression comment that silenced nothing.",
     "`-- scenec: ignore[CODE]` silences CODE on the next line that is not a comment, and "
     "`-- scenec: ignore-file[CODE]` in the whole file. When nothing it names was reported there, the "
     "comment is stale (the mistake was fixed, or it sits on the wrong line): remove it."),
    ("config", "unknown-suppression-code", WARNING, "A suppression comment or select/ignore names no code.",
     "Name a diagnostic by its slug (`unused-member`) or a group (`style`); the codes are listed on this page. "
     "A misspelt code silences nothing, so it is reported with the nearest known code."),
    ("config", "unsuppressible-code", WARNING, "A suppression comment or ignore names an error.",
     "Errors cannot be silenced: each one makes `scenec compile` refuse to build the request (the service "
     "would reject it, or scenec could not read the scene whole), so hiding it in `check` would let CI pass "
     "a scene that cannot be sent. Only warnings can be suppressed; the error is still reported."),
    ("config", "malformed-suppression", WARNING, "A `-- scenec:` comment scenec cannot read, or one at a line's end.",
     "A directive is a whole comment line: `-- scenec: ignore[code, ...]` (for the next line that is not a "
     "comment) or `-- scenec: ignore-file[code, ...]`. In a .scene file `--` starts a comment only at the start "
     "of a line: `MAYA sits. -- scenec: ignore[...]` is prompt text that would be sent to the service, "
     "so it is reported on that line and silences nothing."),
    # --- payload: the emitted request ------------------------------------------------
    ("payload", "invalid-payload", ERROR, "The emitted request failed validation.",
     "A bug in scenec: the request model rejected what the compiler produced. Please report it."),
)


def make(code: str, message: str, span: Span | None, *, path: str | None = None, hint: str | None = None,
         severity: str | None = None, related: Iterable[tuple[str, Span]] = ()) -> Diagnostic:
    """A diagnostic for a registered code (an unregistered code is a bug and raises KeyError)."""
    registered = CODES[code]
    return Diagnostic(code, severity or registered.severity, message, span, path, hint, tuple(related))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == ERROR for d in diagnostics)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, str]:
    span = diagnostic.span
    return (diagnostic.path or "", span.start if span else -1, diagnostic.code)


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance, small strings only (names, keywords).  With `limit`, any distance over it
    may come back as limit + 1 (a row whose every cell exceeds the limit ends the computation)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


MAX_WORD = 64      # nobody misspells a 65-character name; and edit distance is quadratic in the length
MAX_COMPARED = 64  # candidates compared per word, nearest lengths first (the API takes 5 references)


class Suggestions:
    """'did you mean' over one fixed set of candidates, bounded and cached per word.

    Candidates are bucketed by length and tried nearest length first (a distance is at least the
    difference in length), at most MAX_COMPARED of them per word, so a word costs the same whatever
    the number of candidates; a word asked again is answered from the cache.
    """

    def __init__(self, candidates: Iterable[str]) -> None:
        self.by_length: dict[int, list[tuple[str, str]]] = {}
        for candidate in sorted(set(candidates)):
            self.by_length.setdefault(len(candidate), []).append((candidate.upper(), candidate))
        self.cache: dict[tuple[str, int], list[str]] = {}

    def __call__(self, word: str, limit: int = 3) -> list[str]:
        found = self.cache.get((word, limit))
        if found is None:
            found = self.cache[(word, limit)] = self.search(word, limit)
        return found

    def search(self, word: str, limit: int) -> list[str]:
        if len(word) > MAX_WORD:
            return []
        threshold = max(1, (len(word) + 1) // 3)
        upper, compared = word.upper(), 0
        scored: list[tuple[int, str]] = []
        for delta in sorted(range(-threshold, threshold + 1), key=abs):
            for candidate_upper, candidate in self.by_length.get(len(word) + delta, ()):
                if compared == MAX_COMPARED:
                    return _nearest(scored, limit)
                compared += 1
                distance = edit_distance(upper, candidate_upper, threshold)
                if distance <= threshold:
                    scored.append((distance, candidate))
        return _nearest(scored, limit)


def _nearest(scored: list[tuple[int, str]], limit: int) -> list[str]:
    return [candidate for _, candidate in sorted(scored)[:limit]]


_fixed_sets: dict[tuple[str, ...], Suggestions] = {}


def did_you_mean(word: str, candidates: Iterable[str], *, limit: int = 3) -> list[str]:
    """Candidates close to word, nearest first: within a third of the word's length (at least 1, case-insensitive).

    A tuple of candidates (the fixed vocabularies) keeps its Suggestions, and so its cache, between calls;
    callers with a large set asked many times (cast names) hold a Suggestions themselves.
    """
    if isinstance(candidates, tuple):
        suggestions = _fixed_sets.get(candidates)
        if suggestions is None:
            if len(_fixed_sets) > 64:
                _fixed_sets.clear()
            suggestions = _fixed_sets[candidates] = Suggestions(candidates)
        if len(suggestions.cache) > 4096:
            suggestions.cache.clear()  # a long-running process (a language server) does not grow without end
        return suggestions(word, limit)
    return Suggestions(candidates).search(word, limit)
