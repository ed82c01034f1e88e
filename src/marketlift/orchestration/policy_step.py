"""The policy step behind one small function: :func:`retrain_policy`.

Today it runs the best existing policy-training path (the demo's recipe: a seed ensemble of
S-learners behind uplift-greedy on the logged decisions, :func:`marketlift.policy.
logged_from_lake`) and writes a candidate file; a dedicated ``marketlift policy retrain``
(decisions from the decision log, policy versions) can replace the body of
:func:`retrain_policy` without touching the pipeline, the DAG or the KFP components.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["HOLDOUT", "candidate_path", "retrain_policy"]

HOLDOUT = 0.3
"""Share of buyers whose logged decisions are kept out of the fit, for the offline gate."""


def candidate_path(data_dir: str | os.PathLike[str], interval: str) -> Path:
    """Where the interval's candidate policy is written."""
    return Path(data_dir) / "policies" / "candidates" / f"engagement-{interval}.pkl"


def retrain_policy(
    data_dir: str | os.PathLike[str], interval: str, *, random_state: int = 0
) -> dict[str, Any]:
    """Fit the engagement policy on the logged decisions and gate it offline (DR, paired).

    Returns:
        The candidate's path, the decisions it learned from, and the gate's verdict
        (``worth_testing``, ``lift`` and its interval) on the held-out buyers' decisions.

    Raises:
        ConfigError: the data directory has no logged decisions to learn from.
    """
    import numpy as np  # noqa: PLC0415

    from marketlift.ope import LoggedBandit, gate  # noqa: PLC0415
    from marketlift.policy import (  # noqa: PLC0415
        SIM_ACTIONS,
        SIM_FEATURES,
        UpliftGreedy,
        logged_from_lake,
        save,
    )
    from marketlift.policy.uplift import EnsembleLearner, SLearner  # noqa: PLC0415

    everything = logged_from_lake(data_dir)
    rng = np.random.default_rng(random_state)
    held = (rng.random(int(everything.buyer.max()) + 1) < HOLDOUT)[everything.buyer]
    log, holdout = everything.subset(~held), everything.subset(held)
    learner = SLearner(params={"min_child_samples": 200}, random_state=random_state)
    policy = UpliftGreedy(
        EnsembleLearner(learner, n_models=3, random_state=random_state),
        scale_column=SIM_FEATURES.index("price_usd"),
        threshold=0.05,
    ).fit(log.features, log.action_names, log.revenue)
    path = candidate_path(data_dir, interval)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    save(policy, tmp)
    tmp.replace(path)
    data = LoggedBandit.build(
        actions=SIM_ACTIONS, action=holdout.action, reward=holdout.revenue,
        propensity=holdout.propensity, context=holdout.features, available=holdout.available,
        context_names=SIM_FEATURES,
    )  # fmt: skip
    verdict = gate(data, policy, estimator="dr", random_state=random_state)
    return {
        "candidate": str(path),
        "decisions": len(log),
        "holdout_decisions": len(holdout),
        "worth_testing": bool(verdict.worth_testing),
        "lift": float(verdict.lift),
        "lift_interval": [float(verdict.ci_low), float(verdict.ci_high)],
    }
