"""Doubly robust: ``DM + w (r - q(x, a))``: unbiased if either propensities or the model are right.

Example:
    >>> import numpy as np
    >>> from marketlift.ope.data import LoggedBandit
    >>> d = LoggedBandit.build(actions=["a", "b"], action=["a", "b"], reward=[1.0, 0.0],
    ...     propensity=[0.5, 0.5])
    >>> q = np.array([[1.0, 3.0], [0.0, 2.0]])
    >>> # row 1: 3 + 0 * (1 - 1) = 3; row 2: 2 + 2 * (0 - 2) = -2
    >>> DR().estimate(d, np.tile([0.0, 1.0], (2, 1)), q).value
    0.5
"""

from __future__ import annotations

import numpy as np

from marketlift.ope.base import Estimator, FloatArray, diagnose, importance_weights
from marketlift.ope.data import LoggedBandit
from marketlift.ope.diagnostics import WeightDiagnostics

__all__ = ["DR"]


class DR(Estimator):
    """Doubly robust estimator (Dudík et al. 2011).

    Args:
        clip: Cap on the importance weights of the correction term; ``None`` for none.
    """

    name = "dr"
    needs_reward_model = True

    def __init__(self, clip: float | None = None) -> None:
        self.clip = clip

    def terms(
        self,
        data: LoggedBandit,
        target: FloatArray,
        q: FloatArray | None,
    ) -> tuple[FloatArray, FloatArray | None, WeightDiagnostics | None]:
        """Per-row terms of the estimate."""
        assert q is not None
        w, diag = diagnose(importance_weights(data, target), self.clip)
        dm = (target * q).sum(axis=1)
        return np.asarray(dm + w * (data.reward - data.chosen(q))), None, diag
