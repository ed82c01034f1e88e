"""Inverse propensity scoring: ``mean(w_i r_i)``, ``w = pi(a|x) / mu(a|x)`` (optionally clipped).

Example:
    >>> import numpy as np
    >>> from marketlift.ope.data import LoggedBandit
    >>> d = LoggedBandit.build(actions=["a", "b"], action=["a", "b", "b", "a"],
    ...     reward=[1.0, 0.0, 2.0, 0.0], propensity=[0.5, 0.5, 0.5, 0.5])
    >>> IPS().estimate(d, np.tile([0.0, 1.0], (4, 1))).value   # (0 + 0*2 + 2*2 + 0) / 4
    1.0
"""

from __future__ import annotations

from marketlift.ope.base import Estimator, FloatArray, diagnose, importance_weights
from marketlift.ope.data import LoggedBandit
from marketlift.ope.diagnostics import WeightDiagnostics

__all__ = ["IPS"]


class IPS(Estimator):
    """Unbiased when propensities are right; high variance with large weights.

    Args:
        clip: Cap on the weights (biased down, lower variance); ``None`` for none.
    """

    name = "ips"

    def __init__(self, clip: float | None = None) -> None:
        self.clip = clip

    def terms(
        self,
        data: LoggedBandit,
        target: FloatArray,
        q: FloatArray | None,
    ) -> tuple[FloatArray, FloatArray | None, WeightDiagnostics | None]:
        """Per-row terms of the estimate."""
        w, diag = diagnose(importance_weights(data, target), self.clip)
        return w * data.reward, None, diag
