"""Generate docs/targets.md from the compile targets (compiler.targets.TARGETS): what each one supports.

Run: python tools/gen_targets_doc.py  (make docs).  A test fails when the committed page is stale.
The identifiers in the table are real: each target's `naming` is called on a small built-in scene.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUTPUT = ROOT / "docs" / "targets.md"
NOTES = ROOT / "docs" / "targets-notes"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from compiler import ir
    from compiler.targets.base import Target

# The built-in scene each target names: two images and a video, ALICE with a voice.  A target that cannot
# take a video or a voice gets the scene without them (an image for BOB, no voice), so `naming` only ever
# sees what the target can express.
SAMPLE_CAST = {
    "ALICE": ("image https://example.com/alice.png", ", voice https://example.com/alice.mp3"),
    "BOB": ("video https://example.com/bob.mp4", ""),
    "CAROL": ("image https://example.com/carol.png", ""),
}
SAMPLE_PROMPT = "ALICE waves at BOB and CAROL."



def sample_text(*, video: bool = True, voice: bool = True, model: str | None = None) -> str:
    """The built-in scene; without `video` BOB is an image, without `voice` ALICE has none."""
    cast = []
    for name, (media, spoken) in SAMPLE_CAST.items():
        if media.startswith("video") and not video:
            media = media.replace("video", "image", 1).replace(".mp4", ".png")
        cast.append(f"{name}: {media}{spoken if voice else ''}")
    header = ["TITLE: Sample"] + ([f"MODEL: {model}"] if model else [])
    return "\n".join([*header, "", "CAST", *cast, "", SAMPLE_PROMPT, ""])


INTRO = [
    "# Compile targets",
    "",
    "Generated from the target modules (`compiler/targets/`) by `make docs` (`tools/gen_targets_doc.py`); do not",
    "edit by hand. One front-end (the .scene language, names, shots), one back-end per model family: each target",
    "names the cast its own way, builds its own request and refuses, at the line that asks for it, what it cannot",
    "express. The identifiers below come from each target's own naming of this scene (BOB an image and ALICE",
    "without a voice where the target cannot take a video or a voice):",
    "",
    "```",
    *sample_text().splitlines(),
    "```",
    "",
    "Facts marked [3p] come from third-party restatements, [unsettled] where sources disagree, [inf] inferred:",
    "see each target's notes and sources below.",
    "",
]

CHOOSING = [
    "## Choosing a target",
    "",
    "- A scene names its model with `MODEL: <model id>`; without it the scene compiles for the default,",
    "  `{default}`.",
    "- `--model <model id>` on `scenec compile`, `check`, `cost` and `render` overrides the scene's `MODEL`;",
    "  `scenec compile --model X` prints that dialect of the same scene.",
    "- The project configuration's `model` (`scenec.toml`, or `[tool.scenec]` in `pyproject.toml`) sets the",
    "  default for every scene of the project (docs/ci.md gives the order of precedence).",
    "- `scenec cost --compare` prices the same scenes on every target that can take them.",
    "",
    "What a target cannot express (a voice, a first frame, a storyboard image, a data URI, too many references, a",
    "duration) is an error at the line that asks for it, never silently dropped.",
    "",
]


def render(targets: Sequence[Target] | None = None, notes: Path = NOTES) -> str:
    """The page for `targets` (default: the registry), with each target's notes file from `notes` if any."""
    if targets is None:
        from compiler.targets import TARGETS

        targets = TARGETS
    from compiler.targets import DEFAULT_MODEL

    lines = INTRO + table(targets) + [line.format(default=DEFAULT_MODEL) for line in CHOOSING]
    for target in targets:
        lines += target_section(target, notes)
    return "\n".join(lines).rstrip("\n") + "\n"


