"""Tests of the billing rule against the vendor guide's examples and the price table."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.render.cost import (
    PRICES_CHECKED,
    PRICES_CNY_PER_SECOND,
    CostEstimate,
    check_budget,
    estimate,
    truncation_limit,
)

# --- the guide's truncation table ----------------------------------------------


@pytest.mark.parametrize(("n", "limit"), [(1, 5.0), (2, 2.5), (4, 1.25), (5, 1.0)])
def test_truncation_limit_matches_the_guide_table(n: int, limit: float) -> None:
    assert truncation_limit(n) == limit


def test_truncation_limit_for_three_videos_is_exact_not_the_tables_165() -> None:
    # The guide's table prints 1.65 s; its formula 5 s / 3 gives 1.666…, which we use.
    assert truncation_limit(3) == pytest.approx(5 / 3)
    assert truncation_limit(3) > 1.65
    assert 3 * truncation_limit(3) == pytest.approx(5.0)


@pytest.mark.parametrize("n", [0, -1])
def test_truncation_limit_needs_a_video(n: int) -> None:
    with pytest.raises(ValueError):
        truncation_limit(n)


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


def test_bad_output_seconds_and_resolution_are_refused() -> None:
    with pytest.raises(ValueError):
        estimate([], -1, "720P", "beijing")
    with pytest.raises(ValueError):
        estimate([], 5, "480P", "beijing")


# --- the price table -----------------------------------------------------------


def test_price_table() -> None:
    assert PRICES_CNY_PER_SECOND == {
        "beijing": {"720P": 0.6, "1080P": 1.0},
        "singapore": {"720P": 0.733924, "1080P": 1.100886},
    }
    assert PRICES_CHECKED == "2026-11-24"


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
    usd = CostEstimate(0.0, 5.0, 5.0, 0.1, "USD", 0.5)
    with pytest.raises(ValueError, match="currencies"):
        check_budget([cny, usd], 100.0)
