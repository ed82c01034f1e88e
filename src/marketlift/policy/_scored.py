"""Policies that act on the scores of an uplift learner (net of a cost per action)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy.base import BasePolicy, Decision, FloatArray
from marketlift.policy.uplift import BaseUpliftLearner, TLearner

__all__ = ["UpliftScoredPolicy"]


class UpliftScoredPolicy(BasePolicy):
    """Scores: 0 for the control (``none``) and ``uplift - cost`` for every treatment.

    ``fit(X, treatment, y)`` fits a copy of ``learner`` (``learner_``); with ``prefit=True``
    the learner is used as given (already fitted). With ``scale_column`` the learner models the
    outcome per unit of that feature (revenue per dollar of price: far less noisy than revenue)
    and scores are multiplied back by it.
    """

    def __init__(
        self,
        learner: BaseUpliftLearner | None = None,
        *,
        costs: Mapping[str, float] | None = None,
        prefit: bool = False,
        scale_column: int | None = None,
    ) -> None:
        self.learner = learner
        self.costs = costs
        self.prefit = prefit
        self.scale_column = scale_column

    def fit(
        self,
        X: npt.ArrayLike,  # noqa: N803
        treatment: npt.ArrayLike,
        y: npt.ArrayLike,
        **fit_params: Any,
    ) -> UpliftScoredPolicy:
        """Fit the uplift learner on logged or experimental data; returns ``self``."""
        learner = self.learner if self.learner is not None else TLearner()
        if self.prefit:
            self.learner_ = learner
        else:
            y_fit = np.asarray(y, dtype=np.float64)
            if self.scale_column is not None:
                scale = np.asarray(X, dtype=np.float64)[:, self.scale_column]
                if not (scale > 0).all():
                    raise ConfigError(
                        "scale_column", self.scale_column, "a column > 0 on every row"
                    )
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
        self._all = np.ones(len(self.actions_), dtype=bool)

    def row_probabilities(self, scores: FloatArray, mask: npt.NDArray[np.bool_]) -> FloatArray:
        """Probabilities of one row from its scores (subclasses; used by :meth:`decide_scores`)."""
        return np.asarray(self.probabilities_from_scores(scores[None, :], mask[None, :])[0])

    def probabilities_from_scores(
        self, scores: FloatArray, mask: npt.NDArray[np.bool_]
    ) -> FloatArray:
        """Probabilities from precomputed net-uplift scores ``(n, k)`` (subclasses implement)."""
        raise NotImplementedError

    def probabilities(self, X: npt.ArrayLike, available: npt.ArrayLike | None = None) -> FloatArray:  # noqa: N803
        """Probability of each action given the net uplift scores of ``X``."""
        s = self.scores(X)
        return self.probabilities_from_scores(s, self._mask(len(s), available))

    def decide(
        self, x: npt.ArrayLike, available: npt.ArrayLike | None = None, u: float = 0.5
    ) -> Decision:
        """One request: score ``x`` with the learner, then :meth:`decide_scores`."""
        return self.decide_scores(
            self.scores(np.asarray(x, dtype=np.float64)[None, :])[0], available, u
        )

    def decide_scores(
        self, scores: npt.ArrayLike, available: npt.ArrayLike | None = None, u: float = 0.5
    ) -> Decision:
        """One request from precomputed scores (the decision API's hot path).

        Uplift scores change slowly (buyer traits, fatigue, the listing), so they are computed
        in batch with :meth:`scores` and stored; per request only exploration and sampling run.
        """
        self._check_fitted()
        s = np.asarray(scores, dtype=np.float64)
        mask = self._all if available is None else np.asarray(available, dtype=bool)
        p = self.row_probabilities(s, mask)
        cum = np.cumsum(p)
        k = min(int(np.searchsorted(cum, u * cum[-1], side="right")), self._last(p))
        return Decision(self.actions_[k], float(p[k]), s, p)

    @staticmethod
    def _last(p: FloatArray) -> int:
        nz = np.flatnonzero(p)
        return int(nz[-1]) if len(nz) else 0

    def scores(self, X: npt.ArrayLike) -> FloatArray:  # noqa: N803
        """Net uplift per action (``none`` scores 0)."""
        self._check_fitted()
        effects = self.learner_.predict(X)
        out = np.zeros((len(effects), len(self.actions_)))
        out[:, 1:] = effects
        if self.scale_column is not None:
            out *= np.asarray(X, dtype=np.float64)[:, self.scale_column : self.scale_column + 1]
        return np.asarray(out - self.cost_)


def greedy_with_epsilon(
    scores: FloatArray, mask: npt.NDArray[np.bool_], epsilon: float
) -> FloatArray:
    """One-hot on the best available score (first on ties), mixed with uniform ``epsilon``."""
    masked = np.where(mask, scores, -np.inf)
    best = masked.argmax(axis=1)
    P = np.zeros_like(scores)  # noqa: N806
    P[np.arange(len(P)), best] = 1.0 - epsilon
    P += epsilon * mask / mask.sum(axis=1, keepdims=True)  # noqa: N806
    return P


def greedy_row(scores: FloatArray, mask: npt.NDArray[np.bool_], epsilon: float) -> FloatArray:
    """:func:`greedy_with_epsilon` for one row (fewer allocations)."""
    p = mask * (epsilon / np.count_nonzero(mask))
    p[int(np.argmax(np.where(mask, scores, -np.inf)))] += 1.0 - epsilon
    return np.asarray(p)
