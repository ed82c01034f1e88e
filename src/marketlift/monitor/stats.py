"""The numbers of the checks: population stability index, calibration error, reliability.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> round(psi(rng.normal(size=5000), rng.normal(size=5000)), 3) < 0.01
    True
    >>> psi(np.zeros(100), np.ones(100)) > 5
    True
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["PSI_FLOOR", "Reliability", "categorical_psi", "psi", "psi_critical", "reliability"]

PSI_FLOOR: Final = 1e-4
"""Smallest share of a bin: an empty bin would make the index infinite."""

FloatArray = npt.NDArray[np.float64]


def _index(expected: FloatArray, actual: FloatArray) -> float:
    e = np.maximum(expected, PSI_FLOOR)
    a = np.maximum(actual, PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _edges(ref: FloatArray, n_bins: int) -> FloatArray:
    edges = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    missing = n_bins - 1 - len(edges)
    above = ref[ref > edges[-1]]
    if missing > 0 and len(above):
        # a mass point (most buyers have revenue 0) merged quantiles: cut what lies above it
        more = np.quantile(above, np.linspace(0.0, 1.0, missing + 2)[1:-1])
        edges = np.unique(np.concatenate([edges, more]))
    return edges


def psi(reference: npt.ArrayLike, current: npt.ArrayLike, n_bins: int = 10) -> float:
    """Population stability index of a numeric feature (missing values left out).

    The bins are the reference's quantiles, open at both ends; when a mass point merges
    quantiles (a feature that is mostly 0), the values above the highest edge are cut by their
    own quantiles, so the bins still see a shift of the rest. The index is
    ``sum((a - e) * ln(a / e))`` over the bins' shares ``e`` (reference) and ``a`` (current),
    each share at least :data:`PSI_FLOOR`. Returns 0.0 when either side has no values.
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    ref = ref[~np.isnan(ref)]
    cur = cur[~np.isnan(cur)]
    if len(ref) == 0 or len(cur) == 0:
        return 0.0
    edges = _edges(ref, n_bins)
    # bin k holds values in (edges[k-1], edges[k]]: a value equal to an edge falls left
    e = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1)
    a = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1)
    return _index(e / len(ref), a / len(cur))


def categorical_psi(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Population stability index of category codes (one bin per code; missing left out).

    Example:
        >>> round(categorical_psi([0, 0, 1, 1], [0, 1, 1, 1]), 4)
        0.2747
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    ref = ref[~np.isnan(ref)]
    cur = cur[~np.isnan(cur)]
    if len(ref) == 0 or len(cur) == 0:
        return 0.0
    codes, inverse = np.unique(np.concatenate([ref, cur]), return_inverse=True)
    e = np.bincount(inverse[: len(ref)], minlength=len(codes))
    a = np.bincount(inverse[len(ref) :], minlength=len(codes))
    return _index(e / len(ref), a / len(cur))


def psi_critical(n_reference: int, n_current: int, n_bins: int, alpha: float = 0.001) -> float:
    """The index that sampling noise alone exceeds with probability ``alpha``.

    Two samples of one population give ``PSI ~ chi2(B - 1) * (1/n + 1/m)`` asymptotically
    (Yurdakul, 2018), so on a few hundred values a large index can be noise: a check alerts only
    above both its threshold and this critical value.

    Example:
        >>> round(psi_critical(200, 200, 10), 3), round(psi_critical(20_000, 20_000, 10), 4)
        (0.279, 0.0028)
    """
    from scipy import stats  # noqa: PLC0415

    scale = 1.0 / max(n_reference, 1) + 1.0 / max(n_current, 1)
    return float(stats.chi2.ppf(1.0 - alpha, max(n_bins - 1, 1)) * scale)


class Reliability(NamedTuple):
    """Predicted against observed by decile of the prediction.

    Attributes:
        mean_predicted: Mean predicted probability of each decile.
        observed_rate: Share of positives in each decile.
        rows: Rows in each decile.
        ece: The rows-weighted mean of ``|observed_rate - mean_predicted|`` over the deciles.
    """

    mean_predicted: list[float]
    observed_rate: list[float]
    rows: list[int]
    ece: float


def reliability(y: npt.ArrayLike, p: npt.ArrayLike, n_bins: int = 10) -> Reliability:
    """Reliability by equal-mass bins (deciles by default) of the predicted probability.

    Rows are sorted by prediction (ties in a stable order) and cut into ``n_bins`` groups of
    (nearly) equal size, as :func:`numpy.array_split` does.

    Example:
        >>> r = reliability([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], n_bins=2)
        >>> r.rows, [round(x, 2) for x in r.mean_predicted], r.observed_rate, round(r.ece, 2)
        ([2, 2], [0.15, 0.85], [0.0, 1.0], 0.15)
    """
    yy = np.asarray(y, dtype=np.float64)
    pp = np.asarray(p, dtype=np.float64)
    order = np.argsort(pp, kind="stable")
    groups = [g for g in np.array_split(order, min(n_bins, max(len(pp), 1))) if len(g)]
    mean_p = [float(pp[g].mean()) for g in groups]
    rate = [float(yy[g].mean()) for g in groups]
    rows = [len(g) for g in groups]
    n = max(sum(rows), 1)
    ece = sum(r * abs(o - m) for r, o, m in zip(rows, rate, mean_p, strict=True)) / n
    return Reliability(mean_p, rate, rows, float(ece))
