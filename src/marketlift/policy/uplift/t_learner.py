"""T-learner: one outcome model per arm; effect = f_t(x) - f_control(x).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 2)); t = rng.integers(0, 3, 3000)
    >>> y = X[:, 0] + (t == 1) * 1.0 - (t == 2) * 1.0 + rng.normal(scale=0.1, size=3000)
    >>> m = TLearner(control=0).fit(X, t, y)
    >>> m.treatments_, np.round(m.predict(np.zeros((1, 2)))[0], 0).tolist()
    ([1, 2], [1.0, -1.0])
"""

from __future__ import annotations

import numpy as np

from marketlift.policy.uplift._base import BaseUpliftLearner, FloatArray, IntArray

__all__ = ["TLearner"]


class TLearner(BaseUpliftLearner):
    """A gradient-boosted outcome model per arm (control included).

    Args:
        control: The label of the control arm.
        outcome: ``'auto'`` (binary when y is 0/1), ``'binary'`` or ``'continuous'``.
        params: LightGBM parameters overriding the defaults.
        random_state: Seed of every base model.
    """

    def _fit(self, X: FloatArray, t: IntArray, y: FloatArray) -> None:  # noqa: N803
        self.models_ = [
            self._fit_outcome(k, X[t == k], y[t == k]) for k in range(len(self.classes_))
        ]

    def _effects(self, X: FloatArray) -> FloatArray:  # noqa: N803
        means = np.column_stack([self._mean(m, X) for m in self.models_])
        return np.asarray(means[:, 1:] - means[:, :1])
