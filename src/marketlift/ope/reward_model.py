"""The reward model of DM and DR: gradient boosting on context plus one-hot action, cross-fitted.

Each row's predictions come from a model fitted on the other fold, so the DR correction is not
fooled by the model's own overfitting.

Example:
    >>> import numpy as np
    >>> from marketlift.ope.data import LoggedBandit
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2000, 1)); a = rng.integers(0, 2, 2000)
    >>> d = LoggedBandit.build(actions=["a", "b"], action=a, reward=a * 2.0 + x[:, 0],
    ...                        propensity=np.full(2000, 0.5), context=x)
    >>> q = fit_reward_model(d)
    >>> bool(abs(float((q[:, 1] - q[:, 0]).mean()) - 2.0) < 0.2)
    True
"""

from __future__ import annotations

import numpy as np

from marketlift.ope.data import FloatArray, LoggedBandit
from marketlift.policy.uplift._base import make_regressor

__all__ = ["fit_reward_model"]


def fit_reward_model(
    data: LoggedBandit,
    *,
    folds: int = 2,
    params: dict[str, object] | None = None,
    random_state: int = 0,
) -> FloatArray:
    """Predicted reward of every action for every row, ``(n, k)``, cross-fitted over ``folds``."""
    n, k = len(data), len(data.actions)
    eye = np.eye(k)
    design = np.hstack([data.context, eye[data.action]])
    fold = np.random.default_rng(random_state).integers(0, folds, n)
    q = np.zeros((n, k))
    p = {"n_estimators": 100, **(params or {})}
    for f in range(folds):
        train, test = fold != f, fold == f
        if not test.any():
            continue
        model = make_regressor(p, random_state + f).fit(design[train], data.reward[train])
        xt = data.context[test]
        for a in range(k):
            q[test, a] = model.predict(np.hstack([xt, np.tile(eye[a], (len(xt), 1))]))
    return q
