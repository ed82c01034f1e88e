"""Bayesian readout with a flat prior and a Gaussian likelihood of the effect.

The posterior of the effect is ``N(effect, se**2)``. Chance to beat control is
``P(effect > 0)``; expected loss of shipping the treatment is ``E[max(0, -effect)]`` and of
keeping the control ``E[max(0, effect)]``.

Example:
    >>> r = bayes(effect=0.0, se=1.0)
    >>> r.chance_to_beat_control, round(r.expected_loss_treatment, 6)
    (0.5, 0.398942)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import stats as sps

__all__ = ["BayesResult", "bayes"]


class BayesResult(NamedTuple):
    """Posterior summaries of the effect.

    Attributes:
        chance_to_beat_control: ``P(effect > 0)``.
        expected_loss_treatment: ``E[max(0, -effect)]``, the risk of shipping the treatment.
        expected_loss_control: ``E[max(0, effect)]``, the risk of keeping the control.
    """

    chance_to_beat_control: Any
    expected_loss_treatment: Any
    expected_loss_control: Any


def bayes(effect: Any, se: Any) -> BayesResult:
    """Chance to beat control and expected losses (floats or arrays)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.asarray(effect, dtype=float)
        s = np.asarray(se, dtype=float)
        z = mu / s
        chance = sps.norm.cdf(z)
        loss_t = s * sps.norm.pdf(z) - mu * sps.norm.cdf(-z)
        loss_c = loss_t + mu
    out = (chance, loss_t, loss_c)
    if all(np.ndim(x) == 0 for x in out):
        return BayesResult(*(float(x) for x in out))
    return BayesResult(*out)
