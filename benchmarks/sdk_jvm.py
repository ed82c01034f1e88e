"""The JVM/Android SDK: throughput of track + file queue + flush, queue size, and a kill test.

A real ``marketlift serve`` (lake sink) runs as a subprocess; the SDK's driver JVM
(``sdk/jvm``, built by ``scripts/build-jvm.sh``) tracks ``--events`` search events into its
file queue and flushes them in batches of 500. Baseline, side by side in the same run: the same
events built and POSTed by the same JVM straight over ``HttpURLConnection`` in batches of 500,
with no validation and no queue. Figures are medians over ``--repeats`` runs.

Kill test: ``--kills`` times, a driver tracks events (sending in batches of 20 as it goes, or,
every other run, with no send at all) and is killed with SIGKILL after a random number of
acknowledged events; the next run starts on the same queue directory. A last run drains the
queue. The lake is then asked for every acknowledged ``event_id``: delivered, duplicated and
lost (targets 0 and 0).

    .venv/bin/python benchmarks/sdk_jvm.py                 # 20,000 events x 3, 12 kills
    .venv/bin/python benchmarks/sdk_jvm.py --events 2000 --repeats 1 --kills 4   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from marketlift.lake import query

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.sdk import jvm_harness as jh

FULL_JIT: tuple[str, ...] = ()


def _throughput(classpath: str, url: str, work: Path, events: int, run: int) -> dict[str, float]:
    queue = work / f"bench-{run}"
    rc, out, err = jh.run(
        classpath, "bench", url, str(queue), str(events), timeout=600, jvm_opts=FULL_JIT
    )
    if rc != 0:
        raise RuntimeError(err)
    sdk = json.loads(out)
    if not sdk["empty"]:
        raise RuntimeError(f"the queue did not drain: {sdk}")
    rc, out, err = jh.run(classpath, "direct", url, str(events), "500", timeout=600, jvm_opts=())
    if rc != 0:
        raise RuntimeError(err)
    direct = json.loads(out)
    total = sdk["track_s"] + sdk["flush_s"]
    return {
        "events_per_s": events / total,
        "track_events_per_s": events / sdk["track_s"],
        "track_us_per_event": sdk["track_s"] / events * 1e6,
        "queue_bytes_per_event": sdk["queue_bytes"] / sdk["queued"],
        "baseline_events_per_s": events / direct["total_s"],
    }


def _kills(classpath: str, url: str, data: Path, kills: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    work = data.parent
    queue = work / "kill-queue"
    acked: list[str] = []
    for k in range(kills):
        no_send = k % 2 == 1
        n = rng.randint(30, 400)
        batch, flush_ms = ("1000", "3600000") if no_send else ("20", "10")
        driver = jh.Driver(classpath, "track", url, str(queue), "1000", f"kill{k}", batch, flush_ms)
        acked.extend(driver.line()["ack"] for _ in range(n))
        # Lines printed before the kill but not read yet are acknowledged events too.
        acked.extend(line["ack"] for line in driver.kill() if "ack" in line)
    rc, out, err = jh.run(classpath, "drain", url, str(queue))
    if rc != 0:
        raise RuntimeError(err)
    deadline = time.monotonic() + 30
    wanted = set(acked)
    while True:
        rows = (
            query(data, "SELECT event_id FROM events WHERE query LIKE 'kill%'")
            .column("event_id")
            .to_pylist()
        )
        if wanted <= set(rows) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    stored = [str(r) for r in rows]
    return {
        "kills": kills,
        "enqueued": len(acked),
        "delivered": len(wanted & set(stored)),
        "duplicated": len(stored) - len(set(stored)),
        "lost": len(wanted - set(stored)),
        # Appended, killed before the driver printed the ack: at most one per kill.
        "stored_unacknowledged": len(set(stored) - wanted),
        "left_in_queue": json.loads(out)["left"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args()
    classpath = jh.build()
    with tempfile.TemporaryDirectory(prefix="sdk-jvm-") as tmp:
        work = Path(tmp)
        with jh.serve(work / "data") as url:
            runs = [_throughput(classpath, url, work, args.events, r) for r in range(args.repeats)]
            kill = _kills(classpath, url, work / "data", args.kills, args.seed)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(
        json.dumps(
            {
                "benchmark": "sdk_jvm",
                "events": args.events,
                "repeats": args.repeats,
                "events_per_s": round(med("events_per_s")),
                "track_events_per_s": round(med("track_events_per_s")),
                "track_us_per_event": round(med("track_us_per_event"), 1),
                "queue_bytes_per_event": round(med("queue_bytes_per_event"), 1),
                "baseline": "same events POSTed by the same JVM in batches of 500, no queue",
                "baseline_events_per_s": round(med("baseline_events_per_s")),
                "ratio": round(med("events_per_s") / med("baseline_events_per_s"), 3),
                "kill_test": kill,
                "targets": {"duplicated": 0, "lost": 0},
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
