"""Stage 3, check: the chosen target's rules on a resolved scene, as diagnostics (what it refuses, counts, media,
values, lengths, timings, paths), every number read from the target's limits table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from . import ir
from .diagnostics import Diagnostic, make
from .limits import Limits
from .perf import gc_paused
from .project import Project
from .source import Span, clipped
from .targets import Target, all_models, for_model, nearest_models, target_of
from .timing import check_speech

# Spelled out rather than imported from typing, which `check` does not load at start-up (see records.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    from .media import MediaInfo

    class Report(Protocol):
        """Reports one finding about a medium, at the medium's span."""

        def __call__(self, code: str, message: str, *, hint: str | None = None) -> list[Diagnostic]: ...

__all__ = ["check", "check_model", "check_media", "check_prompt_length"]

DATA_URI = re.compile(r"^data:([^;,]*)((?:;[^;,]*)*),(.*)$", re.DOTALL)
URL_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")  # user:pass@host:port
MEDIA_NOUN = {"image": "image", "video": "video", "voice": "voice", "first frame": "image"}


@gc_paused
def check(scene: ir.Scene, target: Target | None = None, *, project: Project | None = None, probe: bool = True,
          prompt_length: int | None = None) -> list[Diagnostic]:
    """Every rule of the target (by default the scene's MODEL's) that can be checked before paying.
    `prompt_length` skips measuring when already known."""
    if project is None and isinstance(scene.project, Project):
        project = scene.project
    target = target or target_of(scene.settings.model)
    found: list[Diagnostic] = []
    found += check_model(scene)
    found += target.refusals(scene)
    found += check_counts(scene, target)
    found += check_unheard_voices(scene, target)
    found += check_names_in_settings(scene)
    found += check_settings(scene, target.limits, target.model_of(scene))
    found += check_timings(scene)
    found += check_timed_plan(scene)
    found += check_speech(scene)
    found += check_vocabulary(scene)
    found += check_prompt_length(scene, prompt_length, target)
    found += check_media(scene, project, probe=probe, limits=target.limits)
    return found


def check_model(scene: ir.Scene) -> list[Diagnostic]:
    """MODEL names a model no compile target takes (the scene is still checked as the default target's).

    A model from the configuration is reported there (compiler/config.py); one from --model by the command."""
    settings = scene.settings
    if for_model(settings.model) is not None or "MODEL" not in settings.given:
        return []
    close = nearest_models(settings.model)
    return [_at(scene, "bad-setting-value",
                f"MODEL cannot be {clipped(settings.model, 60)!r}; use one of {', '.join(all_models())}",
                settings.value_spans.get("MODEL", settings.spans.get("MODEL")),
                hint=f"did you mean {' or '.join(close[:2])}?" if close else None)]


def _at(scene: ir.Scene, code: str, message: str, span: Span | None, *, path: str | None = None,
        hint: str | None = None) -> Diagnostic:
    return make(code, message, span, path=path or scene.path, hint=hint)


def check_counts(scene: ir.Scene, target: Target) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    references = scene.references
    limit = target.limits.max_references
    if len(references) > limit:
        extra = references[limit]
        out.append(_at(scene, "too-many-references",
                       f"{len(references)} reference images and videos; {target.model_of(scene)} takes at most {limit}",
                       extra.span, path=extra.path,
                       hint=f"{extra.name} is number {limit + 1}: drop or merge references"))
    if len(references) < target.limits.min_references:  # wan3.0 takes a first frame alone, Kling text alone
        span = scene.first_frame.span if scene.first_frame else None
        out.append(_at(scene, "no-reference", "no reference image or video: declare at least one cast member",
                       span, hint="add a CAST with at least one image or video"))
    for span in scene.extra_first_frames:
        out.append(_at(scene, "multiple-first-frames", "only one FIRST FRAME is allowed", span))
    if scene.first_frame and scene.first_frame.voice and target.capabilities.first_frame_voice:
        # Where the target cannot take it, its refusal is the one diagnostic (Target.refused_first_frame_voice).
        out.append(_at(scene, "voice-on-first-frame", "a voice on the first frame is not recommended by the vendor",
                       scene.first_frame.voice.span, hint="attach the voice to the cast member who speaks"))
    return out


# Settings sent as written (never bound to the cast), by header key and ir.Settings field.
_FREE_TEXT_SETTINGS = (("ATMOSPHERE", "atmosphere"), ("STYLE LINE", "style_line"),
                       ("NEGATIVE PROMPT", "negative_prompt"))


