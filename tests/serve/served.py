"""A data directory the decision API can serve: lake, features, ranker, intent, policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from marketlift.catalog import feature_table
from marketlift.features.build import build_features
from marketlift.models.ranking_train import register_ranker, train_ranker_lake
from marketlift.models.registry import Registry
from marketlift.models.training import register_intent, train_intent_lake
from marketlift.policy import EpsilonGreedyPolicy, UpliftGreedy, load, save, simulate_logged
from marketlift.policy.features import SIM_FEATURES
from marketlift.policy.uplift import SLearner
from marketlift.sim import SimConfig, simulate


def make_served_data(
    data: Path, *, n_buyers: int = 1500, n_days: int = 5, seed: int = 3, compile_: bool = False
) -> Path:
    """Simulate, build features, train and promote ranker and intent, fit and save a policy."""
    simulate(SimConfig(n_buyers=n_buyers, n_days=n_days, seed=seed), data)
    build_features(data, catalog=feature_table(data))  # the catalog training uses
    ranker, _ = train_ranker_lake(data, n_estimators=30)
    register_ranker(data, ranker, compile_=compile_)
    intent, _ = train_intent_lake(data, n_estimators=30)
    register_intent(data, intent, compile_=compile_)
    registry = Registry(data)
    registry.promote("ranker")
    registry.promote("intent")
    log = simulate_logged(SimConfig(n_buyers=n_buyers, n_days=n_days, seed=seed + 1))
    price = SIM_FEATURES.index("price_usd")
    policy = UpliftGreedy(
        SLearner(params={"min_child_samples": 50, "n_estimators": 40}, random_state=0),
        scale_column=price,
        threshold=0.0,
    ).fit(log.features, log.action_names, log.revenue)
    (data / "policies").mkdir(exist_ok=True)
    save(policy, data / "policies" / "engagement.pkl")
    return data


def explore_every_action(data: Path) -> Path:
    """Replace ``DATA/policies/engagement.pkl`` by a policy that explores every allowed action.

    Epsilon 1 over the saved policy's fitted learner: each allowed action has the same chance,
    so every widget and channel shows up in a few decisions (and a forbidden one would too).
    """
    path = data / "policies" / "engagement.pkl"
    served = load(path)
    explore = EpsilonGreedyPolicy(
        served.learner_, epsilon=1.0, prefit=True, scale_column=served.scale_column
    )
    rows = np.zeros((len(served.actions_), len(SIM_FEATURES)))
    save(explore.fit(rows, served.actions_, np.zeros(len(rows))), path)
    return path
