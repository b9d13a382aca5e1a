"""Unit tests of the check stage (api.check): each rule firing, and not firing, at its boundary.

The boundaries are read from the limits table (compiler/limits.py), so these tests follow a changed limit:
they assert that check applies the table, not that the table holds particular numbers.
"""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from compiler import ir
from compiler.api import check, parse_text, render_prompt, resolve
from compiler.targets.wan27 import LIMITS

IMAGE_URL = "https://example.com/a.jpg"
VIDEO_URL = "https://example.com/b.mp4"


def scene_of(text: str, path: Path | None = None) -> ir.Scene:
    tree, syntax = parse_text(text, path)
    assert syntax == []
    scene, _ = resolve(tree)
    return scene


def check_codes(text: str, path: Path | None = None) -> list[str]:
    return [d.code for d in check(scene_of(text, path))]


def names(count: int) -> list[str]:
    """`count` distinct cast names: ACTORA, ACTORB, ..."""
    return [f"ACTOR{chr(ord('A') + i)}" for i in range(count)]


def scene_with(images: int = 1, videos: int = 0, header: str = "", script: str = "") -> str:
    cast = [f"{name}: image {IMAGE_URL}" for name in names(images)]
    cast += [f"V{name}: video {VIDEO_URL}" for name in names(videos)]
    everyone = [line.split(":")[0] for line in cast]
    return f"{header}CAST\n" + "\n".join(cast) + "\n\n" + (script or " and ".join(everyone) + " wait.") + "\n"


# --- counts ------------------------------------------------------------------------------------------

def test_as_many_references_as_the_limit_pass() -> None:
    assert check_codes(scene_with(images=LIMITS.max_references)) == []


def test_one_reference_over_the_limit_is_reported_at_that_member() -> None:
    limit = LIMITS.max_references
    diagnostics = check(scene_of(scene_with(images=limit + 1)))
    assert [d.code for d in diagnostics] == ["too-many-references"]
    assert f"at most {limit}" in diagnostics[0].message
    assert diagnostics[0].span is not None and diagnostics[0].span.line == limit + 2  # CAST is line 1


def test_images_and_videos_count_together() -> None:
    limit = LIMITS.max_references
    assert check_codes(scene_with(images=limit - 1, videos=1)) == []
    assert check_codes(scene_with(images=limit, videos=1)) == ["too-many-references"]


def test_a_scene_without_a_reference_is_an_error() -> None:
    assert check_codes("CAST\n\nA girl walks.\n") == ["no-reference"]


def test_a_second_first_frame_is_an_error() -> None:
    header = f"FIRST FRAME: {IMAGE_URL}\nFIRST FRAME: https://example.com/f.jpg\n"
    assert check_codes(scene_with(header=header)) == ["multiple-first-frames"]


def test_a_voice_on_the_first_frame_is_a_warning() -> None:
    header = f"FIRST FRAME: {IMAGE_URL}, voice https://example.com/v.mp3\n"
    assert check_codes(scene_with(header=header)) == ["voice-on-first-frame"]


# --- settings ----------------------------------------------------------------------------------------

def test_ratio_with_a_first_frame_is_a_warning_and_alone_is_not() -> None:
    assert check_codes(scene_with(header=f"FIRST FRAME: {IMAGE_URL}\nRATIO: 9:16\n")) == ["ratio-with-first-frame"]
    assert check_codes(scene_with(header="RATIO: 9:16\n")) == []


def duration_cases() -> list[tuple[bool, int, bool]]:
    """(with a video, DURATION, allowed) just inside and just outside each range of the table."""
    cases = []
    for has_video in (False, True):
        low, high = LIMITS.duration_range(has_video)
        cases += [(has_video, low - 1, False), (has_video, low, True), (has_video, high, True),
                  (has_video, high + 1, False)]
    return cases


