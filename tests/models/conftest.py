"""Shared fixtures of the model tests: one small simulated lake per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from marketlift.sim import SimConfig, simulate


@pytest.fixture(scope="session")
def sim_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated lake (2500 buyers, 6 days) with its truth tables; treat it as read-only."""
    data = tmp_path_factory.mktemp("models-lake")
    simulate(SimConfig(n_buyers=2500, n_days=6, seed=11), data)
    return data


@pytest.fixture
def lake_copy(sim_lake: Path, tmp_path: Path) -> Path:
    """A private copy of the simulated lake that a test may write a registry into."""
    target = tmp_path / "data"
    shutil.copytree(sim_lake, target)
    return target
