"""Diagnostics of importance weights: effective sample size, clipping and overlap, as flags.

Example:
    >>> import numpy as np
    >>> d = weight_diagnostics(np.array([1.0, 1.0, 0.0, 2.0]), clip=None)
    >>> round(d.effective_sample_size, 2), d.flags
    (2.67, ())
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["WeightDiagnostics", "weight_diagnostics"]

FloatArray = npt.NDArray[np.float64]

LOW_ESS_SHARE = 0.01
"""Flag ``low_effective_sample_size`` below this share of the rows."""


class WeightDiagnostics(NamedTuple):
    """How trustworthy importance weighting is on this data.

    Attributes:
        n: Rows.
        effective_sample_size: ``(sum w)^2 / sum w^2``.
        mean_weight: ``mean(w)``: 1 in expectation when propensities are right and overlap holds.
        max_weight: The largest weight.
        clipped_share: Share of rows whose weight was clipped.
        flags: ``low_effective_sample_size``, ``weights_clipped``, ``poor_overlap`` (mean weight
            off 1 by more than 4 standard errors: wrong propensities or actions the logging
            policy never takes), ``no_support`` (the target never agrees with the log).
    """

    n: int
    effective_sample_size: float
    mean_weight: float
    max_weight: float
    clipped_share: float
    flags: tuple[str, ...]


def weight_diagnostics(
    w: FloatArray, *, clip: float | None, raw: FloatArray | None = None
) -> WeightDiagnostics:
    """Diagnose weights ``w`` (after clipping; ``raw`` before, to count the clipped rows)."""
    n = len(w)
    total = float(w.sum())
    sq = float((w * w).sum())
    ess = total * total / sq if sq > 0 else 0.0
    mean = total / n
    se = float(w.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    before = w if raw is None else raw
    clipped = float((before > clip).mean()) if clip is not None else 0.0
    flags = []
    if total == 0:
        flags.append("no_support")
    elif ess < LOW_ESS_SHARE * n:
        flags.append("low_effective_sample_size")
    if clipped > 0:
        flags.append("weights_clipped")
    raw_mean = float(before.mean())
    raw_se = float(before.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    if total > 0 and abs(raw_mean - 1.0) > 4.0 * max(raw_se, se, 1e-12):
        flags.append("poor_overlap")
    return WeightDiagnostics(n, ess, mean, float(w.max(initial=0.0)), clipped, tuple(flags))
