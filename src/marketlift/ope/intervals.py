"""Confidence intervals: analytic (normal, from per-row contributions) and bootstrap.

The bootstrap is the Poisson bootstrap, vectorized: each replicate weights every row by a
Poisson(1) count, so a ratio estimator is ``(counts @ numerator) / (counts @ denominator)``.

Example:
    >>> import numpy as np
    >>> lo, hi = analytic_interval(np.array([1.0, 2.0, 3.0, 4.0]), alpha=0.05)
    >>> round(lo, 3), round(hi, 3)
    (1.235, 3.765)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError

__all__ = ["analytic_interval", "bootstrap_interval", "normal_quantile"]

FloatArray = npt.NDArray[np.float64]


def normal_quantile(alpha: float) -> float:
    """Two-sided normal critical value ``z_{1 - alpha / 2}``."""
    if not 0.0 < alpha < 1.0:
        raise ConfigError("alpha", alpha, "a probability in (0, 1)")
    from statistics import NormalDist  # noqa: PLC0415

    return NormalDist().inv_cdf(1.0 - alpha / 2.0)


def analytic_interval(contributions: FloatArray, *, alpha: float = 0.05) -> tuple[float, float]:
    """Mean of per-row contributions plus or minus ``z * sd / sqrt(n)``."""
    n = len(contributions)
    mean = float(contributions.mean())
    se = float(contributions.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    z = normal_quantile(alpha)
    return mean - z * se, mean + z * se


def bootstrap_interval(
    numerator: FloatArray,
    denominator: FloatArray | None = None,
    *,
    alpha: float = 0.05,
    n_boot: int = 200,
    random_state: int = 0,
) -> tuple[float, float, float]:
    """Percentile interval and standard error of ``sum(num) / sum(den)`` (``den`` = 1 per row).

    Returns:
        ``(low, high, se)``.
    """
    if n_boot < 10:
        raise ConfigError("n_boot", n_boot, "an integer >= 10")
    rng = np.random.default_rng(random_state)
    n = len(numerator)
    den = np.ones(n) if denominator is None else denominator
    stats = np.empty(n_boot)
    for start in range(0, n_boot, 50):
        counts = rng.poisson(1.0, (min(50, n_boot - start), n)).astype(np.float64)
        d = counts @ den
        stats[start : start + len(counts)] = np.divide(
            counts @ numerator, d, out=np.full(len(d), np.nan), where=d != 0
        )
    stats = stats[np.isfinite(stats)]
    lo, hi = np.quantile(stats, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi), float(stats.std(ddof=1))
