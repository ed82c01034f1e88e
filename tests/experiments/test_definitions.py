"""Metric definitions: validated at load, compiled to SQL whose values equal a pandas reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from marketlift.errors import ConfigError
from marketlift.experiments.compile import unit_columns, unit_metrics_sql
from marketlift.experiments.definitions import (
    builtin_definitions,
    load_metric_definitions,
    metric_definitions_from_dict,
)
from marketlift.experiments.lake import analyze_lake
from marketlift.lake import connect, query

CUSTOM = """
[[metric]]
name = "orders_24h"
kind = "mean"
numerator = {event = "purchase"}
window = {value = 24, unit = "hours"}
covariate = "pre"

[[metric]]
name = "web_revenue"
kind = "mean"
numerator = {event = "purchase", column = "revenue", filters = {platform = ["web"]}}
currency = "as_is"

[[metric]]
name = "big_order_rate"
kind = "proportion"
numerator = {event = "purchase", where = "CAST(revenue AS DOUBLE) > 40"}

[[metric]]
name = "revenue_per_order_2d"
kind = "ratio"
numerator = {event = "purchase", sql = "CAST(revenue AS DOUBLE) * 2", name = "rev2_2d"}
denominator = {event = "purchase", name = "orders_2d"}
window = {value = 2, unit = "days"}

[[metric]]
name = "retention_d1"
kind = "retention"
day = 1
numerator = {event = "purchase"}

