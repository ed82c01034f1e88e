"""Benchmark of the experiment readout on DuckDB: marketlift vs one GROUP BY scan vs tea-tasting.

Data: ``--units`` units (default 10,000,000) in one Parquet file under /tmp (made once):
two arms, a 5-value segment column, 3 metrics with pre-period covariates (conversion,
revenue per unit, AOV as a ratio). Timed, median of ``--repeat`` runs each:

- ``marketlift``: ``analyze_table`` with CUPED on all 3 metrics and the 5 segments (SRM,
  sequential, Bayesian, corrections included), end to end from the Parquet path.
- ``scan``: one ``GROUP BY variant, segment`` computing count and the sum of every column the
  analysis reads (the floor for any analysis that reads the data once).
- ``tea_tasting``: the same 3 CUPED metrics with tea-tasting on the same Parquet file, read
  into Arrow (timed) and aggregated through Narwhals (its Ibis DuckDB backend does not run on
  DuckDB 2.0): once overall and once per segment (it has no segment breakdown).

Prints ONE JSON line.

    .venv/bin/python benchmarks/experiments_analysis.py [--units N] [--repeat R] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEGMENTS = 5
COLUMNS = ("converted", "revenue", "orders", "pre_converted", "pre_revenue", "pre_orders")


def make_data(path: Path, units: int, seed: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    chunk = 1_000_000
    try:
        for start in range(0, units, chunk):
            n = min(chunk, units - start)
            variant = rng.integers(0, 2, n)
            segment = rng.integers(0, SEGMENTS, n)
            activity = rng.gamma(0.5, 2.0, n)  # shared buyer propensity: pre and post correlate
            pre_orders = rng.poisson(activity)
            orders = rng.poisson(activity * (1.0 + 0.02 * variant))
            pre_revenue = pre_orders * rng.gamma(2.0, 20.0, n)
            revenue = orders * rng.gamma(2.0, 20.0, n)
            table = pa.table(
                {
                    "unit": pa.array(np.arange(start, start + n)),
                    "variant": pa.array(np.where(variant == 1, "treatment", "control")),
                    "segment": pa.array(np.char.add("s", segment.astype(str))),
                    "converted": pa.array((orders > 0).astype(np.int8)),
                    "revenue": pa.array(revenue),
                    "orders": pa.array(orders.astype(np.int32)),
                    "pre_converted": pa.array((pre_orders > 0).astype(np.int8)),
                    "pre_revenue": pa.array(pre_revenue),
                    "pre_orders": pa.array(pre_orders.astype(np.int32)),
                }
            )
            if writer is None:
                writer = pq.ParquetWriter(str(path) + ".tmp", table.schema)
            writer.write_table(table, row_group_size=chunk)
    finally:
        if writer is not None:
            writer.close()
    Path(str(path) + ".tmp").rename(path)


def _interleaved(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, tuple[float, Any]]:
    """Median time of each contender, run in turn within every repetition (fair under noise)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    outs: dict[str, Any] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            outs[name] = fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(times[name]), outs[name]) for name in fns}


def _tea_tasting(path: Path) -> Callable[[], Any]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    import tea_tasting as tt

    experiment = tt.Experiment(
        conversion=tt.Mean("converted", "pre_converted"),
        revenue=tt.Mean("revenue", "pre_revenue"),
        aov=tt.RatioOfMeans("revenue", "orders", "pre_revenue", "pre_orders"),
    )

    def tea() -> Any:
        # Its Ibis backend does not run on DuckDB 2.0 (ibis 12 imports a removed DuckDB API),
        # so tea-tasting reads the same Parquet file into Arrow (timed) and aggregates
        # through Narwhals.
        table = pq.read_table(path, columns=["variant", "segment", *COLUMNS])
        overall = experiment.analyze(table, control="control")
        per_segment = [
            experiment.analyze(table.filter(pc.equal(table["segment"], f"s{s}")), control="control")
            for s in range(SEGMENTS)
        ]
        return overall, per_segment

    return tea


def _numpy_check(path: Path, result: Any) -> float:
    """Relative difference of the CUPED revenue effect from a direct NumPy computation."""
    import numpy as np
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["variant", "revenue", "pre_revenue"])
    y = t["revenue"].to_numpy()
    x = t["pre_revenue"].to_numpy()
    treat = t["variant"].to_numpy(zero_copy_only=False) == "treatment"
    theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)

    def adjusted(mask: Any) -> float:
        return float(y[mask].mean() - theta * (x[mask].mean() - x.mean()))

    want = adjusted(treat) - adjusted(~treat)
    got = next(m.effect for m in result.metrics if m.metric == "revenue")
    return abs(got - want) / abs(want)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-tea-tasting", action="store_true")
    args = parser.parse_args()

    import duckdb

    from marketlift.experiments.metrics import Metric
    from marketlift.experiments.table import analyze_table

    root = Path("/tmp/marketlift-bench")
    root.mkdir(exist_ok=True)
    path = root / f"experiment_units_{args.units}_{args.seed}.parquet"
    t0 = time.perf_counter()
    if not path.exists():
        make_data(path, args.units, args.seed)
    generate_s = time.perf_counter() - t0

    metrics = [
        Metric("conversion", "converted", covariate="pre_converted"),
        Metric("revenue", "revenue", covariate="pre_revenue"),
        Metric("aov", "revenue", "orders", "pre_revenue", "pre_orders"),
    ]

    def ours() -> Any:
        return analyze_table(
            path, variant="variant", control="control", metrics=metrics, segments=["segment"]
        )

    literal = "'" + str(path) + "'"
    sums = ", ".join(f"sum(CAST({c} AS DOUBLE))" for c in COLUMNS)
    scan_sql = (
        f"SELECT variant, segment, count(*), {sums} FROM read_parquet({literal}) "
        "GROUP BY variant, segment"
    )

    def scan() -> Any:
        return duckdb.connect().sql(scan_sql).fetchall()

    contenders: dict[str, Callable[[], Any]] = {"marketlift": ours, "scan": scan}
    if not args.skip_tea_tasting:
        contenders["tea_tasting"] = _tea_tasting(path)
    scan()  # warm the OS page cache for every contender alike
    load_before = os.getloadavg()[0]
    timed = _interleaved(contenders, args.repeat)
    load_after = os.getloadavg()[0]
    ours_s, result = timed["marketlift"]
    scan_s = timed["scan"][0]
    doc: dict[str, Any] = {
        "benchmark": "experiments_analysis",
        "units": args.units,
        "metrics": len(metrics),
        "segments": SEGMENTS,
        "cuped": True,
        "repeat": args.repeat,
        "duckdb_threads": duckdb.connect()
        .sql("SELECT current_setting('threads')")
        .fetchall()[0][0],
        "cpus": os.cpu_count(),
        "loadavg_1m_before_after": [round(load_before, 2), round(load_after, 2)],
        "generate_s": round(generate_s, 3),
        "marketlift_s": round(ours_s, 4),
        "scan_s": round(scan_s, 4),
        "marketlift_over_scan": round(ours_s / scan_s, 3),
        "rel_diff_revenue_cuped_vs_numpy": _numpy_check(path, result),
    }
    if "tea_tasting" in timed:
        tea_s, (overall, _) = timed["tea_tasting"]
        doc["tea_tasting_s"] = round(tea_s, 4)
        doc["marketlift_over_tea_tasting"] = round(ours_s / tea_s, 3)
        doc["max_rel_diff_vs_tea_tasting"] = max(
            abs(m.effect - overall[m.metric].effect_size) / abs(overall[m.metric].effect_size)
            for m in result.metrics
        )
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
