"""The as-of join's cost in the feature build: a versioned catalog beside the static one.

One simulated lake; its catalog gets a second version for every fifth listing in the middle of
the simulated days. The offline build (``compute_features``) and the ranking training set are
computed on DuckDB with the catalog's versions (``feature_versions``: each row joins the
version live at its cut-off) and, side by side in the same run, with the current versions only
(``feature_table``, no validity columns: the build as it was). Medians of ``--repeats`` runs,
each on a fresh engine. Prints ONE JSON line with both times and the ratio.

    .venv/bin/python benchmarks/catalog_asof.py [--buyers 5000] [--days 7] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time

import pyarrow as pa

from marketlift.catalog import CatalogStore, feature_table, feature_versions
from marketlift.features import compute_features, compute_training_set, make_engine
from marketlift.sim import SimConfig, simulate


def _plant(data: str, config: SimConfig) -> int:
    current = feature_table(data)
    assert current is not None
    ids = current.column("listing_id").to_pylist()[::5]
    middle = dt.datetime.combine(config.start, dt.time(12), tzinfo=dt.UTC) + dt.timedelta(
        days=config.n_days // 2
    )
    raw = pa.table({
        "listing_id": ids, "title": ["changed"] * len(ids), "category": ["changed"] * len(ids),
        "price": ["12.34"] * len(ids), "currency": ["USD"] * len(ids),
        "updated_at": [middle.isoformat()] * len(ids),
    })  # fmt: skip
    return CatalogStore(data).write_raw(raw, source="bench").accepted


def _timed(data: str, catalog: pa.Table) -> float:
    engine = make_engine("duckdb", data)
    try:
        started = time.perf_counter()
        compute_features(engine, catalog=catalog)
        compute_training_set(engine, "ranking", catalog=catalog)
        return time.perf_counter() - started
    finally:
        engine.close()


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = SimConfig(n_buyers=args.buyers, n_days=args.days, seed=args.seed)
    data = tempfile.mkdtemp(prefix="ml-asof-")
    simulate(config, data)
    planted = _plant(data, config)
    versions, static = feature_versions(data), feature_table(data)
    assert versions is not None
    assert static is not None
    with_asof, without = [], []
    for _ in range(args.repeats):
        with_asof.append(_timed(data, versions))
        without.append(_timed(data, static))
    a, b = statistics.median(with_asof), statistics.median(without)
    print(json.dumps({
        "benchmark": "catalog_asof", "buyers": args.buyers, "days": args.days,
        "repeats": args.repeats, "listings": static.num_rows, "versions": versions.num_rows,
        "changed_listings": planted,
        "what": "compute_features + ranking training set, DuckDB",
        "asof_s": round(a, 3), "baseline": "static catalog (current versions), same run",
        "baseline_s": round(b, 3), "asof_vs_baseline": round(a / b, 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
