"""The features a policy sees in the simulator, and the adapter that lets the simulator run it.

The simulator hands policies a :class:`~marketlift.sim.ContextBatch` (or one
:class:`~marketlift.sim.DecisionContext`); these functions turn it into the feature matrix that
uplift learners and bandits are trained on (:data:`SIM_FEATURES`, in this column order).
``true_values`` is never used: it is the oracle's privilege. ``price_sensitivity`` is a hidden
trait of the simulated buyer: a policy trained on it cannot be served (the product's policies
are trained on the decision log's features, :mod:`marketlift.policy.decision_log`).

:class:`SimAdapter` runs any marketlift policy (``actions_`` and ``probabilities``) in the
simulator (:func:`~marketlift.sim.evaluate_policies` wraps such policies itself), so
``marketlift.policy`` needs nothing of the simulator.

Example:
    >>> from marketlift.sim import DecisionContext
    >>> ctx = DecisionContext(moment="cart_idle_1h", buyer_id="b0000001", u=0.3,
    ...     price_sensitivity=0.4, is_new=True, fatigue=1.5, value_cents=4200.0, true_values={})
    >>> context_features(ctx).tolist()
    [0.0, 0.0, 1.0, 0.0, 0.4, 1.0, 1.5, 42.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from marketlift.sim.effects import ACTIONS, MOMENTS, Action
from marketlift.sim.policies import ContextBatch, DecisionContext, PolicyDecision

__all__ = [
    "SIM_ACTIONS",
    "SIM_FEATURES",
    "SimAdapter",
    "batch_features",
    "context_features",
    "is_marketlift_policy",
    "online_features",
]

FloatArray = npt.NDArray[np.float64]

SIM_FEATURES: Final = (
    *(f"moment_{m}" for m in MOMENTS),
    "price_sensitivity",
    "is_new",
    "fatigue",
    "price_usd",
)
"""Feature names, in column order."""
SIM_ACTIONS: Final = tuple(a.name for a in ACTIONS)
"""Action names of the simulator, ``none`` first."""
_MOMENT_INDEX: Final = {m: i for i, m in enumerate(MOMENTS)}


def batch_features(batch: ContextBatch) -> FloatArray:
    """The ``(n, len(SIM_FEATURES))`` feature matrix of a batch."""
    n = len(batch)
    out = np.zeros((n, len(SIM_FEATURES)))
    out[np.arange(n), batch.moment] = 1.0
    out[:, 4] = batch.price_sensitivity
    out[:, 5] = batch.is_new
    out[:, 6] = batch.fatigue
    out[:, 7] = batch.value_cents / 100.0
    return out


def context_features(context: DecisionContext, out: FloatArray | None = None) -> FloatArray:
    """The feature vector of one context (written into ``out`` when given, no allocation)."""
    x = np.zeros(len(SIM_FEATURES)) if out is None else out
    x[:4] = 0.0
    x[_MOMENT_INDEX[context.moment]] = 1.0
    x[4] = context.price_sensitivity
    x[5] = float(context.is_new)
    x[6] = context.fatigue
    x[7] = context.value_cents / 100.0
    return x


def is_marketlift_policy(policy: object) -> bool:
    """Whether ``policy`` is a fitted marketlift policy (``actions_`` and ``probabilities``)."""
    return hasattr(policy, "actions_") and callable(getattr(policy, "probabilities", None))


class SimAdapter:
    """The simulator's policy protocol around a marketlift policy.

    The policy's columns are matched to the simulator's actions by name (an action the
    simulator does not know is never available; one the policy does not know is never chosen).
    Features come from :func:`online_features` for a policy with ``feature_names_`` (trained on
    the decision log), else from :func:`batch_features` (``features`` overrides both).

    Args:
        policy: A fitted marketlift policy.
        features: ``batch -> (n, d)`` features the policy was trained on.
    """

    def __init__(self, policy: Any, features: Any = None) -> None:
        self.policy = policy
        trained_on = getattr(policy, "feature_names_", None)
        if features is not None:
            self.features = features
        elif trained_on is not None:  # trained on the catalog's features (the decision log)
            self.features = lambda batch: online_features(batch, trained_on)
        else:
            self.features = batch_features
        names = [str(a) for a in policy.actions_]
        col = {name: i for i, name in enumerate(names)}
        self._to_col = np.array([col.get(a.name, -1) for a in ACTIONS], dtype=np.int64)
        sim_index = {a.name: k for k, a in enumerate(ACTIONS)}
        self._to_sim = np.array([sim_index.get(n, -1) for n in names], dtype=np.int64)
        self.name = str(getattr(policy, "name", type(policy).__name__))

    def _mask(self, sim_available: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        mask = np.zeros((len(sim_available), len(self._to_sim)), dtype=bool)
        known = self._to_sim >= 0
        mask[:, known] = sim_available[:, self._to_sim[known]]
        return mask

    def select_batch(
        self, batch: ContextBatch
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Action indexes into ``ACTIONS`` and propensities, one per row."""
        P = self.policy.probabilities(self.features(batch), self._mask(batch.available))  # noqa: N806
        cum = np.cumsum(P, axis=1)
        idx = (cum <= (batch.u * cum[:, -1])[:, None]).sum(axis=1)
        last = P.shape[1] - 1 - np.argmax(P[:, ::-1] > 0, axis=1)
        idx = np.minimum(idx, last)
        return self._to_sim[idx], np.asarray(P[np.arange(len(idx)), idx], dtype=np.float64)

    def select(self, context: DecisionContext, actions: Sequence[Action]) -> PolicyDecision:
        """One decision among ``actions``."""
        names = {a.name for a in actions}
        mask = np.array([str(n) in names for n in self.policy.actions_], dtype=bool)
        d = self.policy.decide(context_features(context), mask, context.u)
        k = list(self.policy.actions_).index(str(d.action))
        return PolicyDecision(ACTIONS[int(self._to_sim[k])], float(d.propensity))


