"""S-learner: one outcome model on features plus the arm; effect = f(x, t) - f(x, control).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 2)); t = rng.integers(0, 2, 2000)
    >>> y = X[:, 0] + 2.0 * t * (X[:, 1] > 0) + rng.normal(scale=0.1, size=2000)
    >>> m = SLearner(control=0, random_state=0).fit(X, t, y)
    >>> tau = m.predict(np.array([[0.0, 1.0], [0.0, -1.0]]))[:, 0]
    >>> bool(tau[0] > 1.5 and abs(tau[1]) < 0.5)
    True
"""

from __future__ import annotations

import numpy as np

from marketlift.policy.uplift._base import BaseUpliftLearner, FloatArray, IntArray

__all__ = ["SLearner"]


class SLearner(BaseUpliftLearner):
    """One gradient-boosted model of the outcome on ``[X, one-hot(arm)]``.

    Args:
        control: The label of the control arm.
        outcome: ``'auto'`` (binary when y is 0/1), ``'binary'`` or ``'continuous'``.
        params: LightGBM parameters overriding the defaults.
        random_state: Seed of every base model.
    """

    def _design(self, X: FloatArray, arm: int) -> FloatArray:  # noqa: N803
        onehot = np.zeros((len(X), len(self.classes_) - 1))
        if arm > 0:
            onehot[:, arm - 1] = 1.0
        return np.hstack([X, onehot])

    def _fit(self, X: FloatArray, t: IntArray, y: FloatArray) -> None:  # noqa: N803
        onehot = np.zeros((len(X), len(self.classes_) - 1))
        treated = t > 0
        onehot[np.flatnonzero(treated), t[treated] - 1] = 1.0
        self.model_ = self._fit_outcome(0, np.hstack([X, onehot]), y)

    def _effects(self, X: FloatArray) -> FloatArray:  # noqa: N803
        k, (n, d) = len(self.classes_), X.shape
        # Every arm's design stacked (rows a*n .. a*n+n-1 are arm a): one call for all arms.
        stacked = np.zeros((k * n, d + k - 1))
        stacked[:, :d] = np.tile(X, (k, 1))
        stacked[np.arange(n, k * n), d + np.repeat(np.arange(k - 1), n)] = 1.0
        means = self._mean(self.model_, stacked).reshape(k, n).T
        return np.asarray(means[:, 1:] - means[:, :1])
