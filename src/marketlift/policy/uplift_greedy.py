"""Uplift-greedy: take the action of highest predicted net uplift if it clears a threshold.

Example:
    >>> import numpy as np
    >>> from marketlift.policy.uplift import TLearner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 1)); t = rng.choice(["none", "push"], 3000)
    >>> y = (t == "push") * np.sign(X[:, 0]) + rng.normal(scale=0.1, size=3000)
    >>> policy = UpliftGreedy(TLearner(random_state=0)).fit(X, t, y)
    >>> policy.decide([1.0]).action, policy.decide([-1.0]).action
    ('push', 'none')
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy._scored import UpliftScoredPolicy, greedy_row, greedy_with_epsilon
from marketlift.policy.base import FloatArray
from marketlift.policy.uplift import BaseUpliftLearner

__all__ = ["UpliftGreedy"]


class UpliftGreedy(UpliftScoredPolicy):
    """Deterministic (propensity 1) unless ``epsilon`` > 0.

    Args:
        learner: An uplift learner (default :class:`~marketlift.policy.uplift.TLearner`).
        costs: Cost of each action in outcome units (a coupon's expected cost); net uplift
            = predicted uplift - cost.
        threshold: Act only when the best net uplift exceeds it; otherwise ``none``.
        epsilon: Share of uniform exploration (logged in the propensity).
        prefit: Use ``learner`` as already fitted.
        scale_column: Model the outcome per unit of this feature (see the base class).
    """

    def __init__(
        self,
        learner: BaseUpliftLearner | None = None,
        *,
        costs: dict[str, float] | None = None,
        threshold: float = 0.0,
        epsilon: float = 0.0,
        prefit: bool = False,
        scale_column: int | None = None,
    ) -> None:
        super().__init__(learner, costs=costs, prefit=prefit, scale_column=scale_column)
        self.threshold = threshold
        self.epsilon = epsilon

    def _net(self, scores: FloatArray) -> FloatArray:
        if not 0.0 <= self.epsilon <= 1.0:
            raise ConfigError("epsilon", self.epsilon, "a probability in [0, 1]")
        s = np.where(scores > self.threshold, scores, -np.inf)
        s[..., 0] = 0.0
        return s

    def probabilities_from_scores(
        self, scores: FloatArray, mask: npt.NDArray[np.bool_]
    ) -> FloatArray:
        """One-hot on the best net uplift above ``threshold`` (else ``none``), plus epsilon."""
        return greedy_with_epsilon(self._net(scores), mask, self.epsilon)

    def row_probabilities(self, scores: FloatArray, mask: npt.NDArray[np.bool_]) -> FloatArray:
        """One row of :meth:`probabilities_from_scores`."""
        return greedy_row(self._net(scores), mask, self.epsilon)
