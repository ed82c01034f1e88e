"""Uplift quality against the simulator's true effects: ours (S, T, X, DR) vs scikit-uplift.

Train on a logged world (epsilon 0.5 around never), test on another seed. Outcome: purchase
(binary). For every action (treatment) against ``none``, on the test decisions where the action
was available:

- ``corr``: correlation of predicted with true effect (true purchase probability under the
  action minus under none, from the simulator);
- ``qini``: normalized Qini coefficient on the logged test outcomes (rows that took the action
  or none), scikit-uplift's definition (noisy: purchases are rare);
- ``true_qini``: the same area computed on the true effects (noise-free): cumulative true
  effect of targeting the top ranked by prediction, above random targeting, as a share of the
  perfect ranking's.

Ours fit one multi-treatment model; the scikit-uplift peers (``SoloModel``, ``TwoModels``,
``ClassTransformation``) fit one binary-treatment model per action, on the same LightGBM base
classifier and parameters. Reported: the mean over actions.

Run: .venv/bin/python benchmarks/uplift_quality.py   (prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from typing import Any

import numpy as np

from marketlift.policy.uplift import LEARNERS, qini_coefficient
from marketlift.policy.uplift._base import make_classifier
from marketlift.sim import SIM_ACTIONS, SimConfig, simulate_logged


def _peers() -> dict[str, Any]:
    from sklift.models import ClassTransformation, SoloModel, TwoModels

    return {
        "sklift_solo": lambda: SoloModel(make_classifier(None, 0)),
        "sklift_two_models": lambda: TwoModels(make_classifier(None, 0), make_classifier(None, 1)),
        "sklift_class_transformation": lambda: ClassTransformation(make_classifier(None, 0)),
    }


def _true_qini(pred: np.ndarray, true_effect: np.ndarray) -> float:
    def area(order: np.ndarray) -> float:
        cum = np.cumsum(true_effect[order])
        return float(cum.sum() - cum[-1] * (len(cum) + 1) / 2)

    return area(np.argsort(-pred, kind="stable")) / area(np.argsort(-true_effect, kind="stable"))


def main(
    train_buyers: int = 40_000, test_buyers: int = 100_000, days: int = 7
) -> dict[str, object]:
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    train = simulate_logged(SimConfig(n_buyers=train_buyers, n_days=days, seed=100))
    test = simulate_logged(SimConfig(n_buyers=test_buyers, n_days=days, seed=1))
    y_train = train.converted.astype(float)
    y_test = test.converted.astype(float)
    preds: dict[str, dict[str, np.ndarray]] = {}
    seconds: dict[str, float] = {}
    for name, cls in LEARNERS.items():
        t0 = time.perf_counter()
        model = cls(random_state=0).fit(train.features, train.action_names, y_train)
        eff = model.predict(test.features)
        preds[f"marketlift_{name}"] = {a: eff[:, j] for j, a in enumerate(model.treatments_)}
        seconds[f"marketlift_{name}"] = round(time.perf_counter() - t0, 1)
    for name, make in _peers().items():
        t0 = time.perf_counter()
        preds[name] = {}
        for k, action in enumerate(SIM_ACTIONS[1:], start=1):
            rows = train.available[:, k] & ((train.action == k) | (train.action == 0))
            model = make().fit(
                train.features[rows], y_train[rows], (train.action[rows] == k).astype(int)
            )
            preds[name][action] = np.asarray(model.predict(test.features))
        seconds[name] = round(time.perf_counter() - t0, 1)
    result: dict[str, dict[str, float]] = {}
    for name, by_action in preds.items():
        corrs, qinis, true_qinis = [], [], []
        for k, action in enumerate(SIM_ACTIONS[1:], start=1):
            ok = test.available[:, k]
            true_eff = test.true_probability[ok, k] - test.true_probability[ok, 0]
            pred = by_action[action][ok]
            corrs.append(float(np.corrcoef(pred, true_eff)[0, 1]) if pred.std() > 0 else 0.0)
            true_qinis.append(_true_qini(pred, true_eff))
            rows = ok & ((test.action == k) | (test.action == 0))
            qinis.append(
                qini_coefficient(
                    y_test[rows], by_action[action][rows], (test.action[rows] == k).astype(int)
                )
            )
        result[name] = {
            "corr_with_true_effect": round(float(np.mean(corrs)), 4),
            "qini": round(float(np.mean(qinis)), 4),
            "true_qini": round(float(np.mean(true_qinis)), 4),
            "seconds": seconds[name],
        }
    best = {
        metric: {
            side: max(v[metric] for k, v in result.items() if k.startswith(prefix))
            for side, prefix in (("ours", "marketlift"), ("peers", "sklift"))
        }
        for metric in ("corr_with_true_effect", "qini", "true_qini")
    }
    return {
        "benchmark": "uplift_quality",
        "outcome": "purchase",
        "train_decisions": len(train),
        "test_decisions": len(test),
        "models": result,
        "best": best,
        "seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main()) + "\n")
