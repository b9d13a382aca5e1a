"""scenec preview: one self-contained HTML storyboard of a scene, a view over compiler.api (no compiler logic here).

The page model is plain data built from the compiled scene (compiler.api.compile_file), its prompt
(compiler.prompt), the speech estimate (compiler.timing) and the bill (compiler.render.results.scene_cost);
templates/preview/page.html.j2 renders it with jinja2's autoescape, so no scene text can become markup.
Local media are embedded as data URIs up to a size (images are shown scaled by CSS, not downscaled:
that would need an imaging library), larger ones are linked by a relative file URL; remote media are
never fetched, so the page makes no network request.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path
from types import SimpleNamespace as View
from urllib.parse import quote

from . import ir
from .diagnostics import ERROR, WARNING

# Spelled out rather than imported from typing, which nothing on `scenec preview`'s own path needs.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import jinja2

    from .diagnostics import Diagnostic
    from .media import MediaInfo
    from .timing import Speech

    # The pattern of every identifier in the prompt, and each identifier's card number.
    _Links = tuple[re.Pattern[str] | None, dict[str, int]]

__all__ = ["Page", "build_page", "page_model", "render_page", "shot_prompts", "SCRIPT"]

TEMPLATE_DIR = Path(__file__).parent / "templates" / "preview"
EMBED_LIMITS = {"image": 4 * 1024 * 1024, "audio": 2 * 1024 * 1024, "video": 8 * 1024 * 1024}
DATA_IMAGE = re.compile(r"^data:image/(?:jpeg|png|bmp|webp);base64,[A-Za-z0-9+/=]+$")
SCRIPT = (TEMPLATE_DIR / "preview.js").read_text(encoding="utf-8") if TEMPLATE_DIR.is_dir() else ""
RELOAD_SCRIPT = 'new EventSource("/events").onmessage = function () { location.reload(); };'


class Page:
    """The page, its diagnostic counts, and the relative URLs of the files it links instead of embedding."""

    __slots__ = ("html", "errors", "warnings", "links")

    def __init__(self, html: str, errors: int, warnings: int, links: frozenset[str] = frozenset()) -> None:
        self.html, self.errors, self.warnings, self.links = html, errors, warnings, links


def build_page(path: Path, *, region: str | None = "beijing", live_reload: bool = False,
               output: Path | None = None, model: str | None = None) -> Page:
    """Compile the scene (for `model` when given, as --model does) and render its page; `output` is where the
    page will live (relative media links)."""
    page = page_model(path, region=region, base=(output or path).absolute().parent, model_id=model)
    links = frozenset(media.src for card in page.cards for media in (card.media, card.voice)
                      if media is not None and media.src and not media.src.startswith("data:"))
    return Page(render_page(page, live_reload=live_reload), page.errors, page.warnings, links)


# --- the page model --------------------------------------------------------------------------

def page_model(path: Path, *, region: str | None = "beijing", base: Path | None = None,
               model_id: str | None = None) -> View:
    from .api import compile_file

    compiled = compile_file(path, model=model_id)
    scene = compiled.scene
    diagnostics = compiled.diagnostics
    errors = sum(d.severity == ERROR for d in diagnostics)
    warnings = sum(d.severity == WARNING for d in diagnostics)
    model = View(file=str(path), title=path.name, errors=errors, warnings=warnings, settings=[], cards=[],
                 shots=[], prompt=[], timeline=None, bill=None, diagnostics=[_diagnostic(d) for d in diagnostics])
    if scene is None:
        return model
    base = base or path.absolute().parent
    cards = _cards(scene, base)
    card_of = {card.name: card.number for card in cards if card.name}
    claimed: set[int] = set()
    model.title = scene.settings.title or path.name
    model.settings = _settings(scene.settings)
    model.cards = cards
    prompts = shot_prompts(scene, compiled.prompt) if compiled.prompt is not None else [None] * len(scene.shots)
    links = _identifier_links(cards)
    model.shots = [_shot(shot, prompt, card_of, links, scene)
                   for shot, prompt in zip(scene.shots, prompts, strict=True)]
    model.prompt = _link_identifiers(compiled.prompt or "", links)
    _place_diagnostics(model, diagnostics, scene, claimed)
    model.diagnostics = [_diagnostic(d) for i, d in enumerate(diagnostics) if i not in claimed]
    model.timeline = _timeline(scene, model.shots)
    model.bill = _bill(scene, region)
    return model


def _diagnostic(d: Diagnostic) -> View:
    return View(code=d.code, severity=d.severity, message=d.message, hint=d.hint,
                where=f"{d.path}:{d.span.line}:{d.span.column}" if d.span else (d.path or ""))


def _settings(settings: ir.Settings) -> list[View]:
    rows = [("TITLE", settings.title), ("MODEL", settings.model), ("DURATION", f"{settings.duration} s"),
            ("RESOLUTION", settings.resolution), ("RATIO", settings.ratio), ("LANGUAGE", settings.language),
            ("PROMPT STYLE", settings.prompt_style), ("PROMPT EXTEND", "on" if settings.prompt_extend else "off"),
            ("WATERMARK", "on" if settings.watermark else "off"), ("SEED", settings.seed),
            ("ATMOSPHERE", settings.atmosphere), ("NEGATIVE PROMPT", settings.negative_prompt)]
    return [View(key=key, value=str(value), given=key in settings.given) for key, value in rows if value is not None]


# --- cast cards ------------------------------------------------------------------------------

def _cards(scene: ir.Scene, base: Path) -> list[View]:
    """One card per media entry, in the request's media order: the first frame, then the references."""
    cards: list[View] = []
    if scene.first_frame:
        frame = scene.first_frame
        cards.append(_card(len(cards), None, "first frame", "(not named in the prompt)", None, "image", frame.media,
                           frame.voice, None, scene.path, base))
    from .targets import naming_of

    identifiers = naming_of(scene).identifiers
    for member in scene.references:
        cards.append(_card(len(cards), member.name, f"reference {member.kind}", identifiers.get(member.name, ""),
                           member.role, member.kind, member.media, member.voice, member.description, member.path,
                           base))
    return cards


