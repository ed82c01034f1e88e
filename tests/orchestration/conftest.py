"""A small simulated lake for the pipeline, and a small ranker fit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from marketlift.sim import SimConfig, simulate

DAY = dt.date(2026, 11, 3)
"""The latest complete day of :func:`small_lake`."""
SMALL_RANKER = {
    "MARKETLIFT_RANKER_TREES": "20",
    "MARKETLIFT_RANKER_QUERIES": "300",
    "MARKETLIFT_RANKER_EVAL_QUERIES": "150",
}


@pytest.fixture(autouse=True)
def _small_ranker(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SMALL_RANKER.items():
        monkeypatch.setenv(key, value)
    for key in ("MARKETLIFT_NATS_URL", "MARKETLIFT_REDIS_URL", "MARKETLIFT_SERVE_URL"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="package")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """800 buyers over 3 days (the events and the simulator's logged decisions)."""
    data = tmp_path_factory.mktemp("lake") / "data"
    simulate(SimConfig(n_buyers=800, n_days=3, seed=5), data)
    return data
