"""Uplift metrics: Qini and uplift curves, Qini coefficient, AUUC, uplift at k, decile table.

Definitions follow scikit-uplift (``sklift.metrics``), so numbers agree with it on binary
outcomes; the curves also accept continuous outcomes (revenue), and :func:`net_value` ranks by
predicted uplift net of a cost per action.

Example:
    >>> import numpy as np
    >>> y = np.array([1, 0, 1, 0, 0, 1, 0, 0])
    >>> t = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    >>> s = np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.1, 0.4, 0.2])
    >>> round(uplift_at_k(y, s, t, k=0.5), 3)
    1.0
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError

__all__ = [
    "DecileRow",
    "auuc",
    "net_value",
    "qini_coefficient",
    "qini_curve",
    "uplift_at_k",
    "uplift_by_decile",
    "uplift_curve",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


class DecileRow(NamedTuple):
    """One decile of the population ranked by predicted uplift (decile 1 is the top)."""

    decile: int
    n_treatment: int
    n_control: int
    mean_treatment: float
    mean_control: float
    uplift: float
    mean_predicted: float


def _inputs(y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike) -> tuple[FloatArray, ...]:
    yy = np.asarray(y, dtype=np.float64)
    uu = np.asarray(uplift, dtype=np.float64)
    tt = np.asarray(treatment)
    if not (len(yy) == len(uu) == len(tt)):
        raise ConfigError("lengths", (len(yy), len(uu), len(tt)), "equal lengths")
    if not np.isin(tt, (0, 1)).all():
        raise ConfigError("treatment", np.unique(tt)[:5].tolist(), "0 (control) or 1 (treated)")
    if len(yy) == 0:
        raise ConfigError("y", "empty", "at least one row")
    return yy, uu, tt.astype(np.float64)


def _curve(
    y: FloatArray, uplift: FloatArray, t: FloatArray, *, kind: str
) -> tuple[FloatArray, FloatArray]:
    order = np.argsort(uplift, kind="mergesort")[::-1]
    y, t, uplift = y[order], t[order], uplift[order]
    cut = np.r_[np.flatnonzero(np.diff(uplift)), len(uplift) - 1]
    n_t = np.cumsum(t)[cut]
    y_t = np.cumsum(y * t)[cut]
    y_c = np.cumsum(y * (1.0 - t))[cut]
    n_all = (cut + 1).astype(np.float64)
    n_c = n_all - n_t
    if kind == "qini":
        ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c != 0)
        values = y_t - y_c * ratio
    else:
        mean_t = np.divide(y_t, n_t, out=np.zeros_like(y_t), where=n_t != 0)
        mean_c = np.divide(y_c, n_c, out=np.zeros_like(y_c), where=n_c != 0)
        values = (mean_t - mean_c) * n_all
    return np.r_[0.0, n_all], np.r_[0.0, values]


def qini_curve(
    y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Qini curve: targeted count, incremental outcome ``Y_t - Y_c * N_t / N_c`` (ties grouped)."""
    return _curve(*_inputs(y, uplift, treatment), kind="qini")


def uplift_curve(
    y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Uplift curve: targeted count and ``(mean_t - mean_c) * N`` among the top ranked."""
    return _curve(*_inputs(y, uplift, treatment), kind="uplift")


def _area_above_diagonal(x: FloatArray, v: FloatArray) -> float:
    return float(np.trapezoid(v, x) - 0.5 * x[-1] * v[-1])


def qini_coefficient(
    y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike, *, normalize: bool = True
) -> float:
    """Area between the Qini curve and the random-targeting line.

    With ``normalize`` (default) divided by the same area of the perfect ranking (scikit-uplift's
    ``qini_auc_score`` with negative effects); without, divided by ``n`` (any outcome scale).
    """
    yy, uu, tt = _inputs(y, uplift, treatment)
    x, v = _curve(yy, uu, tt, kind="qini")
    area = _area_above_diagonal(x, v)
    if not normalize:
        return area / len(yy)
    px, pv = _curve(yy, yy * tt - yy * (1.0 - tt), tt, kind="qini")
    perfect = _area_above_diagonal(px, pv)
    return area / perfect if perfect != 0 else float("nan")


def auuc(y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike, *, normalize: bool = True) -> float:
    """Area under the uplift curve above random targeting (scikit-uplift's ``uplift_auc_score``)."""
    yy, uu, tt = _inputs(y, uplift, treatment)
    x, v = _curve(yy, uu, tt, kind="uplift")
    area = _area_above_diagonal(x, v)
    if not normalize:
        return area / len(yy)
    cr = float(((yy == 1) & (tt == 0)).sum())
    tn = float(((yy == 0) & (tt == 1)).sum())
    summand = yy if cr > tn else tt
    px, pv = _curve(yy, 2.0 * (yy == tt) + summand, tt, kind="uplift")
    perfect = _area_above_diagonal(px, pv)
    return area / perfect if perfect != 0 else float("nan")


def uplift_at_k(y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike, *, k: float = 0.3) -> float:
    """Treated minus control mean outcome among the top ``k`` share ranked by uplift (overall)."""
    if not 0.0 < k < 1.0:
        raise ConfigError("k", k, "a share in (0, 1)")
    yy, uu, tt = _inputs(y, uplift, treatment)
    top = np.argsort(uu, kind="mergesort")[::-1][: int(len(yy) * k)]
    yt, tt_top = yy[top], tt[top]
    if tt_top.sum() == 0 or (1 - tt_top).sum() == 0:
        return float("nan")
    return float(yt[tt_top == 1].mean() - yt[tt_top == 0].mean())


def uplift_by_decile(
    y: ArrayLike, uplift: ArrayLike, treatment: ArrayLike, *, bins: int = 10
) -> list[DecileRow]:
    """Observed uplift per bin of predicted uplift (bin 1 holds the highest predictions)."""
    yy, uu, tt = _inputs(y, uplift, treatment)
    order = np.argsort(uu, kind="mergesort")[::-1]
    rows = []
    for d, idx in enumerate(np.array_split(order, bins), start=1):
        t_mask = tt[idx] == 1
        yt, yc = yy[idx][t_mask], yy[idx][~t_mask]
        mt = float(yt.mean()) if len(yt) else float("nan")
        mc = float(yc.mean()) if len(yc) else float("nan")
        mean_pred = float(uu[idx].mean()) if len(idx) else float("nan")
        rows.append(DecileRow(d, len(yt), len(yc), mt, mc, mt - mc, mean_pred))
    return rows


def net_value(uplift: ArrayLike, cost: ArrayLike, *, value_per_outcome: float = 1.0) -> FloatArray:
    """Predicted net value of acting: ``uplift * value_per_outcome - cost`` (per row or action).

    Example:
        >>> net_value([0.02, 0.10], [1.0, 1.0], value_per_outcome=50.0).tolist()
        [0.0, 4.0]
    """
    return np.asarray(
        np.asarray(uplift, dtype=np.float64) * value_per_outcome
        - np.asarray(cost, dtype=np.float64)
    )
