"""Steps that train: the intent model and the ranker, registered as candidates (not promoted).

The intent model trains on the shared point-in-time intent rows whose cut-off lies before the
interval's end (a backfill of an older day does not see later data). The ranker trains on the
lake's listing-view sessions (:func:`marketlift.models.ranking_train.train_ranker_lake`).
Both are registered; :mod:`~marketlift.orchestration.release_steps` decides what to promote.
"""

from __future__ import annotations

import os
from typing import Any

from marketlift.orchestration.context import StepInput

__all__ = ["ranker_size", "train_intent", "train_ranker"]


def ranker_size() -> dict[str, int]:
    """Size of the ranker's fit: the demo's ``medium`` unless the environment says otherwise.

    ``MARKETLIFT_RANKER_TREES`` (100), ``MARKETLIFT_RANKER_QUERIES`` (2000) and
    ``MARKETLIFT_RANKER_EVAL_QUERIES`` (1000), read when the step starts.

    Raises:
        ConfigError: a value is not a positive integer (the message names the variable).
    """
    from marketlift.errors import ConfigError  # noqa: PLC0415

    names = {"n_estimators": ("MARKETLIFT_RANKER_TREES", "100"),
             "max_train_queries": ("MARKETLIFT_RANKER_QUERIES", "2000"),
             "max_eval_queries": ("MARKETLIFT_RANKER_EVAL_QUERIES", "1000")}  # fmt: skip
    size = {}
    for key, (env, default) in names.items():
        raw = os.environ.get(env, default)
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(env, raw, "an integer >= 1")
        size[key] = int(raw)
    return size


_IDS = ("row_id", "decision_id", "buyer", "session_no", "label_revenue")


def train_intent(ctx: StepInput) -> dict[str, Any]:
    """Train the intent model on rows before the interval's end; register it (a candidate)."""
    import pyarrow.compute as pc  # noqa: PLC0415

    from marketlift.errors import ConfigError  # noqa: PLC0415
    from marketlift.features.training import training_set  # noqa: PLC0415
    from marketlift.models.training import register_intent  # noqa: PLC0415
    from marketlift.models.training import train_intent as fit  # noqa: PLC0415

    rows = training_set(ctx.data_dir, "intent", intent_cutoff="decision")
    rows = rows.filter(pc.less(rows["cutoff_ts"], ctx.end))
    if rows.num_rows == 0:
        raise ConfigError("--data", str(ctx.data_dir), "a lake with sessions to train on")
    drop = [c for c in _IDS if c in rows.column_names]
    result = fit(rows, label="label", drop=drop, time_column="cutoff_ts", random_state=ctx.seed)
    version = register_intent(ctx.data_dir, result, source=f"pipeline {ctx.interval}")
    return {"version": version.version, "metrics": result.metrics.to_dict(), "rows": rows.num_rows}


def train_ranker(ctx: StepInput) -> dict[str, Any]:
    """Train the ranker on the lake's sessions; register it (a candidate)."""
    from marketlift.models.ranking_train import register_ranker, train_ranker_lake  # noqa: PLC0415

    size = ranker_size()
    result, _sessions = train_ranker_lake(
        ctx.data_dir,
        random_state=ctx.seed,
        n_estimators=size["n_estimators"],
        max_train_queries=size["max_train_queries"],
        max_eval_queries=size["max_eval_queries"],
    )
    version = register_ranker(ctx.data_dir, result, source=f"pipeline {ctx.interval}")
    return {
        "version": version.version,
        "ndcg_at_10": {k: v.ndcg_at_10 for k, v in result.metrics.items()},
        "beats_baselines": bool(result.beats_baselines()),
    }