_CART_AGE_HOURS: Final = (np.nan, 0.5, 1.0, 24.0)
"""Cart age the stream updater shows at each moment (as :mod:`marketlift.demo.replay`)."""


def online_features(batch: ContextBatch, names: Sequence[str]) -> FloatArray:
    """A policy's catalog features (``moment=<id>`` and store features) for a simulated batch.

    What the online store holds at a simulated decision when the stream updater writes the
    buyer's live cart, orders and fatigue (``b_cart_items``, ``b_cart_age_hours``,
    ``b_n_purchases``, ``b_fatigue``, as :class:`marketlift.demo.replay.EngineArm` does); every
    other store feature takes its value for a buyer without history (0, or NaN for recencies
    and prices). It lets :func:`~marketlift.sim.evaluate_policies` run a policy trained on the
    decision log (:func:`marketlift.policy.fit_policy`) and give its true value.

    Example:
        >>> from marketlift.sim import DecisionContext
        >>> b = ContextBatch(moment=np.array([2]), buyer=np.array([0]), listing=np.array([0]),
        ...     u=np.array([0.5]), price_sensitivity=np.array([0.4]), is_new=np.array([True]),
        ...     fatigue=np.array([1.5]), value_cents=np.array([4200.0]),
        ...     available=np.ones((1, 9), dtype=bool), true_values=np.zeros((1, 9)))
        >>> online_features(b, ["moment=cart_idle_1h", "b_fatigue", "b_cart_age_hours"]).tolist()
        [[1.0, 1.5, 1.0]]
    """
    from marketlift.policy.context import empty_value  # noqa: PLC0415

    n = len(batch)
    out = np.zeros((n, len(names)))
    live = {
        "b_cart_items": (batch.moment > 0).astype(np.float64),
        "b_cart_age_hours": np.asarray(_CART_AGE_HOURS)[batch.moment],
        "b_n_purchases": (~batch.is_new).astype(np.float64),
        "b_fatigue": batch.fatigue,
    }
    for j, name in enumerate(names):
        if name.startswith("moment="):
            out[:, j] = batch.moment == MOMENTS.index(name.removeprefix("moment="))
        elif name in live:
            out[:, j] = live[name]
        else:
            out[:, j] = empty_value(name)
    return out
