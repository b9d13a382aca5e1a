"""wan2.7-r2v's limits table (compiler/targets/wan27.py; the types in compiler/limits.py) is the one home of its
limits and defaults: its request model, its prices, the settings and the written reference agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from compiler import ir, vocabulary
from compiler.emit import PARAMETER_SETTINGS
from compiler.limits import FileLimits
from compiler.targets.wan27 import (
    API_DEFAULTS,
    LIMITS,
    MODELS,
    PARAMETERS,
    PRICES,
    RATIOS,
    RESOLUTIONS,
    SEED_MAX,
    TARGET,
    request_models,
)
from compiler.vocabulary import SETTING_FIELDS, SETTINGS

Input, Parameters, Payload = request_models().Input, request_models().Parameters, request_models().Payload

LANGUAGE = (Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text(encoding="utf-8")


def table_row(first_cell: str) -> list[str]:
    """The cells of the docs/language.md table row that starts with `first_cell`."""
    for line in LANGUAGE.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row {first_cell!r} in docs/language.md")


def span(pair: tuple[float, float] | None) -> str:
    assert pair is not None
    return f"{pair[0]:g}–{pair[1]:g}"


# --- the table is consistent with itself and its readers ---------------------------------------------

def test_every_setting_key_has_a_settings_field() -> None:
    assert tuple(SETTING_FIELDS) == SETTINGS
    assert set(SETTING_FIELDS.values()) <= set(ir.Settings._fields)


def test_the_parameters_are_the_request_models_in_its_order() -> None:
    assert tuple(Parameters.model_fields) == PARAMETERS
    assert set(PARAMETERS) <= set(ir.Settings._fields)
    assert all(SETTING_FIELDS[PARAMETER_SETTINGS[name]] == name for name in PARAMETERS)


def test_settling_gives_every_parameter_left_out_the_targets_default() -> None:
    settled = TARGET.settle(ir.Settings(resolution="480P", duration=99))
    assert {name: getattr(settled, name) for name in API_DEFAULTS._fields} == API_DEFAULTS._asdict()
    given = TARGET.settle(ir.Settings(resolution="720P", duration=9, given=frozenset({"RESOLUTION", "DURATION"})))
    assert (given.resolution, given.duration, given.ratio) == ("720P", 9, API_DEFAULTS.ratio)


def test_the_targets_values_are_the_languages() -> None:
    assert set(RESOLUTIONS) <= set(vocabulary.RESOLUTIONS) and set(RATIOS) <= set(vocabulary.RATIOS)
    assert SEED_MAX == vocabulary.SEED_MAX
    assert vocabulary.DEFAULT_MODEL in MODELS


def test_the_defaults_are_values_the_api_accepts() -> None:
    assert API_DEFAULTS.model in MODELS
    assert API_DEFAULTS.resolution in RESOLUTIONS
    assert API_DEFAULTS.ratio in RATIOS
    low, high = LIMITS.duration_range(has_video=True)  # the default holds with a reference video too
    assert low <= API_DEFAULTS.duration <= high


def test_every_resolution_has_a_price_in_every_priced_region() -> None:
    assert all(tuple(prices) == RESOLUTIONS for prices in PRICES.values())
    assert set(PRICES) <= set(TARGET.regions)


def test_each_media_kind_has_its_limits() -> None:
    assert LIMITS.file("image") is LIMITS.image and LIMITS.file("voice") is LIMITS.voice
    assert isinstance(LIMITS.video, FileLimits) and LIMITS.video.max_megabytes * 1024 * 1024 == LIMITS.video.max_bytes
    assert LIMITS.duration_range(True) == LIMITS.duration_with_video
    assert LIMITS.duration_range(False) == LIMITS.duration


# --- the request model enforces the table --------------------------------------------------------------

@pytest.mark.parametrize(("field", "allowed", "refused"), [
    ("resolution", RESOLUTIONS, ("480P", "1080p")),
    ("ratio", RATIOS, ("2:1",)),
    ("duration", LIMITS.duration, (LIMITS.duration[0] - 1, LIMITS.duration[1] + 1)),
    ("seed", (0, SEED_MAX), (-1, SEED_MAX + 1)),
])
def test_parameters_accept_the_table_and_refuse_the_rest(field: str, allowed: tuple[object, ...],
                                                         refused: tuple[object, ...]) -> None:
    for value in allowed:
        assert getattr(Parameters.model_validate({field: value}), field) == value
    for value in refused:
        with pytest.raises(ValidationError):
            Parameters.model_validate({field: value})


def media(images: int, videos: int = 0) -> list[dict[str, str]]:
    return ([{"type": "reference_image", "url": "https://example.com/a.jpg"}] * images
            + [{"type": "reference_video", "url": "https://example.com/b.mp4"}] * videos)


@pytest.mark.parametrize(("count", "valid"), [(LIMITS.min_references, True), (LIMITS.max_references, True),
                                              (LIMITS.max_references + 1, False)])
def test_input_counts_references_against_the_table(count: int, valid: bool) -> None:
    body = {"prompt": "x", "media": media(count)}
    if valid:
        Input.model_validate(body)
    else:
        with pytest.raises(ValidationError, match=f"{LIMITS.min_references} to {LIMITS.max_references} reference"):
            Input.model_validate(body)


@pytest.mark.parametrize("field", ["prompt", "negative_prompt"])
def test_input_lengths_come_from_the_table(field: str) -> None:
    limit = {"prompt": LIMITS.prompt_chars, "negative_prompt": LIMITS.negative_prompt_chars}[field]
    body: dict[str, object] = {"prompt": "x", "media": media(1)}
    Input.model_validate({**body, field: "x" * limit})
    with pytest.raises(ValidationError, match=f"at most {limit} characters"):
        Input.model_validate({**body, field: "x" * (limit + 1)})


def test_a_reference_video_shortens_the_allowed_duration() -> None:
    longest = LIMITS.duration_with_video[1]
    body = {"model": API_DEFAULTS.model, "input": {"prompt": "x", "media": media(1, videos=1)}}
    Payload.model_validate({**body, "parameters": {"duration": longest}})
    with pytest.raises(ValidationError, match=f"at most {longest} s when a reference video"):
        Payload.model_validate({**body, "parameters": {"duration": longest + 1}})


# --- docs/language.md states the table -------------------------------------------------------------------

@pytest.mark.parametrize(("row", "limits"), [("Images", LIMITS.image), ("Videos", LIMITS.video),
                                            ("Voices", LIMITS.voice)])
def test_the_media_limits_table_in_the_reference(row: str, limits: FileLimits) -> None:
    _, formats, size, other = table_row(row)
    assert formats == ", ".join(limits.formats)
    assert size == f"≤ {limits.max_megabytes} MB"
    if limits.sides:
        assert f"sides {span(limits.sides)} px" in other
    if limits.seconds:
        assert span(limits.seconds) + " s" in other


def test_the_settings_table_in_the_reference() -> None:
    assert "docs/targets.md" in table_row("`MODEL`")[1]
    assert f"`{vocabulary.DEFAULT_MODEL}` (" in table_row("`MODEL`")[2]
    assert table_row("`RESOLUTION`")[1].startswith(", ".join(f"`{r}`" for r in vocabulary.RESOLUTIONS))
    assert f"`{TARGET.name}` takes {' and '.join(f'`{r}`' for r in RESOLUTIONS)} only" in table_row("`RESOLUTION`")[1]
    assert table_row("`RESOLUTION`")[2] == f"not sent; the API uses `{API_DEFAULTS.resolution}`"
    assert table_row("`RATIO` (alias `ASPECT RATIO`)")[1] == ", ".join(f"`{r}`" for r in RATIOS)
    assert f"the API uses `{API_DEFAULTS.ratio}`" in table_row("`RATIO` (alias `ASPECT RATIO`)")[2]
    duration = table_row("`DURATION`")
    assert duration[1].endswith(f"{span(LIMITS.duration)}, or {span(LIMITS.duration_with_video)} with any "
                                "reference video")
    assert duration[2] == f"not sent; the API uses `{API_DEFAULTS.duration}`"
    assert table_row("`SEED`")[1] == f"0 to {SEED_MAX}"
    assert table_row("`NEGATIVE PROMPT` (alias `NEGATIVE`)")[1] == (
        f"text, at most {LIMITS.negative_prompt_chars} characters")


def test_the_counts_and_the_prompt_length_in_the_reference() -> None:
    assert f"A scene needs {LIMITS.min_references} to {LIMITS.max_references} reference images" in LANGUAGE
    assert f"at most {LIMITS.prompt_chars} characters" in LANGUAGE
    assert re.search(rf"at most {LIMITS.aspect:g} times the shorter", LANGUAGE)
