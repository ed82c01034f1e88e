"""Metric definitions and their moments: means, ratios (delta method), CUPED and CUPAC.

A metric is ``mean(numerator) / mean(denominator)`` over units (the denominator is the
constant 1 for a plain mean or a proportion). With a covariate (a pre-period value for CUPED,
or a model prediction for CUPAC), the estimate is adjusted by
``theta * (covariate_mean_arm - covariate_mean_pooled)``, with ``theta`` estimated on both
arms pooled; variances of ratios come from the delta method.

Example:
    >>> from marketlift.experiments.stats import Moments
    >>> m = Metric("revenue", "revenue", covariate="pre_revenue")
    >>> arm = Moments.from_columns({"revenue": [1.0, 2.0, 4.0], "pre_revenue": [1.0, 2.0, 3.0]},
    ...                            m.pairs)
    >>> round(m.plain(arm)[1], 6), round(m.adjusted(arm, arm)[1], 6)
    (2.333333, 0.083333)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from marketlift.errors import ConfigError
from marketlift.experiments.stats import Moments, pair_key

__all__ = ["Metric", "covariate_theta", "ratio_cov"]


@dataclass(frozen=True)
class Metric:
    """One metric of an analysis.

    Attributes:
        name: Name shown in results.
        numerator: Unit-level column averaged (revenue, converted, ...).
        denominator: Unit-level column of a ratio metric (orders for AOV, sessions for revenue
            per session); ``None`` for a mean or a proportion.
        covariate: Unit-level covariate numerator: the pre-period value of the same metric
            (CUPED) or a model prediction made without the treatment (CUPAC).
        covariate_denominator: Covariate denominator of a ratio metric.
    """

    name: str
    numerator: str
    denominator: str | None = None
    covariate: str | None = None
    covariate_denominator: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("metric.name", self.name, "a non-empty name")
        if self.covariate_denominator is not None and self.covariate is None:
            raise ConfigError(
                f"{self.name}.covariate_denominator",
                self.covariate_denominator,
                "to come with a covariate numerator",
            )

    @property
    def columns(self) -> tuple[str, ...]:
        """The unit-level columns this metric reads."""
        cols = (self.numerator, self.denominator, self.covariate, self.covariate_denominator)
        return tuple(dict.fromkeys(c for c in cols if c is not None))

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The cross-products this metric needs (every pair of its columns, squares included)."""
        cols = self.columns
        return tuple(sorted({pair_key(a, b) for i, a in enumerate(cols) for b in cols[i:]}))

    def plain(self, m: Moments) -> tuple[float, float]:
        """Unadjusted ``(mean, unit variance)`` of the metric in one arm (delta method)."""
        return _ratio_mean(m, self.numerator, self.denominator), ratio_cov(
            m, self.numerator, self.denominator, self.numerator, self.denominator
        )

    def adjusted(self, m: Moments, pooled: Moments) -> tuple[float, float]:
        """CUPED/CUPAC-adjusted ``(mean, unit variance)`` of one arm; ``pooled`` holds both arms.

        Without a covariate, when the pooled covariate has no variance, or when the covariate
        mean is undefined (a zero covariate denominator), this is :meth:`plain`.
        """
        if self.covariate is None:
            return self.plain(m)
        theta = covariate_theta(self, pooled)
        mean, var = self.plain(m)
        cx, cd = self.covariate, self.covariate_denominator
        cov_mean = _ratio_mean(m, cx, cd)
        pooled_cov_mean = _ratio_mean(pooled, cx, cd)
        if theta == 0 or not (math.isfinite(cov_mean) and math.isfinite(pooled_cov_mean)):
            return mean, var
        var_x = ratio_cov(m, cx, cd, cx, cd)
        cov_yx = ratio_cov(m, self.numerator, self.denominator, cx, cd)
        return (
            mean - theta * (cov_mean - pooled_cov_mean),
            var + theta * theta * var_x - 2.0 * theta * cov_yx,
        )


def _ratio_mean(m: Moments, numer: str, denom: str | None) -> float:
    d = m.mean(denom)
    return m.mean(numer) / d if d != 0 else float("nan")


def ratio_cov(m: Moments, ln: str | None, ld: str | None, rn: str | None, rd: str | None) -> float:
    """Delta-method covariance of the unit-level ratios ``ln/ld`` and ``rn/rd``.

    ``cov(ln, rn) - cov(ln, rd) r_r - cov(ld, rn) r_l + cov(ld, rd) r_l r_r`` over
    ``mean(ld) mean(rd)``, with ``r = mean(numerator) / mean(denominator)``.
    """
    mld, mrd = m.mean(ld), m.mean(rd)
    if mld == 0 or mrd == 0:
        return float("nan")
    rl = m.mean(ln) / mld
    rr = m.mean(rn) / mrd
    return (
        (m.cov(ln, rn) - m.cov(ln, rd) * rr - m.cov(ld, rn) * rl + m.cov(ld, rd) * rl * rr)
        / mld
        / mrd
    )


def covariate_theta(metric: Metric, pooled: Moments) -> float:
    """``cov(metric, covariate) / var(covariate)`` on the pooled arms; 0 when undefined."""
    cx, cd = metric.covariate, metric.covariate_denominator
    var_x = ratio_cov(pooled, cx, cd, cx, cd)
    if not math.isfinite(var_x) or var_x <= 0:
        return 0.0
    cov = ratio_cov(pooled, metric.numerator, metric.denominator, cx, cd)
    return cov / var_x if math.isfinite(cov) else 0.0