def check_names_in_settings(scene: ir.Scene) -> list[Diagnostic]:
    """A cast name in a setting that is sent as written: the model gets the bare name, not the identifier."""
    names = [member.name for member in scene.members]
    written = [(key, text) for key, field in _FREE_TEXT_SETTINGS
               if key in scene.settings.given and (text := getattr(scene.settings, field))]
    if not names or not written:
        return []  # the usual scene: no pattern is built
    pattern = re.compile(r"(?<![\w@])(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
                         + r")(?!\w)")
    out: list[Diagnostic] = []
    for key, text in written:
        found = pattern.search(text)
        if found:
            out.append(_at(scene, "name-in-setting", f"{key} names {found.group()}, but it is sent as written: the "
                           f"model reads '{found.group()}', not the reference it stands for",
                           scene.settings.spans.get(key),
                           hint="describe without the name, or say it in an action line"))
    return out


def check_unheard_voices(scene: ir.Scene, target: Target) -> list[Diagnostic]:
    """A voice the target names in the prompt (naming.voices) on a member who never speaks: sent, tied to no one."""
    voices = target.naming(scene).voices if target.capabilities.voice else {}
    if not voices:
        return []
    speakers = {beat.speaker for shot in scene.shots for beat in shot.beats if type(beat) is ir.DialogueBeat}
    return [_at(scene, "unheard-voice", f"{member.name} never speaks, so the prompt never ties {voices[member.name]} "
                f"to {member.name}: {target.model_of(scene)} gets the clip and no word of whose voice it is",
                member.voice.span, path=member.path, hint=f"give {member.name} a line, or remove the voice")
            for member in scene.members if member.name in voices and member.voice and member.name not in speakers]


