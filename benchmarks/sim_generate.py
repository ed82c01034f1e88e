"""Benchmark of the simulator: events/s end to end (lake write included), RSS, funnel, values.

Prints ONE JSON line. Defaults are the issue's size: 100,000 buyers over 30 days.

    .venv/bin/python benchmarks/sim_generate.py [--buyers N] [--days D] [--seed S]
        [--collector-buyers N] [--collector-days D] [--eval-buyers N] [--eval-days D]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _breakdown(buyers: int, days: int, seed: int) -> dict[str, float]:
    """CPU time per event of each phase, run serially (no threads) for a few days."""
    import numpy as np

    from marketlift.lake import LakeWriter
    from marketlift.sim import SimConfig, make_policy, make_world
    from marketlift.sim.emit import EventBuilder
    from marketlift.sim.funnel import BuyerState, simulate_day
    from marketlift.sim.runner import _write_day_truth

    world = make_world(SimConfig(n_buyers=buyers, n_days=days, seed=seed))
    state, arm = BuyerState.start(world), np.zeros(buyers, dtype=np.int64)
    builder = EventBuilder(world, run="bench", policy_names=["logging"])
    names = ("simulate", "build_events", "truth", "lake_append", "lake_compact")
    phases = dict.fromkeys(names, 0.0)
    data = tempfile.mkdtemp(prefix="sim-bench-")
    n = 0
    try:
        writer = LakeWriter(data, background=False)
        for d in range(days):
            c = _cpu_seconds()
            day = simulate_day(world, state, d, [make_policy("logging")], arm)
            phases["simulate"] += _cpu_seconds() - c
            c = _cpu_seconds()
            table = builder.build(day)
            phases["build_events"] += _cpu_seconds() - c
            n += table.num_rows
            c = _cpu_seconds()
            _write_day_truth(data, day, "bench", builder, ["logging"])
            phases["truth"] += _cpu_seconds() - c
            c = _cpu_seconds()
            writer.append(table)
            phases["lake_append"] += _cpu_seconds() - c
            c = _cpu_seconds()
            writer.compact(force=True)
            phases["lake_compact"] += _cpu_seconds() - c
        writer.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    out = {k: round(v / n * 1e6, 2) for k, v in phases.items()}
    out["total"] = round(sum(phases.values()) / n * 1e6, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--buyers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--collector-buyers", type=int, default=20_000)
    parser.add_argument("--collector-days", type=int, default=2)
    parser.add_argument("--breakdown-days", type=int, default=3)
    parser.add_argument("--eval-buyers", type=int, default=None, help="default: --buyers")
    parser.add_argument("--eval-days", type=int, default=None, help="default: --days")
    args = parser.parse_args()

    from marketlift.lake import query
    from marketlift.sim import SimConfig, evaluate_policies, simulate

    out: dict[str, object] = {
        "benchmark": "sim_generate",
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    config = SimConfig(n_buyers=args.buyers, n_days=args.days, seed=args.seed)
    data = tempfile.mkdtemp(prefix="sim-bench-")
    try:
        started, cpu = time.perf_counter(), _cpu_seconds()
        result = simulate(config, data)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu
        stored = query(data, "SELECT count(*) AS n FROM events").column("n")[0].as_py()
        out.update(
            buyers=args.buyers, days=args.days, seed=args.seed, events=result.events,
            events_stored=stored, sessions=result.sessions, decisions=result.decisions,
            seconds=round(seconds, 2), events_per_second=round(result.events / seconds),
            cpu_seconds=round(cpu, 2), cpu_us_per_event=round(cpu / result.events * 1e6, 2),
            load_average_after=[round(x, 2) for x in os.getloadavg()],
            peak_rss_mb=round(_peak_rss_mb()), funnel=result.to_dict()["funnel"],
        )  # fmt: skip
    finally:
        shutil.rmtree(data, ignore_errors=True)

    small = SimConfig(n_buyers=args.collector_buyers, n_days=args.collector_days, seed=args.seed)
    for mode, via in (("direct", False), ("collector", True)):
        data = tempfile.mkdtemp(prefix="sim-bench-")
        try:
            started, cpu = time.perf_counter(), _cpu_seconds()
            res = simulate(small, data, via_collector=via, truth=False)
            sec, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
            out[f"small_{mode}_events_per_second"] = round(res.events / sec)
            out[f"small_{mode}_cpu_us_per_event"] = round(cpu / res.events * 1e6, 2)
        finally:
            shutil.rmtree(data, ignore_errors=True)
    out["small_run"] = {"buyers": args.collector_buyers, "days": args.collector_days,
                        "events": res.events}  # fmt: skip

    out["cpu_breakdown_us_per_event"] = _breakdown(args.buyers, args.breakdown_days, args.seed)

    eval_config = SimConfig(
        n_buyers=args.eval_buyers or args.buyers, n_days=args.eval_days or args.days,
        seed=args.seed,
    )  # fmt: skip
    started = time.perf_counter()
    values = evaluate_policies(
        eval_config,
        {"never": "never", "always": "always", "random": "random", "logging": "logging",
         "oracle": "oracle"},
    )  # fmt: skip
    out["policy_values_seconds"] = round(time.perf_counter() - started, 2)
    out["policy_values_usd_per_buyer"] = {
        k: round(v.expected_revenue_per_buyer, 4) for k, v in values.items()
    }
    out["policy_realized_usd_per_buyer"] = {
        k: round(v.revenue_per_buyer, 4) for k, v in values.items()
    }
    oracle = values["oracle"].expected_revenue_per_buyer
    best_fixed = max(values["never"].expected_revenue_per_buyer,
                     values["always"].expected_revenue_per_buyer)  # fmt: skip
    out["oracle_margin_over_best_of_never_always"] = round(oracle / best_fixed - 1.0, 4)
    out["peak_rss_mb"] = round(_peak_rss_mb())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
