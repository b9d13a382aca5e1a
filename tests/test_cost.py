"""Tests of wan2.7-r2v's bill (its target's rule and price table) against the vendor guide's examples, and of
the budget check.  The rules themselves, for every target, are in tests/test_render_targets.py."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler import ir, targets
from compiler.api import compile_text
from compiler.render.cost import check_budget
from compiler.targets.base import Estimate, Target

WAN27: Target = targets.target_of("wan2.7-r2v")


@cache
def _scene(videos: int) -> ir.Scene:
    """A wan2.7 scene with `videos` reference videos of unknown length and one image."""
    cast = "".join(f"V{n}: video https://x.test/v{n}.mp4\n" for n in range(videos))
    compiled = compile_text(f"CAST\n{cast}PIC: image https://x.test/p.jpg\n\nPIC waits.\n")
    assert compiled.scene is not None, compiled.diagnostics
    return compiled.scene


def estimate(durations: Sequence[float], output_seconds: int, resolution: str, region: str | None) -> Estimate:
    """wan2.7's estimate of a scene of that DURATION and RESOLUTION whose videos last `durations`."""
    scene = _scene(len(durations))
    settings = scene.settings._replace(duration=output_seconds, resolution=resolution)
    return WAN27.estimate(scene._replace(settings=settings), durations, region)


def test_wan27_bills_by_its_own_rule() -> None:
    assert (WAN27.name, WAN27.billing_rule, WAN27.currency) == ("wan2.7-r2v", "wan2.7", "CNY")


# --- the guide's examples ------------------------------------------------------


def test_two_videos_and_an_image_bill_each_video_up_to_2_5_s() -> None:
    # The image is simply not among the durations: images are free.
    e = estimate([4.0, 1.5], 10, "720P", "beijing")
    assert e.input_video_seconds == pytest.approx(2.5 + 1.5)
    assert e.billable_seconds == pytest.approx(14.0)
    assert e.amount == pytest.approx(14.0 * 0.6)


def test_one_video_of_8_s_bills_5_s() -> None:
    e = estimate([8.0], 5, "1080P", "beijing")
    assert e.input_video_seconds == 5.0
    assert e.billable_seconds == 10.0
    assert e.amount == pytest.approx(10.0)


def test_a_short_video_bills_its_own_length() -> None:
    assert estimate([3.2], 5, "720P", None).input_video_seconds == pytest.approx(3.2)


def test_no_videos_bills_the_output_only() -> None:
    e = estimate([], 15, "720P", "beijing")
    assert (e.input_video_seconds, e.output_seconds, e.billable_seconds) == (0.0, 15.0, 15.0)
    assert (e.price_per_second, e.currency, e.amount) == (0.6, "CNY", pytest.approx(9.0))


def test_five_long_videos_bill_5_s_in_total() -> None:
    assert estimate([30.0] * 5, 10, "720P", None).input_video_seconds == pytest.approx(5.0)


def test_three_long_videos_bill_5_s_in_total() -> None:
    assert estimate([10.0, 10.0, 10.0], 2, "720P", None).input_video_seconds == pytest.approx(5.0)


@given(
    durations=st.lists(st.floats(0, 60, allow_nan=False), max_size=5),
    output=st.integers(2, 15),
)
def test_billable_input_never_exceeds_5_s_nor_the_videos(durations: list[float], output: int) -> None:
    e = estimate(durations, output, "1080P", "singapore")
    assert 0 <= e.input_video_seconds <= 5.0 + 1e-9
    assert e.input_video_seconds <= sum(durations) + 1e-9
    assert e.billable_seconds == pytest.approx(e.input_video_seconds + output)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_bad_durations_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        estimate([bad], 5, "720P", "beijing")


def test_bad_output_seconds_are_refused_and_an_unpriced_resolution_has_no_price() -> None:
    with pytest.raises(ValueError):
        estimate([], -1, "720P", "beijing")
    assert estimate([], 5, "480P", "beijing").amount is None  # wan2.7 has no 480P (check refuses it)


# --- the price table -----------------------------------------------------------


def test_price_table() -> None:
    assert {region: dict(prices) for region, prices in WAN27.prices.items()} == {
        "beijing": {"720P": 0.6, "1080P": 1.0},
        "singapore": {"720P": 0.733924, "1080P": 1.100886},
    }
    assert WAN27.prices_checked == "2026-11-24"


@pytest.mark.parametrize(
    ("region", "resolution", "price"),
    [
        ("beijing", "720P", 0.6),
        ("beijing", "1080P", 1.0),
        ("singapore", "720P", 0.733924),
        ("singapore", "1080P", 1.100886),
        ("Singapore", "1080p", 1.100886),  # case is not significant
    ],
)
def test_prices_by_region_and_resolution(region: str, resolution: str, price: float) -> None:
    e = estimate([], 10, resolution, region)
    assert (e.price_per_second, e.currency) == (price, "CNY")
    assert e.amount == pytest.approx(10 * price)


@pytest.mark.parametrize("region", [None, "virginia", "mars"])
def test_unpriced_regions_still_count_seconds(region: str | None) -> None:
    e = estimate([8.0], 5, "720P", region)
    assert e.billable_seconds == 10.0
    assert (e.price_per_second, e.currency, e.amount) == (None, None, None)


# --- budget --------------------------------------------------------------------


def test_budget_within_and_over() -> None:
    a = estimate([], 5, "720P", "beijing")  # 3.0 CNY
    b = estimate([8.0], 5, "1080P", "beijing")  # 10.0 CNY
    assert check_budget([a, b], 20.0) == (True, pytest.approx(13.0))
    assert check_budget([a, b], 12.99) == (False, pytest.approx(13.0))
    assert check_budget([], 0.0) == (True, 0.0)


def test_budget_exactly_met_despite_float_error() -> None:
    e = estimate([], 7, "720P", "beijing")  # 4.2 CNY each
    within, total = check_budget([e, e, e], 12.6)
    assert total > 12.6  # 12.600000000000001 in floats
    assert within


def test_an_unpriced_estimate_cannot_be_shown_within_budget() -> None:
    priced = estimate([], 5, "720P", "beijing")
    unpriced = estimate([], 5, "720P", None)
    assert check_budget([priced, unpriced], 1000.0) == (False, pytest.approx(3.0))


@pytest.mark.parametrize("budget", [-0.01, math.nan, math.inf])
def test_bad_budgets_are_refused(budget: float) -> None:
    with pytest.raises(ValueError):
        check_budget([], budget)


def test_mixed_currencies_are_refused() -> None:
    cny = estimate([], 5, "720P", "beijing")
    usd = Estimate(0.0, 5.0, 5.0, 0.1, "USD", 0.5)
    with pytest.raises(ValueError, match="currencies"):
        check_budget([cny, usd], 100.0)
