"""Spark reduces to the same sufficient statistics as DuckDB; the readout is identical."""

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from marketlift.experiments import analyze_table
from marketlift.experiments.spark import analyze_spark

pytestmark = pytest.mark.slow


def _units(seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = 4000
    arm = rng.choice(["control", "treatment"], n)
    pre = rng.gamma(2.0, 10.0, n)
    revenue = 0.6 * pre + rng.normal(0, 5, n) + (arm == "treatment") * 1.5
    orders = rng.poisson(1.0 + (arm == "treatment") * 0.1, n).astype(float)
    platform = rng.choice(["web", "ios", "android", None], n)
    return pa.table(
        {"arm": arm, "revenue": revenue, "orders": orders, "pre": pre, "platform": platform}
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_spark_and_duckdb_readouts_agree(spark: Any, seed: int) -> None:
    table = _units(seed)
    frame = spark.createDataFrame(table.to_pandas())
    metrics = ["revenue", "revenue/orders"]
    kwargs: dict[str, Any] = {
        "variant": "arm", "control": "control", "metrics": metrics, "covariate": "pre",
        "segments": ["platform"],
    }  # fmt: skip
    on_spark = analyze_spark(frame, **kwargs)
    on_duckdb = analyze_table(table, **kwargs)
    assert [a.units for a in on_spark.arms] == [a.units for a in on_duckdb.arms]
    for s, d in zip(on_spark.metrics, on_duckdb.metrics, strict=True):
        assert (s.metric, s.variant) == (d.metric, d.variant)
        assert s.effect == pytest.approx(d.effect, rel=1e-9, abs=1e-12)
        assert s.effect_lower == pytest.approx(d.effect_lower, rel=1e-9, abs=1e-12)
        assert s.pvalue == pytest.approx(d.pvalue, rel=1e-9, abs=1e-15)
    spark_segments = {(g.dimension, g.value) for g in on_spark.segments}
    assert spark_segments == {(g.dimension, g.value) for g in on_duckdb.segments}
    assert ("platform", "(missing)") in spark_segments


def test_configured_metrics_compile_to_the_same_unit_table_on_spark(spark: Any, lake) -> None:
    """Parity: the definitions' SQL gives the same unit table and moments on both engines."""
    from marketlift.experiments.aggregate import aggregate
    from marketlift.experiments.compile import moment_metrics, unit_columns, unit_metrics_sql
    from marketlift.experiments.definitions import builtin_definitions, metric_definitions_from_dict
    from marketlift.experiments.spark import aggregate_spark, unit_table_spark
    from marketlift.lake import connect

    extra = metric_definitions_from_dict(
        {"metric": [
            {"name": "orders_24h", "kind": "mean", "numerator": {"event": "purchase"},
             "window": {"value": 24, "unit": "hours"}, "covariate": "pre"},
            {"name": "retention_d1", "kind": "retention", "day": 1,
             "numerator": {"event": "purchase", "filters": {"platform": ["web", "ios"]}}},
            {"name": "big_revenue", "kind": "mean", "numerator": {
                "event": "purchase", "sql": "CASE WHEN revenue > 40 THEN revenue ELSE 0 END"}},
        ]}
    )  # fmt: skip
    defs = [*builtin_definitions().values(), *extra.values()]
    con = connect(lake.path)
    sql = unit_metrics_sql(defs, key=lake.key, unit="buyer_id")
    on_duckdb = con.sql(f"SELECT * FROM ({sql}) WHERE n_variants = 1 ORDER BY unit").to_df()
    events = spark.createDataFrame(con.sql("SELECT * EXCLUDE (payload) FROM events").to_df())
    units = unit_table_spark(events, defs, key=lake.key).where("n_variants = 1")
    on_spark = units.orderBy("unit").toPandas()
    columns = ["variant", "platform", "buyer_type", *unit_columns(defs)]
    assert list(on_spark["unit"]) == list(on_duckdb["unit"])
    for column in columns:
        if column in {"variant", "platform", "buyer_type"}:
            assert list(on_spark[column]) == list(on_duckdb[column]), column
        else:
            np.testing.assert_allclose(
                on_spark[column].astype(float), on_duckdb[column].astype(float), rtol=1e-12
            )
    metrics = moment_metrics(defs)
    cols = tuple(dict.fromkeys(c for m in metrics for c in m.columns))
    pairs = tuple(dict.fromkeys(p for m in metrics for p in m.pairs))
    source = f"(SELECT * FROM ({sql}) WHERE n_variants = 1)"
    want = aggregate(con, source, variant="variant", columns=cols, pairs=pairs)
    got = aggregate_spark(units, variant="variant", columns=cols, pairs=pairs)
    assert set(got) == set(want)
    for group, moments in want.items():
        assert got[group].n == moments.n
        np.testing.assert_allclose(got[group].sums, moments.sums, rtol=1e-12)
        np.testing.assert_allclose(got[group].cross, moments.cross, rtol=1e-12)
