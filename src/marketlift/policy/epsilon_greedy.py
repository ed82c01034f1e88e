"""Epsilon-greedy over net uplift scores: the best action with probability ``1 - eps``.

The propensity of action ``a`` is ``(1 - eps) * [a is best] + eps / k`` with ``k`` available.

Example:
    >>> import numpy as np
    >>> from marketlift.policy.uplift import SLearner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 1)); t = rng.choice(["none", "a", "b"], 2000)
    >>> y = (t == "a") * 1.0 + rng.normal(scale=0.1, size=2000)
    >>> p = EpsilonGreedyPolicy(SLearner(), epsilon=0.3).fit(X, t, y).probabilities([[0.0]])
    >>> dict(zip(["none", "a", "b"], np.round(p[0], 2).tolist()))
    {'none': 0.1, 'a': 0.8, 'b': 0.1}
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy._scored import UpliftScoredPolicy, greedy_row, greedy_with_epsilon
from marketlift.policy.base import FloatArray
from marketlift.policy.uplift import BaseUpliftLearner

__all__ = ["EpsilonGreedyPolicy"]


class EpsilonGreedyPolicy(UpliftScoredPolicy):
    """Greedy on net uplift (``none`` scores 0), uniform over available actions with ``epsilon``.

    Args:
        learner: An uplift learner (default :class:`~marketlift.policy.uplift.TLearner`).
        costs: Cost of each action in outcome units.
        epsilon: Exploration probability in [0, 1].
        prefit: Use ``learner`` as already fitted.
        scale_column: Model the outcome per unit of this feature (see the base class).
    """

    def __init__(
        self,
        learner: BaseUpliftLearner | None = None,
        *,
        costs: dict[str, float] | None = None,
        epsilon: float = 0.1,
        prefit: bool = False,
        scale_column: int | None = None,
    ) -> None:
        super().__init__(learner, costs=costs, prefit=prefit, scale_column=scale_column)
        self.epsilon = epsilon

    def probabilities_from_scores(
        self, scores: FloatArray, mask: npt.NDArray[np.bool_]
    ) -> FloatArray:
        """``(1 - eps)`` on the best available action plus ``eps / k`` on each available one."""
        if not 0.0 <= self.epsilon <= 1.0:
            raise ConfigError("epsilon", self.epsilon, "a probability in [0, 1]")
        return greedy_with_epsilon(scores, mask, self.epsilon)

    def row_probabilities(self, scores: FloatArray, mask: npt.NDArray[np.bool_]) -> FloatArray:
        """One row of :meth:`probabilities_from_scores`."""
        return greedy_row(scores, mask, self.epsilon)
