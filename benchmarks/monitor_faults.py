"""Monitoring on planted faults (each must be caught) and on clean days (no alert allowed).

Prints ONE JSON line. Clean: a simulated marketplace of ``--days`` days; for each of the last
``--clean-days`` days the intent model is retrained on the rows before it (the daily loop)
and :func:`marketlift.monitor.monitor` runs on that day: every alert is a false alert
(target 0). Faults, planted by :mod:`marketlift.sim.faults` on the last day of a second
simulation (the same world): double-fired page views (drift), 90% of the iOS app's events
broken (volume, dead letters) and, on the clean lake, a model not retrained for four days
(freshness): each must raise its alert (target: all). The baseline named is that target:
``false_alert_rate`` against 0 and ``caught`` against every fault. Side by side on the same
clean days, ``raw_ages_false_alerts`` counts the false alerts with ``history_ages=()`` (the cart
age compared raw, as before it was compared as a share of the lake's history).

    .venv/bin/python benchmarks/monitor_faults.py [--buyers 3000] [--days 14] [--clean-days 10]
        [--reference-days 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

START = dt.date(2026, 11, 1)
IDS = ["row_id", "decision_id", "buyer", "session_no", "label_revenue"]


def _promote(data: Path, rows: pa.Table, before: dt.date) -> None:
    from marketlift.models.registry import Registry
    from marketlift.models.training import register_intent, train_intent

    end = dt.datetime.combine(before, dt.time(), dt.UTC)
    part = rows.filter(pc.less(rows["cutoff_ts"], end))
    result = train_intent(part, label="label", drop=IDS, time_column="cutoff_ts", n_estimators=50)
    Registry(data).promote("intent", register_intent(data, result, compile_=False).version)


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buyers", type=int, default=3000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--clean-days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--reference-days", type=int, default=1, help="of MonitorConfig")
    args = parser.parse_args()
    from marketlift.features.training import training_set
    from marketlift.monitor import MonitorConfig, monitor
    from marketlift.sim import SimConfig, simulate
    from marketlift.sim.faults import Faults

    started = time.perf_counter()
    thresholds = MonitorConfig(reference_days=args.reference_days)
    config = SimConfig(n_buyers=args.buyers, n_days=args.days, seed=args.seed)
    last = START + dt.timedelta(days=args.days - 1)
    raw_ages = dataclasses.replace(thresholds, history_ages=())
    false_alerts: list[str] = []
    raw_false: list[str] = []
    checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "clean"
        simulate(config, clean, truth=False)
        rows = training_set(clean, "intent", intent_cutoff="decision")
        days = [last - dt.timedelta(days=k) for k in range(args.clean_days)][::-1]
        for day in days:
            _promote(clean, rows, day)
            report = monitor(clean, day, thresholds)
            checks += len(report.checks)
            false_alerts += [f"{day}:{c.kind}:{c.subject}" for c in report.alerts]
            raw_false += [
                f"{day}:{c.kind}:{c.subject}" for c in monitor(clean, day, raw_ages).alerts
            ]
        _promote(clean, rows, last - dt.timedelta(days=3))  # retraining stopped 4 days ago
        stale = {(c.kind, c.subject) for c in monitor(clean, last, thresholds).alerts}
        faulty = Path(tmp) / "faulty"
        faults = Faults(from_day=args.days - 1, duplicate_type="page_view", broken_platform="ios")
        simulate(config, faulty, truth=False, faults=faults)
        _promote(faulty, training_set(faulty, "intent", intent_cutoff="decision"), last)
        report = monitor(faulty, last, thresholds)
        found = {(c.kind, c.subject) for c in report.alerts}
    caught = {
        "drift: double-fired page views (s_events)": ("drift", "s_events") in found,
        "broken platform: volume of ios listing views": ("volume", "listing_view/ios") in found,
        "broken platform: dead-letter rate": ("dead_letters", "received") in found,
        "stale model: intent not retrained for 4 days": ("freshness", "model:intent") in stale,
    }
    print(json.dumps({
        "benchmark": "monitor_faults", "buyers": args.buyers, "days": args.days,
        "clean_days": args.clean_days, "reference_days": args.reference_days,
        "clean_checks": checks,
        "false_alerts": len(false_alerts), "false_alert_list": false_alerts,
        "false_alert_rate": round(len(false_alerts) / max(checks, 1), 5),
        "raw_ages_false_alerts": len(raw_false), "raw_ages_false_alert_list": raw_false,
        "caught": caught, "caught_share": sum(caught.values()) / len(caught),
        "baseline": "target: 0 false alerts on clean days, every planted fault caught",
        "faulty_day_alerts": sorted(f"{k}:{s}" for k, s in found),
        "seconds": round(time.perf_counter() - started, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
