"""Benchmark of a configured readout: 10 metric definitions, 5 segments, 10M units (DuckDB).

Data: ``--units`` units (default 10,000,000) in one Parquet file under /tmp (made once), with
the unit columns the definitions below compile to: two arms, a 5-value segment column.
Metrics (``METRICS``, a ``metrics.toml``): conversion, revenue per unit, add-to-cart rate,
clicks per unit, day-7 retention (CUPED on 3 of them), 2 ratios (order value, revenue per
session), 1 quantile (p90 revenue per unit) and 2 guardrails (unsubscribe rate, dismissals
per unit, lower is better) of an experiment with a goal, so the ship decision is computed.
Timed, median of ``--repeat`` interleaved runs:

- ``marketlift``: ``analyze_units`` end to end from the Parquet path (moments GROUP BY,
  quantiles, SRM, sequential, Bayesian, corrections, segment interactions, decision);
- ``scan``: one ``GROUP BY variant, segment`` computing count and the sum of every column the
  analysis reads (the floor for any analysis that reads the data once);
- ``tea_tasting``: the 9 metrics it supports (``Mean``, ``RatioOfMeans``, with the same
  covariates; no quantile: its ``Quantile`` is a bootstrap) on the same file read into Arrow
  (timed), once overall and once per segment (it has no segment breakdown).

Prints ONE JSON line.

    .venv/bin/python benchmarks/experiments_configured.py [--units N] [--repeat R] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEGMENTS = 5
METRICS = """
[[metric]]
name = "conversion"
kind = "proportion"
numerator = {event = "purchase", name = "orders"}
covariate = "pre"
[[metric]]
name = "revenue_per_unit"
kind = "mean"
numerator = {event = "purchase", column = "revenue", name = "revenue"}
covariate = "pre"
[[metric]]
name = "aov"
kind = "ratio"
numerator = {event = "purchase", column = "revenue", name = "revenue"}
denominator = {event = "purchase", name = "orders"}
covariate = "pre"
[[metric]]
name = "revenue_per_session"
kind = "ratio"
numerator = {event = "purchase", column = "revenue", name = "revenue"}
denominator = {column = "session_id", aggregation = "count_distinct", name = "sessions"}
[[metric]]
name = "add_to_cart_rate"
kind = "proportion"
numerator = {event = "add_to_cart", name = "carts"}
[[metric]]
name = "clicks"
kind = "mean"
numerator = {event = "engagement_clicked", name = "clicks_n"}
[[metric]]
name = "retention_d7"
kind = "retention"
day = 7
numerator = {event = "page_view", name = "views_d7"}
[[metric]]
name = "p90_revenue"
kind = "quantile"
quantile = 0.9
numerator = {event = "purchase", column = "revenue", name = "revenue"}
[[metric]]
name = "unsubscribe_rate"
kind = "proportion"
direction = "lower"
numerator = {event = "engagement_dismissed", filters = {channel = ["email"]}, name = "unsubs"}
[[metric]]
name = "dismissals"
kind = "mean"
direction = "lower"
numerator = {event = "engagement_dismissed", name = "dismissals_n"}
"""
EXPERIMENT = {
    "key": "bench",
    "variants": ["control", "treatment"],
    "goals": ["conversion"],
    "guardrails": [
        {"metric": "unsubscribe_rate", "tolerance": 0.05},
        {"metric": "dismissals", "tolerance": 0.02},
    ],
}


def make_data(path: Path, units: int, seed: int) -> None:
    """Write the unit table (the columns ``unit_metrics_sql`` would make) in chunks."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    chunk = 1_000_000
    try:
        for start in range(0, units, chunk):
            n = min(chunk, units - start)
            t = rng.integers(0, 2, n)
            activity = rng.gamma(0.5, 2.0, n)
            pre_orders = rng.poisson(activity)
            orders = rng.poisson(activity * (1.0 + 0.02 * t))
            sessions = 1 + rng.poisson(activity * 2)
            carts = rng.poisson(activity * 0.8)
            dismissals = rng.poisson(0.3 + 0.01 * t, n)
            cols: dict[str, Any] = {
                "variant": np.where(t == 1, "treatment", "control"),
                "segment": np.char.add("s", rng.integers(0, SEGMENTS, n).astype(str)),
                "orders": orders.astype(float),
                "pre_orders": pre_orders.astype(float),
                "conversion": (orders > 0).astype(float),
                "pre_conversion": (pre_orders > 0).astype(float),
                "revenue": orders * rng.gamma(2.0, 20.0, n),
                "pre_revenue": pre_orders * rng.gamma(2.0, 20.0, n),
                "sessions": sessions.astype(float),
                "carts": carts.astype(float),
                "add_to_cart_rate": (carts > 0).astype(float),
                "clicks_n": rng.poisson(0.2, n).astype(float),
                "views_d7": rng.poisson(activity * 0.3).astype(float),
                "unsubs": (rng.random(n) < 0.01).astype(float),
                "dismissals_n": dismissals.astype(float),
            }
            cols["retention_d7"] = (cols["views_d7"] > 0).astype(float)
            cols["unsubscribe_rate"] = cols["unsubs"]
            table = pa.table(cols)
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