[[metric]]
name = "p90_revenue"
kind = "quantile"
quantile = 0.9
numerator = {event = "purchase", column = "revenue", name = "revenue_all"}
currency = "as_is"
direction = "higher"
"""


def _custom(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "metrics.toml"
    path.write_text(CUSTOM)
    return load_metric_definitions(path)


def _metric(**raw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "m", "kind": "mean", "numerator": {"event": "purchase"}}
    return {"metric": [{**base, **raw}]}


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (_metric(numerator={"event": "buy"}), "metric.m.numerator.event"),
        (_metric(numerator={"event": "purchase", "column": "amount"}), "metric.m.numerator.column"),
        (_metric(numerator={"event": "purchase", "sql": "amount * 2"}), "metric.m.numerator.sql"),
        (_metric(numerator={"event": "purchase", "where": "nope > 1"}), "metric.m.numerator.where"),
        (_metric(numerator={"event": "purchase", "filters": {"os": ["x"]}}),
         "metric.m.numerator.filters.os"),
        (_metric(kind="quantile", quantile=1.0), "metric.m.quantile"),
        (_metric(kind="quantile", quantile=0), "metric.m.quantile"),
        (_metric(kind="quantile"), "metric.m.quantile"),
        (_metric(kind="ratio"), "metric.m.denominator"),
        (_metric(kind="retention", day=-1), "metric.m.day"),
        (_metric(kind="median"), "metric.m.kind"),
        (_metric(window={"value": 7, "unit": "fortnights"}), "metric.m.window.unit"),
        (_metric(window={"value": 0, "unit": "days"}), "metric.m.window.value"),
        (_metric(direction="up"), "metric.m.direction"),
        (_metric(colour="red"), "metric.m.colour"),
        (_metric(name="Bad Name"), "metric[0].name"),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused_with_key_and_value(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        metric_definitions_from_dict(raw)
    assert info.value.name == key
    assert str(info.value).startswith(f"{key} == ")


def test_duplicate_names_and_conflicting_columns_are_refused() -> None:
    twice = {"metric": [_metric()["metric"][0], _metric()["metric"][0]]}
    with pytest.raises(ConfigError, match=r"metric\[1\]\.name == 'm'"):
        metric_definitions_from_dict(twice)
    a = {"name": "a", "kind": "mean", "numerator": {"event": "purchase", "name": "x"}}
    b = {"name": "b", "kind": "mean", "numerator": {"event": "add_to_cart", "name": "x"}}
    with pytest.raises(ConfigError, match="one definition"):
        metric_definitions_from_dict({"metric": [a, b]})


def test_builtin_four_are_definitions() -> None:
    defs = builtin_definitions()
    assert list(defs) == ["conversion", "revenue_per_unit", "aov", "revenue_per_session"]
    assert [d.kind for d in defs.values()] == ["proportion", "mean", "ratio", "ratio"]


def _reference(lake_path: Path, key: str) -> pd.DataFrame:
    """Per-unit values of the custom metrics, computed with pandas from the raw events."""
    events = query(lake_path, "SELECT * FROM events").to_pandas()
    exp = events[(events["type"] == "exposure") & (events["experiment_key"] == key)]
    first = (
        exp.sort_values("ts")
        .groupby("buyer_id")
        .agg(first_ts=("ts", "first"), variant=("variant", "first"), n=("variant", "nunique"))
    )
    buys = events[events["type"] == "purchase"].merge(first, left_on="buyer_id", right_index=True)
    buys["revenue"] = buys["revenue"].astype(float)
    age = (buys["ts"] - buys["first_ts"]).dt.total_seconds() / 3600
    post = buys[age >= 0]

    def per_unit(mask: pd.Series, values: pd.Series | None = None) -> pd.Series:
        rows = buys[mask]
        vals = rows["revenue"] * 0 + 1 if values is None else values[mask]
        return vals.groupby(rows["buyer_id"]).sum().reindex(first.index, fill_value=0.0)

    out = first.copy()
    out["orders_24h__num"] = per_unit((age >= 0) & (age < 24))
    out["pre_orders_24h__num"] = per_unit((age < 0) & (age >= -24))
    web = (age >= 0) & (buys["platform"] == "web")
    out["web_revenue__num"] = per_unit(web, buys["revenue"])
    out["big_order_rate__num"] = per_unit((age >= 0) & (buys["revenue"] > 40))
    out["big_order_rate"] = (out["big_order_rate__num"] > 0).astype(float)
    out["rev2_2d"] = per_unit((age >= 0) & (age < 48), buys["revenue"] * 2)
    out["orders_2d"] = per_unit((age >= 0) & (age < 48))
    out["retention_d1__num"] = per_unit((age >= 24) & (age < 48))
    out["retention_d1"] = (out["retention_d1__num"] > 0).astype(float)
    out["revenue_all"] = per_unit(age >= 0, buys["revenue"])
    assert len(post) > 100
    return out[out["n"] == 1]


def test_compiled_unit_table_equals_a_pandas_reference(lake, tmp_path: Path) -> None:
    defs = _custom(tmp_path)
    con = connect(lake.path)
    sql = unit_metrics_sql(defs.values(), key=lake.key, unit="buyer_id")
    got = con.sql(f"SELECT * FROM ({sql}) WHERE n_variants = 1").to_df().set_index("unit")
    want = _reference(lake.path, lake.key)
    assert sorted(got.index) == sorted(want.index)
    got = got.loc[want.index]
    columns = unit_columns(defs.values())
    assert set(columns) <= set(want.columns)
    for column in columns:
        np.testing.assert_allclose(got[column], want[column], rtol=1e-12, err_msg=column)
    assert want["retention_d1"].sum() > 10  # the day-1 window is not empty


def test_readout_of_configured_metrics(lake, tmp_path: Path) -> None:
    defs = _custom(tmp_path)
    result = analyze_lake(lake.path, lake.key, experiment=lake.experiment, metrics=defs)
    want = _reference(lake.path, lake.key)
    names = [m.metric for m in result.metrics]
    assert names == list(defs)
    by_name = {m.metric: m for m in result.metrics}
    control = want[want["variant"] == "control"]
    treated = want[want["variant"] == "short_copy"]
    r = by_name["revenue_per_order_2d"]
    assert r.control_mean == pytest.approx(control["rev2_2d"].sum() / control["orders_2d"].sum())
    q = by_name["p90_revenue"]
    assert q.control_mean == pytest.approx(np.quantile(control["revenue_all"], 0.9), rel=1e-12)
    assert q.treatment_mean == pytest.approx(np.quantile(treated["revenue_all"], 0.9), rel=1e-12)
    assert by_name["orders_24h"].variance_reduction != 0.0  # the pre-period covariate is used
    pvalues = [m.pvalue_adjusted for m in result.metrics]
    assert all(p >= m.pvalue for p, m in zip(pvalues, result.metrics, strict=True))


def test_a_ratio_with_zero_denominators_is_flagged(lake) -> None:
    (defs,) = [
        metric_definitions_from_dict(
            {"metric": [{"name": "per_click", "kind": "ratio",
                         "numerator": {"event": "purchase"},
                         "denominator": {"event": "engagement_clicked"}}]}
        )
    ]  # fmt: skip
    result = analyze_lake(lake.path, lake.key, experiment=lake.experiment, metrics=defs)
    assert "zero_denominator" in result.flags