def _card(number: int, name: str | None, label: str, identifier: str, role: str | None, kind: str,
          media: ir.MediaSource, voice: ir.MediaSource | None, description: str | None, declared: str,
          base: Path) -> View:
    shown = _media_view(media, kind, base)
    return View(number=number, anchor=f"card-{number}", name=name, label=label, identifier=identifier, role=role,
                kind=kind, description=description, source=media.text, declared=declared, media=shown,
                voice=_media_view(voice, "audio", base) if voice else None, diagnostics=[])


def _media_view(source: ir.MediaSource, kind: str, base: Path) -> View:
    """How the page shows one medium: embedded, linked, or described (remote media are never fetched)."""
    view = View(kind=kind, source=source.text, src=None, note=None, info=None)
    if source.scheme == "data":
        if kind == "image" and DATA_IMAGE.match(source.text):
            view.src = source.text
        else:
            view.note = "inline data"
    elif source.scheme in ("http", "https"):
        view.note = "remote: not loaded here (the preview makes no network request)"
    elif source.scheme == "local" and source.local_path is not None:
        _local_media(view, source.local_path, kind, base)
    else:
        view.note = f"{source.scheme}: not shown"
    return view


def _local_media(view: View, path: Path, kind: str, base: Path) -> None:
    from .media import probe_file

    try:
        info = probe_file(path)
    except OSError:
        view.note = "missing"
        return
    view.info = _describe(info)
    if info.kind != kind or not info.mime:
        view.note = f"not a {kind} file"
    elif kind == "image" and (thumbnail := _thumbnail(path)) is not None:
        view.src = thumbnail
    elif info.size <= EMBED_LIMITS[kind]:
        view.src = f"data:{info.mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
    else:
        # A relative file URL, every character quoted: a file name cannot become a scheme or markup.
        view.src = quote(os.path.relpath(path.absolute(), base).replace(os.sep, "/"), safe="/")
        view.note = "linked, not embedded (large file)"


THUMBNAIL_SIDE = 320  # px: a card shows the picture at most this large


