"""The features a policy sees in the simulator, from a batch or from one decision context.

The simulator hands policies a :class:`~marketlift.sim.ContextBatch` (or one
:class:`~marketlift.sim.DecisionContext`); these functions turn it into the feature matrix that
uplift learners and bandits are trained on (:data:`SIM_FEATURES`, in this column order).
``true_values`` is never used: it is the oracle's privilege.

Example:
    >>> from marketlift.sim import DecisionContext
    >>> ctx = DecisionContext(moment="cart_idle_1h", buyer_id="b0000001", u=0.3,
    ...     price_sensitivity=0.4, is_new=True, fatigue=1.5, value_cents=4200.0, true_values={})
    >>> context_features(ctx).tolist()
    [0.0, 0.0, 1.0, 0.0, 0.4, 1.0, 1.5, 42.0]
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from marketlift.sim.effects import ACTIONS, MOMENTS
from marketlift.sim.policies import ContextBatch, DecisionContext

__all__ = ["SIM_ACTIONS", "SIM_FEATURES", "batch_features", "context_features"]

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
