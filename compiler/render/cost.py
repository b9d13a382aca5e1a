"""The bill of a batch: whether its estimates fit a budget.  How one render is counted and priced is its
target's (`Target.estimate`, the rules in compiler/targets/billing.py, the prices in each target module)."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Spelled out rather than imported from typing (records.py): commands.py imports this module at start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from compiler.targets.base import Estimate

__all__ = ["check_budget"]

# Slack for float sums when comparing with a budget (0.6 * 7.5 is not exactly 4.5).
_BUDGET_EPSILON = 1e-9


def check_budget(estimates: Sequence[Estimate], budget: float) -> tuple[bool, float]:
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