def check_settings(scene: ir.Scene, limits: Limits, model: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    settings = scene.settings
    if scene.first_frame and "RATIO" in settings.given:
        out.append(_at(scene, "ratio-with-first-frame",
                       "RATIO is ignored with a first frame: the video takes its aspect",
                       settings.spans["RATIO"], hint="remove RATIO or the FIRST FRAME"))
    has_video = any(member.kind == "video" for member in scene.references)
    low, high = limits.duration_range(has_video)
    if not low <= settings.duration <= high:
        reason = " with a reference video" if has_video else ""
        out.append(_at(scene, "duration-out-of-range",
                       f"DURATION {settings.duration}s is outside {model}'s {low}-{high}s{reason}",
                       settings.spans.get("DURATION"), hint=f"choose {low} to {high} seconds"))
    negative = settings.negative_prompt or ""
    limit = limits.negative_prompt_chars
    if limit and len(negative) > limit:  # a limit of 0: the target takes none and refuses it (Target.refusals)
        out.append(_at(scene, "negative-prompt-too-long",
                       f"the negative prompt has {len(negative)} characters, {len(negative) - limit} over the limit "
                       f"of {limit}",
                       settings.spans.get("NEGATIVE PROMPT")))
    return out


def check_timings(scene: ir.Scene) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    previous_end = 0.0
    duration = scene.settings.duration
    for shot in scene.shots:
        if shot.timing is None:
            continue
        start, end = shot.timing
        if end <= start:
            out.append(_at(scene, "timing-overlap", f"shot {shot.number} ends ({end:g}s) before it starts ({start:g}s)",
                           shot.timing_span))
        elif start < previous_end:
            out.append(_at(scene, "timing-overlap",
                           f"shot {shot.number} starts at {start:g}s, before the previous shot ends at "
                           f"{previous_end:g}s",
                           shot.timing_span))
        if end > duration:
            out.append(_at(scene, "timing-exceeds-duration",
                           f"shot {shot.number} ends at {end:g}s, after the scene's DURATION of {duration}s",
                           shot.timing_span, hint=f"raise DURATION or end the shot by {duration}s"))
        previous_end = max(previous_end, end)
    return out


def check_timed_plan(scene: ir.Scene) -> list[Diagnostic]:
    """PROMPT STYLE: timed writes each shot's [start-end]: they must cover 0 to DURATION exactly (timeline.plan)."""
    if scene.settings.prompt_style != "timed":
        return []
    from .timeline import plan

    duration = scene.settings.duration
    _, gaps = plan([shot.timing for shot in scene.shots], duration)
    out: list[Diagnostic] = []
    for gap in gaps:
        shot = scene.shots[gap.shot_index] if gap.shot_index < len(scene.shots) else None
        span = (shot.timing_span or shot.span) if shot else scene.shots[-1].timing_span or scene.shots[-1].span
        if gap.untimed:
            shots = "1 shot without a timing has" if gap.untimed == 1 else f"{gap.untimed} shots without a timing have"
            message = f"{shots} no time left at {gap.start:g}s"
            hint = "give the shots before or after them shorter timings, or time these shots"
        elif shot is None:
            message = f"the last shot ends at {gap.start:g}s, before the scene's DURATION of {duration}s"
            shorter = f", or set DURATION: {gap.start:g}s" if gap.start == int(gap.start) else ""
            hint = f"end the last shot at {duration}s or add an untimed shot after it{shorter}"
        else:
            message = f"no shot covers {gap.start:g}-{gap.end:g}s: shot {shot.number} starts at {gap.end:g}s"
            hint = f"start shot {shot.number} at {gap.start:g}s or put an untimed shot before it"
        out.append(_at(scene, "timings-do-not-add-up", message, span, hint=hint))
    return out


def check_vocabulary(scene: ir.Scene) -> list[Diagnostic]:
    """Framings and transitions the templates do not know are passed through, with a warning."""
    from .diagnostics import did_you_mean
    from .vocabulary import TRANSITIONS, framing_entry, known_framings

    out: list[Diagnostic] = []
    for shot in scene.shots:
        if shot.framing and framing_entry(shot.framing) is None and scene.member(shot.framing) is None:
            close = did_you_mean(shot.framing, known_framings())
            out.append(_at(scene, "unknown-framing", f"scenec does not know the framing {shot.framing[:60]}", shot.span,
                           hint=f"did you mean {close[0]}?" if close else "start the line with ! if it is action"))
        if shot.transition and shot.transition not in TRANSITIONS:
            close = did_you_mean(shot.transition, TRANSITIONS)
            out.append(_at(scene, "unknown-transition", f"scenec does not know the transition {shot.transition} TO",
                           shot.span, hint=f"did you mean {close[0]} TO?" if close else None))
    return out


def check_prompt_length(scene: ir.Scene, known_length: int | None = None,
                        target: Target | None = None) -> list[Diagnostic]:
    """Measure the compiled prompt.  A cheap bound decides first; the templates render only near the limit."""
    from .prompt import length_bound, render_prompt

    target = target or target_of(scene.settings.model)

    if not any(shot.beats or shot.framing or shot.transition for shot in scene.shots):
        return [_at(scene, "empty-prompt", "the script is empty: nothing to compile into a prompt", None,
                    hint="write at least one action line under the cast")]
    if not target.prompt_is_read(scene):
        return []  # the target's own refusals hold what it reads instead (Kling's multi_prompt items)
    limits = target.limits
    limit, weight = limits.prompt_limit(scene.settings.language), limits.cjk_weight
    # A known length is the plain count: right only where every character weighs one.
    length = known_length if weight == 1 else None
    if length is None:
        if length_bound(scene) * weight <= limit:
            return []
        length = limits.prompt_length(render_prompt(scene))
    if length <= limit:
        return []
    counted = "characters" if weight == 1 else f"characters, a Chinese, Japanese or Korean one counting as {weight}"
    return [_at(scene, "prompt-too-long",
                f"the compiled prompt has {length} {counted}, {length - limit} over the limit of {limit}; "
                f"it crosses the limit at this line", _crossing_span(scene, limit, limits),
                hint="shorten action or dialogue; the service would silently cut the end")]


def _crossing_span(scene: ir.Scene, limit: int, limits: Limits | None = None) -> Span | None:
    """The line (beat, or shot opening) at which the rendered prompt first exceeds the limit.

    The prompt of the scene cut after a line is the prompt up to that line, so the crossing is found by
    galloping from the start (1, 2, 4, ... lines) and then a binary search: about 2·log2(k) renders of
    scenes no longer than twice the k lines that fill the limit, however long the script goes on after
    them.  It runs only when the prompt is too long.
    """
    from .prompt import render_prompt

    measure = limits.prompt_length if limits is not None else len  # as the target counts (a CJK weight)
    steps = [(index, count) for index, shot in enumerate(scene.shots) for count in range(len(shot.beats) + 1)]
    low, high = 0, len(steps) - 1
    reach = 1
    while reach < high and measure(render_prompt(_cut(scene, *steps[reach]))) <= limit:
        low, reach = reach + 1, reach * 2
    high = min(high, reach)
    while low < high:
        middle = (low + high) // 2
        if measure(render_prompt(_cut(scene, *steps[middle]))) > limit:
            high = middle
        else:
            low = middle + 1
    index, count = steps[low] if steps else (0, 0)
    shot = scene.shots[index] if scene.shots else None
    if shot is None:
        return None
    return shot.beats[count - 1].span if count else shot.span


def _cut(scene: ir.Scene, index: int, count: int) -> ir.Scene:
    """The scene up to shot `index` with only its first `count` beats."""
    shot = scene.shots[index]
    return scene._replace(shots=scene.shots[:index] + (shot._replace(beats=shot.beats[:count]),))


# --- media ---------------------------------------------------------------------------------

def media_items(scene: ir.Scene) -> Iterator[tuple[str, ir.MediaSource, str, str]]:
    """(role, source, owner name, declaring path) for every medium of the scene."""
    if scene.first_frame:
        yield "first frame", scene.first_frame.media, "FIRST FRAME", scene.path
        if scene.first_frame.voice:
            yield "voice", scene.first_frame.voice, "FIRST FRAME", scene.path
    for member in scene.references:
        yield member.kind, member.media, member.name, member.path
        if member.voice:
            yield "voice", member.voice, member.name, member.path


def check_media(scene: ir.Scene, project: Project | None, *, probe: bool = True,
                limits: Limits | None = None) -> list[Diagnostic]:
    """Every medium against the target's file limits (by default the scene's MODEL's target's), then the lengths
    of its reference videos and of its voices against the target's totals, where it has them."""
    limits = limits or target_of(scene.settings.model).limits
    out: list[Diagnostic] = []
    timed: list[tuple[str, ir.MediaSource, str, str, float]] = []  # role, source, owner, path, seconds
    declared = {id(member.media): member.length for member in scene.references}
    for role, source, owner, path in media_items(scene):
        found, seconds = check_source(role, source, owner, path, project, probe, limits)
        out += found
        seconds = seconds if seconds is not None else declared.get(id(source))
        if seconds is not None and role in ("video", "voice"):
            timed.append((role, source, owner, path, seconds))
    return out + check_total_seconds(scene, timed, limits)


def check_total_seconds(scene: ir.Scene, timed: list[tuple[str, ir.MediaSource, str, str, float]],
                        limits: Limits) -> list[Diagnostic]:
    """The reference videos, and the voices, in media order against the target's total for each (wan3.0: 15 s
    each): refused at the medium that crosses it.  A length is the file's, probed, or the declared ", 6s long";
    a medium of unknown length (a URL with no declared length) is not counted."""
    out: list[Diagnostic] = []
    for role, total_limit, plural in (("video", limits.video_total_seconds, "reference videos"),
                                      ("voice", limits.voice_total_seconds, "voices")):
        if total_limit is None:
            continue
        total = 0.0
        for kind, source, owner, path, seconds in timed:
            if kind != role:
                continue
            total += seconds
            if total > total_limit:
                out.append(make("media-duration", f"{owner}: the {plural} last {total:g}s together up to this one; "
                                f"{scene.settings.model} takes at most {total_limit:g}s of {plural} together",
                                source.span, path=path, hint=f"shorten or drop one of the {plural}"))
                break
    return out


def check_source(role: str, source: ir.MediaSource, owner: str, path: str, project: Project | None,
                 probe: bool, limits: Limits) -> tuple[list[Diagnostic], float | None]:
    """The medium's diagnostics, and its length in seconds when it was probed (None otherwise)."""
    def report(code: str, message: str, *, hint: str | None = None) -> list[Diagnostic]:
        return [make(code, f"{owner}: {message}", source.span, path=path, hint=hint)]

    if source.scheme in ("http", "https"):
        authority = URL_AUTHORITY.match(source.text)
        if authority and "@" in authority.group(1):
            return report("url-credentials", "the URL carries a user name or password (user:pass@); the service "
                          "and scenec's check would send it to the host: host the file where no login is needed"), None
        return [], None
    if source.scheme == "data":
        if role in ("video", "voice"):
            return report("base64-not-allowed",
                          f"a {role} cannot be given as base64 data; use a URL or a local file"), None
        return check_data_uri(source, report, limits), None
    if source.scheme == "oss":
        return report("url-scheme", "oss:// URLs are temporary uploads tied to one account and model; "
                      "write the local path and scenec render uploads it"), None
    if source.scheme != "local":
        return report("url-scheme", f"{source.scheme}: URLs are not accepted; use http(s) or a local path"), None
    assert source.local_path is not None
    if project and not project.contains(source.local_path):
        return report("path-outside-project", f"{source.text} is outside the project folder {project.root}",
                      hint="fix the errors in scenec.toml first (its allowances are ignored while it is broken)"
                      if project.broken else
                      "move the file into the project, or allow its folder in scenec.toml ([media] allow)"), None
    missing = _not_a_file(source.local_path)
    if missing:
        return report("file-missing", f"{source.text} {missing}"), None
    if not probe:
        return [], None
    from .media import probe_file
    from .source import describe_os_error

    try:
        info = probe_file(source.local_path)
    except OSError as error:
        return report("file-missing", f"cannot read {source.text}: {describe_os_error(error)}"), None
    return check_info(role, source.text, info, report, limits), info.duration


def _not_a_file(path: Path) -> str | None:
    """Why a local media path is not a regular file (symlinks followed), or None when it is one.

    Never raises: a name too long, a loop or no permission is a diagnostic like a missing file.
    """
    import os
    import stat as stat_module

    from .source import describe_os_error, file_kind

    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError) as error:
        if isinstance(error, FileNotFoundError):
            return "does not exist"
        if isinstance(error, OSError):
            return f"cannot be read: {describe_os_error(error)}"
        return "the path holds a NUL byte"
    return None if stat_module.S_ISREG(mode) else f"is {file_kind(mode)}, not a regular file"


