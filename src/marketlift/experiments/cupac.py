"""CUPAC: a model-predicted covariate for variance reduction.

Fit a model of the outcome on pre-experiment features using historical data (units and
periods outside the experiment), predict it for every experiment unit from their
pre-experiment features, and use the prediction as the metric's covariate. Because the
features precede assignment, the prediction is independent of the variant and the adjusted
estimate stays unbiased; the better the model, the larger the variance reduction. Any model
works (pass its predictions as a column); :class:`LinearCupac` is a dependency-free default.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
    >>> model = LinearCupac().fit(X, y)
    >>> np.round(model.coef_, 6).tolist(), round(model.intercept_, 6)
    ([1.0, -2.0, 0.5], 3.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from marketlift.errors import ConfigError

__all__ = ["LinearCupac", "with_cupac"]


class LinearCupac:
    """Ridge-regularized least squares with an intercept.

    Args:
        alpha: L2 penalty on the coefficients (not on the intercept); ``0`` is plain OLS.
    """

    def __init__(self, alpha: float = 0.0) -> None:
        self.alpha = alpha

    def fit(self, X: Any, y: Any) -> LinearCupac:  # noqa: N803 - the usual name
        """Learn ``coef_`` and ``intercept_``; returns ``self``."""
        if self.alpha < 0:
            raise ConfigError("alpha", self.alpha, "a non-negative penalty")
        x = np.asarray(X, dtype=float)
        target = np.asarray(y, dtype=float)
        if x.ndim != 2 or target.ndim != 1 or x.shape[0] != target.shape[0]:
            raise ConfigError("X", x.shape, f"a 2-d array with {target.shape[0]} rows")
        if x.shape[0] <= x.shape[1]:
            raise ConfigError("X", x.shape, "more rows than features")
        mean_x, mean_y = x.mean(axis=0), target.mean()
        xc = x - mean_x
        gram = xc.T @ xc + self.alpha * np.eye(x.shape[1])
        self.coef_ = np.linalg.lstsq(gram, xc.T @ (target - mean_y), rcond=None)[0]
        self.intercept_ = float(mean_y - mean_x @ self.coef_)
        return self

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """Predicted outcome for each row of ``X``."""
        if not hasattr(self, "coef_"):
            raise ConfigError("LinearCupac", "unfitted", "fit() to be called first")
        out: np.ndarray = np.asarray(X, dtype=float) @ self.coef_ + self.intercept_
        return out


def with_cupac(
    history: pa.Table,
    experiment: pa.Table,
    *,
    target: str,
    features: Sequence[str],
    name: str = "cupac",
    model: Any = None,
) -> pa.Table:
    """Fit on ``history`` (``features`` -> ``target``) and add predictions to ``experiment``.

    Args:
        history: Pre-experiment units with the features and the observed outcome.
        experiment: Experiment units with the same (pre-experiment) feature columns.
        target: Outcome column of ``history``.
        features: Feature columns, all known before assignment.
        name: Name of the added column; use it as the metric's ``covariate``.
        model: Any object with ``fit(X, y)`` and ``predict(X)``; :class:`LinearCupac` if None.

    Returns:
        ``experiment`` with the prediction column appended.
    """
    if not features:
        raise ConfigError("features", list(features), "at least one feature column")
    for table, label in ((history, "history"), (experiment, "experiment")):
        missing = [c for c in features if c not in table.column_names]
        if missing:
            raise ConfigError(f"{label}.columns", missing, "every feature column present")
    if target not in history.column_names:
        raise ConfigError("target", target, "a column of history")

    def matrix(t: pa.Table) -> np.ndarray:
        cols = [np.nan_to_num(t[c].to_numpy(zero_copy_only=False).astype(float)) for c in features]
        return np.column_stack(cols)

    fitted = (model if model is not None else LinearCupac()).fit(
        matrix(history), np.nan_to_num(history[target].to_numpy(zero_copy_only=False).astype(float))
    )
    return experiment.append_column(name, pa.array(fitted.predict(matrix(experiment))))
