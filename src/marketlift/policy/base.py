"""The policy API: ``select(context, actions) -> Decision(action, propensity, scores)``.

Every marketlift policy computes, for a feature matrix and a mask of available actions, the
probability of each action (:meth:`BasePolicy.probabilities`); choosing is sampling from it with
a uniform number, so the logged propensity is exactly the probability the policy had of choosing
what it chose. Three entry points share that one computation:

- :meth:`BasePolicy.decide`: one request, ``(x, available, u)``: the decision API's call.
- :meth:`BasePolicy.choose`: a batch of decisions (the simulator runs a policy through it, in
  :class:`marketlift.sim.features.SimAdapter`, so this package needs nothing of the simulator).
- :meth:`BasePolicy.probabilities`: every action's probability, which off-policy evaluation uses.

Example:
    >>> import numpy as np
    >>> P = np.array([[0.2, 0.0, 0.8]])
    >>> sample(P, np.array([0.1])).tolist(), sample(P, np.array([0.5])).tolist()
    ([0], [2])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy._params import ParamsMixin
from marketlift.policy.uplift._base import NotFittedError

__all__ = ["BasePolicy", "Decision", "FloatArray", "IntArray", "sample"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Decision(NamedTuple):
    """What a policy chose, the probability it had of choosing it, and its score per action.

    ``action`` is the action's name (an action id of the engagement catalog).
    """

    action: str
    propensity: float
    scores: FloatArray | None = None
    probabilities: FloatArray | None = None
    """Every action's probability under the masks of this decision (what the log records)."""


def sample(probabilities: FloatArray, u: FloatArray) -> IntArray:
    """The column chosen in each row by inverse-CDF sampling with uniforms ``u`` in [0, 1)."""
    cum = np.cumsum(probabilities, axis=1)
    idx = (cum <= (u * cum[:, -1])[:, None]).sum(axis=1)
    last = probabilities.shape[1] - 1 - np.argmax(probabilities[:, ::-1] > 0, axis=1)
    return np.asarray(np.minimum(idx, last), dtype=np.int64)


class BasePolicy(ParamsMixin):
    """Base of every policy. Subclasses implement :meth:`probabilities` (and ``fit``).

    After ``fit`` a policy has ``actions_``: the action names of its columns. A policy fitted
    on the decision log (:func:`marketlift.policy.fit_policy`) also has ``feature_names_``
    (its columns, the catalog's policy features), ``catalog_digest_`` and ``training_range_``.
    """

    actions_: list[str]
    feature_names_: list[str]
    catalog_digest_: str
    training_range_: tuple[int, int]

    # -- what subclasses implement ----------------------------------------------------------
    def scores(self, X: npt.ArrayLike) -> FloatArray:  # noqa: N803 - scikit-learn convention
        """A score per row and action (higher is better); shape ``(n, len(actions_))``."""
        raise NotImplementedError

    def probabilities(self, X: npt.ArrayLike, available: npt.ArrayLike | None = None) -> FloatArray:  # noqa: N803
        """The probability of choosing each action: shape ``(n, len(actions_))``, rows sum to one.

        ``available`` masks actions that cannot be taken (they get probability 0); the first
        column (usually ``none``) should always be available.
        """
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "actions_"):
            msg = f"{type(self).__name__} is not fitted; call fit(...) first."
            raise NotFittedError(msg)

    def _mask(self, n: int, available: npt.ArrayLike | None) -> BoolArray:
        k = len(self.actions_)
        if available is None:
            return np.ones((n, k), dtype=bool)
        mask = np.asarray(available, dtype=bool)
        if mask.shape != (n, k):
            raise ConfigError("available", mask.shape, f"shape ({n}, {k})")
        if not mask.any(axis=1).all():
            raise ConfigError("available", "a row with no action", "at least one action per row")
        return mask

    def choose(
        self,
        X: npt.ArrayLike,  # noqa: N803
        available: npt.ArrayLike | None,
        u: npt.ArrayLike,
    ) -> tuple[IntArray, FloatArray]:
        """Column chosen and its propensity per row, sampled with uniforms ``u``."""
        P = self.probabilities(X, available)  # noqa: N806
        idx = sample(P, np.asarray(u, dtype=np.float64))
        return idx, P[np.arange(len(idx)), idx]

    def decide(
        self, x: npt.ArrayLike, available: npt.ArrayLike | None = None, u: float = 0.5
    ) -> Decision:
        """One decision for one feature vector (the decision API's call).

        Args:
            x: Features, shape ``(d,)``.
            available: Mask over ``actions_`` (all available when ``None``).
            u: A uniform number in [0, 1) for the policy's randomization (log it to replay).
        """
        X = np.asarray(x, dtype=np.float64)[None, :]  # noqa: N806
        mask = None if available is None else np.asarray(available, dtype=bool)[None, :]
        p = self.probabilities(X, mask)[0]
        k = int(sample(p[None, :], np.array([u]))[0])
        return Decision(self.actions_[k], float(p[k]), p, p)

    def _set_actions(self, actions: Sequence[Any]) -> None:
        self.actions_ = [str(a) for a in actions]
