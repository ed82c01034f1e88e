"""Ages bounded by the lake's history (cart age) drift with the lake, not with the marketplace."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from marketlift.errors import ConfigError
from marketlift.models.tabular import ColumnSpec, FeatureSchema
from marketlift.monitor import MonitorConfig
from marketlift.monitor.intent import drift_checks, history_share

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SCHEMA = FeatureSchema((ColumnSpec("b_cart_age_hours", "numeric"),))
N = 3000


def _day(day: int, rng: np.random.Generator, power: float = 1.0) -> pa.Table:
    """Rows of one day whose carts were first filled uniformly over the lake's history so far.

    ``power`` > 1 makes the carts younger than that (a real change of the marketplace).
    """
    hours = (day + rng.random(N)) * 24.0
    cutoff = [T0 + dt.timedelta(hours=float(h)) for h in hours]
    age = rng.random(N) ** power * hours
    return pa.table(
        {"cutoff_ts": pa.array(cutoff, pa.timestamp("us", "UTC")), "b_cart_age_hours": age}
    )


def _drift(reference: pa.Table, current: pa.Table, config: MonitorConfig) -> tuple[float, bool]:
    (check,) = [
        c for c in drift_checks(reference, current, SCHEMA, config, T0) if c.kind == "drift"
    ]
    assert check.value is not None
    return check.value, check.alert


def test_cart_age_growing_with_a_young_lake_is_not_drift() -> None:
    rng = np.random.default_rng(7)
    yesterday, today = _day(2, rng), _day(3, rng)
    raw, raw_alert = _drift(yesterday, today, MonitorConfig(history_ages=()))
    value, alert = _drift(yesterday, today, MonitorConfig())
    # the raw age moves by a day in a lake three days old: the old check alerted on it
    assert raw_alert
    assert raw > 0.25
    assert not alert
    assert value < 0.05


def test_carts_really_getting_younger_still_drift() -> None:
    rng = np.random.default_rng(8)
    value, alert = _drift(_day(2, rng), _day(3, rng, power=3.0), MonitorConfig())
    assert alert
    assert value > 0.25


def test_history_share_matches_a_direct_computation() -> None:
    rng = np.random.default_rng(9)
    rows = _day(5, rng)
    cutoff = rows["cutoff_ts"].to_pylist()
    age = rows["b_cart_age_hours"].to_numpy()
    expected = [a / ((c - T0).total_seconds() / 3600) for a, c in zip(age, cutoff, strict=True)]
    got = history_share(age, rows["cutoff_ts"], T0)
    assert got == pytest.approx(expected, rel=1e-9)


def test_history_ages_is_checked() -> None:
    with pytest.raises(ConfigError, match="history_ages"):
        MonitorConfig(history_ages=["b_cart_age_hours"])  # type: ignore[arg-type]
