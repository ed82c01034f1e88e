"""LinUCB (Li et al. 2010): per-action ridge regression, act on the upper confidence bound.

``score_a(x) = theta_a' z + alpha * sqrt(z' A_a^-1 z)`` with ``z = [1, x]``; the policy takes the
best available score (propensity ``1 - eps + eps / k``) and explores uniformly with ``epsilon``.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 2)); a = rng.choice(["none", "push"], 600)
    >>> r = (a == "push") * X[:, 0] + rng.normal(scale=0.1, size=600)
    >>> pol = LinUCB(alpha=0.1).fit(X, a, r)
    >>> pol.decide([1.0, 0.0]).action, pol.decide([-1.0, 0.0]).action
    ('push', 'none')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy._linear import LinearArmsPolicy
from marketlift.policy._scored import greedy_with_epsilon
from marketlift.policy.base import Decision, FloatArray

__all__ = ["LinUCB"]


class LinUCB(LinearArmsPolicy):
    """Linear upper-confidence-bound bandit.

    Args:
        actions: Action names (``none`` is put first); ``None`` to take them from ``fit``.
        alpha: Width of the confidence bonus.
        ridge: Prior precision (L2 penalty).
        epsilon: Uniform exploration share so every available action has a positive propensity.
    """

    def __init__(
        self,
        actions: Sequence[Any] | None = None,
        *,
        alpha: float = 1.0,
        ridge: float = 1.0,
        epsilon: float = 0.0,
    ) -> None:
        self.actions = actions
        self.alpha = alpha
        self.ridge = ridge
        self.epsilon = epsilon

    def scores(self, X: npt.ArrayLike) -> FloatArray:  # noqa: N803
        """Upper confidence bound per row and action."""
        Z = self._design(X)  # noqa: N806
        mean = Z @ self.theta_.T
        var = np.einsum("nd,kde,ne->nk", Z, self.A_inv_, Z)
        return np.asarray(mean + self.alpha * np.sqrt(np.maximum(var, 0.0)))

    def probabilities(self, X: npt.ArrayLike, available: npt.ArrayLike | None = None) -> FloatArray:  # noqa: N803
        """Greedy on the upper confidence bound, with ``epsilon`` uniform exploration."""
        if not 0.0 <= self.epsilon <= 1.0:
            raise ConfigError("epsilon", self.epsilon, "a probability in [0, 1]")
        s = self.scores(X)
        return greedy_with_epsilon(s, self._mask(len(s), available), self.epsilon)

    def decide(
        self, x: npt.ArrayLike, available: npt.ArrayLike | None = None, u: float = 0.5
    ) -> Decision:
        """One request without building matrices: a few small matrix-vector products."""
        self._check_fitted()
        z = self._z
        z[1:] = x
        s = self.theta_ @ z
        s += self.alpha * np.sqrt(np.einsum("d,kde,e->k", z, self.A_inv_, z))
        mask = self._all if available is None else np.asarray(available, dtype=bool)
        k_avail = int(mask.sum())
        best = int(np.argmax(np.where(mask, s, -np.inf)))
        eps = self.epsilon
        if u < eps:
            pick = int(np.flatnonzero(mask)[min(int(u / eps * k_avail), k_avail - 1)])
        else:
            pick = best
        prop = (1.0 - eps) * (pick == best) + eps / k_avail
        p = mask * (eps / k_avail)
        p[best] += 1.0 - eps
        return Decision(self.actions_[pick], prop, s, p)

    def _setup(self, n_features: int, actions: Sequence[Any]) -> None:
        super()._setup(n_features, actions)
        self._z = np.ones(n_features + 1)
        self._all = np.ones(len(self.actions_), dtype=bool)
