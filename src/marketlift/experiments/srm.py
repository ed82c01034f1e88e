"""Sample-ratio mismatch: chi-square goodness of fit of arm sizes to configured weights.

Example:
    >>> r = srm_check([5000, 5200], [1, 1])
    >>> round(r.statistic, 4), r.mismatch
    (3.9216, False)
    >>> srm_check([5000, 5600], [1, 1]).mismatch
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from scipy import stats as sps

from marketlift.errors import ConfigError

__all__ = ["SRM_ALPHA", "SrmResult", "srm_check"]

SRM_ALPHA = 0.001
"""P-value below which a sample-ratio mismatch is flagged (the usual, strict threshold)."""


class SrmResult(NamedTuple):
    """Result of the check.

    Attributes:
        statistic: Pearson chi-square statistic.
        pvalue: Its p-value with ``k - 1`` degrees of freedom.
        mismatch: ``pvalue < threshold``.
        expected: Expected units per arm.
    """

    statistic: float
    pvalue: float
    mismatch: bool
    expected: tuple[float, ...]


def srm_check(
    counts: Sequence[int], weights: Sequence[float], *, threshold: float = SRM_ALPHA
) -> SrmResult:
    """Compare observed units per arm with the configured weights.

    Args:
        counts: Units per arm.
        weights: Configured weights, same order.
        threshold: P-value under which ``mismatch`` is set.
    """
    if len(counts) != len(weights) or len(counts) < 2:
        raise ConfigError("weights", list(weights), f"one weight per arm ({len(counts)} arms)")
    if any(w <= 0 for w in weights):
        raise ConfigError("weights", list(weights), "positive weights")
    total = float(sum(counts))
    wsum = float(sum(weights))
    expected = tuple(total * w / wsum for w in weights)
    if total == 0:
        return SrmResult(statistic=0.0, pvalue=1.0, mismatch=False, expected=expected)
    stat = sum((c - e) ** 2 / e for c, e in zip(counts, expected, strict=True))
    pvalue = float(sps.chi2.sf(stat, len(counts) - 1))
    return SrmResult(float(stat), pvalue, pvalue < threshold, expected)
