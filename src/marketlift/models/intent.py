"""Purchase intent: a LightGBM classifier with Platt-calibrated probabilities.

scikit-learn conventions: ``__init__`` stores hyperparameters only, :meth:`IntentClassifier.fit`
returns ``self``, learned state ends in ``_``, randomness comes in as ``random_state``.
Missing values are NaN (LightGBM routes them), categorical columns are given by position.
Class imbalance: by default no reweighting (calibration needs honest base rates); with
``class_weight="balanced"`` positives are up-weighted and the calibration step maps the scores
back to probabilities. Calibration fits ``p = sigmoid(a * margin + b)`` on a held-out share of
the training rows, so the compiled raw margin plus two numbers give calibrated probabilities.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3)); y = (X[:, 0] + rng.normal(size=2000) > 1).astype(int)
    >>> clf = IntentClassifier(n_estimators=30, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape, clf.n_features_in_
    ((2, 2), 3)
    >>> bool(abs(clf.predict_proba(X)[:, 1].mean() - y.mean()) < 0.02)
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError, MarketliftError

__all__ = ["IntentClassifier", "NotFittedError", "platt"]

FloatArray = npt.NDArray[np.float64]


class NotFittedError(MarketliftError, ValueError, AttributeError):
    """A model was used before :meth:`fit`."""


def platt(margin: FloatArray, a: float, b: float) -> FloatArray:
    """``sigmoid(a * margin + b)``: calibrated probabilities from raw margins.

    Example:
        >>> platt(np.array([0.0]), 1.0, 0.0).tolist()
        [0.5]
    """
    z = np.clip(a * margin + b, -700.0, 700.0)
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def _fit_platt(margin: FloatArray, y: npt.NDArray[np.int64]) -> tuple[float, float]:
    """Maximum-likelihood ``a, b`` of a one-feature logistic regression (lightly regularized)."""
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    lr = LogisticRegression(C=100.0, max_iter=1000).fit(margin.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


class IntentClassifier:
    """Gradient-boosted purchase-intent classifier with calibrated probabilities.

    Args:
        n_estimators: Boosting rounds.
        learning_rate: Shrinkage per round.
        num_leaves: Leaves per tree.
        min_child_samples: Minimum rows in a leaf.
        class_weight: ``None`` (no reweighting) or ``"balanced"``.
        calibration: ``"sigmoid"`` (Platt on a held-out share) or ``"none"``.
        calibration_fraction: Share of training rows held out for calibration.
        early_stopping_rounds: Stop boosting when the log loss on the calibration rows has not
            improved for this many rounds and keep the best round (``None``: all
            ``n_estimators``). Rare positives and weak signal (intent scored at a decision,
            before the session shows anything) otherwise overfit.
        num_threads: LightGBM threads (explicit, for reproducible timing on shared machines).
        random_state: Seed of the calibration split and of LightGBM.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 40,
        class_weight: Literal["balanced"] | None = None,
        calibration: Literal["sigmoid", "none"] = "sigmoid",
        calibration_fraction: float = 0.2,
        early_stopping_rounds: int | None = 50,
        num_threads: int = 1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.class_weight = class_weight
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.num_threads = num_threads
        self.random_state = random_state

    def _check_params(self) -> None:
        if not (isinstance(self.n_estimators, int) and self.n_estimators >= 1):
            raise ConfigError("n_estimators", self.n_estimators, "an integer >= 1")
        if not 0 < self.learning_rate <= 1:
            raise ConfigError("learning_rate", self.learning_rate, "a number in (0, 1]")
        if self.class_weight not in (None, "balanced"):
            raise ConfigError("class_weight", self.class_weight, "None or 'balanced'")
        if self.calibration not in ("sigmoid", "none"):
            raise ConfigError("calibration", self.calibration, "'sigmoid' or 'none'")
        if not 0 < self.calibration_fraction < 1:
            raise ConfigError("calibration_fraction", self.calibration_fraction, "in (0, 1)")
        rounds = self.early_stopping_rounds
        if rounds is not None and not (isinstance(rounds, int) and rounds >= 1):
            raise ConfigError("early_stopping_rounds", rounds, "None or an integer >= 1")

    def lgb_params(self) -> dict[str, Any]:
        """The LightGBM parameters this classifier trains with."""
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.9,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "cat_smooth": 10.0,
            "num_threads": self.num_threads,
            "seed": self.random_state,
            "deterministic": True,
            "verbose": -1,
        }

    def fit(
        self,
        X: FloatArray,  # noqa: N803 - scikit-learn's name
        y: npt.NDArray[Any],
        *,
        categorical_features: Sequence[int] = (),
        feature_names: Sequence[str] | None = None,
    ) -> IntentClassifier:
        """Fit the booster on part of the rows and the calibration on the rest; returns self.

        ``n_iter_`` is the number of boosting rounds kept (early stopping, see the class).

        Raises:
            ConfigError: a hyperparameter breaks its rule, or ``y`` has a single class.
        """
        import lightgbm as lgb  # noqa: PLC0415

        self._check_params()
        X = np.ascontiguousarray(X, dtype=np.float64)  # noqa: N806
        y = np.asarray(y).astype(np.int64)
        classes = np.unique(y)
        if len(classes) != 2 or set(classes.tolist()) != {0, 1}:
            raise ConfigError("y", sorted(set(classes.tolist())), "both classes 0 and 1")
        rng = np.random.default_rng(self.random_state)
        calibrate = self.calibration == "sigmoid"
        idx = rng.permutation(len(y))
        n_cal = int(len(y) * self.calibration_fraction) if calibrate else 0
        cal, fit_rows = np.sort(idx[:n_cal]), np.sort(idx[n_cal:])
        if calibrate and len(np.unique(y[cal])) < 2:
            cal, fit_rows = np.arange(len(y)), np.arange(len(y))  # too few rows to split
        params = self.lgb_params()
        if self.class_weight == "balanced":
            pos = max(int(y[fit_rows].sum()), 1)
            params["scale_pos_weight"] = (len(fit_rows) - pos) / pos
        names = list(feature_names) if feature_names else [f"f{i}" for i in range(X.shape[1])]
        data = lgb.Dataset(
            X[fit_rows], y[fit_rows], feature_name=names,
            categorical_feature=list(categorical_features) or "auto", free_raw_data=True,
        )  # fmt: skip
        callbacks: list[Any] = []
        valid_sets: list[Any] = []
        split = len(cal) < len(y)  # a real calibration split exists
        if calibrate and split and self.early_stopping_rounds is not None:
            valid_sets = [lgb.Dataset(X[cal], y[cal], reference=data)]
            callbacks = [lgb.early_stopping(self.early_stopping_rounds, verbose=False)]
            params["metric"] = "binary_logloss"
        self.booster_ = lgb.train(params, data, num_boost_round=self.n_estimators,
                                  valid_sets=valid_sets, callbacks=callbacks)  # fmt: skip
        self.n_iter_ = int(self.booster_.best_iteration or self.booster_.current_iteration())
        if calibrate:
            margin = self.booster_.predict(X[cal], raw_score=True, num_threads=self.num_threads)
            self.calibration_ = _fit_platt(np.asarray(margin), y[cal])
        else:
            self.calibration_ = (1.0, 0.0)
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = names
        self.classes_ = np.array([0, 1])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            msg = "IntentClassifier is not fitted yet; call fit(X, y) first."
            raise NotFittedError(msg)

    def decision_function(self, X: FloatArray) -> FloatArray:  # noqa: N803
        """Raw margins (log-odds before calibration)."""
        self._check_fitted()
        if X.shape[1] != self.n_features_in_:
            raise ConfigError("X.shape[1]", X.shape[1], f"{self.n_features_in_} features")
        return np.asarray(self.booster_.predict(X, raw_score=True, num_threads=self.num_threads))

    def predict_proba(self, X: FloatArray) -> FloatArray:  # noqa: N803
        """Calibrated probabilities, shape ``(n, 2)``: columns for class 0 and class 1."""
        a, b = self.calibration_ if hasattr(self, "calibration_") else (math.nan, math.nan)
        p = platt(self.decision_function(X), a, b)
        return np.column_stack([1 - p, p])

    def predict(self, X: FloatArray, threshold: float = 0.5) -> npt.NDArray[np.int64]:  # noqa: N803
        """Class labels at ``threshold``."""
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int64)
