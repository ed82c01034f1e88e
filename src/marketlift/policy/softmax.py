"""Softmax (Boltzmann) over net uplift scores: ``P(a) ∝ exp(score_a / temperature)``.

Example:
    >>> import numpy as np
    >>> from marketlift.policy.uplift import SLearner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 1)); t = rng.choice(["none", "a"], 2000)
    >>> y = (t == "a") * 1.0 + rng.normal(scale=0.1, size=2000)
    >>> pol = SoftmaxPolicy(SLearner(), temperature=1.0).fit(X, t, y)
    >>> p = pol.probabilities([[0.0]])[0]
    >>> bool(abs(p[1] - 1 / (1 + np.exp(-1))) < 0.03), float(p.sum())
    (True, 1.0)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy._scored import UpliftScoredPolicy
from marketlift.policy.base import FloatArray
from marketlift.policy.uplift import BaseUpliftLearner

__all__ = ["SoftmaxPolicy", "softmax"]


def softmax(scores: FloatArray, mask: npt.NDArray[np.bool_], temperature: float) -> FloatArray:
    """Row-wise softmax of ``scores / temperature`` over the available actions."""
    z = np.where(mask, scores / temperature, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


class SoftmaxPolicy(UpliftScoredPolicy):
    """Chooses among available actions with probability proportional to ``exp(net uplift / T)``.

    Args:
        learner: An uplift learner (default :class:`~marketlift.policy.uplift.TLearner`).
        costs: Cost of each action in outcome units.
        temperature: ``T > 0``: small is nearly greedy, large nearly uniform.
        prefit: Use ``learner`` as already fitted.
        scale_column: Model the outcome per unit of this feature (see the base class).
    """

    def __init__(
        self,
        learner: BaseUpliftLearner | None = None,
        *,
        costs: dict[str, float] | None = None,
        temperature: float = 1.0,
        prefit: bool = False,
        scale_column: int | None = None,
    ) -> None:
        super().__init__(learner, costs=costs, prefit=prefit, scale_column=scale_column)
        self.temperature = temperature

    def probabilities_from_scores(
        self, scores: FloatArray, mask: npt.NDArray[np.bool_]
    ) -> FloatArray:
        """Softmax of net uplift over available actions."""
        if not self.temperature > 0:
            raise ConfigError("temperature", self.temperature, "a number > 0")
        return softmax(scores, mask, self.temperature)
