"""Quantile metrics (p90 order value, p99 latency): difference of arm quantiles.

Each arm's standard error comes from the distribution-free order-statistic interval of its
quantile: with ``h = z sqrt(p (1 - p) / n)``, the quantiles at ``p - h`` and ``p + h``
bracket the ``p`` quantile with 95% probability, so ``se = (Q(p + h) - Q(p - h)) / (2 z)``
(the approach of Eppo and Statsig; no density estimate needed). The effect is the difference
of the arms' quantiles with a normal interval; the relative lift uses the delta method on the
log ratio. SQL computes the three quantiles per arm (``quantile_cont`` on DuckDB,
``percentile`` on Spark); this module does the inference.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> c, t = rng.exponential(10, 4000), rng.exponential(12, 4000)
    >>> r = compare_quantile("p90", 0.9, arm_quantiles(c, 0.9), arm_quantiles(t, 0.9))
    >>> round(r.effect, 1), r.effect_lower < r.effect < r.effect_upper
    (3.9, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from scipy import stats

from marketlift.experiments.bayes import bayes
from marketlift.experiments.results import MetricResult
from marketlift.experiments.sequential import sequential_interval

__all__ = ["ArmQuantiles", "arm_quantiles", "compare_quantile", "quantile_levels"]

_Z95 = float(stats.norm.ppf(0.975))


class ArmQuantiles(NamedTuple):
    """An arm's size and its quantiles at ``p``, ``p - h`` and ``p + h``."""

    n: int
    value: float
    lower: float
    upper: float


def quantile_levels(p: float, n: int) -> tuple[float, float, float]:
    """``(p, p - h, p + h)`` clipped to [0, 1], with ``h = z sqrt(p (1 - p) / n)``."""
    h = _Z95 * math.sqrt(p * (1 - p) / max(n, 1))
    return p, max(0.0, p - h), min(1.0, p + h)


def arm_quantiles(values: Sequence[float] | Any, p: float) -> ArmQuantiles:
    """The :class:`ArmQuantiles` of an array in memory (NumPy's linear method, as SQL)."""
    import numpy as np  # noqa: PLC0415

    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return ArmQuantiles(0, math.nan, math.nan, math.nan)
    q = np.quantile(x, quantile_levels(p, int(x.size)))
    return ArmQuantiles(int(x.size), float(q[0]), float(q[1]), float(q[2]))


def _se(arm: ArmQuantiles) -> float:
    return (arm.upper - arm.lower) / (2 * _Z95) if arm.n else math.nan


def compare_quantile(
    name: str,
    p: float,
    control: ArmQuantiles,
    treatment: ArmQuantiles,
    *,
    variant: str = "treatment",
    alpha: float = 0.05,
    tuning_n: float = 10_000,
    min_units: int = 30,
) -> MetricResult:
    """Compare the ``p`` quantile of one treatment arm with the control."""
    flags: list[str] = []
    if control.n == 0 or treatment.n == 0:
        flags.append("empty_arm")
    if min(control.n, treatment.n) < min_units:
        flags.append("too_few_units")
    se_c, se_t = _se(control), _se(treatment)
    effect = treatment.value - control.value
    se = math.sqrt(se_c**2 + se_t**2)
    z = float(stats.norm.ppf(1 - alpha / 2))
    ok = math.isfinite(se) and se > 0
    if not ok:
        flags.append("zero_variance")
    pvalue = float(2 * stats.norm.sf(abs(effect) / se)) if ok else 1.0
    rel = rel_lo = rel_hi = math.nan
    if control.value > 0 and treatment.value > 0:
        log_ratio = math.log(treatment.value / control.value)
        se_log = math.sqrt((se_c / control.value) ** 2 + (se_t / treatment.value) ** 2)
        rel = math.expm1(log_ratio)
        rel_lo, rel_hi = math.expm1(log_ratio - z * se_log), math.expm1(log_ratio + z * se_log)
    else:
        flags.append("zero_control_mean")
    seq = sequential_interval(
        effect, se if ok else math.inf, control.n + treatment.n, alpha=alpha, tuning_n=tuning_n
    )
    post = bayes(effect, se if ok else math.inf)
    return MetricResult(
        metric=name,
        variant=variant,
        control_mean=control.value,
        treatment_mean=treatment.value,
        effect=effect,
        effect_lower=effect - z * se,
        effect_upper=effect + z * se,
        rel_effect=rel,
        rel_lower=rel_lo,
        rel_upper=rel_hi,
        pvalue=pvalue,
        pvalue_adjusted=pvalue,
        significant=ok and pvalue < alpha,
        se=se,
        df=math.inf,
        sequential_lower=seq.lower,
        sequential_upper=seq.upper,
        sequential_pvalue=seq.pvalue,
        chance_to_beat_control=post.chance_to_beat_control,
        expected_loss=post.expected_loss_treatment,
        variance_reduction=0.0,
        n_control=control.n,
        n_treatment=treatment.n,
        flags=tuple(flags),
    )
