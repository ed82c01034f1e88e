"""Multiple-comparison corrections across metrics and variants: Holm and Benjamini-Hochberg.

Example:
    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    >>> [round(p, 6) for p in benjamini_hochberg([0.01, 0.04, 0.03])]
    [0.03, 0.04, 0.04]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from marketlift.errors import ConfigError

__all__ = ["adjust", "benjamini_hochberg", "holm"]


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error rate); ``nan`` stays ``nan``."""
    idx = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    m = len(idx)
    out = [float("nan")] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda j: pvalues[j])):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg step-up adjusted p-values (false discovery rate)."""
    idx = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    m = len(idx)
    out = [float("nan")] * len(pvalues)
    running = 1.0
    order = sorted(idx, key=lambda j: pvalues[j])
    for rank in range(m - 1, -1, -1):
        i = order[rank]
        running = min(running, m * pvalues[i] / (rank + 1))
        out[i] = min(1.0, running)
    return out


def adjust(pvalues: Sequence[float], method: str) -> list[float]:
    """Adjust with ``"holm"``, ``"bh"`` or ``"none"``.

    Example:
        >>> adjust([0.5], "bonferroni")
        Traceback (most recent call last):
        ...
        marketlift.errors.ConfigError: correction == 'bonferroni', expected 'holm', 'bh' or 'none'.
    """
    if method == "holm":
        return holm(pvalues)
    if method == "bh":
        return benjamini_hochberg(pvalues)
    if method == "none":
        return [float(p) for p in pvalues]
    raise ConfigError("correction", method, "'holm', 'bh' or 'none'")
