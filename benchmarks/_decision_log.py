"""A simulated lake's decision log, and the simulator's truth for it (benchmarks only).

The policy and the estimators see the lake alone (events and the catalog the simulator ships,
:func:`marketlift.policy.read_decision_log`); the truth (every action's expected revenue at
each logged decision, from ``sim_truth_decisions`` by decision id) is read only to score them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from marketlift.policy import DecisionLog, load_catalog, read_decision_log
from marketlift.policy.catalog import catalog_path
from marketlift.sim import SimConfig, read_truth, simulate


def lake_log(config: SimConfig, folder: str | None = None) -> tuple[DecisionLog, np.ndarray]:
    """Simulate ``config`` into a lake; its decision log and the true values (USD, NaN: n/a)."""
    data = Path(folder or tempfile.mkdtemp(prefix="ml-bench-")) / "data"
    simulate(config, data)
    log = read_decision_log(data, load_catalog(catalog_path(data)))
    truth = read_truth(data, "sim_truth_decisions")
    where = {d: i for i, d in enumerate(truth.column("decision_id").to_pylist())}
    rows = np.array([where[d] for d in log.rows.column("decision_id").to_pylist()])
    values = np.column_stack(
        [
            truth.column(f"value_{a}").to_numpy(zero_copy_only=False).astype(np.float64)[rows]
            for a in log.catalog.action_ids
        ]
    )
    return log, np.where(log.available, values / 100.0, np.nan)


def true_value(target: np.ndarray, values: Any) -> float:
    """``mean_i sum_a pi(a|x_i) value_a(x_i)``: the target policy's value on the log."""
    return float((target * np.nan_to_num(values)).sum(axis=1).mean())