def _thumbnail(path: Path) -> str | None:
    """The image downscaled to a thumbnail, as a data URI; None without Pillow (the `preview` extra) or when the
    image cannot be decoded (then it is embedded or linked as it is)."""
    try:
        from PIL import Image
    except ImportError:
        return None
    import io

    try:
        with Image.open(path) as image:
            image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            opaque = image.mode in ("RGB", "L")
            out = io.BytesIO()
            if opaque:
                image.save(out, "JPEG", quality=85)
            else:
                image.convert("RGBA").save(out, "PNG", optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    mime = "image/jpeg" if opaque else "image/png"
    return f"data:{mime};base64,{base64.b64encode(out.getvalue()).decode('ascii')}"


def _describe(info: MediaInfo) -> str:
    parts = [info.format or "unknown"]
    if info.width and info.height:
        parts.append(f"{info.width}x{info.height}")
    if info.duration is not None:
        parts.append(f"{info.duration:.1f} s")
    parts.append(f"{info.size / 1024:.0f} KiB" if info.size < 1024 * 1024 else f"{info.size / 1048576:.1f} MiB")
    return ", ".join(parts)


# --- identifiers in the prompt ---------------------------------------------------------------

def _identifier_links(cards: list[View]) -> _Links:
    ids: dict[str, int] = {card.identifier: card.number for card in cards if card.name}
    if not ids:
        return None, ids
    alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    # An identifier ends where no digit follows ("Image 1" is not the start of "Image 12").
    return re.compile(rf"(?<![A-Za-z])(?:{alternatives})(?![0-9])", re.IGNORECASE), ids


def _link_identifiers(text: str, links: _Links) -> list[View]:
    """The text as segments; each identifier carries the number of its card."""
    pattern, ids = links
    lowered = {key.lower(): value for key, value in ids.items()}
    segments: list[View] = []
    cursor = 0
    for match in pattern.finditer(text) if pattern else ():
        if match.start() > cursor:
            segments.append(View(text=text[cursor:match.start()], card=None))
        segments.append(View(text=match.group(), card=lowered[match.group().lower()]))
        cursor = match.end()
    if cursor < len(text):
        segments.append(View(text=text[cursor:], card=None))
    return segments


def shot_prompts(scene: ir.Scene, prompt: str) -> list[str | None]:
    """Each shot's part of the compiled prompt: the shot rendered alone by the same template, found in order in
    the whole prompt (None when it cannot be found: the page then points to the whole prompt)."""
    from .prompt import join_lines, lower_first_word, prompt_template, render_shots_alone, template_context
    from .targets import target_of

    target = target_of(scene.settings.model)
    items = target.shot_requests(scene, target.naming(scene))
    if items is not None:  # the shots go apart (Kling's multi_prompt): each is its own prompt, shown as sent
        return list(items)
    template = prompt_template(scene)
    preamble = join_lines([line.strip() for line in template.render(shots=[], **template_context(scene)).splitlines()
                           if line.strip()], scene.settings.language)
    found: list[str | None] = []
    cursor = len(preamble) if prompt.startswith(preamble) else 0
    for number, part in enumerate(render_shots_alone(scene), 1):
        # A shot rendered alone is shot 1 ("1.", "Shot 1 [0-3s]:", "镜头1 ["); in the scene it has its own
        # number.  After a comma opener the prompt lowers the first word of the first shot.
        renumbered = re.sub(r"^(\D{0,8}?)1(?=[\s.\[])", rf"\g<1>{number}", part, count=1)
        candidates = list(dict.fromkeys([part, renumbered, lower_first_word(part), lower_first_word(renumbered)]))
        position, match = _find_first(prompt, candidates, cursor)
        found.append(match)
        if match:
            cursor = position + len(match)
    return found


def _find_first(text: str, candidates: list[str], start: int) -> tuple[int, str | None]:
    for candidate in candidates:
        position = text.find(candidate, start) if candidate else -1
        if position != -1:
            return position, candidate
    return -1, None


# --- shots, diagnostics, timeline, bill ------------------------------------------------------

def _pieces(pieces: tuple[ir.Piece, ...], card_of: dict[str, int]) -> list[View]:
    return [View(text=piece.name, card=card_of.get(piece.name)) if isinstance(piece, ir.Ref)
            else View(text=piece.text, card=None) for piece in pieces]


def _shot(shot: ir.Shot, prompt: str | None, card_of: dict[str, int], links: _Links, scene: ir.Scene) -> View:
    from .timing import shot_speech

    speech = shot_speech(shot)
    beats: list[View] = []
    for beat in shot.beats:
        if isinstance(beat, ir.ActionBeat):
            beats.append(View(kind="action", text=_pieces(beat.pieces, card_of)))
        else:
            parts = [View(kind=part.kind, text=_pieces(part.pieces, card_of)) for part in beat.parts]
            beats.append(View(kind="dialogue", speaker=View(text=beat.speaker, card=card_of.get(beat.speaker)),
                              parts=parts))
    timing = f"{shot.timing[0]:g}-{shot.timing[1]:g} s" if shot.timing else None
    return View(number=shot.number, anchor=f"shot-{shot.number}", transition=shot.transition, framing=shot.framing,
                subjects=[View(text=ref.name, card=card_of.get(ref.name)) for ref in shot.subjects], timing=timing,
                heading=_pieces(shot.heading, card_of) if shot.heading else None, beats=beats,
                prompt=_link_identifiers(prompt, links) if prompt else None, speech=speech.seconds,
                speech_text=_speech_text(speech), diagnostics=[], span=shot.span)


def _speech_text(speech: Speech) -> str | None:
    from .timing import describe

    if not speech.words + speech.chars:
        return None
    return f"about {describe(speech.seconds)} s of speech at {speech.rates()}"


def _place_diagnostics(model: View, diagnostics: list[Diagnostic], scene: ir.Scene, claimed: set[int]) -> None:
    """Diagnostics go to the shot whose lines hold them, or to the cast card of their line; the rest stay on top."""
    starts = [(shot.span.start, shot) for shot in model.shots if shot.span is not None]
    cards_by_line: dict[tuple[str | None, int], View] = {}
    for card, member in zip(model.cards[1:] if scene.first_frame else model.cards, scene.references, strict=True):
        cards_by_line[(member.path, member.span.line)] = card
    for index, d in enumerate(diagnostics):
        if d.span is None:
            continue
        card = cards_by_line.get((d.path, d.span.line))
        target = card if card is not None else _shot_at(starts, d, scene.path)
        if target is not None:
            target.diagnostics.append(_diagnostic(d))
            claimed.add(index)


def _shot_at(starts: list[tuple[int, View]], d: Diagnostic, path: str) -> View | None:
    if d.span is None or d.path != path or not starts or d.span.start < starts[0][0]:
        return None
    chosen = None
    for start, shot in starts:
        if start > d.span.start:
            break
        chosen = shot
    return chosen


def _timeline(scene: ir.Scene, shots: list[View]) -> View:
    """Where each shot sits in the clip: its timing when written, else an even share of the time around it."""
    from .timing import describe, scene_speech

    duration = float(scene.settings.duration) or 1.0
    spans = _shot_spans([shot.timing for shot in scene.shots], duration)
    items: list[View] = []
    for view, (start, end, written) in zip(shots, spans, strict=True):
        length = max(end - start, 0.0)
        items.append(View(number=view.number, anchor=view.anchor, start=start, end=end, written=written,
                          left=_percent(start, duration), width=_percent(length, duration),
                          speech_width=_percent(min(view.speech, duration - start), duration),
                          over=view.speech > length > 0, label=f"{start:g}-{end:g} s" if written else
                          f"about {start:.1f}-{end:.1f} s"))
    total = scene_speech(scene)
    return View(duration=scene.settings.duration, items=items, speech=describe(total.seconds) if total.seconds else "0",
                rates=total.rates(), over=total.seconds > scene.settings.duration)


def _shot_spans(timings: list[tuple[float, float] | None], duration: float) -> list[tuple[float, float, bool]]:
    """Each shot's (start, end, written): every shot gets one, untimed shots when the next timed one is reached."""
    spans: list[tuple[float, float, bool]] = [(0.0, 0.0, False)] * len(timings)
    cursor = 0.0
    pending: list[int] = []
    for index, timing in enumerate(timings + [(duration, duration)]):
        if timing is None:
            pending.append(index)
            continue
        start = min(max(timing[0], cursor), duration)
        share = (start - cursor) / len(pending) if pending else 0.0
        for offset, waiting in enumerate(pending):
            spans[waiting] = (cursor + share * offset, cursor + share * (offset + 1), False)
        pending = []
        if index < len(timings):
            spans[index] = (timing[0], timing[1], True)
            cursor = max(cursor, min(timing[1], duration))
    return spans


def _percent(value: float, total: float) -> str:
    return f"{max(0.0, min(100.0, 100.0 * value / total)):.3f}%"


def _bill(scene: ir.Scene, region: str | None) -> View | None:
    try:
        from .render.results import scene_cost
    except ImportError:  # rendering not installed
        return None
    try:
        line = scene_cost(scene, region)
    except ValueError as error:  # e.g. an invalid resolution, already reported by check
        return View(text=f"no estimate: {error}", region=region)
    return View(text=line.text(), region=region or "unknown")


# --- rendering -------------------------------------------------------------------------------

_environment: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _environment
    if _environment is None:
        import jinja2

        _environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True,
                                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        _environment.filters["linked"] = linked
    return _environment


def linked(segments: list[View]) -> str:
    """Segments as HTML: plain text escaped, names and identifiers as links to their card.

    The same escaping as autoescape (markupsafe), in a filter: a template macro called per segment made the
    page of a 2,000-shot scene take a second longer.
    """
    from markupsafe import Markup, escape

    link = '<a class="ref" href="#card-%d" data-card="%d">%s</a>'
    # Every piece is escape()d text or the fixed link around an int and escape()d text.
    return Markup("".join(escape(s.text) if s.card is None else link % (int(s.card), int(s.card), escape(s.text))
                          for s in segments))


def script_hash(script: str) -> str:
    """The CSP source for one inline script: only the page's own scripts run, whatever the scene holds."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def render_page(model: View, *, live_reload: bool = False) -> str:
    scripts = [SCRIPT] + ([RELOAD_SCRIPT] if live_reload else [])
    csp = ("default-src 'none'; img-src data:; media-src data: 'self'; style-src 'unsafe-inline'; "
           f"script-src {' '.join(script_hash(s) for s in scripts)}"
           + ("; connect-src 'self'" if live_reload else ""))
    return _env().get_template("page.html.j2").render(model=model, scripts=scripts, csp=csp)
