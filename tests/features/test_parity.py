"""DuckDB and Spark produce the same tables on the same lake (same rows, numbers within
1e-9). One SparkSession for the whole run (the ``spark`` fixture)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from marketlift.features import (
    TABLES,
    TASKS,
    compute_features,
    compute_training_set,
    make_engine,
)

pytestmark = pytest.mark.slow


def assert_same_table(duck: pa.Table, spark: pa.Table, name: str) -> None:
    assert duck.column_names == spark.column_names, name
    assert [f.type for f in duck.schema] == [f.type for f in spark.schema], name
    assert duck.num_rows == spark.num_rows, name
    assert duck.num_rows > 0, name
    for column in duck.column_names:
        left, right = duck[column].to_pylist(), spark[column].to_pylist()
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            if isinstance(a, float) and isinstance(b, float):
                ok = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
            else:
                ok = a == b
            assert ok, f"{name}.{column} row {i}: duckdb {a!r} != spark {b!r}"


def _versioned(catalog: pa.Table) -> pa.Table:
    """The catalog with a second version of every fifth listing from the middle of day 2 on
    (doubled price, another category): the engines must agree on the as-of join too."""
    mid = 1_793_620_800_000_000  # 2026-11-02T12:00:00Z, inside the simulated days
    n = catalog.num_rows
    first = catalog.append_column("valid_from_us", pa.nulls(n, pa.int64())).append_column(
        "valid_to_us", pa.array([mid if i % 5 == 0 else None for i in range(n)], pa.int64())
    )
    changed = first.filter(pa.array([i % 5 == 0 for i in range(n)]))
    later = changed.set_column(2, "price", pc.multiply(changed.column("price"), 2.0))
    later = later.set_column(1, "category", pa.array(["vintage"] * later.num_rows))
    later = later.set_column(5, "valid_from_us", pa.array([mid] * later.num_rows, pa.int64()))
    later = later.set_column(6, "valid_to_us", pa.nulls(later.num_rows, pa.int64()))
    return pa.concat_tables([first, later])


def test_build_and_training_set_parity(sim_lake: tuple[Path, pa.Table], spark: Any) -> None:
    """Every feature table and every task's training set, on one engine of each kind (the
    base views are prepared once per engine)."""
    data, static = sim_lake
    catalog = _versioned(static)
    results: dict[str, dict[str, Any]] = {}
    for name in ("duckdb", "spark"):
        engine = make_engine(name, data, spark=spark)
        try:
            tables, cutoff = compute_features(engine, catalog=catalog)
            tables.update({t: compute_training_set(engine, t, catalog=catalog) for t in TASKS})
            results[name] = {"cutoff": cutoff, **tables}
        finally:
            engine.close()
    duck, spk = results["duckdb"], results["spark"]
    assert duck["cutoff"] == spk["cutoff"]
    for name in (*TABLES, *TASKS):
        assert_same_table(duck[name], spk[name], name)
