"""The whole loop in one call: :func:`run_demo`.

Every step writes where the product reads it, so ``marketlift serve`` on the same data
directory serves what the demo built: the lake (``DATA/events``), the feature tables
(``DATA/features``), the promoted models (``DATA/models``), the engagement policy
(``DATA/policies/engagement.pkl``) and the experiment (``DATA/experiments.toml``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from marketlift.demo.abtest import ab_config, analyze, run_ab_test, write_experiments_toml
from marketlift.demo.collect import collect_over_http
from marketlift.demo.engagement import evaluate_offline, train_policy
from marketlift.demo.market import history_config, simulate_history
from marketlift.demo.models import build_feature_tables, train_models
from marketlift.demo.progress import Steps
from marketlift.demo.sizes import SIZES
from marketlift.demo.summary import render_demo_report
from marketlift.errors import ConfigError, LakeBusyError
from marketlift.lake.lock import LOCK_FILE, try_lock, writer_holder

if TYPE_CHECKING:
    from rich.progress import Progress

__all__ = ["MARKER", "prepare_data_dir", "run_demo"]

MARKER: Final = ".marketlift-demo"
"""A file the demo leaves in its data directory: a later demo may replace that directory."""


def prepare_data_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Create an empty data directory; a previous demo's directory is replaced.

    The replacement holds the lake's writer lock, so it never deletes a directory a running
    server (or any writer) writes to.

    Raises:
        ConfigError: the directory holds other data (not written by the demo).
        LakeBusyError: a process holds the directory's writer lock (the message names it).
    """
    path = Path(data_dir)
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise ConfigError(
                "--data", str(path), "an empty directory or one a previous demo wrote"
            )
        lock = try_lock(path)
        if lock is None:
            holder = writer_holder(path) or "a process"
            msg = (
                f"--data {path} is in use: {holder} writes to it; stop that process (or pick "
                "another --data directory) before a new demo replaces it"
            )
            raise LakeBusyError(msg)
        with lock:  # nobody can start writing while it is removed
            for entry in path.iterdir():
                if entry.name == LOCK_FILE:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            (path / LOCK_FILE).unlink()
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("written by `marketlift demo`; the next demo replaces it\n")
    return path


def run_demo(
    data_dir: str | os.PathLike[str],
    size: str = "medium",
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the loop end to end on the embedded default; returns the JSON-ready summary.

    Args:
        data_dir: The data directory (created; a previous demo's is replaced).
        size: A key of :data:`~marketlift.demo.sizes.SIZES`.
        seed: Seed of the simulations and of the models.
        progress: Where to draw one bar per step (``None``: silent).
    """
    if size not in SIZES:
        raise ConfigError("--size", size, f"one of {', '.join(SIZES)}")
    started = time.perf_counter()
    scale = SIZES[size]
    data = prepare_data_dir(data_dir)
    steps = Steps(progress)
    summary: dict[str, Any] = {"data": str(data), "size": size, "seed": seed}
    history, summary["history"] = simulate_history(data, scale, seed, steps)
    summary["features"] = build_feature_tables(data, steps)
    summary["models"] = train_models(data, scale, seed, steps)
    policy, log, summary["policy"] = train_policy(data, history.run, scale, seed, steps)
    summary["ope"] = evaluate_offline(policy, log, history_config(scale, seed), steps, seed, data)
    start = history.config.start + dt.timedelta(days=history.config.n_days)
    summary["experiments_toml"] = str(write_experiments_toml(data))
    sim, engine_stats = run_ab_test(data, history.config, ab_config(scale, seed, start), steps)
    analysis, summary["experiment"] = analyze(data, sim, steps)
    summary["experiment"]["engine"] = engine_stats
    # Last, so the collector's sample events (stamped with today's clock, other ids) stay out
    # of the models' training rows and the experiment.
    with steps.step("collector", "live ingestion: the collector over HTTP", total=1):
        summary["collector"] = collect_over_http(data)
    report = data / "reports" / "demo_engagement.html"
    summary["report"] = str(report)
    summary["step_seconds"] = steps.seconds
    summary["seconds"] = round(time.perf_counter() - started, 1)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(render_demo_report(summary, analysis))
    return summary
