"""Per-action ridge regression with online rank-one updates (shared by LinUCB and Thompson)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy.base import BasePolicy, FloatArray

__all__ = ["LinearArmsPolicy"]


class LinearArmsPolicy(BasePolicy):
    """Keeps, per action, ``A = ridge * I + sum x x'`` (its inverse) and ``b = sum r x``.

    Features get an intercept column. ``fit`` resets and learns from a batch (logged data);
    ``update`` adds one observation (Sherman-Morrison update of ``A^-1``).
    """

    actions: Sequence[Any] | None
    ridge: float

    def _setup(self, n_features: int, actions: Sequence[Any]) -> None:
        if not self.ridge > 0:
            raise ConfigError("ridge", self.ridge, "a number > 0")
        self._set_actions(actions)
        d = n_features + 1
        k = len(self.actions_)
        self.n_features_in_ = n_features
        self.A_inv_ = np.repeat(np.eye(d)[None] / self.ridge, k, axis=0)
        self.b_ = np.zeros((k, d))
        self.theta_ = np.zeros((k, d))
        self.n_updates_ = 0
        self._index = {a: i for i, a in enumerate(self.actions_)}

    def fit(
        self,
        X: npt.ArrayLike,  # noqa: N803
        action: npt.ArrayLike,
        reward: npt.ArrayLike,
    ) -> LinearArmsPolicy:
        """Learn from logged ``(X, action, reward)``; returns ``self``."""
        Xa = np.asarray(X, dtype=np.float64)  # noqa: N806
        acts = np.asarray(action).astype(str)
        r = np.asarray(reward, dtype=np.float64)
        if Xa.ndim != 2 or len(Xa) != len(acts) or len(acts) != len(r):
            raise ConfigError("X, action, reward", (Xa.shape, acts.shape, r.shape), "one row each")
        names = list(self.actions) if self.actions is not None else sorted(set(acts.tolist()))
        if "none" in names:
            names.remove("none")
            names.insert(0, "none")
        self._setup(Xa.shape[1], names)
        Z = np.hstack([np.ones((len(Xa), 1)), Xa])  # noqa: N806
        d = Z.shape[1]
        for k, name in enumerate(self.actions_):
            rows = acts == name
            A = self.ridge * np.eye(d) + Z[rows].T @ Z[rows]  # noqa: N806
            self.A_inv_[k] = np.linalg.inv(A)
            self.b_[k] = Z[rows].T @ r[rows]
            self.theta_[k] = self.A_inv_[k] @ self.b_[k]
        self.n_updates_ = len(r)
        return self

    def update(self, x: npt.ArrayLike, action: Any, reward: float) -> None:
        """Add one observation for ``action`` (its name)."""
        self._check_fitted()
        k = self._index.get(str(action))
        if k is None:
            raise ConfigError("action", action, f"one of {self.actions_}")
        z = np.empty(self.n_features_in_ + 1)
        z[0] = 1.0
        z[1:] = np.asarray(x, dtype=np.float64)
        Ainv = self.A_inv_[k]  # noqa: N806
        v = Ainv @ z
        Ainv -= np.outer(v, v) / (1.0 + z @ v)  # noqa: N806
        self.b_[k] += reward * z
        self.theta_[k] = Ainv @ self.b_[k]
        self.n_updates_ += 1

    def _design(self, X: npt.ArrayLike) -> FloatArray:  # noqa: N803
        self._check_fitted()
        Xa = np.asarray(X, dtype=np.float64)  # noqa: N806
        if Xa.ndim != 2 or Xa.shape[1] != self.n_features_in_:
            raise ConfigError("X", Xa.shape, f"(n, {self.n_features_in_}) as in fit")
        return np.hstack([np.ones((len(Xa), 1)), Xa])
