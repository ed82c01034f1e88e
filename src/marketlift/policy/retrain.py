"""One retraining step: fit on the decision log, gate against the logging policy, register.

:func:`retrain` splits the log by buyer (a held-out share the fit never sees), fits the policy
(:func:`~marketlift.policy.train.fit_policy`), estimates its value and its lift over the
logging policy on the held-out decisions (DR, with intervals:
:func:`marketlift.ope.evaluate`, :func:`marketlift.ope.gate`) and registers it with that
result (:func:`~marketlift.policy.registry.register_policy`). Promotion is the caller's
choice (``marketlift policy retrain`` promotes when the gate passes).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from marketlift.errors import ConfigError
from marketlift.policy.decision_log import DecisionLog
from marketlift.policy.registry import register_policy
from marketlift.policy.train import fit_policy

__all__ = ["holdout_split", "retrain"]


def holdout_split(log: DecisionLog, share: float, random_state: int) -> np.ndarray:
    """``True`` for the decisions of a random ``share`` of buyers (kept out of the fit)."""
    if not 0.0 < share < 1.0:
        raise ConfigError("holdout", share, "a share in (0, 1)")
    buyers, inverse = np.unique(log.buyers().astype(str), return_inverse=True)
    held = np.random.default_rng(random_state).random(len(buyers)) < share
    return np.asarray(held[inverse], dtype=bool)


def retrain(
    data_dir: str | os.PathLike[str],
    log: DecisionLog,
    *,
    holdout: float = 0.3,
    min_lift: float = 0.0,
    n_models: int = 3,
    threshold: float = 0.05,
    random_state: int = 0,
) -> dict[str, Any]:
    """Fit, evaluate on held-out buyers, register; returns version, OPE, gate, flags, log."""
    from marketlift.ope import evaluate, fit_reward_model, gate  # noqa: PLC0415

    held = holdout_split(log, holdout, random_state)
    if held.all() or not held.any():
        raise ConfigError("holdout", holdout, "a share that leaves buyers on both sides")
    train, test = log.subset(~held), log.subset(held)
    policy = fit_policy(train, n_models=n_models, threshold=threshold, random_state=random_state)
    data = test.bandit()
    q = fit_reward_model(data, random_state=random_state)
    report = evaluate(data, policy, estimators=("ips", "snips", "dr"), q=q)
    verdict = gate(data, policy, estimator="dr", q=q, min_lift=min_lift)
    dr = report.get("dr")
    ope = {
        "decisions": len(test),
        "estimator": "dr",
        "value": dr.value,
        "interval": [dr.ci_low, dr.ci_high],
        "logging_value": report.logged_value,
        "flags": list(dr.flags),
    }
    gate_doc = {
        "worth_testing": verdict.worth_testing,
        "lift": verdict.lift,
        "interval": [verdict.ci_low, verdict.ci_high],
        "min_lift": min_lift,
        "reason": verdict.reason,
    }
    version = register_policy(data_dir, policy, log.catalog, ope=ope, gate=gate_doc)
    return {
        "version": version.version,
        "decisions": len(train),
        "ope": ope,
        "gate": gate_doc,
        "flags": list(log.flags),
        "log": log,
    }
