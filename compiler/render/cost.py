"""The wan2.7-r2v billing rule: billable seconds, their price by region, and the budget check."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..targets.wan27 import PRICES, RESOLUTIONS
from ..targets.wan27 import PRICES_CHECKED as PRICES_CHECKED  # read from here by results.py and the tests

# CNY per billable second, region -> resolution: wan2.7's table (compiler/targets/wan27.py).  Virginia (US)
# does not list wan2.7-r2v, so it is absent and priced as unknown.
PRICES_CNY_PER_SECOND: dict[str, dict[str, float]] = {region: dict(prices) for region, prices in PRICES.items()}
CURRENCY = "CNY"

# Total billable input-video time, shared among the reference videos.
INPUT_VIDEO_CAP_SECONDS = 5.0

# Slack for float sums when comparing with a budget (0.6 * 7.5 is not exactly 4.5).
_BUDGET_EPSILON = 1e-9


@dataclass(frozen=True)
class CostEstimate:
    """Billable seconds of one render and, if its region is priced, what they cost.

    An upper bound: the Beijing free quota (50 s for 90 days) is not subtracted,
    and failed calls, which are not billed, are counted as if they succeeded.
    """

    input_video_seconds: float
    output_seconds: float
    billable_seconds: float
    price_per_second: float | None
    currency: str | None
    amount: float | None


def truncation_limit(n_videos: int) -> float:
    """The most seconds one of `n_videos` reference videos can be billed: exactly 5 / n.

    The guide's table shows 1.65 s for 3 videos, while its formula gives
    5 / 3 = 1.666… s (1.65 is neither the truncated 1.66 nor the rounded 1.67:
    a rounding in the table, not a rule). We use the exact 5 / n: it follows the
    stated formula, and it can only over-estimate (by at most 0.05 s in total),
    which is the safe side for a budget. `usage.duration` in each result tells
    the truth afterwards.
    """
    if n_videos < 1:
        raise ValueError(f"truncation_limit needs at least one video, got {n_videos}")
    return INPUT_VIDEO_CAP_SECONDS / n_videos


def billable_input_seconds(video_durations: Sequence[float]) -> float:
    """Sum of min(duration, 5 / n) over the reference videos; images and first frames are free."""
    for duration in video_durations:
        if not math.isfinite(duration) or duration < 0:
            raise ValueError(f"a video duration must be a finite number >= 0, got {duration}")
    if not video_durations:
        return 0.0
    limit = truncation_limit(len(video_durations))
    return sum(min(float(d), limit) for d in video_durations)


def price_per_second(resolution: str, region: str | None) -> float | None:
    """The price of one billable second, or None when the region is unknown or unpriced."""
    if region is None:
        return None
    return PRICES_CNY_PER_SECOND.get(region.strip().lower(), {}).get(resolution)


def _normalize_resolution(resolution: str) -> str:
    normalized = resolution.strip().upper()
    if normalized not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {sorted(RESOLUTIONS)}, got {resolution!r}")
    return normalized


def estimate(
    video_durations: Sequence[float],
    output_seconds: int,
    resolution: str,
    region: str | None,
) -> CostEstimate:
    """Estimate one render: billable input video seconds + output seconds, times the price.

    `video_durations` are the reference videos only (images and the first frame
    are free). With no known price (region None or not in the table) the
    seconds are still computed and price, currency and amount are None.
    """
    if output_seconds < 0:
        raise ValueError(f"output_seconds must be >= 0, got {output_seconds}")
    price = price_per_second(_normalize_resolution(resolution), region)
    input_seconds = billable_input_seconds(video_durations)
    billable = input_seconds + output_seconds
    return CostEstimate(
        input_video_seconds=input_seconds,
        output_seconds=float(output_seconds),
        billable_seconds=billable,
        price_per_second=price,
        currency=None if price is None else CURRENCY,
        amount=None if price is None else billable * price,
    )


def check_budget(estimates: Sequence[CostEstimate], budget: float) -> tuple[bool, float]:
    """(whether the renders fit in `budget`, their total amount).

    An estimate without a price cannot be shown to fit, so any such estimate
    makes the result not within; the total then covers the priced ones only.
    """
    if not math.isfinite(budget) or budget < 0:
        raise ValueError(f"budget must be a finite number >= 0, got {budget}")
    currencies = {e.currency for e in estimates if e.currency is not None}
    if len(currencies) > 1:
        raise ValueError(f"cannot add amounts in different currencies: {sorted(currencies)}")
    total = sum(e.amount for e in estimates if e.amount is not None)
    all_priced = all(e.amount is not None for e in estimates)
    return all_priced and total <= budget + _BUDGET_EPSILON, total
