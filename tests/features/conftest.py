"""Shared lakes for the feature tests: one small simulation (session-scoped), hand-written
events, and one SparkSession for every Spark test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from marketlift.sim import SimConfig, simulate
from tests.features._helpers import append_events, sim_catalog


@pytest.fixture(scope="session")
def sim_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pa.Table]:
    """400 buyers over 3 days (about 2,000 events) and the listings catalog."""
    data = tmp_path_factory.mktemp("features-sim")
    simulate(SimConfig(n_buyers=400, n_days=3, seed=3), data)
    return data, sim_catalog(data)


@pytest.fixture
def write_lake(tmp_path: Path) -> Callable[[list[dict[str, Any]]], Path]:
    def write(events: list[dict[str, Any]]) -> Path:
        append_events(tmp_path, events)
        return tmp_path

    return write
