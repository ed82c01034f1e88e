"""``POST /v1/decide`` latency one request at a time, its overhead, and a naive baseline.

A served data directory (simulated marketplace, features, compiled and promoted ranker and
intent model, engagement policy; made once by :mod:`_decide_data` and cached, ``--data`` to
choose where) is served by a real ``marketlift serve`` process (uvicorn, one process). One
``httpx.Client`` with keep-alive sends requests ONE AT A TIME with 100 and with 300 given
candidates (listings the ranker knows, plus ``context.recent`` so candidates get the
candidate index's features); latency is measured from the client, bodies are encoded
beforehand.

In the same run:

- **overhead**: the server's own ``timings_ms.total`` against the work that cannot be avoided,
  done directly in this process on the same requests: ``read_features`` from a
  :class:`~marketlift.features.store.MemoryStore` loaded as the app loads it, then
  ``RankerService.query`` + ``index_features`` + ``full_matrix`` + ``score`` (compiled).
  Medians side by side and their ratio (target at most 2);
- **naive baseline**: the same endpoint written naively (``benchmarks/_naive_decide.py``:
  FastAPI, pydantic models, features from a plain dict, LightGBM's ``Booster.predict``), run
  by uvicorn in its own process and measured by the same client loop. Both servers run side
  by side and are measured in alternating blocks, so load on the machine hits both alike.

Prints ONE JSON line: client p50/p99 per size (targets: p99 at most 5 ms at 100 candidates
and 12 ms at 300), features per candidate, server-side and direct medians with the overhead
ratio, the naive p50/p99 and ours/naive ratios.

    .venv/bin/python benchmarks/decide_latency.py              # 10,000 buyers, 5,000 requests
    .venv/bin/python benchmarks/decide_latency.py --buyers 2000 --trees 50 --requests 300
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _decide_data as dd

TARGET_P99_MS = {100: 5.0, 300: 12.0}
BLOCK = 100  # requests per server before switching to the other one


class _Direct:
    """Feature fetch + compiled scoring of a request, in this process, as the app does it."""

    def __init__(self, data: Path) -> None:
        from marketlift.models.serving import RankerService
        from marketlift.serve.config import ServeConfig
        from marketlift.serve.engine_setup import open_store

        self.store = open_store(ServeConfig(data_dir=data))
        self.ranker = RankerService.load(data)
        self.n_features = 0

    def __call__(self, body: dict[str, Any]) -> float:
        """Milliseconds of one request's features and scores."""
        from marketlift.features.store import read_features

        ranker = self.ranker
        cands: list[str] = body["candidates"]
        t0 = time.perf_counter_ns()
        online = read_features(self.store, body["buyer_id"], cands)
        query = ranker.query(body["context"]["recent"], locale=body["locale"])
        x_index = ranker.index_features(cands, query)
        x = ranker.full_matrix(x_index, online.listings)
        ranker.score(x)
        elapsed = (time.perf_counter_ns() - t0) / 1e6
        self.n_features = int(x.shape[1])
        return elapsed


