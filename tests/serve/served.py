"""A data directory the decision API can serve: lake, features, ranker, intent, policy."""

from __future__ import annotations

from pathlib import Path

from marketlift.catalog import feature_table
from marketlift.features.build import build_features
from marketlift.models.ranking_train import register_ranker, train_ranker_lake
from marketlift.models.registry import Registry
from marketlift.models.training import register_intent, train_intent_lake
from marketlift.policy import UniformExplorer, fit_policy, load_catalog, read_decision_log, save
from marketlift.policy.catalog import catalog_path
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
    # the engagement policy learns from the lake's decision log alone (no simulator truth)
    catalog = load_catalog(catalog_path(data))
    policy = fit_policy(read_decision_log(data, catalog), n_models=1, threshold=0.0)
    (data / "policies").mkdir(exist_ok=True)
    save(policy, data / "policies" / "engagement.pkl")
    return data


def explore_every_action(data: Path) -> Path:
    """Replace ``DATA/policies/engagement.pkl`` by a policy that explores every allowed action.

    Uniform over the catalog's eligible actions: each has the same chance, so every widget and
    channel shows up in a few decisions (and a forbidden one would too).
    """
    path = data / "policies" / "engagement.pkl"
    save(UniformExplorer().fit(load_catalog(catalog_path(data))), path)
    return path
