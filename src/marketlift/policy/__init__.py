"""Engagement policies: uplift learners, bandits with propensities, constraints, trigger moments.

Module map:

- :mod:`~marketlift.policy.base`: :class:`Decision`, :class:`BasePolicy` (``decide``,
  ``choose`` for batches, ``probabilities`` for off-policy evaluation).
- :mod:`~marketlift.policy.epsilon_greedy`, :mod:`~marketlift.policy.softmax`,
  :mod:`~marketlift.policy.uplift_greedy`: policies over net uplift scores.
- :mod:`~marketlift.policy.thompson`, :mod:`~marketlift.policy.linucb`: linear bandits.
- :mod:`~marketlift.policy.constraints`: caps, quiet hours, opt-outs, budget.
- :mod:`~marketlift.policy.moments`: trigger moments.
- :mod:`~marketlift.policy.uplift`: S/T/X/DR learners and uplift metrics.
- :mod:`~marketlift.policy.io`: save and load fitted policies.
- :mod:`~marketlift.policy.catalog`: the engagement catalog (channels, actions, moments; TOML).
- :mod:`~marketlift.policy.context`: the policy's features (moment and declared store features).
- :mod:`~marketlift.policy.decision_log`: the training set from the lake's decision log.
- :mod:`~marketlift.policy.train`: fit a policy on the decision log; the uniform explorer.
"""

from marketlift.policy.base import BasePolicy, Decision
from marketlift.policy.catalog import EngagementCatalog
from marketlift.policy.catalog import load as load_catalog
from marketlift.policy.constraints import (
    BudgetTracker,
    ConstrainedPolicy,
    Constraints,
    allocate_budget,
)
from marketlift.policy.decision_log import DecisionLog, read_decision_log
from marketlift.policy.epsilon_greedy import EpsilonGreedyPolicy
from marketlift.policy.io import load, save
from marketlift.policy.linucb import LinUCB
from marketlift.policy.moments import CatalogTriggers, TriggerState
from marketlift.policy.softmax import SoftmaxPolicy
from marketlift.policy.thompson import LinearThompson
from marketlift.policy.train import UniformExplorer, fit_policy
from marketlift.policy.uplift_greedy import UpliftGreedy

__all__ = [
    "BasePolicy",
    "BudgetTracker",
    "CatalogTriggers",
    "ConstrainedPolicy",
    "Constraints",
    "Decision",
    "DecisionLog",
    "EngagementCatalog",
    "EpsilonGreedyPolicy",
    "LinUCB",
    "LinearThompson",
    "SoftmaxPolicy",
    "TriggerState",
    "UniformExplorer",
    "UpliftGreedy",
    "allocate_budget",
    "fit_policy",
    "load",
    "load_catalog",
    "read_decision_log",
    "save",
]
