"""DuckDB and Spark produce the same tables on the same lake (same rows, numbers within
1e-9). One SparkSession for the whole run (the ``spark`` fixture)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
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


def test_build_and_training_set_parity(sim_lake: tuple[Path, pa.Table], spark: Any) -> None:
    """Every feature table and every task's training set, on one engine of each kind (the
    base views are prepared once per engine)."""
    data, catalog = sim_lake
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
