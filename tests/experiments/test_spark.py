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
