"""Benchmark of next-listing ranking on simulated data: ranker vs baselines vs the oracle.

Trains the candidate + lambdarank ranker on a simulated lake and reports NDCG@10, Recall@20
and MRR@20 on held-out sessions (the newest 20 %) for the ranker, the popularity baseline and
the session-kNN baseline (same run, same queries), and for an oracle that knows the
simulator's hidden state: the session's category and, for a buyer returning to a cart, the
carted listing; it ranks that listing first, then the category's listings by true popularity
(the distribution the simulator draws the next listing from).

The ranker uses the 26 candidate features plus the online store's 12 numeric listing features
(point in time at the split). ``ranker_without_store`` is the same ranker trained on the
candidate features only (same split, same queries): ``store_features_help`` says whether the
store features raised NDCG@10.

Prints ONE JSON line.

    .venv/bin/python benchmarks/models_ranking.py [--buyers 20000] [--days 14] [--seed 2]
        [--rounds 200] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from typing import Any


def _oracle(data: str, result: Any, sessions: Any) -> Any:
    from marketlift.models.metrics import ranking_metrics
    from marketlift.sim import read_truth

    truth = read_truth(data, "sim_truth_sessions").select(["session_id", "moment", "listing_id"])
    truth = {s: (m, lid) for s, m, lid in zip(*(truth[c].to_pylist() for c in truth.column_names),
                                              strict=True)}  # fmt: skip
    listings = read_truth(data, "sim_listings")
    cat = dict(zip(listings["listing_id"].to_pylist(), listings["category"].to_pylist(),
                   strict=True))  # fmt: skip
    pop = dict(zip(listings["listing_id"].to_pylist(), listings["popularity"].to_pylist(),
                   strict=True))  # fmt: skip
    by_cat: dict[str, list[str]] = {}
    for lid in sorted(pop, key=lambda x: -pop[x]):
        by_cat.setdefault(cat[lid], []).append(lid)
    code = {lid: k for k, lid in enumerate(result.item_ids)}
    ranked, targets = [], []
    for _, target, row in result.eval_queries:
        moment, main = truth[sessions.session_ids[row]]
        first = [main] if moment == "returning_visit" else []
        ids = list(dict.fromkeys([*first, *by_cat[cat[main]]]))[:20]
        ranked.append([code.get(i, -1) for i in ids])
        targets.append(target)
    return ranking_metrics(ranked, targets)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--data", default=None, help="Reuse a simulated lake.")
    args = parser.parse_args()

    from marketlift.models.ranking_train import train_ranker_lake
    from marketlift.sim import SimConfig, simulate

    data = args.data
    t0 = time.perf_counter()
    if data is None:
        data = tempfile.mkdtemp(prefix="ml-rank-")
        simulate(SimConfig(n_buyers=args.buyers, n_days=args.days, seed=args.seed), data)
    sim_s = time.perf_counter() - t0
    t = time.perf_counter()
    result, sessions = train_ranker_lake(data, n_estimators=args.rounds, random_state=args.seed)
    train_s = time.perf_counter() - t
    metrics = {k: v.to_dict() for k, v in result.metrics.items()}
    metrics["oracle"] = _oracle(data, result, sessions).to_dict()
    plain, _ = train_ranker_lake(data, n_estimators=args.rounds, random_state=args.seed,
                                 store_features=None)  # fmt: skip
    metrics["ranker_without_store"] = plain.metrics["ranker"].to_dict()
    print(json.dumps({
        "benchmark": "models_ranking", "buyers": args.buyers, "days": args.days,
        "seed": args.seed, "rounds": args.rounds, "metrics": metrics,
        "beats_baselines": result.beats_baselines(),
        "n_features": len(result.feature_names), "store_features": result.store_features,
        "store_features_help": (result.metrics["ranker"].ndcg_at_10
                                > plain.metrics["ranker"].ndcg_at_10),
        "candidate_recall": round(result.candidate_recall, 4), "sizes": result.sizes,
        "simulate_s": round(sim_s, 1), "train_s": round(train_s, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
