"""A synthetic marketplace with known ground truth, emitting the real event schema.

Module map:

- :mod:`~marketlift.sim.config`: :class:`SimConfig`, the one configuration.
- :mod:`~marketlift.sim.text`: vocabularies and templates in six languages.
- :mod:`~marketlift.sim.world`: buyers and listings with hidden traits.
- :mod:`~marketlift.sim.effects`: actions, moments and their true causal effects.
- :mod:`~marketlift.sim.policies`: the policy protocol and the built-in policies.
- :mod:`~marketlift.sim.funnel`: one day of sessions, funnel and decisions (vectorized).
- :mod:`~marketlift.sim.emit` and :mod:`~marketlift.sim.jsonfrag`: Arrow event tables.
- :mod:`~marketlift.sim.tables` and :mod:`~marketlift.sim.truth`: ground-truth tables.
- :mod:`~marketlift.sim.runner`: :func:`simulate`, :func:`run_ab`, :func:`evaluate_policies`.
- :mod:`~marketlift.sim.features`: the features a policy sees here (with the hidden price
  sensitivity) and :class:`SimAdapter`, which runs any marketlift policy in the simulator.
- :mod:`~marketlift.sim.logged`: logged decisions with the truth (:func:`simulate_logged`,
  :func:`logged_from_lake`), for benchmarks and for checking estimators.

Example:
    >>> import tempfile
    >>> from marketlift.sim import SimConfig, simulate
    >>> result = simulate(SimConfig(n_buyers=200, n_days=1, seed=7), tempfile.mkdtemp())
    >>> result.events > 0
    True
"""

from marketlift.sim.config import SimConfig
from marketlift.sim.effects import ACTIONS, MOMENTS, Action
from marketlift.sim.features import (
    SIM_ACTIONS,
    SIM_FEATURES,
    SimAdapter,
    batch_features,
    context_features,
)
from marketlift.sim.logged import LoggedDecisions, logged_from_lake, simulate_logged
from marketlift.sim.policies import (
    AlwaysNudge,
    BatchPolicy,
    ContextBatch,
    DecisionContext,
    EpsilonGreedy,
    NeverNudge,
    Oracle,
    Policy,
    PolicyDecision,
    SlatePolicy,
    UniformRandom,
    make_policy,
)
from marketlift.sim.runner import (
    ExperimentTruth,
    Funnel,
    PolicyValue,
    SimResult,
    evaluate_policies,
    run_ab,
    simulate,
)
from marketlift.sim.truth import TRUTH_TABLES, read_truth, register_views
from marketlift.sim.world import World, continue_world, make_world

__all__ = [
    "ACTIONS",
    "MOMENTS",
    "SIM_ACTIONS",
    "SIM_FEATURES",
    "TRUTH_TABLES",
    "Action",
    "AlwaysNudge",
    "BatchPolicy",
    "ContextBatch",
    "DecisionContext",
    "EpsilonGreedy",
    "ExperimentTruth",
    "Funnel",
    "LoggedDecisions",
    "NeverNudge",
    "Oracle",
    "Policy",
    "PolicyDecision",
    "PolicyValue",
    "SimAdapter",
    "SimConfig",
    "SimResult",
    "SlatePolicy",
    "UniformRandom",
    "World",
    "batch_features",
    "context_features",
    "continue_world",
    "evaluate_policies",
    "logged_from_lake",
    "make_policy",
    "make_world",
    "read_truth",
    "register_views",
    "run_ab",
    "simulate",
    "simulate_logged",
]
