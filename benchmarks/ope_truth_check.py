"""Is OPE's miss on the decision log the estimator's? DR with the fitted against the true model.

Per seed, a fresh world (20,000 buyers x 7 days by default) is written to a lake. The doubly
robust estimate of two targets (``uniform`` and the learned policy of ``ope_accuracy.py``) is
scored against the simulator's truth twice: with the cross-fitted reward model, and with the
simulator's *true* values as ``q``. If both cover the truth equally often, no reward model (no
cross-fitting, no fold count) can close the gap. Also reported: the attributed reward over the
simulator's expected revenue of the logged action (1.0 when the reward and the truth agree),
and the DR standard error clustered by buyer against the plain one.

Run: .venv/bin/python benchmarks/ope_truth_check.py [seeds] [buyers]
(prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from marketlift.ope import DR, fit_reward_model, target_probabilities
from marketlift.policy import fit_policy
from marketlift.sim import SimConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _decision_log import lake_log, true_value
from ope_accuracy import _explore


def main(seeds: int = 10, buyers: int = 20_000, days: int = 7) -> dict[str, object]:
    started = time.perf_counter()
    total, cluster_ratio = [], []
    train, _ = lake_log(SimConfig(n_buyers=60_000, n_days=days, seed=10_000))
    greedy = fit_policy(train, n_models=1, threshold=0.05)
    targets = {
        "uniform": "uniform",
        "learned_greedy_eps0.1": _explore(greedy, train.features, train.action_names, train.reward),
    }
    z: dict[str, dict[str, list[float]]] = {t: {"fitted_q": [], "true_q": []} for t in targets}
    for seed in range(seeds):
        log, values = lake_log(SimConfig(n_buyers=buyers, n_days=days, seed=seed))
        data = log.bandit()
        _, buyer = np.unique(log.buyers(), return_inverse=True)
        q_true = np.nan_to_num(values)
        total.append(data.reward.sum() / data.chosen(q_true).sum())
        q_fitted = fit_reward_model(data, random_state=seed)
        for tname, policy in targets.items():
            target = target_probabilities(policy, data)
            assert target is not None
            truth = true_value(target, values)
            for qname, q in (("fitted_q", q_fitted), ("true_q", q_true)):
                e = DR().estimate(data, target, q)
                z[tname][qname].append((e.value - truth) / e.se)
            terms, _, _ = DR().terms(data, target, q_fitted)
            by_buyer = np.bincount(buyer, weights=terms - terms.mean())
            cluster_ratio.append(
                float(np.sqrt((by_buyer**2).sum()) / (terms.std(ddof=1) * np.sqrt(len(terms))))
            )

    def summary(zs: list[float]) -> dict[str, float]:
        return {
            "coverage_95": round(float(np.mean(np.abs(zs) <= 1.96)), 3),
            "mean_z": round(float(np.mean(zs)), 2),
            "sd_z": round(float(np.std(zs, ddof=1)), 2),
        }

    return {
        "benchmark": "ope_truth_check",
        "seeds": seeds,
        "buyers": buyers,
        "reward_over_true_value": {
            "mean": round(float(np.mean(total)), 4),
            "se": round(float(np.std(total, ddof=1) / np.sqrt(seeds)), 4),
        },
        "dr_se_clustered_by_buyer_over_plain": round(float(np.mean(cluster_ratio)), 3),
        "dr_z_of_truth": {t: {k: summary(v) for k, v in d.items()} for t, d in z.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(*(int(a) for a in sys.argv[1:3]))) + "\n")
