"""Uplift learners (S, T, X, DR) for several treatments and binary or continuous outcomes.

All follow scikit-learn conventions (``__init__`` stores parameters, ``fit`` returns ``self``,
learned state ends in ``_``, ``random_state``); ``predict(X)`` returns the effect of every
treatment against the control, one column per treatment in ``treatments_`` order.
"""

from marketlift.policy.uplift._base import BaseUpliftLearner, NotFittedError
from marketlift.policy.uplift.dr_learner import DRLearner
from marketlift.policy.uplift.ensemble import EnsembleLearner
from marketlift.policy.uplift.metrics import (
    DecileRow,
    auuc,
    net_value,
    qini_coefficient,
    qini_curve,
    uplift_at_k,
    uplift_by_decile,
    uplift_curve,
)
from marketlift.policy.uplift.s_learner import SLearner
from marketlift.policy.uplift.t_learner import TLearner
from marketlift.policy.uplift.x_learner import XLearner

__all__ = [
    "LEARNERS",
    "BaseUpliftLearner",
    "DRLearner",
    "DecileRow",
    "EnsembleLearner",
    "NotFittedError",
    "SLearner",
    "TLearner",
    "XLearner",
    "auuc",
    "net_value",
    "qini_coefficient",
    "qini_curve",
    "uplift_at_k",
    "uplift_by_decile",
    "uplift_curve",
]

LEARNERS: dict[str, type[BaseUpliftLearner]] = {
    "s": SLearner,
    "t": TLearner,
    "x": XLearner,
    "dr": DRLearner,
}
"""Learners by short name (used by the CLI's ``--learner``)."""
