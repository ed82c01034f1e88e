"""The policy API: ``select(context, actions) -> Decision(action, propensity, scores)``.

Every marketlift policy computes, for a feature matrix and a mask of available actions, the
probability of each action (:meth:`BasePolicy.probabilities`); choosing is sampling from it with
a uniform number, so the logged propensity is exactly the probability the policy had of choosing
what it chose. Three entry points share that one computation:

- :meth:`BasePolicy.decide`: one request, ``(x, available, u)``: the decision API's call.
- :meth:`BasePolicy.select` / :meth:`BasePolicy.select_batch`: the simulator's protocol
  (:class:`marketlift.sim.Policy` and :class:`marketlift.sim.BatchPolicy`), so
  :func:`marketlift.sim.evaluate_policies` computes the true value of any policy.
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
from marketlift.policy.features import batch_features, context_features
from marketlift.policy.uplift._base import NotFittedError
from marketlift.sim.effects import ACTIONS, Action
from marketlift.sim.policies import ContextBatch, DecisionContext

__all__ = ["BasePolicy", "Decision", "FloatArray", "IntArray", "sample"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Decision(NamedTuple):
    """What a policy chose, the probability it had of choosing it, and its score per action.

    ``action`` is the action's name from :meth:`BasePolicy.decide` and a
    :class:`marketlift.sim.Action` from :meth:`BasePolicy.select`.
    """

    action: str | Action
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

    After ``fit`` a policy has ``actions_``: the action names of its columns.
    """

    actions_: list[str]

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

    # -- the simulator's protocol ------------------------------------------------------------
    def _sim_columns(self) -> tuple[IntArray, IntArray]:
        """For each simulator action its column here (-1 if none) and the reverse map."""
        self._check_fitted()
        col = {name: i for i, name in enumerate(self.actions_)}
        to_col = np.array([col.get(a.name, -1) for a in ACTIONS], dtype=np.int64)
        sim_index = {a.name: k for k, a in enumerate(ACTIONS)}
        to_sim = np.array([sim_index.get(name, -1) for name in self.actions_], dtype=np.int64)
        return to_col, to_sim

    def _sim_available(self, sim_available: BoolArray, to_sim: IntArray) -> BoolArray:
        mask = np.zeros((len(sim_available), len(to_sim)), dtype=bool)
        known = to_sim >= 0
        mask[:, known] = sim_available[:, to_sim[known]]
        return mask

    def select_batch(self, batch: ContextBatch) -> tuple[IntArray, FloatArray]:
        """The simulator's batch protocol: action indexes into ``ACTIONS`` and propensities."""
        _, to_sim = self._sim_columns()
        mask = self._sim_available(batch.available, to_sim)
        idx, prop = self.choose(batch_features(batch), mask, batch.u)
        return to_sim[idx], prop

    def select(self, context: DecisionContext, actions: Sequence[Action]) -> Decision:
        """The simulator's protocol: one decision among ``actions``."""
        _, to_sim = self._sim_columns()
        names = {a.name for a in actions}
        mask = np.array([n in names for n in self.actions_], dtype=bool)
        d = self.decide(context_features(context), mask, context.u)
        return Decision(
            ACTIONS[int(to_sim[self.actions_.index(str(d.action))])],
            d.propensity,
            d.scores,
            d.probabilities,
        )

    def _set_actions(self, actions: Sequence[Any]) -> None:
        self.actions_ = [str(a) for a in actions]
