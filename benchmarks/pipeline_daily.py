"""Wall time of the daily pipeline on the demo's default size, embedded and through Airflow.

Prints ONE JSON line: the lake (buyers, days, events), the embedded run's seconds (every step
of ``marketlift.orchestration.run_pipeline``, in process) with the seconds of each step, and
``airflow dags test`` of the DAG of ``marketlift.orchestration.airflow`` on an identical copy of
the lake (the same steps as Airflow tasks calling ``marketlift pipeline step``, Airflow in its
own ``.venv-airflow``; database migration and DAG serialization not counted), and the ratio
airflow / embedded (the baseline: the embedded run). With ``--repeat N`` both run N times
(fresh copies, alternating) and the figures are medians.

    .venv/bin/python benchmarks/pipeline_daily.py [--buyers 20000] [--days 14] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = ROOT / ".venv-airflow" / "bin" / "airflow"
DAG = """
import sys
sys.path.insert(0, {src!r})
from marketlift.orchestration.airflow import make_dag
dag = make_dag({data!r}, marketlift={exe!r}, sensor_poke_s=1, retries=0, env={env!r})
"""


def _lake(buyers: int, days: int, seed: int) -> tuple[Path, int]:
    from marketlift.lake import query
    from marketlift.sim import SimConfig, simulate

    base = Path(tempfile.gettempdir()) / f"marketlift-pipeline-bench-b{buyers}-d{days}-s{seed}"
    data = base / "data"
    if not (base / ".ready").exists():
        shutil.rmtree(base, ignore_errors=True)
        simulate(SimConfig(n_buyers=buyers, n_days=days, seed=seed), data)
        (base / ".ready").write_text("ok")
    events = query(data, "SELECT count(*) AS n FROM events")["n"][0].as_py()
    return data, int(events)


def _embedded(lake: Path, work: Path, day: Any) -> dict[str, Any]:
    from marketlift.orchestration import run_pipeline

    data = work / "embedded"
    shutil.copytree(lake, data)
    started = time.perf_counter()
    results = run_pipeline(data, day)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "steps": {r.step: round(r.seconds, 2) for r in results}}


def _airflow(lake: Path, work: Path, day: Any) -> float | None:
    if not AIRFLOW.exists():
        return None
    data = work / "airflow-data"
    shutil.copytree(lake, data)
    home = work / "airflow"
    (home / "dags").mkdir(parents=True)
    exe = f"{sys.executable} -m marketlift"
    env = {"PYTHONPATH": str(ROOT / "src")}
    (home / "dags" / "daily.py").write_text(
        DAG.format(src=str(ROOT / "src"), data=str(data), exe=exe, env=env)
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    environ |= {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    for args in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([str(AIRFLOW), *args], env=environ, check=True, capture_output=True)
    started = time.perf_counter()
    run = subprocess.run([str(AIRFLOW), "dags", "test", "marketlift_daily", day.isoformat()],
                         env=environ, capture_output=True, text=True, check=False)  # fmt: skip
    if run.returncode != 0:
        raise SystemExit(run.stdout[-3000:] + run.stderr[-3000:])
    return time.perf_counter() - started


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buyers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    from marketlift.orchestration import default_interval

    lake, events = _lake(args.buyers, args.days, args.seed)
    day = default_interval(lake)
    embedded, airflow, steps = [], [], {}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            run = _embedded(lake, Path(tmp), day)
            embedded.append(run["seconds"])
            steps = run["steps"]
        with tempfile.TemporaryDirectory() as tmp:
            seconds = _airflow(lake, Path(tmp), day)
            if seconds is not None:
                airflow.append(seconds)
    emb = statistics.median(embedded)
    air = statistics.median(airflow) if airflow else None
    print(json.dumps({
        "benchmark": "pipeline_daily", "buyers": args.buyers, "days": args.days,
        "events": events, "interval": day.isoformat(), "repeat": args.repeat,
        "embedded_seconds": round(emb, 1), "embedded_runs": [round(s, 1) for s in embedded],
        "step_seconds": steps,
        "airflow_dags_test_seconds": None if air is None else round(air, 1),
        "airflow_runs": [round(s, 1) for s in airflow],
        "baseline": "embedded run_pipeline",
        "ratio_airflow_vs_embedded": None if air is None else round(air / emb, 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
