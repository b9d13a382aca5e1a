"""What every compile target declares: the back-end half of the compiler, one module per model family.

The front-end (parse, resolve, the checks of meaning) knows nothing of these: its IR holds the cast in
order (`ir.Scene.references`), never an identifier.  A target turns that order into the names its prompt
uses (`naming`), refuses at the writer's line what it cannot express (`refusals`), checks its own limits
(`limits`, read by check.py), builds and validates its request body (`payload_dict`, `request_model`),
tells the renderer which URLs in that body are media to fill (`media_slots`), and prices a render
(`estimate`).

Light on purpose: `scenec check` imports every target module (the registry), so no target may import
pydantic, jinja2 or httpx at module level; a request model is built on first use (`request_model`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .. import ir
from ..diagnostics import Diagnostic, make
from ..limits import ApiDefaults, Limits
from ..records import Record
from ..source import Span
from . import billing

TYPE_CHECKING = False  # spelled out: typing is not imported at start-up (records.py)
if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["Target", "Capabilities", "Naming", "Slot", "Estimate", "Path", "get_at", "set_at", "speaks",
           "counted_per_kind", "counted_as_characters", "parameters_of"]

Path = tuple[str | int, ...]  # a place in a request body: ("input", "media", 0, "url")


class Capabilities(Record):
    """What a scene may ask for that this target can express.  Anything else is refused at its line."""

    voice: bool                  # a voice clip on a cast member (VOICE)
    reference_video: bool        # a cast member from a video
    max_reference_videos: int    # more than this many is refused (Kling takes one)
    first_frame: bool            # FIRST FRAME
    first_frame_with_references: bool  # FIRST FRAME together with a cast (Wan 3.0 cannot)
    storyboard: bool             # STORYBOARD (a multi-panel reference image)
    negative_prompt: bool        # NEGATIVE PROMPT
    prompt_extend: bool          # PROMPT EXTEND
    data_uri: bool               # an image given (or inlined by render) as a data: URI
    seed: bool                   # SEED
    multi_shot_field: bool       # the scene's timed shots go to a request field (Kling's multi_prompt)
    first_frame_voice: bool = False  # a voice on FIRST FRAME (wan2.7 takes it); else refused where a first frame is


class Naming(Record):
    """What the prompt and the request call each reference, by cast name (the storyboard image included)."""

    identifiers: dict[str, str]            # "ALICE" -> "Image 1" / "character2" / "<<<image_1>>>"
    media_index: dict[str, int]            # "ALICE" -> its position in the request's reference list
    voices: dict[str, str]                 # "ALICE" -> "Audio 1": only targets that name a voice in the prompt


class Slot(Record):
    """One media URL in a request body, for the renderer to replace (a local path becomes an uploaded URL)."""

    path: Path          # where the URL sits in the body
    role: str           # "image" | "video" | "voice" | "first frame" (check.media_items' roles)
    url: str            # as compiled: a URL, a data URI or a project-relative local path


class Estimate(Record):
    """Billable seconds of one render and, where the target has a published price there, what they cost."""

    input_video_seconds: float
    output_seconds: float
    billable_seconds: float
    price_per_second: float | None
    currency: str | None
    amount: float | None


class Target:
    """A model family on the DashScope video-synthesis endpoint.  Subclasses set the data and override the
    methods whose rule differs; the defaults here are the typed-media shape (`input.media[]`) of wan2.7."""

    name: str                        # the canonical model id, e.g. "wan2.7-r2v"
    models: tuple[str, ...]          # every model id the scene's MODEL may name for this target
    title: str                       # "Wan 2.7 reference-to-video"
    status: str                      # "official" | "preview" | "third-party sources" | "legacy"
    sources: str                     # where the facts come from (docs/targets.md prints it)
    capabilities: Capabilities
    limits: Limits
    defaults: ApiDefaults            # what the service uses for a parameter the request leaves out
    resolutions: tuple[str, ...]     # RESOLUTION values it takes
    ratios: tuple[str, ...]          # RATIO values it takes
    parameters: tuple[str, ...]      # the ir.Settings fields it may send, in the request's order
    regions: tuple[str, ...]         # region names (compiler/regions.py) where it is served
    currency: str | None             # of `prices`; None when no price is published
    prices: Mapping[str, Mapping[str, float]]  # region -> resolution -> price per billable second
    prices_checked: str | None       # when the prices were read, "YYYY-MM-DD"
    billing_rule: str                # compiler/targets/billing.py: how billable seconds are counted
    template_folder: str | None = None  # compiler/templates/targets/<folder>/ overrides shipped templates by name
    # Why it refuses a thing, for the refusal's message: "voice" -> " (a reference video lends its own)".  Keys:
    # "setting", "voice", "first frame", "first frame voice", "storyboard"; a missing key gives no reason.
    reasons: Mapping[str, str] = {}

    def naming(self, scene: ir.Scene) -> Naming:
        raise NotImplementedError

    def refusals(self, scene: ir.Scene) -> list[Diagnostic]:
        """An error at the line of each thing the scene asks for that this target cannot express.

        The default refuses what `capabilities` rules out (a first frame or its voice, a storyboard, videos,
        voices, data URIs, settings) and the RESOLUTION and RATIO values outside `resolutions` and `ratios`; a
        target with rules of its own adds to it."""
        return (self.refused_first_frame(scene) + self.refused_first_frame_voice(scene)
                + self.refused_storyboard(scene) + self.refused_videos(scene)
                + self.refused_voices(scene) + self.refused_data_uris(scene) + self.refused_settings(scene)
                + self.refused_values(scene))

    def settle(self, settings: ir.Settings) -> ir.Settings:
        """The settings with each API parameter the writer left out (its key not in `settings.given`) set to
        this target's default."""
        given, defaults = settings.given, self.defaults
        return settings._replace(
            resolution=settings.resolution if "RESOLUTION" in given else defaults.resolution,
            ratio=settings.ratio if "RATIO" in given else defaults.ratio,
            duration=settings.duration if "DURATION" in given else defaults.duration,
            prompt_extend=settings.prompt_extend if "PROMPT EXTEND" in given else defaults.prompt_extend,
            watermark=settings.watermark if "WATERMARK" in given else defaults.watermark)

    def payload_dict(self, scene: ir.Scene, prompt: str, naming: Naming) -> dict[str, object]:
        """The request body as plain data, in the API's field order (local media as project-relative paths)."""
        raise NotImplementedError

    def prompt_input(self, scene: ir.Scene, prompt: str) -> dict[str, object]:
        """The start of a body's `input`: the prompt and, when the writer set one, the negative prompt."""
        negative = scene.settings.negative_prompt
        return {"prompt": prompt, **({"negative_prompt": negative} if negative is not None else {})}

    def sent_parameters(self, scene: ir.Scene) -> dict[str, object]:
        """The `parameters` the writer set, of this target's `parameters`, in their order, under their own names;
        never `ratio` with a first frame (the video takes the frame's aspect; check warns ratio-with-first-frame)."""
        from ..emit import sent_parameters

        sent = sent_parameters(scene, self.parameters)
        if scene.first_frame is not None:
            sent.pop("ratio", None)
        return sent

    def request_model(self) -> type[BaseModel]:
        """The pydantic model of the body: unknown fields forbidden; local paths only with LOCAL_CONTEXT."""
        raise NotImplementedError

    def media_slots(self, body: Mapping[str, object]) -> list[Slot]:
        """Every media URL of a body built by payload_dict, in request order.

        The default reads the typed-media shape: `input.media[]` entries with a `url` (role from the entry's
        `type`, `_MEDIA_ROLES`) and an optional `reference_voice`.  An entry of a type not in the table keeps
        the role "other": its URL is still replaced, by an upload (only images go inline)."""
        media = _field(_field(body, "input"), "media")
        slots: list[Slot] = []
        for index, entry in enumerate(media if isinstance(media, list) else ()):
            if not isinstance(entry, Mapping):
                continue
            role = _MEDIA_ROLES.get(str(entry.get("type")), "other")
            for name, name_role in (("url", role), ("reference_voice", "voice")):
                url = entry.get(name)
                if isinstance(url, str):
                    slots.append(Slot(("input", "media", index, name), name_role, url))
        return slots

    def effective_parameters(self, body: Mapping[str, object]) -> dict[str, object]:
        """The parameters the service will use: the body's, and its defaults for those left out.

        The default: each of `parameters` that `defaults` has a value for, except `ratio` when the body has a
        first frame (the video then takes the frame's aspect, so no ratio applies)."""
        media = _field(_field(body, "input"), "media")
        has_first_frame = isinstance(media, list) and any(
            isinstance(entry, Mapping) and entry.get("type") == "first_frame" for entry in media)
        known = self.defaults._asdict()
        defaults = {name: known[name] for name in self.parameters
                    if name in known and not (name == "ratio" and has_first_frame)}
        return {**defaults, **parameters_of(body)}

    def estimate(self, scene: ir.Scene, video_seconds: Sequence[float], region: str | None) -> Estimate:
        """Billable seconds by this target's rule, priced for `region` when a price is published there.

        `video_seconds` are the reference videos' lengths (a caller counts an unknown one as
        `billing.input_video_cap`, an upper bound); the output is the scene's DURATION at its RESOLUTION."""
        settings = scene.settings
        inputs, output = billing.billable_seconds(self.billing_rule, video_seconds, len(scene.references),
                                                  settings.duration)
        price = self.price_per_second(settings.resolution, region)
        billable = inputs + output
        return Estimate(inputs, output, billable, price, None if price is None else self.currency,
                        None if price is None else billable * price)

    def region_refusal(self, scene: ir.Scene, region: str | None) -> str | None:
        """Why the service in `region` (a region name, None when the endpoint's region is unknown) would refuse
        this scene although it serves the model, or None.  The default: no rule of a region's own."""
        return None

    def price_per_second(self, resolution: str, region: str | None) -> float | None:
        """The published price of one billable second at `resolution` in `region`, or None."""
        if region is None:
            return None
        return self.prices.get(region.strip().lower(), {}).get(resolution.strip().upper())

    def shot_requests(self, scene: ir.Scene, naming: Naming) -> list[str] | None:
        """The text the service reads for each shot when the request carries the shots apart (Kling's
        multi_prompt items), for the editor's hover and the preview to show; None when the prompt carries them."""
        return None

    def prompt_is_read(self, scene: ir.Scene) -> bool:
        """Whether the service reads input.prompt for this scene, so that its length limit holds (Kling ignores it
        when the shots go in multi_prompt)."""
        return True

    # --- refusals every target may use: an `unsupported-by-target` error at the line that asks ----------------

    def refuse(self, scene: ir.Scene, what: str, span: Span | None, path: str | None = None) -> Diagnostic:
        """"<model> <what>", naming the model the scene asked for when it is one of ours (wan2.6-r2v-flash)."""
        return make("unsupported-by-target", f"{self.model_of(scene)} {what}", span, path=path or scene.path)

    def model_of(self, scene: ir.Scene) -> str:
        """The model id the scene asked for when it is one of this target's (wan2.6-r2v-flash), else the target's
        name: what a message about the scene calls the model."""
        return scene.settings.model if scene.settings.model in self.models else self.name

    def refused_values(self, scene: ir.Scene) -> list[Diagnostic]:
        """RESOLUTION and RATIO values the language takes but this target does not, at the setting's line."""
        settings = scene.settings
        return [self.refuse(scene, f"takes {key} {', '.join(allowed)}, not {value}: choose one of them",
                            settings.spans.get(key))
                for key, value, allowed in (("RESOLUTION", settings.resolution, self.resolutions),
                                            ("RATIO", settings.ratio, self.ratios))
                if key in settings.given and value not in allowed]

    def refused_settings(self, scene: ir.Scene) -> list[Diagnostic]:
        """NEGATIVE PROMPT, PROMPT EXTEND and SEED where `capabilities` has no such parameter, at the setting."""
        capabilities, settings = self.capabilities, scene.settings
        missing = [key for key, taken in (("NEGATIVE PROMPT", capabilities.negative_prompt),
                                          ("PROMPT EXTEND", capabilities.prompt_extend),
                                          ("SEED", capabilities.seed)) if not taken]
        reason = self.reasons.get("setting", "")
        return [self.refuse(scene, f"takes no {key}{reason}: remove it, or compile for wan2.7-r2v",
                            settings.spans.get(key))
                for key in missing if key in settings.given]

    def refused_voices(self, scene: ir.Scene) -> list[Diagnostic]:
        """Each cast member's voice when `capabilities` takes none, at the voice."""
        if self.capabilities.voice:
            return []
        reason = self.reasons.get("voice", "")
        return [self.refuse(scene, f"takes no voices{reason}: remove the voice, or compile for "
                                   "wan2.7-r2v/wan3.0-video", member.voice.span, member.path)
                for member in scene.references if member.voice is not None]

    def refused_first_frame_voice(self, scene: ir.Scene) -> list[Diagnostic]:
        """A voice on a FIRST FRAME this target takes but cannot give a voice (Wan 3.0, Kling), at the voice (where
        FIRST FRAME itself is refused, that one error says it)."""
        first, capabilities = scene.first_frame, self.capabilities
        if first is None or first.voice is None or capabilities.first_frame_voice or not capabilities.first_frame:
            return []
        reason = self.reasons.get("first frame voice", "")
        return [self.refuse(scene, f"cannot give a first frame a voice{reason}: remove the voice", first.voice.span)]

    def refused_data_uris(self, scene: ir.Scene) -> list[Diagnostic]:
        """Each medium given as a data: URI when `capabilities` takes none, at its line (a first frame only where
        one is taken: otherwise FIRST FRAME itself is refused)."""
        if self.capabilities.data_uri:
            return []
        sources = [member.media for member in scene.references]
        if scene.first_frame is not None and self.capabilities.first_frame:
            sources.append(scene.first_frame.media)
        return [self.refuse(scene, "takes media URLs only, not data URIs (none is documented): give a file or "
                                   "a URL, or compile for wan2.7-r2v", source.span, source.path)
                for source in sources if source.scheme == "data"]

    def refused_videos(self, scene: ir.Scene) -> list[Diagnostic]:
        """Every reference video when `capabilities` takes none; else the first over `max_reference_videos`."""
        videos = [member for member in scene.references if member.kind == "video"]
        most = self.capabilities.max_reference_videos
        if not self.capabilities.reference_video:
            return [self.refuse(scene, f"takes reference images only, and {member.name} is a video: use an image, "
                                       "or compile for wan2.7-r2v/wan3.0-video", member.media.span, member.path)
                    for member in videos]
        if len(videos) <= most:
            return []
        extra, count = videos[most], "one" if most == 1 else str(most)
        return [self.refuse(scene, f"takes at most {count} reference video{'s' if most != 1 else ''}, and "
                                   f"{extra.name} is number {most + 1}: make it an image, drop it, or compile for "
                                   "wan2.7-r2v", extra.media.span, extra.path)]

    def refused_first_frame(self, scene: ir.Scene) -> list[Diagnostic]:
        """FIRST FRAME when `capabilities` takes none, at its line."""
        if scene.first_frame is None or self.capabilities.first_frame:
            return []
        reason = self.reasons.get("first frame", "")
        return [self.refuse(scene, f"takes no FIRST FRAME{reason}: remove it, or compile for wan2.7-r2v",
                            scene.first_frame.span)]

    def refused_storyboard(self, scene: ir.Scene) -> list[Diagnostic]:
        """STORYBOARD when `capabilities` takes none, at its line."""
        if scene.storyboard is None or self.capabilities.storyboard:
            return []
        reason = self.reasons.get("storyboard", "")
        return [self.refuse(scene, f"takes no STORYBOARD image{reason}: remove it, or compile for wan2.7-r2v",
                            scene.storyboard.span)]


