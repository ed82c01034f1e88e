"""Cost of ``monitor`` on a large lake, against a plain scan of the same lake side by side.

Prints ONE JSON line: the lake's events, the median wall seconds of :func:`marketlift.monitor.
monitor` on its latest complete day (every check: volume and freshness per type and platform,
dead letters, degraded decisions, the ranker's hit rate, model and feature freshness, drift
and calibration on the point-in-time intent rows), its peak RSS, and the baseline: one
``GROUP BY event_date, type, platform`` over every event (the least a check of the lake can
read), with the ratio monitor / scan. The intent model is trained once on the first week's
rows (a small fit: the cost measured is the monitor's, not training's).

    .venv/bin/python benchmarks/monitor_cost.py [--buyers 220000] [--days 30] [--repeat 3]

The default (220,000 buyers x 30 days) is about 10 million events; the lake is simulated once
and kept under the system's temp directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def _lake(buyers: int, days: int) -> Path:
    import pyarrow.compute as pc

    from marketlift.features.training import training_set
    from marketlift.models.registry import Registry
    from marketlift.models.training import register_intent, train_intent
    from marketlift.sim import SimConfig, simulate

    base = Path(tempfile.gettempdir()) / f"marketlift-monitor-bench-b{buyers}-d{days}"
    data = base / "data"
    if (base / ".ready").exists():
        return data
    shutil.rmtree(base, ignore_errors=True)
    config = SimConfig(n_buyers=buyers, n_days=days, seed=11)
    simulate(config, data, truth=False)
    rows = training_set(data, "intent", intent_cutoff="decision")
    end = dt.datetime.combine(config.start + dt.timedelta(days=7), dt.time(), dt.UTC)
    rows = rows.filter(pc.less(rows["cutoff_ts"], end))
    ids = ["row_id", "decision_id", "buyer", "session_no", "label_revenue"]
    result = train_intent(rows, label="label", drop=ids, time_column="cutoff_ts", n_estimators=50)
    Registry(data).promote("intent", register_intent(data, result, compile_=False).version)
    (base / ".ready").write_text("ok")
    return data


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buyers", type=int, default=220_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from marketlift.lake import connect, query
    from marketlift.monitor import latest_complete_day, monitor

    started = time.perf_counter()
    data = _lake(args.buyers, args.days)
    prepare_s = time.perf_counter() - started
    events = int(query(data, "SELECT count(*) AS n FROM events")["n"][0].as_py())
    day = latest_complete_day(data)
    mon, scan, alerts = [], [], 0
    for _ in range(args.repeat):
        t = time.perf_counter()
        report = monitor(data, day)
        mon.append(time.perf_counter() - t)
        alerts = len(report.alerts)
        t = time.perf_counter()
        con = connect(data)
        con.execute("SELECT event_date, type, platform, count(*), max(ts) FROM events GROUP BY ALL")
        con.fetchall()
        con.close()
        scan.append(time.perf_counter() - t)
    m, s = statistics.median(mon), statistics.median(scan)
    print(json.dumps({
        "benchmark": "monitor_cost", "buyers": args.buyers, "days": args.days, "events": events,
        "interval": day.isoformat(), "repeat": args.repeat, "checks": len(report.checks),
        "alerts": alerts, "monitor_seconds": round(m, 2),
        "monitor_runs": [round(x, 2) for x in mon],
        "baseline": "one GROUP BY event_date, type, platform scan of the lake",
        "scan_seconds": round(s, 2), "ratio_monitor_vs_scan": round(m / s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0),
        "prepare_seconds": round(prepare_s, 1), "load_avg_1m": round(os.getloadavg()[0], 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
