"""What the tests of the compile targets share (tests/test_target_*.py): a small scene resolved by the front-end
and settled for a model as `--model` chooses it, a cast of one line per spec, a target's refusals as (line,
message), its body and its request model's reading of a body, and a strategy of scenes any target may be given."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hypothesis import strategies as st

from compiler import ir
from compiler.api import choose_target, parse_text, resolve
from compiler.payload import LOCAL_CONTEXT
from compiler.targets import Target

IMAGE = "image https://example.com/{0}.jpg"
VIDEO = "video https://example.com/{0}.mp4"
VOICE = ", voice https://example.com/{0}.mp3"


def resolved_for(model: str, text: str, *, path: Path | None = None) -> ir.Scene:
    """The scene resolved without errors and settled for `model`'s target."""
    tree, syntax = parse_text(text, path)
    assert syntax == []
    scene, diagnostics = resolve(tree)
    assert [d for d in diagnostics if d.severity == "error"] == []
    chosen, target, found = choose_target(scene, model)
    assert found == [] and model in target.models
    return chosen


def cast_text(specs: Sequence[str], names: Sequence[str], *, header: str = "", script: str = "") -> str:
    """A scene with one member per spec (`spec.format(name)`), all named in one action line unless `script`."""
    members = "".join(f"{name}: {spec.format(name)}\n" for name, spec in zip(names, specs, strict=True))
    return f"{header}CAST\n{members}\n{script or ' and '.join(names) + ' wait.'}\n"


def refusal_lines(target: Target, scene: ir.Scene) -> list[tuple[int, str]]:
    """Each refusal as (line, message): all of them unsupported-by-target errors."""
    found = target.refusals(scene)
    assert all(d.code == "unsupported-by-target" and d.severity == "error" for d in found)
    return [(d.span.line if d.span else 0, d.message) for d in found]


def body_for(target: Target, scene: ir.Scene, prompt: str = "A prompt.") -> dict[str, object]:
    return target.payload_dict(scene, prompt, target.naming(scene))


def validated(target: Target, body: object, *, local: bool = False) -> dict[str, object]:
    """The body as the request model reads it (local paths only when `local`); a ValidationError otherwise."""
    model = target.request_model().model_validate(body, context=LOCAL_CONTEXT if local else None)
    return model.model_dump(mode="json", exclude_none=True)


# --- any scene ----------------------------------------------------------------------------------------------

_MEDIA = {"image": "image https://example.com/{}.jpg", "video": "video https://example.com/{}.mp4",
          "data": "image data:image/png;base64,iVBORw0KGgo="}


@st.composite
def scene_texts(draw: st.DrawFn) -> str:
    """Half of the draws a plain scene every target here takes in principle (images, at most one video, usual
    settings, shots untimed or all timed to DURATION); the other half adds now and then what a target may refuse
    (a data URI, a voice, a first frame, more videos, SEED, PROMPT EXTEND, 480P, 4:3, half-second timings), so the
    property sees bodies as well as refusals."""
    rough = draw(st.booleans())

    def now_and_then() -> bool:
        return rough and draw(st.integers(0, 3)) == 0

    header = ""
    for key, usual, rare in (("RESOLUTION", ["720P", "1080P"], ["480P"]), ("RATIO", ["16:9", "9:16", "1:1"], ["4:3"]),
                             ("SEED", [], ["7"]), ("PROMPT EXTEND", [], ["off"]), ("WATERMARK", ["on"], []),
                             ("NEGATIVE PROMPT", ["blur"], [])):
        values = rare if now_and_then() else usual
        if values and draw(st.booleans()):
            header += f"{key}: {draw(st.sampled_from(values))}\n"
    if now_and_then():
        header += "FIRST FRAME: https://example.com/first.jpg\n"
    kinds = ["image"] * draw(st.integers(0 if rough else 1, 4))
    for _ in range(draw(st.integers(0, 3 if rough else 1))):
        kinds.insert(draw(st.integers(0, len(kinds))), "video")
    kinds = ["data" if kind == "image" and now_and_then() else kind for kind in kinds] or ["image"]
    names = [f"P{index}" for index in range(len(kinds))]
    members = "".join(f"{name}: {_MEDIA[kind].format(name)}"
                      + (", voice https://example.com/v.mp3" if now_and_then() else "") + "\n"
                      for name, kind in zip(names, kinds, strict=True))
    timing_style = draw(st.sampled_from(["untimed", "all", "some"] if rough else ["untimed", "all"]))
    shots, start = [], 0.0
    for number in range(draw(st.integers(1, 7 if rough else 5))):
        timing = ""
        if timing_style == "all" or (timing_style == "some" and draw(st.booleans())):
            end = start + draw(st.sampled_from([1.0, 2.0] if timing_style == "all" else [1.0, 1.5, 2.0]))
            timing, start = f" [{start:g}-{end:g}s]", end
        shots.append(f"CLOSE-UP ON {names[number % len(names)]}{timing}\n{' and '.join(names)} wait.\n")
    timed_to_duration = timing_style == "all" and start >= 3 and not now_and_then()
    duration = int(start) if timed_to_duration else draw(st.integers(2, 15) if rough else st.integers(3, 10))
    return f"{header}DURATION: {duration}s\nCAST\n{members}\n" + "\n".join(shots)
