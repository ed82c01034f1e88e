"""Steps 2 and 3a: the feature build, then the intent and ranking models, registered and promoted.

Features are built by :func:`marketlift.features.build_features` into ``DATA/features`` (the
buyer and listing tables the decision API reads at start-up). The intent model trains on the
shared point-in-time intent rows, the ranker on the lake's listing-view sessions; both are
registered and promoted, so ``marketlift serve`` on the same data directory loads them.
"""

from __future__ import annotations

import os
from typing import Any

from marketlift.demo.progress import Steps
from marketlift.demo.sizes import DemoSize

__all__ = ["build_feature_tables", "train_models"]


def build_feature_tables(data_dir: str | os.PathLike[str], steps: Steps) -> dict[str, Any]:
    """Build every feature table from the lake and write it under ``DATA/features``."""
    from marketlift.catalog import feature_table  # noqa: PLC0415
    from marketlift.features import build_features  # noqa: PLC0415

    with steps.step("features", "features: buyer, session and listing tables", total=1):
        # the lake's catalog (the simulator sends its listings there), as the ranker's training
        # uses: the online listing features serving reads must be the ones it was trained on
        result = build_features(data_dir, catalog=feature_table(data_dir))
    summary = result.summary()
    return {
        "cutoff": summary["cutoff"],
        "rows": summary["rows"],
        "paths": summary["paths"],
        "seconds": summary["seconds"],
    }


def train_models(
    data_dir: str | os.PathLike[str], size: DemoSize, seed: int, steps: Steps
) -> dict[str, Any]:
    """Train, register and promote the intent model and the ranker; returns their metrics."""
    from marketlift.models.ranking_train import register_ranker, train_ranker_lake  # noqa: PLC0415
    from marketlift.models.registry import Registry  # noqa: PLC0415
    from marketlift.models.training import register_intent, train_intent_lake  # noqa: PLC0415

    registry = Registry(data_dir)
    with steps.step("intent", "intent model: train, compile, register, promote", total=1):
        intent, _rows = train_intent_lake(data_dir, random_state=seed)
        intent_version = register_intent(data_dir, intent, source="demo")
        registry.promote("intent", intent_version.version)
    with steps.step("ranker", "ranker: train, compile, register, promote", total=1):
        ranker, _sessions = train_ranker_lake(
            data_dir,
            n_estimators=size.ranker_trees,
            max_train_queries=size.ranker_queries,
            max_eval_queries=size.ranker_eval_queries,
            random_state=seed,
        )
        ranker_version = register_ranker(data_dir, ranker, source="demo")
        registry.promote("ranker", ranker_version.version)
    m = intent.metrics
    return {
        "intent": {
            "version": intent_version.version,
            "path": str(intent_version.path),
            "roc_auc": m.roc_auc,
            "pr_auc": m.pr_auc,
            "log_loss": m.log_loss,
            "brier": m.brier,
            "ece": m.ece,
            "holdout": m.n,
            "positives": m.positives,
        },
        "ranker": {
            "version": ranker_version.version,
            "path": str(ranker_version.path),
            "ndcg_at_10": {k: v.ndcg_at_10 for k, v in ranker.metrics.items()},
            "recall_at_20": {k: v.recall_at_20 for k, v in ranker.metrics.items()},
            "mrr_at_20": {k: v.mrr_at_20 for k, v in ranker.metrics.items()},
            "beats_baselines": ranker.beats_baselines(),
            "candidate_recall": ranker.candidate_recall,
            "sizes": ranker.sizes,
        },
    }
