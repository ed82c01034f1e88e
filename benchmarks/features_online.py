"""Benchmark of online feature reads: one buyer, its session and 500 listings per request,
from the in-process store and from Redis (one MGET), p50/p99 in milliseconds.

Prints ONE JSON line. Feature rows are the real ones of an offline build on a small
simulated lake, copied to ``--listings`` listing keys and ``--buyers`` buyer keys.

    .venv/bin/python benchmarks/features_online.py [--requests N] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import tempfile
import time
import uuid
from typing import Any

import numpy as np


def _rows(buyers: int, listings: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    from marketlift.features import build_features
    from marketlift.features.store import MemoryStore, write_table
    from marketlift.sim import SimConfig, simulate

    with tempfile.TemporaryDirectory(prefix="features-online-") as data:
        simulate(SimConfig(n_buyers=2000, n_days=2, seed=4), data)
        tables = build_features(data, write=False).tables
    store = MemoryStore()
    write_table(store, "buyer", tables["buyer_features"], "buyer")
    write_table(store, "session", tables["session_features"], "buyer")
    write_table(store, "listing", tables["listing_features"], "listing_id")
    b = list(store._data["buyer"].values())
    s = list(store._data["session"].values())
    lst = list(store._data["listing"].values())
    return (
        {f"b{i:07d}": b[i % len(b)] for i in range(buyers)},
        {f"b{i:07d}": s[i % len(s)] for i in range(buyers)},
        {f"l{i:07d}": lst[i % len(lst)] for i in range(listings)},
    )


def _measure(store: Any, requests: list[tuple[str, list[str]]]) -> dict[str, float]:
    from marketlift.features import read_features

    for buyer, ids in requests[:50]:  # warm-up
        read_features(store, buyer, ids)
    # Serving practice: move the long-lived store out of the collector's generations, so a
    # full collection does not walk every cached feature dict in the middle of a request.
    gc.collect()
    gc.freeze()
    times = np.empty(len(requests))
    for i, (buyer, ids) in enumerate(requests):
        started = time.perf_counter()
        got = read_features(store, buyer, ids)
        times[i] = time.perf_counter() - started
        assert got.buyer is not None
        assert len(got.listings) == len(ids)
    ms = times * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "max_ms": round(float(ms.max()), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--buyers", type=int, default=100_000)
    parser.add_argument("--listings", type=int, default=200_000)
    parser.add_argument("--per-request", type=int, default=500)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    from marketlift.features import MemoryStore, RedisStore

    buyers, sessions, listings = _rows(args.buyers, args.listings)
    rng = np.random.default_rng(0)
    listing_keys = np.array(list(listings))
    buyer_keys = list(buyers)
    requests = [
        (buyer_keys[int(rng.integers(len(buyer_keys)))],
         listing_keys[rng.choice(len(listing_keys), args.per_request, replace=False)].tolist())
        for _ in range(args.requests)
    ]  # fmt: skip
    out: dict[str, Any] = {
        "benchmark": "features_online",
        "listings_per_request": args.per_request,
        "requests": args.requests,
        "keys": {"buyer": args.buyers, "listing": args.listings},
        "cpus": os.cpu_count(),
        "load_avg_1m_before": round(os.getloadavg()[0], 2),
    }
    memory = MemoryStore()
    memory.write("buyer", buyers)
    memory.write("session", sessions)
    memory.write("listing", listings)
    out["memory"] = _measure(memory, requests)

    redis_store = RedisStore(args.redis_url, prefix=f"bench:features:{uuid.uuid4().hex[:8]}:")
    try:
        started = time.perf_counter()
        n = redis_store.write("listing", listings)
        n += redis_store.write("buyer", buyers) + redis_store.write("session", sessions)
        out["redis_bulk_write_keys_per_s"] = round(n / (time.perf_counter() - started))
        out["redis"] = _measure(redis_store, requests)
    finally:
        redis_store.clear()
        redis_store.close()
    out["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
