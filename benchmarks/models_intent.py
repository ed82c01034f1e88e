"""Benchmark of purchase intent on simulated data: model AUC against the truth's AUC.

For each kind of lake rows the model is trained on the older 75 % and scored on the newest
25 %; on the same held-out rows we score the simulator's true purchase probability of the
session (``sim_truth_sessions.p_purchase``), the best an ex-ante predictor can do:

- ``events_cart``: our rows, snapshot just before the add-to-cart (sees in-session behaviour);
- ``events_decision``: our rows, snapshot at the engagement decision;
- ``features``: the shared training set of ``marketlift.features`` (cut-off after 3 events).

Prints ONE JSON line.

    .venv/bin/python benchmarks/models_intent.py [--buyers 20000] [--days 14] [--seed 2]
        [--rounds 300] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from typing import Any


def _truth_auc(data: str, rows: Any, holdout: Any, key_sql: str) -> tuple[Any, int]:
    import pyarrow as pa

    from marketlift.lake import connect
    from marketlift.models.metrics import classification_metrics
    from marketlift.sim import register_views

    con = connect(data)
    register_views(con, data)
    held = rows.take(holdout)
    con.register("h", held.append_column("k", pa.array(range(held.num_rows))))
    got = con.sql(
        f"SELECT h.k, t.p_purchase FROM h {key_sql} JOIN sim_truth_sessions t USING (session_id) "
        "ORDER BY h.k"
    ).fetchnumpy()
    con.close()
    label = "purchased" if "purchased" in held.column_names else "label"
    y = held[label].to_numpy(zero_copy_only=False)[got["k"]].astype(int)
    return classification_metrics(y, got["p_purchase"]), len(got["k"])


_FEATURE_KEY = (
    "JOIN (SELECT session_id, coalesce(buyer_id, anonymous_id) AS who, ts FROM events) e "
    "ON e.who = h.buyer AND e.ts = h.cutoff_ts - INTERVAL 1 MICROSECOND"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--data", default=None, help="Reuse a simulated lake.")
    args = parser.parse_args()

    from marketlift.models.training import train_intent_lake
    from marketlift.sim import SimConfig, simulate

    data = args.data
    t0 = time.perf_counter()
    if data is None:
        data = tempfile.mkdtemp(prefix="ml-intent-")
        simulate(SimConfig(n_buyers=args.buyers, n_days=args.days, seed=args.seed), data)
    sim_s = time.perf_counter() - t0
    out: dict[str, object] = {"benchmark": "models_intent", "buyers": args.buyers,
                              "days": args.days, "seed": args.seed, "rounds": args.rounds,
                              "simulate_s": round(sim_s, 1)}  # fmt: skip
    for name, rows_kind, at, key in (
        ("events_cart", "events", "cart", ""),
        ("events_decision", "events", "decision", ""),
        ("features", "features", "cart", _FEATURE_KEY),
    ):
        t = time.perf_counter()
        result, rows = train_intent_lake(
            data, rows=rows_kind, at=at, n_estimators=args.rounds, random_state=args.seed
        )
        train_s = time.perf_counter() - t
        truth, matched = _truth_auc(data, rows, result.holdout_rows, key)
        model = result.metrics
        out[name] = {
            "model_auc": round(model.roc_auc, 4),
            "truth_auc": round(truth.roc_auc, 4),
            "gap": round(truth.roc_auc - model.roc_auc, 4),
            "within_0_02": bool(model.roc_auc >= truth.roc_auc - 0.02),
            "model_pr_auc": round(model.pr_auc, 4),
            "truth_pr_auc": round(truth.pr_auc, 4),
            "model_log_loss": round(model.log_loss, 5),
            "truth_log_loss": round(truth.log_loss, 5),
            "model_brier": round(model.brier, 5),
            "model_ece": round(model.ece, 5),
            "holdout": model.n,
            "holdout_matched_to_truth": matched,
            "positives": model.positives,
            "train_s": round(train_s, 1),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
