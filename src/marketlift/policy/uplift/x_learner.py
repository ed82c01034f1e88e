"""X-learner (Künzel et al. 2019): impute individual effects with the other arm's model.

For each treatment ``t``: ``D1 = y - f_0(x)`` on treated rows and ``D0 = f_t(x) - y`` on control
rows; regress each on ``x`` and combine ``tau = g * tau_0 + (1 - g) * tau_1`` with ``g`` the
share of treated among rows in ``{t, control}`` (constant in a randomized experiment).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(3000, 2)); t = rng.integers(0, 2, 3000)
    >>> y = X[:, 0] + 1.0 * t + rng.normal(scale=0.1, size=3000)
    >>> round(float(XLearner(control=0).fit(X, t, y).predict(np.zeros((1, 2)))[0, 0]), 0)
    1.0
"""

from __future__ import annotations

import numpy as np

from marketlift.policy.uplift._base import (
    BaseUpliftLearner,
    FloatArray,
    IntArray,
    fit_regressor,
)

__all__ = ["XLearner"]


class XLearner(BaseUpliftLearner):
    """X-learner on gradient-boosted outcome, effect and propensity models.

    Args:
        control: The label of the control arm.
        outcome: ``'auto'`` (binary when y is 0/1), ``'binary'`` or ``'continuous'``.
        params: LightGBM parameters overriding the defaults.
        random_state: Seed of every base model.
    """

    def _fit(self, X: FloatArray, t: IntArray, y: FloatArray) -> None:  # noqa: N803
        k = len(self.classes_)
        outcome = [self._fit_outcome(a, X[t == a], y[t == a]) for a in range(k)]
        self.effect_models_ = []
        control = t == 0
        mu0_treated: dict[int, FloatArray] = {}
        for a in range(1, k):
            treated = t == a
            mu0_treated[a] = self._mean(outcome[0], X[treated])
        for a in range(1, k):
            treated = t == a
            d1 = y[treated] - mu0_treated[a]
            d0 = self._mean(outcome[a], X[control]) - y[control]
            seed = self.random_state + 100 + a
            tau1 = fit_regressor(self.params, seed, X[treated], d1)
            tau0 = fit_regressor(self.params, seed + 50, X[control], d0)
            self.effect_models_.append((tau0, tau1))
        counts = np.bincount(t, minlength=k).astype(np.float64)
        self.share_ = counts[1:] / (counts[1:] + counts[0])

    def _effects(self, X: FloatArray) -> FloatArray:  # noqa: N803
        cols = []
        for share, (tau0, tau1) in zip(self.share_, self.effect_models_, strict=True):
            cols.append(share * tau0.predict(X) + (1.0 - share) * tau1.predict(X))
        return np.column_stack(cols)