def table(targets: Sequence[Target]) -> list[str]:
    if not targets:
        return ["## What each target supports", "", "No target is registered.", ""]
    rows = [(label, [describe(target) for target in targets]) for label, describe in ROWS]
    header = "| | " + " | ".join(f"`{target.name}`" for target in targets) + " |"
    lines = ["## What each target supports", "", header, "|---" * (len(targets) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(_cell(value) for value in values) + " |" for label, values in rows]
    return lines + [""]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no (refused at its line)"


# ---------------------------------------------------------------- the rows


def _models(target: Target) -> str:
    return ", ".join(f"`{model}`" for model in target.models)


def _references(target: Target) -> str:
    scene = sample_scene(target)
    naming = target.naming(scene)
    body = target.payload_dict(scene, SAMPLE_PROMPT, naming)
    fields = sorted({_field(slot.path) for slot in target.media_slots(body)})
    named = ", ".join(f"{name} → `{identifier}`" for name, identifier in naming.identifiers.items())
    return f"{', '.join(f'`{field}`' for field in fields)}: {named}"


def _field(path: tuple[str | int, ...]) -> str:
    """("input", "media", 0, "url") -> "input.media[]"."""
    parts: list[str] = []
    for step in path:
        if isinstance(step, int):
            return ".".join(parts) + "[]"
        parts.append(step)
    return ".".join(parts)


def _voices(target: Target) -> str:
    if not target.capabilities.voice:
        return _yes(False)
    naming = target.naming(sample_scene(target))
    named = ", ".join(f"{name}'s voice → `{voice}`" for name, voice in naming.voices.items())
    return f"yes: {named}" if named else "yes"


def _videos(target: Target) -> str:
    caps = target.capabilities
    return f"yes, at most {caps.max_reference_videos}" if caps.reference_video else _yes(False)


def _first_frame(target: Target) -> str:
    caps = target.capabilities
    if not caps.first_frame:
        return _yes(False)
    return "yes" if caps.first_frame_with_references else "yes, but not with a cast (refused)"


def _limits(target: Target) -> str:
    limits, caps = target.limits, target.capabilities
    low, high = limits.duration
    video_low, video_high = limits.duration_with_video
    parts = [f"references {limits.min_references}–{limits.max_references}"]
    if caps.first_frame:
        parts.append(f"first frames ≤ {limits.max_first_frames}")
    parts.append(f"prompt ≤ {limits.prompt_chars} characters")
    if caps.negative_prompt:
        parts.append(f"negative prompt ≤ {limits.negative_prompt_chars}")
    parts.append(f"duration {low}–{high} s")
    if caps.reference_video and (video_low, video_high) != (low, high):
        parts.append(f"{video_low}–{video_high} s with a reference video")
    return "; ".join(parts)


def _defaults(target: Target) -> str:
    defaults = target.defaults
    shown = [name for name in defaults._fields if name != "model" and name in target.parameters]
    return ", ".join(f"{name} {_value(getattr(defaults, name))}" for name in shown)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _prices(target: Target) -> str:
    if not target.prices:
        return "none published"
    regions = [f"{region}: " + ", ".join(f"{resolution} {price:g}" for resolution, price in by_resolution.items())
               for region, by_resolution in target.prices.items()]
    checked = f" (checked {target.prices_checked})" if target.prices_checked else ""
    return f"{target.currency} per billable second; " + "; ".join(regions) + checked


ROWS = (
    ("model ids", _models),
    ("status", lambda target: target.status),
    ("references and their identifiers", _references),
    ("voices", _voices),
    ("reference videos", _videos),
    ("first frame", _first_frame),
    ("storyboard image", lambda target: _yes(target.capabilities.storyboard)),
    ("negative prompt", lambda target: _yes(target.capabilities.negative_prompt)),
    ("data URIs", lambda target: _yes(target.capabilities.data_uri)),
    ("multi-shot", lambda target: "a request field (the scene's timed shots)"
     if target.capabilities.multi_shot_field else "in the prompt"),
    ("limits", _limits),
    ("resolutions", lambda target: ", ".join(target.resolutions)),
    ("ratios", lambda target: ", ".join(target.ratios)),
    ("defaults", _defaults),
    ("regions", lambda target: ", ".join(target.regions)),
    ("billing rule", lambda target: f"`{target.billing_rule}`"),
    ("prices", _prices),
    ("sources", lambda target: target.sources),
)


# ---------------------------------------------------------------- the built-in scene and the notes


def sample_scene(target: Target) -> ir.Scene:
    """The built-in scene, parsed and resolved by the front-end, with only what `target` can take."""
    from compiler.parse import parse_text
    from compiler.resolve import resolve

    caps = target.capabilities
    text = sample_text(video=caps.reference_video, voice=caps.voice, model=target.name)
    scene_file, _ = parse_text(text, None)
    scene, _ = resolve(scene_file)
    return scene


def target_section(target: Target, notes: Path) -> list[str]:
    lines = [f"## `{target.name}`: {target.title}", ""]
    note = notes / f"{_module_name(target)}.md"
    if note.is_file():
        lines += [*demoted(note.read_text(encoding="utf-8").rstrip("\n").splitlines()), ""]
    else:
        lines += [f"Status: {target.status}. Sources: {target.sources}", ""]
    return lines


def demoted(lines: list[str], top: int = 3) -> list[str]:
    """A notes file's headings moved under the target's own section: its highest heading becomes level `top`
    ("# x" -> "### x", the others keep their distance below it); code blocks are left alone."""
    levels = [_heading_level(line) for line in _outside_code(lines)]
    shift = top - min((level for level in levels if level), default=top)
    out, fenced = [], False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and _heading_level(line):
            marks = _heading_level(line)
            line = "#" * min(marks + shift, 6) + line[marks:]
        out.append(line)
    return out


def _outside_code(lines: list[str]) -> list[str]:
    kept, fenced = [], False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            kept.append(line)
    return kept


def _heading_level(line: str) -> int:
    marks = len(line) - len(line.lstrip("#"))
    return marks if 0 < marks <= 6 and line[marks:marks + 1] == " " else 0


def _module_name(target: Target) -> str:
    return type(target).__module__.rsplit(".", 1)[-1]


def main() -> int:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
