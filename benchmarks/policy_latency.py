"""Decision time per request for policies over 8 actions (p50, p99 in microseconds).

- ``linucb``: :meth:`LinUCB.decide` from the feature vector (8 features, 8 actions).
- ``epsilon_greedy_scores``: :meth:`EpsilonGreedyPolicy.decide_scores` from precomputed net
  uplift scores (the hot path: scores are computed in batch and stored).
- ``softmax_scores``: the same for softmax.
- ``uplift_scoring_batch_per_row``: the batch cost of computing those scores with LightGBM.
- ``epsilon_greedy_lightgbm_single_row``: scoring one row through LightGBM at request time
  (for comparison: why scores are precomputed).

Run: .venv/bin/python benchmarks/policy_latency.py   (prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import numpy as np

from marketlift.policy import EpsilonGreedyPolicy, LinUCB, SoftmaxPolicy
from marketlift.policy.uplift import SLearner


def _percentiles(fn: Callable[[int], object], n: int) -> dict[str, float]:
    for i in range(min(n, 1000)):  # warm up
        fn(i)
    ts = np.empty(n)
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        fn(i)
        ts[i] = clock() - t0
    p50, p99 = np.percentile(ts, [50, 99]) / 1000.0
    return {"p50_us": round(float(p50), 2), "p99_us": round(float(p99), 2), "n": n}


def main(n: int = 50_000) -> dict[str, object]:
    rng = np.random.default_rng(0)
    actions = ["none"] + [f"action_{i}" for i in range(7)]
    X = rng.normal(size=(5000, 8))  # noqa: N806
    a = rng.choice(actions, 5000)
    r = rng.normal(size=5000) + (a == "action_3") * X[:, 0]
    xs = rng.normal(size=(n, 8))
    us = rng.random(n)
    linucb = LinUCB(actions=actions, alpha=0.5, epsilon=0.05).fit(X, a, r)
    eps = EpsilonGreedyPolicy(SLearner(random_state=0), epsilon=0.05).fit(X, a, r)
    soft = SoftmaxPolicy(eps.learner_, prefit=True, temperature=0.5).fit(X, a, r)
    t0 = time.perf_counter()
    scores = eps.scores(xs)
    batch_per_row = (time.perf_counter() - t0) / n * 1e6
    out: dict[str, object] = {"benchmark": "policy_latency", "actions": len(actions)}
    out["linucb"] = _percentiles(lambda i: linucb.decide(xs[i], None, us[i]), n)
    out["epsilon_greedy_scores"] = _percentiles(
        lambda i: eps.decide_scores(scores[i], None, us[i]), n
    )
    out["softmax_scores"] = _percentiles(lambda i: soft.decide_scores(scores[i], None, us[i]), n)
    out["uplift_scoring_batch_per_row_us"] = round(batch_per_row, 2)
    out["epsilon_greedy_lightgbm_single_row"] = _percentiles(
        lambda i: eps.decide(xs[i], None, us[i]), 500
    )
    out["target_p99_us"] = 50
    return out


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main()) + "\n")
