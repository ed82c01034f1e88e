"""The funnel is calibrated to e-commerce norms, and the reported figures match the lake."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketlift.lake import query
from marketlift.sim import SimConfig, SimResult, simulate


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_funnel_is_calibrated(seed: int) -> None:
    funnel = simulate(SimConfig(n_buyers=20_000, n_days=7, seed=seed)).funnel
    assert funnel.sessions > 20_000
    assert 0.02 <= funnel.session_conversion <= 0.04
    assert 0.08 <= funnel.add_to_cart_rate <= 0.12
    assert 0.62 <= funnel.cart_abandonment <= 0.78


def test_reported_funnel_matches_the_lake(logging_run: tuple[Path, SimResult]) -> None:
    data, result = logging_run
    row = query(data, """
        SELECT
          count(DISTINCT session_id) FILTER (WHERE type = 'page_view') AS sessions,
          count(DISTINCT session_id) FILTER (WHERE type = 'add_to_cart') AS carts,
          count(DISTINCT session_id) FILTER (WHERE type = 'checkout_start') AS checkouts,
          count(*) FILTER (WHERE type = 'purchase') AS orders,
          count(*) FILTER (WHERE type = 'decision') AS decisions
        FROM events
    """).to_pylist()[0]  # fmt: skip
    f = result.funnel
    assert row == {"sessions": f.sessions, "carts": f.carts, "checkouts": f.checkouts,
                   "orders": f.orders, "decisions": result.decisions}  # fmt: skip
    assert f.session_conversion == pytest.approx(f.orders / f.sessions)
    assert f.cart_abandonment == pytest.approx(1 - f.orders / f.carts)
