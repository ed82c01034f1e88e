"""Learned policy value on the simulator, as a fraction of the oracle's gain over never-nudge.

Train: 100,000 buyers x 7 days logged by the default logging policy (epsilon 0.5 around
never); a seed ensemble of 5 S-learners (LightGBM, ``min_child_samples=200``) on revenue per
dollar of price (``scale_column``) behind uplift-greedy acting when net uplift exceeds 5 cents
(``uplift_greedy_s5``). The regularization and threshold were picked on evaluation seeds 1-3
from a small grid; the figures here use fresh
worlds (seeds 4, 5, 6), each with common random numbers, via
:func:`marketlift.sim.evaluate_policies`. Fractions are of the oracle's gain over never-nudge.

The same training run is also written to a lake by :func:`marketlift.sim.simulate` (same seed,
same decisions) and a second policy is learned **from the lake's decision log alone**
(:func:`marketlift.policy.read_decision_log` and :func:`marketlift.policy.fit_policy`: events
and the catalog the simulator ships; the catalog's features, no hidden price sensitivity):
``decision_log_s5``, evaluated in the same worlds (on the features the online store has,
:func:`marketlift.sim.features.online_features`). ``decision_log_vs_sim_features`` is its
fraction over that of ``uplift_greedy_s5`` (trained on the simulator's features, with the
hidden trait), side by side in this run; target: the decision-log fraction >= 0.80.

Run: .venv/bin/python benchmarks/policy_value.py [train_buyers]   (prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from marketlift.policy import EpsilonGreedyPolicy, SoftmaxPolicy, UpliftGreedy, fit_policy
from marketlift.policy.uplift import EnsembleLearner, SLearner, TLearner
from marketlift.sim import SIM_FEATURES, SimConfig, evaluate_policies, simulate_logged

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _decision_log import lake_log


def main(
    train_buyers: int = 100_000,
    eval_buyers: int = 20_000,
    days: int = 7,
    eval_seeds: tuple[int, ...] = (4, 5, 6),
) -> dict[str, object]:
    started = time.perf_counter()
    train_config = SimConfig(n_buyers=train_buyers, n_days=days, seed=100)
    log = simulate_logged(train_config)
    lake, _ = lake_log(train_config)
    from_log = fit_policy(lake, n_models=5, threshold=0.05, min_child_samples=200)
    X, t, y = log.features, log.action_names, log.revenue  # noqa: N806
    price = SIM_FEATURES.index("price_usd")
    regularized = SLearner(params={"min_child_samples": 200}, random_state=0)
    s = UpliftGreedy(
        EnsembleLearner(regularized, n_models=5), scale_column=price, threshold=0.05
    ).fit(X, t, y)
    policies: dict[str, object] = {
        "never": "never",
        "always": "always",
        "random": "random",
        "logging": "logging",
        "oracle": "oracle",
        "uplift_greedy_s5": s,
        "decision_log_s5": from_log,
        "uplift_greedy_s_single": UpliftGreedy(regularized, scale_column=price, threshold=0.05).fit(
            X, t, y
        ),
        "uplift_greedy_s_defaults": UpliftGreedy(SLearner(random_state=0), scale_column=price).fit(
            X, t, y
        ),
        "uplift_greedy_t": UpliftGreedy(
            TLearner(random_state=0), scale_column=price, threshold=0.05
        ).fit(X, t, y),
        "epsilon_greedy_s_0.05": EpsilonGreedyPolicy(
            s.learner_, prefit=True, epsilon=0.05, scale_column=price
        ).fit(X, t, y),
        "softmax_s_T0.02": SoftmaxPolicy(
            s.learner_, prefit=True, temperature=0.02, scale_column=price
        ).fit(X, t, y),
    }
    fractions: dict[str, list[float]] = {k: [] for k in policies}
    revenue: dict[str, list[float]] = {k: [] for k in policies}
    for seed in eval_seeds:
        values = evaluate_policies(
            SimConfig(n_buyers=eval_buyers, n_days=days, seed=seed), policies
        )  # type: ignore[arg-type]
        never = values["never"].expected_revenue_per_buyer
        gain = values["oracle"].expected_revenue_per_buyer - never
        for k, v in values.items():
            fractions[k].append((v.expected_revenue_per_buyer - never) / gain)
            revenue[k].append(v.expected_revenue_per_buyer)
    mean = {k: float(np.mean(v)) for k, v in fractions.items()}
    return {
        "benchmark": "policy_value",
        "train_decisions": len(log),
        "train_decisions_decision_log": len(lake),
        "decision_log_fraction": round(mean["decision_log_s5"], 3),
        "sim_features_fraction": round(mean["uplift_greedy_s5"], 3),
        "decision_log_vs_sim_features": round(
            mean["decision_log_s5"] / mean["uplift_greedy_s5"], 3
        ),
        "eval_seeds": list(eval_seeds),
        "fraction_of_oracle_gain_mean": {
            k: round(float(np.mean(v)), 3) for k, v in fractions.items()
        },
        "fraction_of_oracle_gain_per_seed": {
            k: [round(x, 3) for x in v] for k, v in fractions.items()
        },
        "revenue_per_buyer_usd_mean": {k: round(float(np.mean(v)), 4) for k, v in revenue.items()},
        "target": {"uplift_greedy_s5": 0.85, "decision_log_s5": 0.80},
        "seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(*(int(a) for a in sys.argv[1:2]))) + "\n")
