"""Shared by the decision API benchmarks: a served data directory, a server, request bodies.

:func:`prepare` simulates a marketplace, builds features, trains, compiles and promotes the
ranker and the intent model and saves an engagement policy (what ``tests/serve/served.py``
does, at benchmark size), once per ``(buyers, days, trees, seed)``: the directory is reused
on later runs (a ``.ready`` marker is written last). :func:`start_server` starts
``marketlift serve`` as a subprocess; :func:`bodies` makes request bodies with given
candidates the ranker knows and ``context.recent`` so candidates get index features.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx


def default_dir(buyers: int, days: int, trees: int, seed: int) -> Path:
    """The cache directory of one preparation (under the system's temp directory)."""
    # "p2": the engagement policy is learned from the decision log (catalog features); a
    # preparation made before that holds a policy the decision API no longer serves
    name = f"marketlift-decide-bench-p2-b{buyers}-d{days}-t{trees}-s{seed}"
    return Path(tempfile.gettempdir()) / name / "data"


def prepare(
    data: Path | None = None, *, buyers: int = 10_000, days: int = 5, trees: int = 200,
    seed: int = 3, quiet: bool = False,
) -> Path:  # fmt: skip
    """A served data directory with compiled, promoted models (made once, then reused)."""
    data = data if data is not None else default_dir(buyers, days, trees, seed)
    marker = data / ".ready"
    if marker.exists():
        return data
    if data.exists() and any(data.iterdir()):
        raise SystemExit(f"{data} exists but is not a finished preparation; remove it")
    from marketlift.features.build import build_features
    from marketlift.models.ranking_train import register_ranker, train_ranker_lake
    from marketlift.models.registry import Registry
    from marketlift.models.training import register_intent, train_intent_lake
    from marketlift.policy import fit_policy, load_catalog, read_decision_log, save
    from marketlift.policy.catalog import catalog_path
    from marketlift.sim import SimConfig, simulate

    def say(what: str) -> None:
        if not quiet:
            print(f"[prepare {data}] {what}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    data.mkdir(parents=True, exist_ok=True)
    say(f"simulating {buyers} buyers x {days} days")
    simulate(SimConfig(n_buyers=buyers, n_days=days, seed=seed), data)
    say("building features")
    build_features(data)
    say(f"training the ranker ({trees} trees) and compiling it")
    ranker, _ = train_ranker_lake(data, n_estimators=trees)
    register_ranker(data, ranker, compile_=True)
    say("training the intent model and compiling it")
    intent, _ = train_intent_lake(data, n_estimators=min(trees, 200))
    register_intent(data, intent, compile_=True)
    registry = Registry(data)
    registry.promote("ranker")
    registry.promote("intent")
    say("fitting the engagement policy on the decision log")
    log = read_decision_log(data, load_catalog(catalog_path(data)))
    policy = fit_policy(log, n_models=1, threshold=0.0, min_child_samples=50)
    save(policy, data / "policies" / "engagement.pkl")
    marker.write_text(json.dumps({"buyers": buyers, "days": days, "trees": trees, "seed": seed,
                                  "seconds": round(time.perf_counter() - t0, 1)}))  # fmt: skip
    say(f"ready in {time.perf_counter() - t0:.0f} s")
    return data


def known_listings(data: Path) -> list[str]:
    """Listing ids of the promoted ranker's candidate index."""
    from marketlift.models.registry import Registry

    version = Registry(data).get("ranker", None)
    items: list[str] = json.loads(version.file("items.json").read_text())
    return items


def buyers_of(data: Path, limit: int = 5000) -> list[str]:
    """Buyer ids with online features (from the features build)."""
    import pyarrow.parquet as pq

    path = data / "features" / "buyer_features.parquet"
    if not path.exists():
        return [f"b{i:07d}" for i in range(limit)]
    ids: list[str] = pq.read_table(path, columns=["buyer"]).column("buyer").to_pylist()
    return ids[:limit]


def bodies(
    data: Path, n_candidates: int, count: int = 256, *, seed: int = 0
) -> list[dict[str, Any]]:
    """Decide requests with ``n_candidates`` given listings the ranker knows, and ``recent``."""
    rng = random.Random(seed)
    items = known_listings(data)
    buyers = buyers_of(data)
    surfaces = ("home", "search", "listing", "cart")
    out = []
    for _ in range(count):
        picked = rng.sample(items, min(n_candidates + 4, len(items)))
        out.append({
            "buyer_id": rng.choice(buyers),
            "session_id": f"s-{rng.randrange(10**6)}",
            "surface": rng.choice(surfaces),
            "platform": rng.choice(("web", "ios", "android")),
            "locale": rng.choice(("en-US", "de-DE", "fr-FR", "en-GB")),
            "context": {"recent": picked[n_candidates : n_candidates + 3]},
            "candidates": picked[:n_candidates],
            "limit": 20,
        })  # fmt: skip
    return out


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], path: str, timeout_s: float) -> None:
    """Wait until ``GET url+path`` answers 200 (or the process dies, or time runs out)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(url + path, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"the server did not answer {path} within {timeout_s} s")


def start_server(
    data: Path, *, budget_ms: float = 25.0, extra: tuple[str, ...] = (), log: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``marketlift serve`` on a free port, ready (``/readyz``) when this returns."""
    port = free_port()
    cmd = [sys.executable, "-m", "marketlift", "serve", "--data", str(data), "--port", str(port),
           "--budget-ms", str(budget_ms), "--reload-interval", "0", *extra]  # fmt: skip
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc, "/readyz", 300)
    return proc, url


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started here (SIGTERM, then SIGKILL after 20 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_kib(pid: int, *, tree: bool = True) -> int:
    """Resident memory in KiB (``VmRSS`` of ``/proc/<pid>/status``), children included."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        if tree:
            for task in Path(f"/proc/{pid}/task").iterdir():
                for child in (task / "children").read_text().split():
                    total += rss_kib(int(child))
    except OSError:  # the process (or a child) is gone
        pass
    return total


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0 to 100), linear interpolation, of a non-empty list."""
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def machine() -> dict[str, Any]:
    """CPU count and load, recorded beside every figure."""
    return {"cpus": os.cpu_count(), "load1": round(os.getloadavg()[0], 2)}


if __name__ == "__main__":  # prepare only: python benchmarks/_decide_data.py [buyers]
    print(prepare(buyers=int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
