"""Step 1: a simulated marketplace history, logged by the logging policy, into the lake.

The history is what the models learn from: the simulator's ``logging`` policy (epsilon-greedy
around never nudging) takes every engagement decision and logs its propensity, so the uplift
model and off-policy evaluation have randomized decisions to learn from.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from marketlift.demo.progress import Steps
from marketlift.demo.sizes import DemoSize
from marketlift.sim import SimConfig, SimResult, simulate

__all__ = ["HISTORY_START", "history_config", "simulate_history"]

HISTORY_START = dt.date(2026, 11, 1)
"""First day of the simulated history; the A/B test starts the day after it ends."""


def history_config(size: DemoSize, seed: int) -> SimConfig:
    """The simulator configuration of the logged history."""
    return SimConfig(
        n_buyers=size.train_buyers, n_days=size.train_days, seed=seed, start=HISTORY_START
    )


def simulate_history(
    data_dir: str | os.PathLike[str], size: DemoSize, seed: int, steps: Steps
) -> tuple[SimResult, dict[str, Any]]:
    """Simulate the history into the lake (with its truth tables); returns it and a summary."""
    config = history_config(size, seed)
    label = f"marketplace: {config.n_buyers:,} buyers over {config.n_days} days"
    with steps.step("history", label, total=config.n_days) as advance:
        result = simulate(
            config, data_dir, policy="logging", progress=lambda d, n, _e: advance(d, n)
        )
    summary = {
        "run": result.run,
        "buyers": result.buyers,
        "listings": result.listings,
        "days": config.n_days,
        "events": result.events,
        "sessions": result.sessions,
        "decisions": result.decisions,
        "seconds": round(result.seconds, 2),
        "session_conversion": result.funnel.session_conversion,
        "add_to_cart_rate": result.funnel.add_to_cart_rate,
        "cart_abandonment": result.funnel.cart_abandonment,
    }
    return result, summary