def _tea_tasting(path: Path, metrics: list[Any]) -> tuple[Callable[[], Any], list[str]]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    import tea_tasting as tt

    spec: dict[str, Any] = {}
    for m in metrics:
        if m.denominator is None:
            spec[m.name] = tt.Mean(m.numerator, m.covariate)
        else:
            spec[m.name] = tt.RatioOfMeans(
                m.numerator, m.denominator, m.covariate, m.covariate_denominator
            )
    experiment = tt.Experiment(**spec)
    columns = sorted({c for m in metrics for c in m.columns})

    def tea() -> Any:
        table = pq.read_table(path, columns=["variant", "segment", *columns])
        overall = experiment.analyze(table, control="control")
        per_segment = [
            experiment.analyze(table.filter(pc.equal(table["segment"], f"s{s}")), control="control")
            for s in range(SEGMENTS)
        ]
        return overall, per_segment

    return tea, list(spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-tea-tasting", action="store_true")
    args = parser.parse_args()

    import duckdb

    from marketlift.experiments.compile import moment_metrics
    from marketlift.experiments.config import experiment_from_dict
    from marketlift.experiments.definitions import metric_definitions_from_dict
    from marketlift.experiments.readout import analyze_units

    defs = list(metric_definitions_from_dict(tomllib.loads(METRICS)).values())
    exp = experiment_from_dict(EXPERIMENT)
    metrics = moment_metrics(defs)
    root = Path("/tmp/marketlift-bench")
    root.mkdir(exist_ok=True)
    path = root / f"experiment_configured_{args.units}_{args.seed}.parquet"
    t0 = time.perf_counter()
    if not path.exists():
        make_data(path, args.units, args.seed)
    generate_s = time.perf_counter() - t0
    source = f"read_parquet('{path}')"

    def ours() -> Any:
        return analyze_units(duckdb.connect(), source, defs, control="control", experiment=exp,
                             segments=["segment"])  # fmt: skip

    read = sorted({c for m in metrics for c in m.columns})
    sums = ", ".join(f"sum(CAST({c} AS DOUBLE))" for c in read)
    scan_sql = f"SELECT variant, segment, count(*), {sums} FROM {source} GROUP BY variant, segment"

    def scan() -> Any:
        return duckdb.connect().sql(scan_sql).fetchall()

    contenders: dict[str, Callable[[], Any]] = {"marketlift": ours, "scan": scan}
    tea_names: list[str] = []
    if not args.skip_tea_tasting:
        contenders["tea_tasting"], tea_names = _tea_tasting(path, metrics)
    scan()  # warm the OS page cache for every contender alike
    load_before = os.getloadavg()[0]
    timed = _interleaved(contenders, args.repeat)
    load_after = os.getloadavg()[0]
    ours_s, result = timed["marketlift"]
    scan_s = timed["scan"][0]
    kinds = [d.kind for d in defs]
    doc: dict[str, Any] = {
        "benchmark": "experiments_configured",
        "units": args.units,
        "metrics": len(defs),
        "ratios": kinds.count("ratio"),
        "quantiles": kinds.count("quantile"),
        "guardrails": len(exp.guardrails),
        "segments": SEGMENTS,
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
        "target_over_scan": 3.0,
        "decision": [d.decision for d in result.decisions],
    }
    if "tea_tasting" in timed:
        tea_s, (overall, _) = timed["tea_tasting"]
        doc["tea_tasting_s"] = round(tea_s, 4)
        doc["tea_tasting_metrics"] = len(tea_names)
        doc["marketlift_over_tea_tasting"] = round(ours_s / tea_s, 3)
        shared = [m for m in result.metrics if m.metric in tea_names]
        doc["max_rel_diff_vs_tea_tasting"] = max(
            abs(m.effect - overall[m.metric].effect_size) / abs(overall[m.metric].effect_size)
            for m in shared
        )
        # a small effect makes a relative difference large: also in units of its std. error
        doc["max_diff_over_se_vs_tea_tasting"] = max(
            abs(m.effect - overall[m.metric].effect_size) / m.se for m in shared
        )
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
