"""``kill -9`` under load, again and again: acknowledged events lost and stored twice.

For each mode (``--workers 1`` and ``--workers 2``), a real ``marketlift serve`` process
receives batches of 200 events from two client threads (every fifth batch is sent twice, as
a client that retries would); once ``--acked`` more events have been acknowledged (HTTP 200)
the server is killed with SIGKILL, and the next round starts a new server on the same data
directory (recovery from whatever the kill left). After ``--kills`` rounds one more server
starts, and the lake is read: every acknowledged ``event_id`` must be stored exactly once.
Also counted: the writer socket folders left in the temporary directory after the last start
(``--workers`` only; each start removes the stale ones, issue 21.16).

Baseline (named in the output): zero, the target for lost and duplicated events; the
figures are counts, not ratios. Prints ONE JSON line.

    .venv/bin/python benchmarks/durability.py               # 5 kills per mode
    .venv/bin/python benchmarks/durability.py --kills 2 --acked 2000   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _decide_data as dd
from marketlift.events.samples import sample_events
from marketlift.lake import query

BATCH = 200


def _start(data: Path, workers: int, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = dd.free_port()
    cmd = [sys.executable, "-m", "marketlift", "serve", "--data", str(data), "--port", str(port),
           "--workers", str(workers), "--reload-interval", "0"]  # fmt: skip
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    dd.wait_ready(url, proc, "/healthz", 120)
    return proc, url


_Round = tuple[list[str], list[int], threading.Event, list[threading.Thread]]


def _round(url: str, batches: list[list[dict[str, Any]]], target: int) -> _Round:
    """Send until ``target`` events are acknowledged (the threads go on until stopped).

    Returns the acknowledged ids and the request count (both still growing), the stop flag
    and the threads.
    """
    acked: list[str] = []
    sends = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def pump(part: list[list[dict[str, Any]]]) -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            for n, batch in enumerate(part):
                if stop.is_set():
                    return
                body = msgspec.json.encode(batch)
                try:
                    for _ in range(2 if n % 5 == 4 else 1):
                        response = client.post("/v1/events", content=body)
                        with lock:
                            sends[0] += 1
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    with lock:
                        acked.extend(e["event_id"] for e in batch)

    threads = [threading.Thread(target=pump, args=(batches[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while (
        len(acked) < target and time.monotonic() < deadline and any(t.is_alive() for t in threads)
    ):
        time.sleep(0.01)
    return acked, sends, stop, threads


def run_mode(workers: int, kills: int, target: int, seed: int) -> dict[str, Any]:
    """``kills`` rounds of load then ``kill -9`` on one data directory, then the check."""
    work = Path(tempfile.mkdtemp(prefix="ml-durability-"))
    data, tmp = work / "data", work / "tmp"
    tmp.mkdir()
    per_round = target * 3
    events = sample_events(per_round * kills, random_state=seed, buyers=5000)
    acked: list[str] = []
    sends = 0
    for k in range(kills):
        proc, url = _start(data, workers, tmp)
        chunk = events[k * per_round : (k + 1) * per_round]
        batches = [chunk[i : i + BATCH] for i in range(0, len(chunk), BATCH)]
        got, sent, stop, threads = _round(url, batches, target)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        acked.extend(got)
        sends += sent[0]
    proc, url = _start(data, workers, tmp)  # recovery after the last kill
    stale = len(list(tmp.glob("marketlift-*"))) - (1 if workers > 1 else 0)  # not the live one
    dd.stop(proc)
    rows = query(data, "SELECT event_id, count(*) AS n FROM events GROUP BY 1").to_pylist()
    counts = {r["event_id"]: r["n"] for r in rows}
    return {
        "workers": workers, "kills": kills, "acknowledged": len(acked), "requests": sends,
        "stored": len(counts), "lost": len(set(acked) - counts.keys()),
        "duplicated": sum(1 for n in counts.values() if n > 1),
        "stale_socket_folders_after_restart": stale,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=5, help="kills per mode (at least 5)")
    parser.add_argument("--acked", type=int, default=4000, help="acknowledged events per round")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=61)
    args = parser.parse_args()
    started = time.perf_counter()
    modes = [run_mode(w, args.kills, args.acked, args.seed + w) for w in args.workers]
    out = {
        "benchmark": "durability", "baseline": "0 lost and 0 duplicated (the target)",
        "modes": modes,
        "lost": sum(m["lost"] for m in modes),
        "duplicated": sum(m["duplicated"] for m in modes),
        "acknowledged": sum(m["acknowledged"] for m in modes),
        "kills": sum(m["kills"] for m in modes),
        "seconds": round(time.perf_counter() - started, 1), **dd.machine(),
    }  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()
