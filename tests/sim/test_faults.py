"""Planted faults: what the simulator writes when it plants them."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketlift.errors import ConfigError
from marketlift.lake import query
from marketlift.sim import SimConfig, simulate
from marketlift.sim.faults import Faults


def test_broken_platform_over_a_thousand_events_a_day(tmp_path: Path) -> None:
    """More broken events than one collector batch holds are all dead-lettered."""
    faults = Faults(from_day=0, broken_platform="web", broken_share=1.0)
    simulate(SimConfig(n_buyers=1500, n_days=1, seed=2), tmp_path, faults=faults, truth=False)
    dead = query(tmp_path, "SELECT count(*) AS n FROM dead_letters")["n"][0].as_py()
    web = query(tmp_path, "SELECT count(*) AS n FROM events WHERE platform = 'web'")
    assert dead > 1000
    assert web["n"][0].as_py() == 0


def test_price_factor_scales_the_typed_columns_and_the_payload(tmp_path: Path) -> None:
    faults = Faults(from_day=0, price_factor=100.0)
    simulate(SimConfig(n_buyers=200, n_days=1, seed=2), tmp_path / "a", faults=faults, truth=False)
    simulate(SimConfig(n_buyers=200, n_days=1, seed=2), tmp_path / "b", truth=False)
    sql = ("SELECT event_id, CAST(price AS DOUBLE) AS p, "
           "CAST(json_extract_string(payload, '$.price.amount') AS DOUBLE) AS j "
           "FROM events WHERE price IS NOT NULL ORDER BY event_id")  # fmt: skip
    a, b = query(tmp_path / "a", sql).to_pylist(), query(tmp_path / "b", sql).to_pylist()
    assert [r["event_id"] for r in a] == [r["event_id"] for r in b]
    for x, y in zip(a, b, strict=True):
        assert x["p"] == pytest.approx(100 * y["p"])
        assert x["j"] == pytest.approx(100 * y["j"], abs=0.01)


def test_bad_faults_name_the_field() -> None:
    with pytest.raises(ConfigError, match="broken_platform"):
        Faults(broken_platform="tv")
    with pytest.raises(ConfigError, match="broken_share"):
        Faults(broken_share=2.0)
    with pytest.raises(ConfigError, match="price_factor"):
        Faults(price_factor=0.0)
