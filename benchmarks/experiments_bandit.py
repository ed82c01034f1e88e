"""Bandit experiment on simulated traffic with a known truth: regret and IPW interval coverage.

Three arms convert with known rates (control 10%, 11%, 13%). Traffic comes in ``--batches``
batches of ``--batch`` units; before each batch :class:`ThompsonAllocator` (floor 5%, burn-in
200 units per arm) recomputes the shares from the outcomes so far, each unit draws its arm
from the shares and its propensity is logged. After the last batch :func:`ipw_effects`
estimates each arm's effect against control from the logged propensities.

Figures over ``--runs`` runs (median where a figure is per run):

- ``regret``: expected conversions lost against always serving the best arm, per run, for the
  bandit and, side by side, for a uniform A/B/C split of the same traffic;
- ``coverage``: share of 95% IPW intervals covering the true effect (target >= 0.9), and for
  contrast the coverage of naive (unweighted) Welch intervals on the same runs.

Prints ONE JSON line.

    .venv/bin/python benchmarks/experiments_bandit.py [--runs 200] [--batches 10] [--batch 2000]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from typing import Any

RATES = {"control": 0.10, "b": 0.11, "c": 0.13}


def one_run(seed: int, *, batches: int, batch: int) -> dict[str, Any]:
    """One bandit experiment: regret and whether each interval covers the truth."""
    import numpy as np

    from marketlift.experiments.bandit import ThompsonAllocator, ipw_effects

    rng = np.random.default_rng(seed)
    arms = list(RATES)
    alloc = ThompsonAllocator(arms, floor=0.05, burn_in=200, random_state=seed)
    rates = np.array([RATES[a] for a in arms])
    sums, counts = np.zeros(len(arms)), np.zeros(len(arms))
    got, props, ys = [], [], []
    for _ in range(batches):
        shares = alloc.shares({a: (sums[i], counts[i]) for i, a in enumerate(arms)})
        p = np.array([shares[a] for a in arms])
        idx = rng.choice(len(arms), batch, p=p)
        y = (rng.random(batch) < rates[idx]).astype(float)
        np.add.at(sums, idx, y)
        np.add.at(counts, idx, 1.0)
        got.append(idx)
        props.append(p[idx])
        ys.append(y)
    idx, prop, y = np.concatenate(got), np.concatenate(props), np.concatenate(ys)
    names = np.array(arms)[idx]
    effects = ipw_effects(names, prop, y, control="control")
    regret = float((rates.max() - rates[idx]).sum())
    uniform_regret = float((rates.max() - rates.mean()) * len(idx))
    covered, naive = [], []
    for e in effects:
        truth = RATES[e.arm] - RATES["control"]
        covered.append(e.lower <= truth <= e.upper)
        yt, yc = y[names == e.arm], y[names == "control"]
        diff = yt.mean() - yc.mean()
        se = math.sqrt(yt.var(ddof=1) / len(yt) + yc.var(ddof=1) / len(yc))
        naive.append(abs(diff - truth) <= 1.959964 * se)
    return {"regret": regret, "uniform_regret": uniform_regret, "covered": covered,
            "naive": naive, "best_share": float((idx == rates.argmax()).mean())}  # fmt: skip


def bandit(runs: int, batches: int, batch: int, seed: int) -> dict[str, Any]:
    """Aggregate figures over ``runs`` simulated bandit experiments."""
    results = [one_run(seed + r, batches=batches, batch=batch) for r in range(runs)]
    covered = [c for r in results for c in r["covered"]]
    naive = [c for r in results for c in r["naive"]]
    regret = statistics.median(r["regret"] for r in results)
    uniform = statistics.median(r["uniform_regret"] for r in results)
    return {
        "runs": runs,
        "units_per_run": batches * batch,
        "batches": batches,
        "rates": RATES,
        "regret_median": regret,
        "uniform_regret_median": uniform,
        "regret_ratio_vs_uniform": regret / uniform,
        "best_arm_share_median": statistics.median(r["best_share"] for r in results),
        "ipw_coverage": sum(covered) / len(covered),
        "naive_coverage": sum(naive) / len(naive),
        "intervals": len(covered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    out = bandit(args.runs, args.batches, args.batch, args.seed)
    out |= {"benchmark": "experiments_bandit", "target_coverage": 0.9, "seed": args.seed,
            "seconds": round(time.perf_counter() - start, 2)}  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()
