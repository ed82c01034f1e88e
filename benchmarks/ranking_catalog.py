"""Ranking with the lake catalog against the simulator-table path it replaced, same split.

One simulated lake; the ranker is trained twice with the same seed, split and queries:

- ``sim_table`` (the path before issue 19): the listing catalog and the feature catalog built
  from the simulator's ``sim_listings`` truth table, as ``catalog_from_sim`` and
  ``sim_feature_catalog`` did (price = cents / 100, English title);
- ``catalog``: the defaults now: the lake catalog the simulator wrote through the ingestion
  path (``listing_texts``), with the store features read as of each cut-off.

Reports NDCG@10, Recall@20, MRR@20 of both, and the share of the ranker's hits (target in the
top 20) that are cold-start listings (never viewed outside the held-out sessions). The catalog
path must not be worse. Prints ONE JSON line.

    .venv/bin/python benchmarks/ranking_catalog.py [--buyers 8000] [--days 10] [--rounds 100]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def _sim_tables(data: str) -> tuple[pa.Table, pa.Table]:
    from marketlift.sim import read_truth

    listings = read_truth(data, "sim_listings")
    price = pc.divide(pc.cast(listings.column("price_usd_cents"), pa.float64()), 100.0)
    feature = pa.table({
        "listing_id": listings.column("listing_id"), "category": listings.column("category"),
        "price": price, "review_count": listings.column("review_count"),
        "rating": listings.column("rating"),
    })  # fmt: skip
    texts = feature.append_column("title", listings.column("title_en"))
    return feature, texts


def _cold_share(result: Any, sessions: Any) -> dict[str, float]:
    """Share of the ranker's top-20 hits that are cold-start listings."""
    eval_rows = {row for _, _, row in result.eval_queries}
    seen = {int(i) for r, items in enumerate(sessions.items) if r not in eval_rows for i in items}
    hits = cold = 0
    for (_, target, _), ranked in zip(result.eval_queries, result.eval_rankings["ranker"],
                                      strict=True):  # fmt: skip
        if target in ranked[:20]:
            hits += 1
            cold += int(target not in seen)
    return {"hits": hits, "cold_start_hits": cold,
            "cold_start_share_of_hits": round(cold / hits, 4) if hits else 0.0}  # fmt: skip


def main() -> None:
    """Run both paths and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=8000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()

    from marketlift.models.ranking_train import train_ranker_lake
    from marketlift.sim import SimConfig, simulate

    data = tempfile.mkdtemp(prefix="ml-rank-catalog-")
    simulate(SimConfig(n_buyers=args.buyers, n_days=args.days, seed=args.seed), data)
    feature, texts = _sim_tables(data)
    out: dict[str, Any] = {}
    for name, kwargs in (("sim_table", {"listings": texts, "feature_catalog": feature}),
                         ("catalog", {})):  # fmt: skip
        started = time.perf_counter()
        result, sessions = train_ranker_lake(
            data, n_estimators=args.rounds, random_state=args.seed, **kwargs
        )
        out[name] = {**result.metrics["ranker"].to_dict(), **_cold_share(result, sessions),
                     "train_s": round(time.perf_counter() - started, 1)}  # fmt: skip
    new, old = out["catalog"], out["sim_table"]
    print(json.dumps({
        "benchmark": "ranking_catalog", "buyers": args.buyers, "days": args.days,
        "seed": args.seed, "rounds": args.rounds, "baseline": "sim_table (same run, same split)",
        "catalog": new, "sim_table": old,
        "ndcg_at_10_ratio": round(new["ndcg_at_10"] / old["ndcg_at_10"], 4),
        "recall_at_20_ratio": round(new["recall_at_20"] / old["recall_at_20"], 4),
        "mrr_at_20_ratio": round(new["mrr_at_20"] / old["mrr_at_20"], 4),
        "not_worse": all(new[k] >= old[k] for k in ("ndcg_at_10", "recall_at_20", "mrr_at_20")),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
