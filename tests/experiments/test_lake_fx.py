"""Revenue in one reporting currency: mixed-currency lakes are flagged or converted."""

from collections import defaultdict
from pathlib import Path

import pytest

from marketlift.errors import ConfigError
from marketlift.experiments import analyze_lake
from marketlift.experiments.definitions import metric_definitions_from_dict
from marketlift.lake import query
from marketlift.sim import SimConfig, run_ab
from marketlift.sim.world import FX


@pytest.fixture(scope="module")
def ab_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("fx")
    run_ab(SimConfig(n_buyers=1500, n_days=3, seed=3), {"control": "never", "t": "always"}, data,
           experiment_key="fx_test", truth=False)  # fmt: skip
    return data


def test_mixed_currencies_are_flagged_without_fx(ab_lake: Path) -> None:
    currencies = query(
        ab_lake, "SELECT DISTINCT revenue_currency AS c FROM events WHERE type = 'purchase'"
    ).column("c")
    assert len(currencies) > 1
    result = analyze_lake(ab_lake, "fx_test", control="control")
    assert "mixed_currencies" in result.flags


def test_fx_converts_revenue_to_the_reporting_currency(ab_lake: Path) -> None:
    (plain,) = metric_definitions_from_dict(  # no CUPED: raw means are comparable
        {"metric": [{"name": "revenue_per_unit", "kind": "mean",
                     "numerator": {"event": "purchase", "column": "revenue"}}]}
    ).values()  # fmt: skip
    result = analyze_lake(ab_lake, "fx_test", control="control", fx=FX, metrics=[plain])
    assert "mixed_currencies" not in result.flags
    (revenue,) = result.metrics
    # An independent computation: per unit, purchases at or after its first exposure.
    exposures = query(
        ab_lake,
        "SELECT buyer_id, min(ts) AS first_ts, arg_min(variant, ts) AS variant FROM events "
        "WHERE type = 'exposure' AND experiment_key = 'fx_test' AND buyer_id IS NOT NULL "
        "GROUP BY 1 HAVING count(DISTINCT variant) = 1",
    ).to_pylist()
    purchases = query(
        ab_lake,
        "SELECT buyer_id, ts, CAST(revenue AS DOUBLE) AS r, revenue_currency AS c FROM events "
        "WHERE type = 'purchase'",
    ).to_pylist()
    first = {e["buyer_id"]: (e["first_ts"], e["variant"]) for e in exposures}
    totals: dict[str, float] = defaultdict(float)
    for p in purchases:
        if p["buyer_id"] in first and p["ts"] >= first[p["buyer_id"]][0]:
            totals[p["buyer_id"]] += p["r"] / FX[p["c"]]
    means = {}
    for arm in ("control", "t"):
        units = [b for b, (_, v) in first.items() if v == arm]
        means[arm] = sum(totals[b] for b in units) / len(units)
    assert revenue.control_mean == pytest.approx(means["control"], rel=1e-9)
    assert revenue.treatment_mean == pytest.approx(means["t"], rel=1e-9)


def test_a_missing_rate_names_the_currency(ab_lake: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        analyze_lake(ab_lake, "fx_test", control="control", fx={"USD": 1.0})
