"""Freshness covers the promoted engagement policy, from its training range in the registry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from marketlift.models.registry import Registry
from marketlift.monitor.config import MonitorConfig
from marketlift.monitor.quality import freshness_checks


def _us(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1_000_000)


def test_a_promoted_policy_is_checked_for_freshness(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    trained_until = dt.date(2026, 11, 1)
    meta = {"kind": "policy", "training_range_us": [_us(dt.date(2026, 10, 1)), _us(trained_until)]}
    registry.register("engagement", {"policy.pkl": b"x"}, meta)
    registry.promote("engagement")
    config = MonitorConfig()
    fresh_day = trained_until + dt.timedelta(days=1)
    stale_day = trained_until + dt.timedelta(days=int(config.max_model_age_days) + 2)
    [fresh] = [
        c for c in freshness_checks(tmp_path, fresh_day, config) if c.subject.startswith("policy")
    ]
    [stale] = [
        c for c in freshness_checks(tmp_path, stale_day, config) if c.subject.startswith("policy")
    ]
    assert fresh.subject == "policy:engagement"
    assert fresh.value == 2.0
    assert not fresh.alert
    assert stale.alert
    assert stale.value == config.max_model_age_days + 3
