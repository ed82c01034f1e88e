"""Seed ensemble: the mean effect of several copies of a learner fitted with different seeds.

Gradient boosting with row and column subsampling gives a somewhat different function for each
seed; averaging a few removes much of that variance, which matters when a policy takes the
argmax over several small effects.

Example:
    >>> import numpy as np
    >>> from marketlift.policy.uplift import SLearner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 2)); t = rng.choice(["none", "a"], 1000)
    >>> y = (t == "a") * 1.0 + rng.normal(scale=0.1, size=1000)
    >>> m = EnsembleLearner(SLearner(), n_models=3).fit(X, t, y)
    >>> len(m.models_), round(float(m.predict(np.zeros((1, 2)))[0, 0]), 0)
    (3, 1.0)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy.uplift._base import BaseUpliftLearner, FloatArray

__all__ = ["EnsembleLearner"]


class EnsembleLearner(BaseUpliftLearner):
    """Averages ``n_models`` copies of ``learner`` with seeds ``random_state + i``.

    Args:
        learner: Any uplift learner of this package (its own ``random_state`` is replaced).
        n_models: Copies to fit.
        random_state: Seed of the first copy.
    """

    def __init__(
        self, learner: BaseUpliftLearner | None = None, *, n_models: int = 5, random_state: int = 0
    ) -> None:
        self.learner = learner
        self.n_models = n_models
        self.random_state = random_state

    def fit(
        self,
        X: npt.ArrayLike,  # noqa: N803
        treatment: npt.ArrayLike,
        y: npt.ArrayLike,
        **fit_params: Any,
    ) -> EnsembleLearner:
        """Fit every copy; returns ``self``."""
        if not isinstance(self.n_models, int) or self.n_models < 1:
            raise ConfigError("n_models", self.n_models, "an integer >= 1")
        from marketlift.policy.uplift.s_learner import SLearner  # noqa: PLC0415

        base = self.learner if self.learner is not None else SLearner()
        self.models_ = []
        for i in range(self.n_models):
            model = copy.deepcopy(base).set_params(random_state=self.random_state + i)
            self.models_.append(model.fit(X, treatment, y, **fit_params))
        first = self.models_[0]
        self.classes_ = first.classes_
        self.binary_ = first.binary_
        self.n_features_in_ = first.n_features_in_
        return self

    def _effects(self, X: FloatArray) -> FloatArray:  # noqa: N803
        return np.asarray(np.mean([m.predict(X) for m in self.models_], axis=0))
