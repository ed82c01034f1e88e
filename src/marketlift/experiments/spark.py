"""Experiment aggregation on Spark: the same one-scan ``GROUP BY`` for tables beyond one machine.

Spark reduces the unit-level table to :class:`~marketlift.experiments.stats.Moments` (counts,
sums, cross-products); inference then runs in Python on those small objects, exactly as for
DuckDB, so results agree to floating-point rounding. PySpark is imported only by the caller
who hands in a DataFrame (extra ``spark``).

Example (needs pyspark and Java)::

    from marketlift.features.engines import local_spark
    spark = local_spark()
    df = spark.read.parquet("units.parquet")
    result = analyze_spark(df, variant="arm", control="control", metrics=["revenue"])
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from marketlift.experiments.aggregate import GroupKey, _to_moments, marginalize, moments_sql
from marketlift.experiments.analysis import analyze_moments
from marketlift.experiments.compile import unit_metrics_sql
from marketlift.experiments.definitions import MetricDefinition
from marketlift.experiments.metrics import Metric
from marketlift.experiments.results import AnalysisResult
from marketlift.experiments.stats import Moments, pair_key
from marketlift.experiments.table import parse_metric

__all__ = ["aggregate_spark", "analyze_spark", "unit_table_spark"]


def aggregate_spark(
    frame: Any,
    *,
    variant: str,
    columns: Sequence[str],
    pairs: Iterable[tuple[str, str]],
    dimensions: Sequence[str] = (),
) -> dict[GroupKey, Moments]:
    """Run :func:`~marketlift.experiments.aggregate.moments_sql` on a Spark DataFrame.

    Args:
        frame: A ``pyspark.sql.DataFrame`` of units.
        variant: Column of the variant.
        columns: Unit-level numeric columns.
        pairs: Cross-products to compute.
        dimensions: Segment columns grouped on as well.

    Returns:
        The same groups :func:`~marketlift.experiments.aggregate.aggregate` returns on DuckDB.
    """
    keys = tuple(sorted({pair_key(*p) for p in pairs}))
    cols = tuple(columns)
    view = f"marketlift_units_{uuid.uuid4().hex[:12]}"
    frame.createOrReplaceTempView(view)
    try:
        sql = moments_sql(
            view, variant=variant, columns=cols, pairs=keys, dimensions=dimensions,
            dialect="spark",
        )  # fmt: skip
        rows = [tuple(r) for r in frame.sparkSession.sql(sql).collect()]
    finally:
        frame.sparkSession.catalog.dropTempView(view)
    return _to_moments(rows, cols, keys, 1 + len(dimensions))


def analyze_spark(
    frame: Any,
    *,
    variant: str,
    control: str,
    metrics: Sequence[str | Metric],
    covariate: str | None = None,
    segments: Sequence[str] = (),
    weights: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
) -> AnalysisResult:
    """Analyze a unit-level Spark DataFrame (one row per unit), like ``analyze_table``."""
    parsed = [parse_metric(m, covariate) for m in metrics]
    columns = tuple(dict.fromkeys(c for m in parsed for c in m.columns))
    pairs = tuple(dict.fromkeys(p for m in parsed for p in m.pairs))
    groups = aggregate_spark(
        frame, variant=variant, columns=columns, pairs=pairs, dimensions=segments
    )
    arms, segs = marginalize(groups, segments)
    return analyze_moments(
        arms,
        parsed,
        control=str(control),
        weights=weights,
        alpha=alpha,
        correction=correction,
        segments=segs,
        experiment="spark",
    )


def unit_table_spark(
    events: Any,
    definitions: Iterable[MetricDefinition],
    *,
    key: str,
    unit: str = "buyer_id",
) -> Any:
    """The unit-level table of experiment ``key`` on Spark, from a DataFrame of lake events.

    The SQL is :func:`~marketlift.experiments.compile.unit_metrics_sql` in the Spark dialect,
    the same text DuckDB runs (money as it is: pass converted amounts for several currencies).
    Reduce it with :func:`aggregate_spark` (``n_variants = 1`` keeps units seen in one arm).
    """
    view = f"marketlift_events_{uuid.uuid4().hex[:12]}"
    events.createOrReplaceTempView(view)
    sql = unit_metrics_sql(definitions, key=key, unit=unit, dialect="spark", events=view)
    return events.sparkSession.sql(sql)
