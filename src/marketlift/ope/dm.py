"""Direct method: ``mean_i sum_a pi(a|x_i) q(x_i, a)`` from a reward model ``q``.

Example:
    >>> import numpy as np
    >>> from marketlift.ope.data import LoggedBandit
    >>> d = LoggedBandit.build(actions=["a", "b"], action=["a", "b"], reward=[1.0, 0.0],
    ...     propensity=[0.5, 0.5])
    >>> q = np.array([[1.0, 3.0], [0.0, 2.0]])
    >>> DM().estimate(d, np.tile([0.5, 0.5], (2, 1)), q).value   # (2 + 1) / 2
    1.5
"""

from __future__ import annotations

import numpy as np

from marketlift.ope.base import Estimator, FloatArray
from marketlift.ope.data import LoggedBandit
from marketlift.ope.diagnostics import WeightDiagnostics

__all__ = ["DM"]


class DM(Estimator):
    """Low variance, biased by whatever the reward model gets wrong (its interval ignores that)."""

    name = "dm"
    needs_reward_model = True

    def terms(
        self,
        data: LoggedBandit,
        target: FloatArray,
        q: FloatArray | None,
    ) -> tuple[FloatArray, FloatArray | None, WeightDiagnostics | None]:
        """Per-row terms of the estimate."""
        assert q is not None
        return np.asarray((target * q).sum(axis=1)), None, None
