"""Off-policy estimates against the true policy value over many simulated seeds.

For each seed: a fresh world logged by the default logging policy (epsilon 0.5 around never);
estimators evaluate two target policies (``uniform`` and a learned uplift-greedy with epsilon
0.1, trained once on another seed). The truth is the expected revenue per decision of the
target policy on the logged contexts: ``mean_i sum_a pi(a|x_i) value_a(x_i)`` from the
simulator's true values (the quantity off-policy estimators target). Reported per estimator and
target: mean relative error and coverage of the 95 % analytic intervals.

Run: .venv/bin/python benchmarks/ope_accuracy.py [seeds]   (prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from marketlift.ope import LoggedBandit, evaluate, fit_reward_model, target_probabilities
from marketlift.policy import UpliftGreedy
from marketlift.policy.uplift import SLearner
from marketlift.sim import SIM_ACTIONS, SIM_FEATURES, SimConfig, simulate_logged

ESTIMATORS = ("ips", "snips", "dm", "dr", "switch_dr")


def main(seeds: int = 50, buyers: int = 30_000, days: int = 7) -> dict[str, object]:
    started = time.perf_counter()
    train = simulate_logged(SimConfig(n_buyers=60_000, n_days=days, seed=10_000))
    learned = UpliftGreedy(
        SLearner(random_state=0), epsilon=0.1, scale_column=SIM_FEATURES.index("price_usd")
    )
    learned.fit(train.features, train.action_names, train.revenue)
    targets = {"uniform": "uniform", "learned_greedy_eps0.1": learned}
    rel: dict[str, dict[str, list[float]]] = {t: {e: [] for e in ESTIMATORS} for t in targets}
    cover: dict[str, dict[str, list[bool]]] = {t: {e: [] for e in ESTIMATORS} for t in targets}
    n_rows = []
    for seed in range(seeds):
        log = simulate_logged(SimConfig(n_buyers=buyers, n_days=days, seed=seed))
        data = LoggedBandit.build(
            actions=SIM_ACTIONS,
            action=log.action,
            reward=log.revenue,
            propensity=log.propensity,
            context=log.features,
            available=log.available,
        )
        n_rows.append(len(data))
        q = fit_reward_model(data, random_state=seed)
        values = np.nan_to_num(log.true_value)
        for tname, policy in targets.items():
            target = target_probabilities(policy, data)
            assert target is not None
            truth = float((target * values).sum(axis=1).mean())
            report = evaluate(data, target, estimators=ESTIMATORS, q=q)
            for e in report.estimates:
                rel[tname][e.estimator].append(abs(e.value - truth) / truth)
                cover[tname][e.estimator].append(e.ci_low <= truth <= e.ci_high)
    return {
        "benchmark": "ope_accuracy",
        "seeds": seeds,
        "decisions_per_seed": int(np.mean(n_rows)),
        "mean_relative_error": {
            t: {e: round(float(np.mean(v)), 4) for e, v in d.items()} for t, d in rel.items()
        },
        "coverage_95": {
            t: {e: round(float(np.mean(v)), 3) for e, v in d.items()} for t, d in cover.items()
        },
        "target": {"dr_mean_relative_error": 0.10, "coverage": 0.9},
        "seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)) + "\n")