@pytest.mark.parametrize(("has_video", "seconds", "allowed"), duration_cases())
def test_duration_range_with_and_without_a_reference_video(has_video: bool, seconds: int, allowed: bool) -> None:
    text = scene_with(videos=int(has_video), header=f"DURATION: {seconds}s\n")
    diagnostics = check(scene_of(text))
    assert [d.code for d in diagnostics] == ([] if allowed else ["duration-out-of-range"])
    if not allowed:
        low, high = LIMITS.duration_range(has_video)
        assert f"outside wan2.7-r2v's {low}-{high}s" in diagnostics[0].message


@pytest.mark.parametrize("over", [0, 1])
def test_negative_prompt_length_at_the_limit(over: int) -> None:
    limit = LIMITS.negative_prompt_chars
    diagnostics = check(scene_of(scene_with(header=f"NEGATIVE PROMPT: {'x' * (limit + over)}\n")))
    assert [d.code for d in diagnostics] == (["negative-prompt-too-long"] if over else [])
    if over:
        assert diagnostics[0].message.endswith(f"1 over the limit of {limit}")


# --- the prompt --------------------------------------------------------------------------------------

def scene_with_prompt_length(length: int) -> str:
    """A scene whose compiled prompt is exactly `length` characters: a second action line padded to fit."""
    def text(padding: int) -> str:
        return scene_with(script=f"ACTORA waits.\nACTORA reads {'a' * padding}.")

    overhead = len(render_prompt(scene_of(text(0))))
    padded = text(length - overhead)
    assert len(render_prompt(scene_of(padded))) == length
    return padded


def test_a_prompt_of_exactly_the_limit_passes() -> None:
    assert check_codes(scene_with_prompt_length(LIMITS.prompt_chars)) == []


def test_a_prompt_over_the_limit_says_by_how_much_and_where() -> None:
    limit = LIMITS.prompt_chars
    diagnostics = check(scene_of(scene_with_prompt_length(limit + 1)))
    assert [d.code for d in diagnostics] == ["prompt-too-long"]
    assert f"1 over the limit of {limit}" in diagnostics[0].message
    assert diagnostics[0].span is not None and diagnostics[0].span.line == 5  # the padded line crosses it


def test_a_scene_without_script_has_an_empty_prompt() -> None:
    assert check_codes(f"CAST\nMAYA: image {IMAGE_URL}\n") == ["empty-prompt"]


# --- timings -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("timings", "codes"), [
    (["[0-2s]", "[2-5s]"], []),                                  # touching is not overlapping
    (["[0-3s]", "[2-5s]"], ["timing-overlap"]),
    (["[3-2s]"], ["timing-overlap"]),                            # ends before it starts
    (["[0-5s]"], []),                                            # ends exactly at DURATION
    (["[0-6s]"], ["timing-exceeds-duration"]),
])
def test_shot_timings(timings: list[str], codes: list[str]) -> None:
    script = "\n\n".join(f"{timing}\nACTORA waits." for timing in timings)
    assert check_codes(scene_with(header="DURATION: 5s\n", script=script)) == codes


def test_the_timed_style_needs_shots_that_cover_the_duration() -> None:
    header = "PROMPT STYLE: timed\nDURATION: 5s\n"
    assert check_codes(scene_with(header=header, script="[0-5s]\nACTORA waits.")) == []
    assert check_codes(scene_with(header=header, script="[0-2s]\nACTORA waits.")) == ["timings-do-not-add-up"]


# --- remote media ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "codes"), [
    ("https://example.com/a.jpg", []),
    ("ftp://example.com/a.jpg", ["url-scheme"]),
    ("oss://bucket/a.jpg", ["url-scheme"]),
    ("https://user:secret@example.com/a.jpg", ["url-credentials"]),
    ("data:image/jpeg;base64,iVBORw0KGgo=", ["bad-data-uri"]),     # declared JPEG, the PNG signature inside
    ("data:image/gif;base64,R0lGODlh", ["bad-data-uri"]),          # a MIME type the API does not take
    ("data:image/png,plain", ["bad-data-uri"]),                    # not base64
])
def test_remote_image_sources(source: str, codes: list[str]) -> None:
    assert check_codes(f"CAST\nMAYA: image {source}\n\nMAYA waits.\n") == codes


