"""Policies that act on the scores of an uplift learner (net of a cost per action)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy.base import BasePolicy, FloatArray
from marketlift.policy.uplift import BaseUpliftLearner, TLearner

__all__ = ["UpliftScoredPolicy"]


class UpliftScoredPolicy(BasePolicy):
    """Scores: 0 for the control (``none``) and ``uplift - cost`` for every treatment.

    ``fit(X, treatment, y)`` fits a copy of ``learner`` (``learner_``); with ``prefit=True``
    the learner is used as given (already fitted). With ``scale_column`` the learner models the
    outcome per unit of that feature (revenue per dollar of price: far less noisy than revenue)
    and scores are multiplied back by it.
    """

    def __init__(self, learner: BaseUpliftLearner | None = None, *,
                 costs: Mapping[str, float] | None = None, prefit: bool = False,
                 scale_column: int | None = None) -> None:  # fmt: skip
        self.learner = learner
        self.costs = costs
        self.prefit = prefit
        self.scale_column = scale_column

    def fit(self, X: npt.ArrayLike, treatment: npt.ArrayLike, y: npt.ArrayLike,  # noqa: N803
            **fit_params: Any) -> UpliftScoredPolicy:  # fmt: skip
        """Fit the uplift learner on logged or experimental data; returns ``self``."""
        learner = self.learner if self.learner is not None else TLearner()
        if self.prefit:
            self.learner_ = learner
        else:
            y_fit = np.asarray(y, dtype=np.float64)
            if self.scale_column is not None:
                scale = np.asarray(X, dtype=np.float64)[:, self.scale_column]
                if not (scale > 0).all():
                    raise ConfigError("scale_column", self.scale_column, "a column > 0 on every row")
                y_fit = y_fit / scale
            self.learner_ = copy.deepcopy(learner).fit(X, treatment, y_fit, **fit_params)
        self._finish()
        return self

    def _finish(self) -> None:
        self.learner_._check_fitted()
        self._set_actions(self.learner_.classes_.tolist())
        costs = dict(self.costs or {})
        unknown = set(costs) - set(self.actions_)
        if unknown:
            raise ConfigError("costs", sorted(unknown), f"actions among {self.actions_}")
        self.cost_ = np.array([costs.get(a, 0.0) for a in self.actions_])
        self.cost_[0] = 0.0

    def scores(self, X: npt.ArrayLike) -> FloatArray:  # noqa: N803
        """Net uplift per action (``none`` scores 0)."""
        self._check_fitted()
        effects = self.learner_.predict(X)
        out = np.zeros((len(effects), len(self.actions_)))
        out[:, 1:] = effects
        if self.scale_column is not None:
            out *= np.asarray(X, dtype=np.float64)[:, self.scale_column : self.scale_column + 1]
        return np.asarray(out - self.cost_)


def greedy_with_epsilon(scores: FloatArray, mask: npt.NDArray[np.bool_], epsilon: float) -> FloatArray:
    """One-hot on the best available score (first on ties), mixed with uniform ``epsilon``."""
    masked = np.where(mask, scores, -np.inf)
    best = masked.argmax(axis=1)
    P = np.zeros_like(scores)  # noqa: N806
    P[np.arange(len(P)), best] = 1.0 - epsilon
    P += epsilon * mask / mask.sum(axis=1, keepdims=True)
    return P
