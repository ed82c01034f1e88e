"""The corruption matrix: every artifact of a model version and the registry's state, corrupted
three ways under decide load. Does the server survive, fail requests, keep the last good version?

A real ``marketlift serve`` (memory store) serves a prepared data directory (compiled ranker
and intent, see :mod:`_decide_data`) whose registry holds ``v0001`` (promoted, served) and
``v0002`` (a copy of it). For every case, on a fresh copy of that directory:

1. **hot reload under load**: while requests flow (closed loop, ``--concurrency`` clients),
   ``v0002`` is promoted with one of its files corrupted (or ``state.json`` itself is), and
   ``POST /admin/reload`` is sent; the load goes on for ``--load-s`` seconds;
2. **restart**: the server is stopped and started again with the corruption in place (what an
   operator, or a crash loop, does next), and answers requests for ``--load-s`` seconds.

Artifacts: ranker ``model.txt``, ``model.compiled``, ``index.npz``, ``items.json``,
``meta.json``; intent ``model.txt``, ``model.compiled``, ``meta.json``; ``state.json`` of
each. Ways: ``random`` (random bytes, same size), ``truncated`` (the first half),
``deleted`` (the file removed; ``state.json`` emptied instead).

Prints ONE JSON line: per case, whether the server exited (target 0), failed requests (target
0), the versions of the corrupted model served after the reload and after the restart, and
``/readyz``'s status after the restart; and the totals. ``--src DIR`` runs the servers from
another source tree (for example the code before the fix: ``git archive <commit> src``), so
the same matrix gives the figures before and after.

    .venv/bin/python benchmarks/decide_corruption.py                          # the full matrix
    .venv/bin/python benchmarks/decide_corruption.py --models ranker --ways random --load-s 2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _decide_data as dd

ADMIN = "bench-admin-key"
ARTIFACTS = {
    "ranker": ("model.txt", "model.compiled", "index.npz", "items.json", "meta.json", "state.json"),
    "intent": ("model.txt", "model.compiled", "meta.json", "state.json"),
}
WAYS = ("random", "truncated", "deleted")


def _corrupt(path: Path, way: str) -> None:
    if way == "random":
        path.write_bytes(np.random.default_rng(11).bytes(max(path.stat().st_size, 64)))
    elif way == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif path.name == "state.json":
        path.write_bytes(b"")  # a registry without its state: emptied
    else:
        path.unlink()


class _Load:
    """Closed-loop decide requests from a few threads; counts failures, records versions."""

    def __init__(self, url: str, bodies: list[bytes], model: str, concurrency: int) -> None:
        self.url, self.bodies, self.model = url, bodies, model
        self.failed = 0
        self.answers = 0
        self.versions: dict[str, int] = {}
        self.mark = 0  # versions are recorded only for requests sent after the mark is set
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(k,)) for k in range(concurrency)]

    def _run(self, k: int) -> None:
        with httpx.Client(base_url=self.url, timeout=10.0) as client:
            i = k
            while not self._stop.is_set():
                marked = self.mark
                try:
                    r = client.post("/v1/decide", content=self.bodies[i % len(self.bodies)],
                                    headers={"Content-Type": "application/json"})  # fmt: skip
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                    time.sleep(0.05)
                with self._lock:
                    if not ok:
                        self.failed += 1
                        continue
                    self.answers += 1
                    if marked:
                        served = str(r.json()["models"][self.model])
                        self.versions[served] = self.versions.get(served, 0) + 1
                i += len(self._threads)

    def __enter__(self) -> _Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def _base(prepared: Path, work: Path) -> Path:
    """The prepared directory with ``v0002`` of each model, a copy of the promoted ``v0001``."""
    from marketlift.models.registry import Registry

    base = work / "base"
    shutil.copytree(prepared, base)
    for model in ARTIFACTS:
        folder = base / "models" / model
        shutil.copytree(folder / "v0001", folder / "v0002")
        Registry(base).promote(model, "v0001")
    return base


def _case(base: Path, work: Path, target: tuple[str, str, str], bodies: list[bytes],
          args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    model, artifact, way = target
    from marketlift.models.registry import Registry

    data = work / "case"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(base, data)
    auth = {"Authorization": f"Bearer {ADMIN}"}
    out: dict[str, Any] = {"model": model, "artifact": artifact, "way": way, "exited": False}
    try:
        proc, url = dd.start_server(data, extra=())
    except RuntimeError as exc:
        return out | {"exited": True, "error": f"start before corrupting: {exc}"}
    try:
        with _Load(url, bodies, model, args.concurrency) as load:
            time.sleep(args.load_s / 2)
            if artifact == "state.json":
                _corrupt(data / "models" / model / "state.json", way)
            else:
                Registry(data).promote(model, "v0002")
                _corrupt(data / "models" / model / "v0002" / artifact, way)
            try:
                reload = httpx.post(f"{url}/admin/reload", headers=auth, timeout=120)
                out["reload_status"] = reload.status_code
            except httpx.HTTPError as exc:
                out["reload_status"] = f"{type(exc).__name__}"
            load.mark = 1
            time.sleep(args.load_s / 2)
        out["exited"] = proc.poll() is not None
        out["failed_requests"] = load.failed
        out["answers"] = load.answers
        out["served_after_reload"] = load.versions
    finally:
        dd.stop(proc)
    try:
        proc, url = dd.start_server(data, extra=())
    except RuntimeError as exc:  # the server could not start again
        return out | {"exited": True, "restart": f"{exc}"}
    try:
        with _Load(url, bodies, model, args.concurrency) as load:
            load.mark = 1
            time.sleep(args.load_s / 2)
        ready = httpx.get(f"{url}/readyz", timeout=10).json()
        out["exited"] = out["exited"] or proc.poll() is not None
        out["failed_requests"] += load.failed
        out["served_after_restart"] = load.versions
        out["readyz_after_restart"] = ready.get("status")
    finally:
        dd.stop(proc)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(ARTIFACTS), choices=list(ARTIFACTS))
    parser.add_argument("--artifacts", nargs="+", default=None, help="default: all of a model")
    parser.add_argument("--ways", nargs="+", default=list(WAYS), choices=WAYS)
    parser.add_argument("--load-s", type=float, default=3.0, help="seconds of load per phase")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--src", type=Path, default=None, help="source tree the servers run")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    prepared = dd.prepare(buyers=args.buyers, trees=args.trees, quiet=True)
    os.environ["MARKETLIFT_ADMIN_KEY"] = ADMIN
    if args.src is not None:
        os.environ["PYTHONPATH"] = str(args.src.resolve())
    work = Path(tempfile.mkdtemp(prefix="marketlift-corruption-"))
    cases: list[dict[str, Any]] = []
    try:
        base = _base(prepared, work)
        bodies = [json.dumps(b).encode() for b in dd.bodies(base, 50, count=64)]
        for model in args.models:
            for artifact in args.artifacts or ARTIFACTS[model]:
                if artifact not in ARTIFACTS[model]:
                    continue
                for way in args.ways:
                    cases.append(_case(base, work, (model, artifact, way), bodies, args))
                    print(json.dumps(cases[-1]), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def last_good_only(case: dict[str, Any], key: str) -> bool:
        served = case.get(key) or {}
        return bool(served) and set(served) == {"v0001"}

    summary = {
        "benchmark": "decide_corruption",
        "src": str(args.src) if args.src else "this tree",
        "cases": len(cases),
        "server_exits": sum(bool(c["exited"]) for c in cases),
        "failed_requests": sum(c.get("failed_requests", 0) for c in cases),
        "reload_5xx": sum(
            not isinstance(c.get("reload_status"), int) or c["reload_status"] >= 500 for c in cases
        ),
        "last_good_served_after_reload": sum(
            last_good_only(c, "served_after_reload") for c in cases
        ),
        "readyz_after_restart": {
            s: sum(str(c.get("readyz_after_restart")) == s for c in cases)
            for s in sorted({str(c.get("readyz_after_restart")) for c in cases})
        },
        "machine": dd.machine(),
        "matrix": cases,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
