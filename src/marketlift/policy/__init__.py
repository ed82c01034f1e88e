"""Engagement policies: uplift learners, bandits with propensities, constraints, trigger moments.

Module map:

- :mod:`~marketlift.policy.base`: :class:`Decision`, :class:`BasePolicy` (``decide``,
  ``select``/``select_batch`` for the simulator, ``probabilities`` for off-policy evaluation).
- :mod:`~marketlift.policy.epsilon_greedy`, :mod:`~marketlift.policy.softmax`,
  :mod:`~marketlift.policy.uplift_greedy`: policies over net uplift scores.
- :mod:`~marketlift.policy.thompson`, :mod:`~marketlift.policy.linucb`: linear bandits.
- :mod:`~marketlift.policy.constraints`: caps, quiet hours, opt-outs, budget.
- :mod:`~marketlift.policy.moments`: trigger moments.
- :mod:`~marketlift.policy.uplift`: S/T/X/DR learners and uplift metrics.
- :mod:`~marketlift.policy.features`, :mod:`~marketlift.policy.simdata`: the simulator's
  features and logged decisions.
- :mod:`~marketlift.policy.io`: save and load fitted policies.
"""

from marketlift.policy.base import BasePolicy, Decision
from marketlift.policy.constraints import (
    BudgetTracker,
    ConstrainedPolicy,
    Constraints,
    allocate_budget,
)
from marketlift.policy.epsilon_greedy import EpsilonGreedyPolicy
from marketlift.policy.features import SIM_ACTIONS, SIM_FEATURES, batch_features, context_features
from marketlift.policy.io import load, save
from marketlift.policy.linucb import LinUCB
from marketlift.policy.moments import TriggerState
from marketlift.policy.simdata import LoggedDecisions, logged_from_lake, simulate_logged
from marketlift.policy.softmax import SoftmaxPolicy
from marketlift.policy.thompson import LinearThompson
from marketlift.policy.uplift_greedy import UpliftGreedy

__all__ = [
    "SIM_ACTIONS",
    "SIM_FEATURES",
    "BasePolicy",
    "BudgetTracker",
    "ConstrainedPolicy",
    "Constraints",
    "Decision",
    "EpsilonGreedyPolicy",
    "LinUCB",
    "LinearThompson",
    "LoggedDecisions",
    "SoftmaxPolicy",
    "TriggerState",
    "UpliftGreedy",
    "allocate_budget",
    "batch_features",
    "context_features",
    "load",
    "logged_from_lake",
    "save",
    "simulate_logged",
]
