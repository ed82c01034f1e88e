"""Always-valid intervals: asymptotic confidence sequences (Waudby-Smith et al., 2024).

For an estimate ``d`` with standard error ``se`` after ``n`` units in total, the unit-level
standard deviation is ``sigma = sqrt(n) * se`` and the two-sided ``1 - alpha`` confidence
sequence is ``d +- sigma * sqrt(2 (n rho2 + 1) / (n**2 rho2) * log(sqrt(n rho2 + 1) / alpha))``.
``rho2`` sets where the sequence is tightest; it is tuned for ``tuning_n`` units with
``rho2 = (-2 log alpha + log(-2 log alpha + 1)) / tuning_n``. The interval may be read after
every unit without inflating the false-positive rate.

Example:
    >>> half = confidence_sequence_halfwidth(se=0.1, n=1000, alpha=0.05, tuning_n=1000)
    >>> round(float(half), 4) > 1.96 * 0.1
    True
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from marketlift.errors import ConfigError

__all__ = ["SequentialInterval", "confidence_sequence_halfwidth", "sequential_interval"]


class SequentialInterval(NamedTuple):
    """An always-valid interval of the effect and the matching always-valid decision.

    Attributes:
        lower: Lower bound.
        upper: Upper bound.
        significant: Whether the interval excludes zero.
        pvalue: Always-valid p-value (the smallest alpha whose sequence excludes zero).
    """

    lower: Any
    upper: Any
    significant: Any
    pvalue: Any


def _rho2(alpha: float, tuning_n: float) -> float:
    la = -2.0 * math.log(alpha)
    return (la + math.log(la + 1.0)) / tuning_n


def confidence_sequence_halfwidth(se: Any, n: Any, *, alpha: float, tuning_n: float) -> Any:
    """Half-width of the asymptotic confidence sequence (arrays broadcast)."""
    if not 0 < alpha < 1:
        raise ConfigError("alpha", alpha, "a number in (0, 1)")
    if tuning_n <= 0:
        raise ConfigError("tuning_n", tuning_n, "a positive number of units")
    rho2 = _rho2(alpha, tuning_n)
    n = np.asarray(n, dtype=float)
    sigma = np.sqrt(n) * np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = n * rho2 + 1.0
        return sigma * np.sqrt(2.0 * v / (n * n * rho2) * np.log(np.sqrt(v) / alpha))


def sequential_interval(
    effect: Any, se: Any, n: Any, *, alpha: float = 0.05, tuning_n: float = 10_000
) -> SequentialInterval:
    """Always-valid interval and p-value of ``effect`` with standard error ``se``.

    Args:
        effect: The estimate (treatment minus control).
        se: Its standard error (Welch or CUPED-adjusted).
        n: Units in both arms together so far.
        alpha: One minus the confidence level.
        tuning_n: Units at which the sequence is tightest (the planned sample size).

    Example:
        >>> s = sequential_interval(0.5, 0.1, 2000)
        >>> bool(s.significant), s.lower < 0.5 < s.upper
        (True, True)
    """
    half = confidence_sequence_halfwidth(se, n, alpha=alpha, tuning_n=tuning_n)
    effect = np.asarray(effect, dtype=float)
    rho2 = _rho2(alpha, tuning_n)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sigma2 = n * np.asarray(se, dtype=float) ** 2
        v = n * rho2 + 1.0
        # Solve |effect| == halfwidth(alpha') for alpha' (rho fixed): the always-valid p-value.
        log_p = 0.5 * np.log(v) - effect * effect * n * n * rho2 / (2.0 * sigma2 * v)
        pvalue = np.minimum(1.0, np.exp(log_p))
    out = (effect - half, effect + half, np.abs(effect) > half, pvalue)
    if all(np.ndim(x) == 0 for x in out):
        return SequentialInterval(float(out[0]), float(out[1]), bool(out[2]), float(out[3]))
    return SequentialInterval(*out)