def _start_naive(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = dd.free_port()
    script = Path(__file__).resolve().parent / "_naive_decide.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--data", str(data), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    dd.wait_ready(url, proc, "/healthz", 300)
    return proc, url


def _measure(
    clients: dict[str, httpx.Client], bodies: list[dict[str, Any]], direct: _Direct,
    requests: int, warmup: int,
) -> tuple[dict[str, dict[str, Any]], list[float]]:  # fmt: skip
    """Client latencies (ms) per server, and direct times, in alternating blocks of BLOCK."""
    payloads = [msgspec.json.encode(b) for b in bodies]
    direct_ms: list[float] = []
    headers = {"content-type": "application/json"}
    lat: dict[str, list[float]] = {k: [] for k in clients}
    server_total: dict[str, list[float]] = {k: [] for k in clients}
    stages: dict[str, dict[str, list[float]]] = {k: {} for k in clients}
    errors = dict.fromkeys(clients, 0)
    degraded = dict.fromkeys(clients, 0)
    clock = time.perf_counter_ns
    for client in clients.values():  # warm-up, not measured
        for i in range(warmup):
            client.post("/v1/decide", content=payloads[i % len(payloads)], headers=headers)
    for i in range(warmup):
        direct(bodies[i % len(bodies)])
    done = 0
    while done < requests:
        n = min(BLOCK, requests - done)
        for name, client in clients.items():
            for i in range(done, done + n):
                body = payloads[i % len(payloads)]
                t0 = clock()
                r = client.post("/v1/decide", content=body, headers=headers)
                elapsed = (clock() - t0) / 1e6
                lat[name].append(elapsed)
                if r.status_code != 200:
                    errors[name] += 1
                    continue
                answer = json.loads(r.content)
                server_total[name].append(float(answer["timings_ms"]["total"]))
                for stage, ms in answer["timings_ms"].items():
                    stages[name].setdefault(stage, []).append(float(ms))
                degraded[name] += bool(answer.get("degraded"))
        direct_ms.extend(direct(bodies[i % len(bodies)]) for i in range(done, done + n))
        done += n
    return {
        name: {
            "p50_ms": round(dd.percentile(v, 50), 3),
            "p99_ms": round(dd.percentile(v, 99), 3),
            "max_ms": round(max(v), 3),
            "server_total_p50_ms": round(statistics.median(server_total[name]), 3)
            if server_total[name] else None,
            "server_stages_p50_ms": {k: round(statistics.median(v), 3)
                                     for k, v in stages[name].items()},
            "errors": errors[name],
            "degraded": degraded[name],
        }
        for name, v in lat.items()
    }, direct_ms  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=None, help="prepared (or to prepare) dir")
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--requests", type=int, default=5000, help="measured, per size")
    parser.add_argument("--warmup", type=int, default=500, help="per size and server")
    parser.add_argument("--sizes", default="100,300")
    parser.add_argument("--no-naive", action="store_true")
    args = parser.parse_args()

    data = dd.prepare(args.data, buyers=args.buyers, days=args.days, trees=args.trees)
    sizes = [int(s) for s in args.sizes.split(",")]
    out: dict[str, Any] = {
        "benchmark": "decide_latency", "buyers": args.buyers,
        "listings_in_index": len(dd.known_listings(data)), "trees": args.trees,
        "requests": args.requests, **dd.machine(),
    }  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ours, ours_url = dd.start_server(data)
        procs.append(ours)
        urls = {"ours": ours_url}
        if not args.no_naive:
            naive, naive_url = _start_naive(data)
            procs.append(naive)
            urls["naive"] = naive_url
        clients = {k: httpx.Client(base_url=u, timeout=30.0) for k, u in urls.items()}
        direct = _Direct(data)
        for size in sizes:
            bodies = dd.bodies(data, size, count=256, seed=size)
            stats, direct_ms = _measure(clients, bodies, direct, args.requests, args.warmup)
            n_features = direct.n_features
            direct_p50 = statistics.median(direct_ms)
            ours_stats = stats["ours"]
            row: dict[str, Any] = {
                **ours_stats,
                "target_p99_ms": TARGET_P99_MS.get(size),
                "meets_target": ours_stats["p99_ms"] <= TARGET_P99_MS.get(size, float("inf")),
                "features_per_candidate": n_features,
                "direct_p50_ms": round(direct_p50, 3),
                "direct_p99_ms": round(dd.percentile(direct_ms, 99), 3),
                "overhead_ratio_p50": round(ours_stats["server_total_p50_ms"] / direct_p50, 2)
                if ours_stats["server_total_p50_ms"] else None,
            }  # fmt: skip
            if "naive" in stats:
                nv = stats["naive"]
                row["naive"] = nv
                row["ours_over_naive_p50"] = round(ours_stats["p50_ms"] / nv["p50_ms"], 3)
                row["ours_over_naive_p99"] = round(ours_stats["p99_ms"] / nv["p99_ms"], 3)
            out[f"candidates_{size}"] = row
            out["features_per_candidate"] = n_features
        for c in clients.values():
            c.close()
    finally:
        for p in procs:
            dd.stop(p)
    out["load1_end"] = round(dd.machine()["load1"], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
