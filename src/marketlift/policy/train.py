"""Fit an engagement policy on the decision log, and a uniform explorer for a new catalog.

:func:`fit_policy` is what ``marketlift policy train --data DIR`` runs: a seed ensemble of
S-learners (LightGBM) on the log's revenue net of cost, behind uplift-greedy. The fitted
policy carries what serving and the registry check: ``feature_names_`` (the catalog's policy
features), ``catalog_digest_`` and ``training_range_``.

:class:`UniformExplorer` gives every eligible action the same probability: the logging policy
of a catalog with no log yet (a new action is served, logged and then learned from).

Example:
    >>> from marketlift.policy.catalog import loads
    >>> cat = loads('''
    ... [channels.onsite]
    ... [[moments]]
    ... id = "browsing"
    ... surfaces = ["home"]
    ... [[actions]]
    ... id = "banner"
    ... channel = "onsite"
    ... moments = ["browsing"]
    ... ''')
    >>> explorer = UniformExplorer().fit(cat)
    >>> explorer.decide([1.0], u=0.7)
    Decision(action='banner', propensity=0.5, scores=None, probabilities=array([0.5, 0.5]))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy.base import BasePolicy, Decision, FloatArray
from marketlift.policy.catalog import EngagementCatalog
from marketlift.policy.context import policy_feature_names
from marketlift.policy.decision_log import DecisionLog

__all__ = ["UniformExplorer", "fit_policy"]


class UniformExplorer(BasePolicy):
    """Every eligible action with the same probability (``none`` included).

    Args:
        none_weight: Weight of ``none`` relative to one action (1: uniform).
    """

    def __init__(self, none_weight: float = 1.0) -> None:
        self.none_weight = none_weight

    def fit(self, catalog: EngagementCatalog) -> UniformExplorer:
        """Take the catalog's actions and features."""
        if not self.none_weight > 0:
            raise ConfigError("none_weight", self.none_weight, "a number > 0")
        self._set_actions(catalog.action_ids)
        self.feature_names_ = list(policy_feature_names(catalog))
        self.catalog_digest_ = catalog.digest
        return self

    def probabilities(self, X: npt.ArrayLike, available: npt.ArrayLike | None = None) -> FloatArray:  # noqa: N803
        """Uniform over the available actions."""
        self._check_fitted()
        n = len(np.asarray(X, dtype=np.float64).reshape(-1, len(self.feature_names_)))
        w = self._mask(n, available).astype(np.float64)
        w[:, 0] *= self.none_weight
        return np.asarray(w / w.sum(axis=1, keepdims=True))

    def decide(
        self, x: npt.ArrayLike, available: npt.ArrayLike | None = None, u: float = 0.5
    ) -> Decision:
        """One decision (no scores: the explorer has none)."""
        d = super().decide(x, available, u)
        return Decision(d.action, d.propensity, None, d.probabilities)


def fit_policy(
    log: DecisionLog,
    *,
    n_models: int = 3,
    threshold: float = 0.05,
    min_child_samples: int = 100,
    random_state: int = 0,
) -> Any:
    """An uplift-greedy policy fitted on the decision log (revenue net of cost).

    Args:
        log: :func:`~marketlift.policy.decision_log.read_decision_log`'s result.
        n_models: S-learners in the seed ensemble.
        threshold: Act only when the net uplift exceeds it (reporting currency).
        min_child_samples: LightGBM's leaf size (larger: smoother effects).
        random_state: Seed.
    """
    from marketlift.policy.uplift import EnsembleLearner, SLearner  # noqa: PLC0415
    from marketlift.policy.uplift_greedy import UpliftGreedy  # noqa: PLC0415

    if len(log) == 0:
        raise ConfigError("log", 0, "at least one logged decision")
    learner = SLearner(params={"min_child_samples": min_child_samples}, random_state=random_state)
    policy = UpliftGreedy(
        EnsembleLearner(learner, n_models=n_models, random_state=random_state),
        threshold=threshold,
    ).fit(log.features, log.action_names, log.reward)
    policy.feature_names_ = list(log.feature_names)
    policy.catalog_digest_ = log.catalog.digest
    policy.training_range_ = log.training_range()
    return policy
