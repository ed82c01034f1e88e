"""Off-policy estimates from the lake's decision log against the true policy value, many seeds.

For each seed: a fresh world logged by the default logging policy (epsilon 0.5 around never)
is written to a lake by :func:`marketlift.sim.simulate`; the estimators see only the lake's
decision log (:func:`marketlift.policy.read_decision_log`: logged propensities and eligible
sets, revenue attributed in each channel's window, the catalog's features point-in-time).
They evaluate two target policies (``uniform`` and a policy learned from the decision log of
another seed, uplift-greedy with epsilon 0.1). The truth is the target's expected revenue per
decision on the logged contexts, ``mean_i sum_a pi(a|x_i) value_a(x_i)``, from the
simulator's true values by decision id (the quantity off-policy estimators target). Reported
per estimator and target: mean relative error and coverage of the 95 % analytic intervals.
``--source sim`` runs the former version on the simulator's in-memory log (its features).

Run: .venv/bin/python benchmarks/ope_accuracy.py [seeds] [buyers] [--source sim]
(prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from marketlift.ope import LoggedBandit, evaluate, fit_reward_model, target_probabilities
from marketlift.policy import UpliftGreedy, fit_policy
from marketlift.policy.uplift import SLearner
from marketlift.sim import SIM_ACTIONS, SIM_FEATURES, SimConfig, simulate_logged

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _decision_log import lake_log, true_value

ESTIMATORS = ("ips", "snips", "dm", "dr", "switch_dr")


def _explore(policy: Any, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> Any:  # noqa: N803
    """The learned policy with epsilon 0.1 (so every target keeps some exploration)."""
    out = UpliftGreedy(policy.learner_, prefit=True, epsilon=0.1, threshold=policy.threshold)
    out.fit(X, t, y)
    out.feature_names_ = list(policy.feature_names_)
    return out


def _seed_lake(seed: int, buyers: int, days: int) -> tuple[LoggedBandit, np.ndarray]:
    log, values = lake_log(SimConfig(n_buyers=buyers, n_days=days, seed=seed))
    return log.bandit(), values


def _seed_sim(seed: int, buyers: int, days: int) -> tuple[LoggedBandit, np.ndarray]:
    log = simulate_logged(SimConfig(n_buyers=buyers, n_days=days, seed=seed))
    data = LoggedBandit.build(
        actions=SIM_ACTIONS,
        action=log.action,
        reward=log.revenue,
        propensity=log.propensity,
        context=log.features,
        available=log.available,
    )
    return data, log.true_value


def main(
    seeds: int = 30, buyers: int = 20_000, days: int = 7, source: str = "lake"
) -> dict[str, object]:
    started = time.perf_counter()
    if source == "lake":
        train, _ = lake_log(SimConfig(n_buyers=60_000, n_days=days, seed=10_000))
        greedy = fit_policy(train, n_models=1, threshold=0.05)
        learned = _explore(greedy, train.features, train.action_names, train.reward)
        per_seed = _seed_lake
    else:
        sim_train = simulate_logged(SimConfig(n_buyers=60_000, n_days=days, seed=10_000))
        learned = UpliftGreedy(
            SLearner(random_state=0), epsilon=0.1, scale_column=SIM_FEATURES.index("price_usd")
        )
        learned.fit(sim_train.features, sim_train.action_names, sim_train.revenue)
        per_seed = _seed_sim
    targets = {"uniform": "uniform", "learned_greedy_eps0.1": learned}
    rel: dict[str, dict[str, list[float]]] = {t: {e: [] for e in ESTIMATORS} for t in targets}
    cover: dict[str, dict[str, list[bool]]] = {t: {e: [] for e in ESTIMATORS} for t in targets}
    n_rows = []
    for seed in range(seeds):
        data, values = per_seed(seed, buyers, days)
        n_rows.append(len(data))
        q = fit_reward_model(data, random_state=seed)
        for tname, policy in targets.items():
            target = target_probabilities(policy, data)
            assert target is not None
            truth = true_value(target, values)
            report = evaluate(data, target, estimators=ESTIMATORS, q=q)
            for e in report.estimates:
                rel[tname][e.estimator].append(abs(e.value - truth) / truth)
                cover[tname][e.estimator].append(e.ci_low <= truth <= e.ci_high)
    return {
        "benchmark": "ope_accuracy",
        "source": "decision log (lake)" if source == "lake" else "simulator in memory",
        "seeds": seeds,
        "buyers": buyers,
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
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    src = "sim" if "--source" in sys.argv and sys.argv[-1] == "sim" else "lake"
    args = [a for a in args if a != "sim"]
    sys.stdout.write(json.dumps(main(*(int(a) for a in args[:2]), source=src)) + "\n")