def test_a_video_cannot_be_a_data_uri() -> None:
    assert check_codes("CAST\nMAYA: video data:video/mp4;base64,AAAA\n\nMAYA waits.\n") == ["base64-not-allowed"]


# --- local media -------------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scenec.toml").write_text("")
    return tmp_path


def check_local(project: Path, member_line: str) -> list[str]:
    scene = project / "a.scene"
    return check_codes(f"CAST\nMAYA: {member_line}\n\nMAYA waits.\n", scene)


def png(path: Path, width: int, height: int, mode: str = "RGB", alpha: int = 255) -> Path:
    from PIL import Image

    colour = (10, 20, 30, alpha) if mode == "RGBA" else (10, 20, 30)
    Image.new(mode, (width, height), colour).save(path, "PNG")
    return path


def wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * round(seconds * rate))
    return path


def test_a_missing_file_is_an_error(project: Path) -> None:
    assert check_local(project, "image missing.png") == ["file-missing"]


def test_a_file_outside_the_project_is_refused(project: Path) -> None:
    inner = project / "inner"
    inner.mkdir()
    (inner / "scenec.toml").write_text("")
    png(project / "outside.png", 300, 300)
    assert check_codes("CAST\nMAYA: image ../outside.png\n\nMAYA waits.\n", inner / "a.scene") == [
        "path-outside-project"]


def test_the_type_is_read_from_the_content(project: Path) -> None:
    (project / "a.png").write_text("not an image")
    assert check_local(project, "image a.png") == ["file-wrong-type"]


def side_cases() -> list[tuple[int, int, bool]]:
    low, high = LIMITS.image.sides or (0, 0)
    longest = int(low * LIMITS.aspect)
    return [(low, low, True), (low - 1, low, False), (low, longest, True), (low, longest + 1, False),
            (high + 1, high // 8, False)]


@pytest.mark.parametrize(("width", "height", "allowed"), side_cases())
def test_image_sides_and_aspect(project: Path, width: int, height: int, allowed: bool) -> None:
    png(project / "a.png", width, height)
    assert check_local(project, "image a.png") == ([] if allowed else ["media-dimensions"])


@pytest.mark.parametrize("over", [0, 1])
def test_image_size_limit(project: Path, over: int) -> None:
    path = png(project / "a.png", 300, 300)
    with path.open("r+b") as file:  # a sparse tail: the size the limit reads, without writing megabytes
        file.truncate(LIMITS.image.max_bytes + over)
    assert check_local(project, "image a.png") == (["file-too-large"] if over else [])


@pytest.mark.parametrize(("alpha", "codes"), [(255, []), (254, ["image-transparency"])])
def test_transparency_is_judged_by_the_pixels(project: Path, alpha: int, codes: list[str]) -> None:
    png(project / "a.png", 300, 300, mode="RGBA", alpha=alpha)
    assert check_local(project, "image a.png") == codes


@pytest.mark.parametrize(("seconds", "allowed"), [
    (LIMITS.voice.seconds[0] - 0.1, False), (LIMITS.voice.seconds[0], True),
    (LIMITS.voice.seconds[1], True), (LIMITS.voice.seconds[1] + 0.1, False),
] if LIMITS.voice.seconds else [])
def test_voice_length(project: Path, seconds: float, allowed: bool) -> None:
    png(project / "a.png", 300, 300)
    wav(project / "v.wav", seconds)
    assert check_local(project, "image a.png, voice v.wav") == ([] if allowed else ["media-duration"])


def test_probe_false_skips_reading_the_content(project: Path) -> None:
    (project / "a.png").write_text("not an image")
    scene = scene_of("CAST\nMAYA: image a.png\n\nMAYA waits.\n", project / "a.scene")
    assert check(scene, probe=False) == []
