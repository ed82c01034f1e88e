"""Switch-DR (Wang et al. 2017): the DR correction only where the weight is at most ``tau``.

Rows with a larger weight fall back to the direct method, trading a little bias for a large
cut in variance.

Example:
    >>> import numpy as np
    >>> from marketlift.ope.data import LoggedBandit
    >>> d = LoggedBandit.build(actions=["a", "b"], action=["a", "b"], reward=[1.0, 0.0],
    ...     propensity=[0.5, 0.1])
    >>> q = np.array([[1.0, 3.0], [0.0, 2.0]])
    >>> # row 2 has weight 10 > tau: DM only -> (3 + 2) / 2
    >>> SwitchDR(tau=5.0).estimate(d, np.tile([0.0, 1.0], (2, 1)), q).value
    2.5
"""

from __future__ import annotations

import numpy as np

from marketlift.errors import ConfigError
from marketlift.ope.base import Estimator, FloatArray, diagnose, importance_weights
from marketlift.ope.data import LoggedBandit
from marketlift.ope.diagnostics import WeightDiagnostics

__all__ = ["SwitchDR"]


class SwitchDR(Estimator):
    """Switch doubly robust estimator.

    Args:
        tau: Weight threshold above which the importance-weighted correction is dropped.
    """

    name = "switch_dr"
    needs_reward_model = True

    def __init__(self, tau: float = 20.0) -> None:
        self.tau = tau

    def terms(
        self,
        data: LoggedBandit,
        target: FloatArray,
        q: FloatArray | None,
    ) -> tuple[FloatArray, FloatArray | None, WeightDiagnostics | None]:
        """Per-row terms of the estimate."""
        assert q is not None
        if not self.tau > 0:
            raise ConfigError("tau", self.tau, "a number > 0")
        w_raw = importance_weights(data, target)
        w, diag = diagnose(np.where(w_raw <= self.tau, w_raw, 0.0), None)
        dm = (target * q).sum(axis=1)
        return np.asarray(dm + w * (data.reward - data.chosen(q))), None, diag
