"""False "ship" rate of the guardrail decision on simulated experiments with a known truth.

Each run is an experiment whose goal (conversion, 10% -> 11%) truly improves and whose
guardrail (dismissals per unit, Poisson, lower is better) is truly harmed by exactly its
tolerance times ``--harm`` (1.0: on the margin, the hardest case; above 1: beyond it). The
decision (:func:`marketlift.experiments.decision.decide`, on the always-valid intervals of
:func:`~marketlift.experiments.analysis.analyze_moments`) is taken at ``--looks`` evenly
spaced looks, and the run counts as a false ship when ANY look says ``ship`` (a team that
peeks daily). The same runs with a harmless guardrail give the ship rate (the power).

Prints ONE JSON line: runs, looks, false_ship_rate (target <= 0.05), its 95% Wilson upper
bound, and ship_rate_when_harmless.

    .venv/bin/python benchmarks/experiments_false_ship.py [--runs 1000] [--looks 10] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

TOLERANCE = 0.02


def _cumulative_moments(columns: dict[str, Any], ends: list[int]) -> list[Any]:
    """Moments of the first ``k`` units for each ``k`` of ``ends`` (cumulative sums, NumPy)."""
    import numpy as np

    from marketlift.experiments.stats import Moments, pair_key

    names = tuple(columns)
    keys = tuple(sorted({pair_key(a, b) for a in names for b in names}))
    idx = np.asarray(ends) - 1
    sums = [np.cumsum(columns[c])[idx] for c in names]
    cross = [np.cumsum(columns[a] * columns[b])[idx] for a, b in keys]
    return [
        Moments(k, names, tuple(float(s[i]) for s in sums), keys,
                tuple(float(c[i]) for c in cross))
        for i, k in enumerate(ends)
    ]  # fmt: skip


def one_run(rng: Any, *, units: int, looks: int, harm: float) -> bool:
    """Whether any look of one simulated experiment decides to ship."""
    from marketlift.experiments.analysis import analyze_moments
    from marketlift.experiments.config import Guardrail
    from marketlift.experiments.decision import decide
    from marketlift.experiments.metrics import Metric

    arms = {}
    for name, conv, rate in (
        ("control", 0.10, 1.0),
        ("treatment", 0.11, 1.0 * (1 + harm * TOLERANCE)),
    ):
        arms[name] = {
            "converted": (rng.random(units) < conv).astype(float),
            "dismissals": rng.poisson(rate, units).astype(float),
        }
    metrics = [Metric("conversion", "converted"), Metric("dismissals", "dismissals")]
    ends = [units * look // looks for look in range(1, looks + 1)]
    series = {a: _cumulative_moments(cols, ends) for a, cols in arms.items()}
    for look in range(looks):
        result = analyze_moments(
            {a: m[look] for a, m in series.items()},
            metrics,
            control="control",
            tuning_n=2 * units,
        )
        (d,) = decide(
            result.metrics,
            goals=["conversion"],
            guardrails=[Guardrail("dismissals", TOLERANCE)],
            directions={"dismissals": "lower"},
            srm=result.srm.mismatch,
        )
        if d.decision == "ship":
            return True
        if d.decision == "dont_ship":
            return False
    return False


def wilson_upper(k: int, n: int, z: float = 1.959964) -> float:
    """Upper bound of the Wilson score interval of a proportion ``k / n``."""
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + half) / (1 + z * z / n)


def false_ship(
    runs: int, looks: int, seed: int, *, units: int = 20_000, harm: float = 1.0
) -> dict[str, Any]:
    """Rates of ship decisions with the guardrail harmed by ``harm`` x tolerance and harmless."""
    import numpy as np

    rng = np.random.default_rng(seed)
    shipped = sum(one_run(rng, units=units, looks=looks, harm=harm) for _ in range(runs))
    harmless = sum(one_run(rng, units=units, looks=looks, harm=-1.0) for _ in range(runs))
    return {
        "runs": runs,
        "looks": looks,
        "units_per_arm": units,
        "tolerance": TOLERANCE,
        "true_harm_over_tolerance": harm,
        "false_ship_rate": shipped / runs,
        "false_ship_upper95": wilson_upper(shipped, runs),
        "ship_rate_when_harmless": harmless / runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--looks", type=int, default=10)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--harm", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    out = false_ship(args.runs, args.looks, args.seed, units=args.units, harm=args.harm)
    out |= {
        "benchmark": "experiments_false_ship",
        "target_false_ship": 0.05,
        "seed": args.seed,
        "seconds": round(time.perf_counter() - start, 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