def check_data_uri(source: ir.MediaSource, report: Report, limits: Limits) -> list[Diagnostic]:
    match = DATA_URI.match(source.text)
    if not match or ";base64" not in match.group(2).lower():
        return report("bad-data-uri", "a data URI must read data:{MIME};base64,{data}")
    mime = match.group(1).lower()
    mimes = tuple(f"image/{name}" for name in limits.image.formats)  # a data URI is an image of the target's
    if mime not in mimes:
        return report("bad-data-uri", f"MIME type {mime or '(none)'} is not one of {', '.join(mimes)}")
    import base64
    import binascii

    try:
        data = base64.b64decode(match.group(3), validate=True)
    except (binascii.Error, ValueError):
        return report("bad-data-uri", "the base64 data does not decode")
    from .media import probe_bytes

    info = probe_bytes(data)
    if info.mime and info.mime != mime:
        return report("bad-data-uri", f"declared {mime} but the data is {info.mime}")
    return check_info("image", "the data URI", info, report, limits)


def _a(noun: str) -> str:
    """The noun with its indefinite article: "an image", "a video"."""
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def check_info(role: str, label: str, info: MediaInfo, report: Report, table: Limits) -> list[Diagnostic]:
    """Content against the target's limits of its role: type, size, dimensions, duration, transparency."""
    kind = "audio" if role == "voice" else ("image" if role == "first frame" else role)
    limits = table.file({"image": "image", "video": "video", "audio": "voice"}[kind])
    noun = _a(MEDIA_NOUN.get(role, role))
    if info.kind != kind or info.format not in limits.formats:
        what = info.format or "not a recognised media file"
        return report("file-wrong-type", f"{label} is {what}, not {noun} ({'/'.join(limits.formats)})")
    out: list[Diagnostic] = []
    if info.size > limits.max_bytes:
        out += report("file-too-large",
                      f"{label} is {info.size / 1e6:.1f} MB, over the {limits.max_megabytes} MB limit")
    if limits.sides and info.width and info.height:
        aspect = table.aspect if kind in table.aspect_kinds else None  # Kling states none for videos
        out += _check_sides(label, info.width, info.height, limits.sides, aspect, report)
    if limits.seconds and info.duration is not None:
        shortest, longest = limits.seconds
        if not shortest <= info.duration <= longest:
            out += report("media-duration", f"{label} lasts {info.duration:.1f}s; {noun} must last "
                          f"{shortest:g}-{longest:g}s")
    if kind == "image" and info.has_alpha:
        out += report("image-transparency", f"{label} is not fully opaque; the API takes images without transparency",
                      hint="flatten the image onto a background")
    return out


def _check_sides(label: str, width: int, height: int, sides: tuple[int, int], aspect: float | None,
                 report: Report) -> list[Diagnostic]:
    """Each side within the limits, and the longer at most `aspect` times the shorter (None: no such bound)."""
    low, high = sides
    if not (low <= width <= high and low <= height <= high):
        return report("media-dimensions", f"{label} is {width}x{height}; each side must be {low}-{high} px")
    if aspect is not None and max(width, height) / min(width, height) > aspect:
        return report("media-dimensions", f"{label} is {width}x{height}, more elongated than 1:{aspect:g}")
    return []
