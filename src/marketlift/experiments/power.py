"""Power analysis: sample size and minimum detectable effect (MDE), with variance reduction.

Two-sided two-sample z-test (the large-sample form of the Welch test used by the analysis).
With CUPED the unit variance shrinks by ``variance_reduction`` (the squared correlation of
metric and covariate), so ``sd_eff = sd * sqrt(1 - variance_reduction)``.

Example:
    >>> n = sample_size(effect=0.01, sd=(0.1 * 0.9) ** 0.5)
    >>> 14_000 < n < 14_200
    True
    >>> sample_size(effect=0.01, sd=0.3, variance_reduction=0.5) < sample_size(0.01, 0.3)
    True
"""

from __future__ import annotations

import math
from typing import NamedTuple

from scipy import optimize
from scipy import stats as sps

from marketlift.errors import ConfigError

__all__ = ["PowerResult", "mde", "plan", "power", "sample_size"]


def _check(alpha: float, variance_reduction: float, sd: float) -> None:
    if not 0 < alpha < 1:
        raise ConfigError("alpha", alpha, "a number in (0, 1)")
    if not 0 <= variance_reduction < 1:
        raise ConfigError("variance_reduction", variance_reduction, "a fraction in [0, 1)")
    if not (math.isfinite(sd) and sd > 0):
        raise ConfigError("sd", sd, "a positive standard deviation")


def power(
    effect: float,
    sd: float,
    n_per_arm: float,
    *,
    alpha: float = 0.05,
    ratio: float = 1.0,
    variance_reduction: float = 0.0,
) -> float:
    """Probability of a significant two-sided test when the true effect is ``effect``.

    Args:
        effect: Absolute effect (treatment minus control).
        sd: Unit-level standard deviation of the metric.
        n_per_arm: Units in the control arm; the treatment has ``ratio`` times as many.
        alpha: Significance level.
        ratio: Treatment units per control unit.
        variance_reduction: Expected CUPED variance reduction.

    Example:
        >>> from statsmodels.stats.power import NormalIndPower
        >>> ref = NormalIndPower().power(0.1, 1000, 0.05)
        >>> bool(abs(power(0.1, 1.0, 1000) - ref) < 1e-12)
        True
    """
    _check(alpha, variance_reduction, sd)
    if n_per_arm <= 0 or ratio <= 0:
        raise ConfigError("n_per_arm", n_per_arm, "a positive number of units")
    d = abs(effect) / (sd * math.sqrt(1.0 - variance_reduction))
    nobs = 1.0 / (1.0 / n_per_arm + 1.0 / (n_per_arm * ratio))
    crit = sps.norm.isf(alpha / 2.0)
    shift = d * math.sqrt(nobs)
    return float(sps.norm.sf(crit - shift) + sps.norm.cdf(-crit - shift))


def _target(target: float) -> None:
    if not 0 < target < 1:
        raise ConfigError("power", target, "a probability in (0, 1)")


def sample_size(
    effect: float,
    sd: float,
    *,
    alpha: float = 0.05,
    target_power: float = 0.8,
    ratio: float = 1.0,
    variance_reduction: float = 0.0,
) -> int:
    """Smallest control-arm size whose power reaches ``target_power`` (rounded up)."""
    _check(alpha, variance_reduction, sd)
    _target(target_power)
    if effect == 0 or not math.isfinite(effect):
        raise ConfigError("effect", effect, "a non-zero finite effect")

    def gap(n: float) -> float:
        return (
            power(effect, sd, n, alpha=alpha, ratio=ratio, variance_reduction=variance_reduction)
            - target_power
        )

    hi = 2.0
    while gap(hi) < 0:
        hi *= 2.0
    n = float(optimize.brentq(gap, 1e-9, hi, xtol=1e-10, rtol=1e-14))
    return math.ceil(n - 1e-9)


def mde(
    n_per_arm: float,
    sd: float,
    *,
    alpha: float = 0.05,
    target_power: float = 0.8,
    ratio: float = 1.0,
    variance_reduction: float = 0.0,
) -> float:
    """Smallest absolute effect detected with ``target_power`` by ``n_per_arm`` units per arm.

    Example:
        >>> round(mde(10_000, 1.0), 4)
        0.0396
    """
    _check(alpha, variance_reduction, sd)
    _target(target_power)

    def gap(e: float) -> float:
        return (
            power(e, sd, n_per_arm, alpha=alpha, ratio=ratio, variance_reduction=variance_reduction)
            - target_power
        )

    hi = sd
    while gap(hi) < 0:
        hi *= 2.0
    return float(optimize.brentq(gap, 0.0, hi, xtol=1e-15, rtol=1e-14))


class PowerResult(NamedTuple):
    """A test plan.

    Attributes:
        units_per_arm: Control-arm units.
        total_units: Units over every arm.
        mde_abs: Absolute minimum detectable effect.
        mde_rel: ``mde_abs / baseline`` (``nan`` without a baseline).
        power: Power at that size and effect.
        variance_reduction: Variance reduction assumed.
    """

    units_per_arm: int
    total_units: int
    mde_abs: float
    mde_rel: float
    power: float
    variance_reduction: float


def plan(
    *,
    sd: float,
    baseline: float | None = None,
    mde_rel: float | None = None,
    units_per_arm: int | None = None,
    arms: int = 2,
    alpha: float = 0.05,
    target_power: float = 0.8,
    variance_reduction: float = 0.0,
) -> PowerResult:
    """Sample size for a relative MDE, or the MDE of a given size (exactly one of the two).

    Example:
        >>> p = plan(sd=0.3, baseline=0.1, mde_rel=0.05)
        >>> p.units_per_arm == sample_size(0.005, 0.3), p.total_units == 2 * p.units_per_arm
        (True, True)
    """
    if (mde_rel is None) == (units_per_arm is None):
        raise ConfigError("mde_rel/units_per_arm", (mde_rel, units_per_arm), "exactly one")
    if arms < 2:
        raise ConfigError("arms", arms, "at least 2")
    if mde_rel is not None:
        if baseline is None or baseline == 0:
            raise ConfigError("baseline", baseline, "a non-zero baseline mean with mde_rel")
        effect = abs(mde_rel * baseline)
        n = sample_size(
            effect,
            sd,
            alpha=alpha,
            target_power=target_power,
            variance_reduction=variance_reduction,
        )
    else:
        n = int(units_per_arm or 0)
        effect = mde(
            n, sd, alpha=alpha, target_power=target_power, variance_reduction=variance_reduction
        )
    rel = effect / abs(baseline) if baseline else float("nan")
    got = power(effect, sd, n, alpha=alpha, variance_reduction=variance_reduction)
    return PowerResult(n, n * arms, effect, rel, got, variance_reduction)
