"""Welch t-test with intervals for the absolute and the relative lift.

Works on floats or on NumPy arrays of the same shape (so A/A simulations are vectorized).
The relative interval uses the delta method on ``log(treatment / control)``, as tea-tasting
does: ``var(log mean) ~ var / (n * mean**2)``, then ``ratio * exp(+-q * se)``.

Example:
    >>> r = welch(10.0, 4.0, 100, 11.0, 4.0, 100)
    >>> round(r.effect, 6), round(r.pvalue, 6), round(r.rel_effect, 6)
    (1.0, 0.000507, 0.1)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import stats as sps

__all__ = ["Lift", "welch"]


class Lift(NamedTuple):
    """A two-sided comparison of treatment with control (floats, or arrays when vectorized).

    Attributes:
        control: Control mean.
        treatment: Treatment mean.
        effect: ``treatment - control``.
        effect_lower: Lower bound of the interval of ``effect``.
        effect_upper: Upper bound.
        rel_effect: ``treatment / control - 1``.
        rel_lower: Lower bound of the interval of ``rel_effect``.
        rel_upper: Upper bound.
        pvalue: Two-sided p-value of ``effect == 0``.
        statistic: ``effect / se``.
        se: Standard error of ``effect``.
        df: Welch-Satterthwaite degrees of freedom.
    """

    control: Any
    treatment: Any
    effect: Any
    effect_lower: Any
    effect_upper: Any
    rel_effect: Any
    rel_lower: Any
    rel_upper: Any
    pvalue: Any
    statistic: Any
    se: Any
    df: Any


def _scale_df(var_c: Any, n_c: Any, var_t: Any, n_t: Any) -> tuple[Any, Any]:
    mv_c = var_c / n_c
    mv_t = var_t / n_t
    se = np.sqrt(mv_c + mv_t)
    df = (mv_c + mv_t) ** 2 / (mv_c**2 / (n_c - 1) + mv_t**2 / (n_t - 1))
    return se, df


def welch(  # noqa: PLR0917 - per-arm statistics, as scipy.stats.ttest_ind_from_stats
    mean_c: Any,
    var_c: Any,
    n_c: Any,
    mean_t: Any,
    var_t: Any,
    n_t: Any,
    *,
    alpha: float = 0.05,
) -> Lift:
    """Welch's unequal-variance t-test of ``mean_t - mean_c`` from per-arm statistics.

    Args:
        mean_c: Control mean.
        var_c: Control sample variance (``ddof=1``) of the unit-level values.
        n_c: Control units.
        mean_t: Treatment mean.
        var_t: Treatment sample variance.
        n_t: Treatment units.
        alpha: One minus the confidence level of the intervals.

    Returns:
        The :class:`Lift`. Zero variance or zero control mean gives ``nan`` fields; callers
        report those as flags.

    Example:
        >>> from scipy import stats
        >>> r = welch(1.0, 2.0, 30, 1.5, 3.0, 40)
        >>> ref = stats.ttest_ind_from_stats(1.5, 3.0**0.5, 40, 1.0, 2.0**0.5, 30,
        ...                                  equal_var=False)
        >>> bool(abs(r.pvalue - ref.pvalue) < 1e-12)
        True
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_c = np.asarray(mean_c, dtype=float)
        mean_t = np.asarray(mean_t, dtype=float)
        se, df = _scale_df(
            np.asarray(var_c, float),
            np.asarray(n_c, float),
            np.asarray(var_t, float),
            np.asarray(n_t, float),
        )
        q = 1.0 - alpha / 2.0
        effect = mean_t - mean_c
        half = sps.t.ppf(q, df) * se
        statistic = effect / se
        pvalue = 2.0 * sps.t.sf(np.abs(statistic), df)
        log_se, log_df = _scale_df(
            np.asarray(var_c, float) / mean_c / mean_c,
            np.asarray(n_c, float),
            np.asarray(var_t, float) / mean_t / mean_t,
            np.asarray(n_t, float),
        )
        ratio = mean_t / mean_c
        rel_half = np.exp(sps.t.ppf(q, log_df) * log_se)
        fields = (
            mean_c,
            mean_t,
            effect,
            effect - half,
            effect + half,
            ratio - 1.0,
            ratio / rel_half - 1.0,
            ratio * rel_half - 1.0,
            pvalue,
            statistic,
            se,
            df,
        )
    if all(np.ndim(f) == 0 for f in fields):
        return Lift(*(float(f) for f in fields))
    return Lift(*fields)
