"""Spurious degradations per 10,000 decisions with a HEALTHY Redis under load, before and after.

Nothing fails on purpose: a Redis of its own (``redis-server`` on a free port) holds the
features, and ``marketlift serve --store redis`` answers ``POST /v1/decide`` at a fixed rate
(open loop: request ``i`` is sent at ``start + i / rate`` whatever happened before). Every
``features_unavailable`` in an answer is spurious: a feature read that ran past
``--store-timeout-ms`` on a busy machine, or one skipped by an open circuit breaker.

Two breaker settings run side by side, alternating, ``--reps`` times each (medians reported):

- ``before``: the breaker as it was, opened by a single failed read (``--breaker-failures 1
  --breaker-failure-rate 1``), with the 5 ms timeout;
- ``after``: the defaults (5 failures in a row, or half of the last 100 reads), 5 ms timeout;
- ``after_timeout_20ms``: the same breaker with ``--store-timeout-ms 20`` (what the flag buys
  on a busy machine; the 25 ms budget still bounds the answer).

Prints ONE JSON line: per setting the decisions, ``features_unavailable`` count, rate per
10,000, breaker failures and openings (``/admin/status``), p99; and
``spurious_ratio_before_over_after``.

    .venv/bin/python benchmarks/decide_breaker.py                      # 300/s, 20 s, 3 reps
    .venv/bin/python benchmarks/decide_breaker.py --rate 150 --duration 8 --reps 1 --buyers 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _decide_data as dd

ADMIN = "bench-admin-key"
SETTINGS: dict[str, tuple[str, ...]] = {
    "before": ("--breaker-failures", "1", "--breaker-failure-rate", "1", "--store-timeout-ms", "5"),
    "after": ("--store-timeout-ms", "5"),
    "after_timeout_20ms": ("--store-timeout-ms", "20"),
}


def _start_redis() -> tuple[subprocess.Popen[bytes], str]:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (apt install redis-server)")
    port = dd.free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
        except redis.ConnectionError:
            time.sleep(0.05)
        else:
            return proc, f"redis://127.0.0.1:{port}/0"
    proc.kill()
    raise SystemExit("redis-server did not start")


def _fill(url: str, data: Path) -> None:
    import pyarrow.parquet as pq

    from marketlift.features.redis_store import RedisStore
    from marketlift.features.store import write_table

    store = RedisStore(url)
    folder = data / "features"
    write_table(store, "listing", pq.read_table(folder / "listing_features.parquet"), "listing_id")
    write_table(store, "buyer", pq.read_table(folder / "buyer_features.parquet"), "buyer")
    write_table(store, "session", pq.read_table(folder / "session_features.parquet"), "buyer")
    store.close()


async def _load(url: str, bodies: list[bytes], rate: float, duration: float) -> dict[str, Any]:
    """Open-loop load; counts answers, spurious ``features_unavailable`` and failures."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    counts = {"answers": 0, "features_unavailable": 0, "failed": 0}
    latencies: list[float] = []
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10.0) as client:
        loop = asyncio.get_running_loop()

        async def one(i: int, due: float) -> None:
            try:
                r = await client.post("/v1/decide", content=bodies[i % len(bodies)],
                                      headers=headers)  # fmt: skip
            except httpx.HTTPError:
                counts["failed"] += 1
                return
            latencies.append((loop.time() - due) * 1000)
            if r.status_code != 200:
                counts["failed"] += 1
                return
            counts["answers"] += 1
            if "features_unavailable" in r.json()["degraded_reasons"]:
                counts["features_unavailable"] += 1

        tasks = []
        start = loop.time() + 0.05
        for i in range(int(rate * duration)):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
    p99 = dd.percentile(latencies, 99) if latencies else float("nan")
    return counts | {"p99_ms": round(p99, 2)}


def _run(data: Path, redis_url: str, setting: str, bodies: list[bytes],
         args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    os.environ["MARKETLIFT_ADMIN_KEY"] = ADMIN
    extra = ("--store", "redis", "--redis-url", redis_url, *SETTINGS[setting])
    proc, url = dd.start_server(data, budget_ms=args.budget_ms, extra=extra)
    try:
        asyncio.run(_load(url, bodies, args.rate, 2.0))  # warm-up, not counted
        before = httpx.get(f"{url}/admin/status", headers={"Authorization": f"Bearer {ADMIN}"})
        failures0 = before.json()["store"]["failures"]
        got = asyncio.run(_load(url, bodies, args.rate, args.duration))
        status = httpx.get(f"{url}/admin/status", headers={"Authorization": f"Bearer {ADMIN}"})
        got["store_failures"] = status.json()["store"]["failures"] - failures0
    finally:
        dd.stop(proc)
    got["per_10k"] = round(1e4 * got["features_unavailable"] / max(got["answers"], 1), 1)
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=300.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--reps", type=int, default=3, help="runs per setting (medians)")
    parser.add_argument("--budget-ms", type=float, default=25.0)
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--candidates", type=int, default=50)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    prepared = dd.prepare(buyers=args.buyers, trees=args.trees, quiet=True)
    work = Path(tempfile.mkdtemp(prefix="marketlift-breaker-"))
    data = work / "data"
    shutil.copytree(prepared, data)
    redis_proc, redis_url = _start_redis()
    try:
        _fill(redis_url, data)
        bodies = [json.dumps(b).encode() for b in dd.bodies(data, args.candidates)]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SETTINGS}
        for _ in range(args.reps):
            for name in SETTINGS:  # side by side, alternating
                runs[name].append(_run(data, redis_url, name, bodies, args))
    finally:
        redis_proc.kill()
        redis_proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    summary: dict[str, Any] = {"benchmark": "decide_breaker", "rate": args.rate,
                               "duration_s": args.duration, "reps": args.reps,
                               "store_timeout_ms": 5.0, "machine": dd.machine()}  # fmt: skip
    for name, rs in runs.items():
        summary[name] = {
            "per_10k_median": statistics.median(r["per_10k"] for r in rs),
            "per_10k": [r["per_10k"] for r in rs],
            "decisions": sum(r["answers"] for r in rs),
            "features_unavailable": sum(r["features_unavailable"] for r in rs),
            "store_failures": sum(r["store_failures"] for r in rs),
            "failed_requests": sum(r["failed"] for r in rs),
            "p99_ms_median": statistics.median(r["p99_ms"] for r in rs),
        }
    after = summary["after"]["per_10k_median"]
    summary["spurious_ratio_before_over_after"] = (
        round(summary["before"]["per_10k_median"] / after, 1) if after else None
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
