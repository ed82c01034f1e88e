"""Thompson sampling with a linear-Gaussian posterior per action.

Each action's reward is ``theta_a' z`` with posterior ``N(theta_a, noise^2 A_a^-1)``. The
policy's probability of each action is the share of ``n_draws`` posterior draws (fixed by
``random_state`` and the number of updates) in which it is best among the available ones, and
the action is sampled from those shares: so the logged propensity is exactly the probability
with which the action was chosen.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(800, 1)); a = rng.choice(["none", "push"], 800)
    >>> r = (a == "push") * 2.0 * X[:, 0] + rng.normal(scale=0.1, size=800)
    >>> pol = LinearThompson(noise=0.1).fit(X, a, r)
    >>> np.round(pol.probabilities([[1.0], [-1.0]]), 2).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy._linear import LinearArmsPolicy
from marketlift.policy.base import FloatArray

__all__ = ["LinearThompson"]


class LinearThompson(LinearArmsPolicy):
    """Linear Thompson sampling with Monte Carlo propensities.

    Args:
        actions: Action names (``none`` is put first); ``None`` to take them from ``fit``.
        ridge: Prior precision.
        noise: Reward noise scale (posterior width).
        n_draws: Posterior draws that define the choice probabilities.
        random_state: Seed of the posterior draws.
    """

    def __init__(
        self,
        actions: Sequence[Any] | None = None,
        *,
        ridge: float = 1.0,
        noise: float = 1.0,
        n_draws: int = 200,
        random_state: int = 0,
    ) -> None:
        self.actions = actions
        self.ridge = ridge
        self.noise = noise
        self.n_draws = n_draws
        self.random_state = random_state

    def _draws(self) -> FloatArray:
        """Posterior draws of every action's coefficients: ``(n_draws, k, d)``."""
        if self.n_draws < 1:
            raise ConfigError("n_draws", self.n_draws, "an integer >= 1")
        rng = np.random.default_rng([self.random_state, self.n_updates_])
        k, d = self.theta_.shape
        chol = np.linalg.cholesky(self.A_inv_ + 1e-12 * np.eye(d))
        z = rng.standard_normal((self.n_draws, k, d))
        return np.asarray(self.theta_[None] + self.noise * np.einsum("kde,nke->nkd", chol, z))

    def scores(self, X: npt.ArrayLike) -> FloatArray:  # noqa: N803
        """Posterior mean reward per row and action."""
        return np.asarray(self._design(X) @ self.theta_.T)

    def probabilities(self, X: npt.ArrayLike, available: npt.ArrayLike | None = None) -> FloatArray:  # noqa: N803
        """Share of posterior draws in which each available action is best."""
        Z = self._design(X)  # noqa: N806
        mask = self._mask(len(Z), available)
        draws = self._draws()
        k = draws.shape[1]
        P = np.zeros((len(Z), k))  # noqa: N806
        for start in range(0, len(Z), 2048):
            sl = slice(start, start + 2048)
            s = np.einsum("nd,mkd->nmk", Z[sl], draws)
            s = np.where(mask[sl][:, None, :], s, -np.inf)
            best = s.argmax(axis=2)
            for a in range(k):
                P[sl, a] = (best == a).mean(axis=1)
        return P
