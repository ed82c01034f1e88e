"""DR-learner (Kennedy 2020): regress a doubly robust pseudo-outcome on the features.

For treatment ``t`` against control, with cross-fitted outcome models ``f`` and propensities
``e``: ``phi = f_t - f_0 + 1[T=t] (y - f_t) / e_t - 1[T=0] (y - f_0) / e_0``, then a
gradient-boosted regression of ``phi`` on ``x``. Known logging propensities (an experiment or
a logged policy) can be passed to :meth:`DRLearner.fit` instead of estimated ones.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> X = rng.normal(size=(4000, 2)); t = rng.integers(0, 2, 4000)
    >>> y = X[:, 0] + 1.0 * t + rng.normal(scale=0.1, size=4000)
    >>> round(float(DRLearner(control=0).fit(X, t, y).predict(np.zeros((1, 2)))[0, 0]), 0)
    1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy.uplift._base import (
    BaseUpliftLearner,
    FloatArray,
    IntArray,
    fit_regressor,
    propensity_matrix,
)

__all__ = ["DRLearner"]


class DRLearner(BaseUpliftLearner):
    """Doubly robust learner with two-fold cross-fitting and clipped propensities.

    Args:
        control: The label of the control arm.
        outcome: ``'auto'`` (binary when y is 0/1), ``'binary'`` or ``'continuous'``.
        params: LightGBM parameters overriding the defaults.
        random_state: Seed of every base model and of the folds.
        clip: Lower bound on propensities in the pseudo-outcome.
    """

    def __init__(
        self,
        control: Any = "none",
        *,
        outcome: str = "auto",
        params: Any = None,
        random_state: int = 0,
        clip: float = 0.02,
    ) -> None:
        super().__init__(control, outcome=outcome, params=params, random_state=random_state)
        self.clip = clip

    def fit(
        self,
        X: npt.ArrayLike,  # noqa: N803
        treatment: npt.ArrayLike,
        y: npt.ArrayLike,
        propensity: npt.ArrayLike | None = None,
    ) -> DRLearner:
        """Fit; returns ``self``.

        ``propensity`` optionally gives each arm's known probability, shape ``(n, arms)``, in
        the column order of ``classes_`` (control first, then sorted treatments).
        """
        if not 0.0 < self.clip < 0.5:
            raise ConfigError("clip", self.clip, "a probability in (0, 0.5)")
        self._known = None if propensity is None else np.asarray(propensity, dtype=np.float64)
        try:
            super().fit(X, treatment, y)
        finally:
            self._known = None
        return self

    def _fit(self, X: FloatArray, t: IntArray, y: FloatArray) -> None:  # noqa: N803
        k, n = len(self.classes_), len(X)
        if self._known is not None:
            if self._known.shape != (n, k):
                raise ConfigError("propensity", self._known.shape, f"shape ({n}, {k})")
            e = self._known
        else:
            e = propensity_matrix(X, t, k, self.params, self.random_state)
        e = np.clip(e, self.clip, 1.0)
        fold = np.random.default_rng(self.random_state).integers(0, 2, n)
        mu = np.zeros((n, k))
        for f in (0, 1):
            train, test = fold != f, fold == f
            for a in range(k):
                rows = train & (t == a)
                model = self._fit_outcome(10 * a + f, X[rows], y[rows])
                mu[test, a] = self._mean(model, X[test])
        self.effect_models_ = []
        for a in range(1, k):
            phi = (
                mu[:, a]
                - mu[:, 0]
                + (t == a) * (y - mu[:, a]) / e[:, a]
                - (t == 0) * (y - mu[:, 0]) / e[:, 0]
            )
            rows = (t == a) | (t == 0)
            seed = self.random_state + 200 + a
            self.effect_models_.append(fit_regressor(self.params, seed, X[rows], phi[rows]))

    def _effects(self, X: FloatArray) -> FloatArray:  # noqa: N803
        return np.column_stack([m.predict(X) for m in self.effect_models_])

    _known: FloatArray | None = None