def counted_per_kind(scene: ir.Scene, label: Callable[[str, int], str], first_index: int = 0) -> Naming:
    """Names counted per kind in cast order ("Image 2" is the second image, whatever comes between), each
    reference's media position from `first_index` (1 when a first frame goes first); no voices."""
    counts = {"image": 0, "video": 0}
    identifiers: dict[str, str] = {}
    media_index: dict[str, int] = {}
    for index, member in enumerate(scene.references, first_index):
        counts[member.kind] += 1
        identifiers[member.name] = label(member.kind, counts[member.kind])
        media_index[member.name] = index
    return Naming(identifiers, media_index, {})


def counted_as_characters(scene: ir.Scene) -> Naming:
    """"character1", "character2" ... in cast order, one count over every kind, glued and lower case in any
    language (HappyHorse, wan2.6: the item's 1-based position in the request's reference list)."""
    references = scene.references
    return Naming({member.name: f"character{number}" for number, member in enumerate(references, 1)},
                  {member.name: index for index, member in enumerate(references)}, {})


def speaks(scene: ir.Scene) -> bool:
    """Whether any shot has spoken dialogue (a line of speech under a cue): what a silent video would lose."""
    return any(type(beat) is ir.DialogueBeat and any(part.kind == "speech" for part in beat.parts)
               for shot in scene.shots for beat in shot.beats)


# input.media[] entry type -> check.media_items' role ("refer"/"feature": Kling's names for the same things).
_MEDIA_ROLES = {"reference_image": "image", "refer": "image", "reference_video": "video", "feature": "video",
                "reference_audio": "voice", "first_frame": "first frame"}


def _field(value: object, name: str) -> object:
    """value[name] when value is a mapping that has it, else None: a body is read without trusting its shape."""
    return value.get(name) if isinstance(value, Mapping) else None


def parameters_of(body: Mapping[str, object]) -> Mapping[str, object]:
    """A body's `parameters`, or an empty mapping when it has none (a body is read without trusting its shape)."""
    given = body.get("parameters")
    return given if isinstance(given, Mapping) else {}


def get_at(body: object, path: Path) -> object:
    for step in path:
        body = body[step]  # type: ignore[index]
    return body


def set_at(body: object, path: Path, value: object) -> None:
    for step in path[:-1]:
        body = body[step]  # type: ignore[index]
    body[path[-1]] = value  # type: ignore[index]
