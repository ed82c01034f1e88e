"""Scoring latency of 100 and 500 candidates with 40 features: our serving path vs raw.

A lambdarank model (default 300 trees of 31 leaves, 40 features, 8 % missing values) is
compiled with lleaves. For each batch size we time, interleaved round-robin over the same
inputs, single-threaded:

- ``lightgbm``: ``Booster.predict(X, num_threads=1)`` (the baseline to beat, not the path);
- ``raw_compiled``: lleaves' own ``Model.predict(X, n_jobs=1)``;
- ``serving``: :class:`marketlift.models.compiled.ServingPredictor` (preallocated buffers,
  cached pointers, lock), what :class:`marketlift.models.serving.RankerService` calls.

Prints ONE JSON line with p50/p99 in microseconds and ``serving / raw_compiled`` ratios.

    .venv/bin/python benchmarks/models_latency.py [--trees 300] [--repeats 2000]
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
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--leaves", type=int, default=31)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import lightgbm as lgb
    import numpy as np

    from marketlift.models.compiled import CompiledRaw, ServingPredictor, compile_model

    rng = np.random.default_rng(args.seed)
    n, d = 20_000, args.features
    X = rng.normal(size=(n, d))  # noqa: N806
    X[rng.random(X.shape) < 0.08] = np.nan
    y = (np.nan_to_num(X[:, 0] + 0.5 * X[:, 1] * X[:, 2]) + rng.normal(size=n) > 1).astype(int)
    params = {"objective": "lambdarank", "num_leaves": args.leaves, "num_threads": 1,
              "verbose": -1, "seed": args.seed}  # fmt: skip
    booster = lgb.train(params, lgb.Dataset(X, y, group=[100] * (n // 100)), args.trees)
    folder = Path(tempfile.mkdtemp(prefix="ml-latency-"))
    booster.save_model(folder / "model.txt")
    t = time.perf_counter()
    compile_model(folder / "model.txt", folder / "model.compiled")
    compile_s = time.perf_counter() - t
    raw = CompiledRaw(folder / "model.txt", folder / "model.compiled")
    serving = ServingPredictor(raw, max_rows=1024)
    out: dict[str, object] = {"benchmark": "models_latency", "trees": args.trees,
                              "leaves": args.leaves, "features": d, "repeats": args.repeats,
                              "compile_s": round(compile_s, 1), "cpus": os.cpu_count(),
                              "load1": round(os.getloadavg()[0], 2)}  # fmt: skip
    for batch in (100, 500):
        rows = [np.ascontiguousarray(X[rng.integers(0, n - batch) :][:batch]) for _ in range(16)]
        ref = booster.predict(rows[0], num_threads=1)
        max_diff = float(np.max(np.abs(serving.predict(rows[0]) - ref)))
        paths = {
            "lightgbm": lambda a: booster.predict(a, num_threads=1),
            "raw_compiled": raw.predict,
            "serving": serving.predict,
        }
        times: dict[str, list[float]] = {k: [] for k in paths}
        for i in range(args.repeats):
            a = rows[i % len(rows)]
            for name, fn in paths.items():  # interleaved, so load spikes hit all paths alike
                t0 = time.perf_counter_ns()
                fn(a)
                times[name].append((time.perf_counter_ns() - t0) / 1000)
        stats = {name: {"p50_us": round(float(np.percentile(v, 50)), 1),
                        "p99_us": round(float(np.percentile(v, 99)), 1)}
                 for name, v in times.items()}  # fmt: skip
        out[f"candidates_{batch}"] = stats | {
            "serving_over_raw_p50": round(stats["serving"]["p50_us"]
                                          / stats["raw_compiled"]["p50_us"], 3),
            "serving_over_raw_p99": round(stats["serving"]["p99_us"]
                                          / stats["raw_compiled"]["p99_us"], 3),
            "lightgbm_over_serving_p50": round(stats["lightgbm"]["p50_us"]
                                               / stats["serving"]["p50_us"], 2),
            "max_abs_diff_vs_lightgbm": max_diff,
        }  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()
