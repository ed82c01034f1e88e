"""What every uplift learner shares: parameters, treatment encoding, base models, checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError, MarketliftError
from marketlift.policy._params import ParamsMixin

__all__ = [
    "BaseUpliftLearner",
    "NotFittedError",
    "fit_regressor",
    "make_classifier",
    "make_regressor",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_DEFAULT_PARAMS: Mapping[str, Any] = {
    "n_estimators": 150,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 40,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.9,
    "n_jobs": 1,
    "verbose": -1,
}


_MIN_ROWS = 20
"""Below this many rows an arm's outcome model is its mean (too little data to split)."""


class _Constant:
    """A model that predicts a constant (for arms with too few rows or a single class)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, X: FloatArray) -> FloatArray:  # noqa: N803
        return np.full(len(X), self.value)

    def predict_proba(self, X: FloatArray) -> FloatArray:  # noqa: N803
        return np.column_stack([np.full(len(X), 1.0 - self.value), np.full(len(X), self.value)])


class NotFittedError(MarketliftError, ValueError, AttributeError):
    """A model or policy was used before ``fit``."""


def _params(extra: Mapping[str, Any] | None, seed: int) -> dict[str, Any]:
    return {**_DEFAULT_PARAMS, "random_state": seed, **(extra or {})}


def make_regressor(params: Mapping[str, Any] | None, seed: int) -> Any:
    """A LightGBM regressor with our defaults (``params`` override them)."""
    import lightgbm as lgb  # noqa: PLC0415 - heavy

    return lgb.LGBMRegressor(**_params(params, seed))


def fit_regressor(
    params: Mapping[str, Any] | None,
    seed: int,
    X: FloatArray,  # noqa: N803
    y: FloatArray,
) -> Any:
    """A fitted LightGBM regressor; the mean when there are too few rows to split."""
    if len(y) < _MIN_ROWS:
        return _Constant(float(y.mean()) if len(y) else 0.0)
    return make_regressor(params, seed).fit(X, y)


def make_classifier(params: Mapping[str, Any] | None, seed: int) -> Any:
    """A LightGBM binary classifier with our defaults (``params`` override them)."""
    import lightgbm as lgb  # noqa: PLC0415 - heavy

    return lgb.LGBMClassifier(**_params(params, seed))


class BaseUpliftLearner(ParamsMixin):
    """Base of the S-, T-, X- and DR-learners (scikit-learn conventions).

    Subclasses implement ``_fit(X, t, y)`` (``t`` an integer code, 0 for control) and
    ``_effects(X)`` returning one column per treatment.

    Attributes (after ``fit``):
        classes_: Every arm, the control first, then treatments in sorted order.
        treatments_: The treatment arms (``classes_[1:]``).
        binary_: Whether the outcome was treated as binary (0/1).
        n_features_in_: Number of columns of ``X``.
    """

    def __init__(
        self,
        control: Any = "none",
        *,
        outcome: str = "auto",
        params: Mapping[str, Any] | None = None,
        random_state: int = 0,
    ) -> None:
        self.control = control
        self.outcome = outcome
        self.params = params
        self.random_state = random_state

    # -- fit / predict ----------------------------------------------------------------------
    def fit(
        self,
        X: npt.ArrayLike,  # noqa: N803 - scikit-learn convention
        treatment: npt.ArrayLike,
        y: npt.ArrayLike,
    ) -> BaseUpliftLearner:
        """Learn the effect of every treatment against the control; returns ``self``.

        Args:
            X: Features, shape ``(n, d)``.
            treatment: The arm of each row (any labels; ``control`` marks the control).
            y: Outcome: binary (purchase) or continuous (revenue).
        """
        if self.outcome not in ("auto", "binary", "continuous"):
            raise ConfigError("outcome", self.outcome, "'auto', 'binary' or 'continuous'")
        Xa = np.asarray(X, dtype=np.float64)  # noqa: N806
        ya = np.asarray(y, dtype=np.float64)
        ta = np.asarray(treatment)
        if Xa.ndim != 2 or len(Xa) != len(ya) or len(ya) != len(ta):
            raise ConfigError(
                "X, treatment, y",
                (Xa.shape, ta.shape, ya.shape),
                "a 2-d X and one treatment and outcome per row",
            )
        if np.isinf(Xa).any():
            raise ConfigError("X", "infinite values", "finite features (NaN means missing)")
        if not np.isfinite(ya).all():
            raise ConfigError("y", "NaN or infinite", "finite outcomes")
        labels = np.unique(ta)
        if self.control not in labels.tolist():
            raise ConfigError(
                "control", self.control, f"one of the treatment labels {labels[:10].tolist()}"
            )
        others = [v for v in labels.tolist() if v != self.control]
        if not others:
            raise ConfigError(
                "treatment", labels.tolist(), "at least one treated arm besides the control"
            )
        self.classes_ = np.array([self.control, *others], dtype=object)
        code = {v: i for i, v in enumerate(self.classes_.tolist())}
        t = np.fromiter((code[v] for v in ta.tolist()), dtype=np.int64, count=len(ta))
        is01 = bool(np.isin(ya, (0.0, 1.0)).all())
        self.binary_ = is01 if self.outcome == "auto" else self.outcome == "binary"
        if self.binary_ and not is01:
            raise ConfigError("outcome", "binary", "0/1 outcomes (use 'continuous' for revenue)")
        self.n_features_in_ = Xa.shape[1]
        self._fit(Xa, t, ya)
        return self

    @property
    def treatments_(self) -> list[Any]:
        """The treatment arms, in the column order of :meth:`predict`."""
        self._check_fitted()
        return list(self.classes_[1:])

    def predict(self, X: npt.ArrayLike) -> FloatArray:  # noqa: N803
        """Predicted effect of each treatment against control: shape ``(n, n_treatments)``."""
        self._check_fitted()
        Xa = np.asarray(X, dtype=np.float64)  # noqa: N806
        if Xa.ndim != 2 or Xa.shape[1] != self.n_features_in_:
            raise ConfigError("X", Xa.shape, f"(n, {self.n_features_in_}) as in fit")
        return self._effects(Xa)

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            msg = f"{type(self).__name__} is not fitted; call fit(X, treatment, y) first."
            raise NotFittedError(msg)

    def _fit_outcome(self, seed_offset: int, X: FloatArray, y: FloatArray) -> Any:  # noqa: N803
        """An outcome model fitted on ``(X, y)``; the mean when too few rows or one class."""
        if len(y) < _MIN_ROWS or (self.binary_ and len(np.unique(y)) < 2):
            return _Constant(float(y.mean()) if len(y) else 0.0)
        seed = self.random_state + seed_offset
        model = (
            make_classifier(self.params, seed)
            if self.binary_
            else make_regressor(self.params, seed)
        )
        return model.fit(X, y)

    def _mean(self, model: Any, X: FloatArray) -> FloatArray:  # noqa: N803
        booster = getattr(model, "booster_", None)
        if booster is not None:
            # The booster directly: the same numbers as the scikit-learn wrapper's
            # predict/predict_proba (binary objective: the probability of 1) without its
            # per-call validation, which costs milliseconds on the decision path; one thread
            # for small inputs (a thread pool per call costs more than it saves there).
            threads = {"num_threads": 1} if len(X) < 2048 else {}
            return np.asarray(booster.predict(X, **threads), dtype=np.float64)
        if self.binary_:
            return np.asarray(model.predict_proba(X)[:, 1], dtype=np.float64)
        return np.asarray(model.predict(X), dtype=np.float64)

    def _fit(self, X: FloatArray, t: IntArray, y: FloatArray) -> None:  # noqa: N803
        raise NotImplementedError

    def _effects(self, X: FloatArray) -> FloatArray:  # noqa: N803
        raise NotImplementedError


def propensity_matrix(
    X: FloatArray,  # noqa: N803
    t: IntArray,
    n_arms: int,
    params: Mapping[str, Any] | None,
    seed: int,
) -> FloatArray:
    """Estimated probability of each arm given ``X`` (multiclass LightGBM), clipped to [0.01, 1]."""
    import lightgbm as lgb  # noqa: PLC0415

    p = {**_params(params, seed), "n_estimators": 80}
    model = lgb.LGBMClassifier(**p)
    model.fit(X, t)
    out = np.zeros((len(X), n_arms))
    out[:, model.classes_.astype(np.int64)] = model.predict_proba(X)
    return np.clip(out, 0.01, 1.0)


def arm_rows(t: IntArray, arms: Sequence[int]) -> npt.NDArray[np.bool_]:
    """Rows whose arm is one of ``arms``."""
    return np.isin(t, np.asarray(arms))
