"""Benchmark of the offline feature build on Spark local mode (the scale-out path), with the
same build on DuckDB for reference, on one lake.

Prints ONE JSON line: events, Spark seconds (session start separate), DuckDB seconds, load.

    .venv/bin/python benchmarks/features_spark.py --data DIR [--buyers N --days D]
        [--driver-memory 6g] [--cores 2]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path)
    parser.add_argument("--buyers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()

    from marketlift.features import build_features, local_spark
    from marketlift.lake import query

    data = args.data
    if data is None or not (data / "lake").exists():
        from marketlift.sim import SimConfig, simulate

        data = data or Path(tempfile.mkdtemp(prefix="features-spark-"))
        simulate(SimConfig(n_buyers=args.buyers, n_days=args.days, seed=1), data)
    events = query(data, "SELECT count(*) AS n FROM events").column("n")[0].as_py()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    spark = local_spark(memory=args.driver_memory, partitions=args.partitions, cores=args.cores)
    start_s = time.perf_counter() - started
    try:
        result = build_features(data, engine="spark", spark=spark, write=False)
    finally:
        spark.stop()
    duck = build_features(data, write=False)
    print(json.dumps({
        "benchmark": "features_spark",
        "events": events,
        "spark_session_start_seconds": round(start_s, 2),
        "spark_build_seconds": round(result.seconds, 2),
        "duckdb_build_seconds": round(duck.seconds, 2),
        "rows": {k: t.num_rows for k, t in result.tables.items()},
        "same_row_counts": {k: t.num_rows for k, t in duck.tables.items()}
        == {k: t.num_rows for k, t in result.tables.items()},
        "spark_cores": args.cores,
        "cpus": os.cpu_count(),
        "load_avg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
