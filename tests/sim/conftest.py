"""Shared small simulations (session-scoped: each is written once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketlift.sim import SimConfig, SimResult, run_ab, simulate


@pytest.fixture(scope="session")
def logging_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimResult]:
    """The default logging policy (epsilon 0.5 around never-nudge), 4000 buyers, 3 days."""
    data = tmp_path_factory.mktemp("sim-logging")
    return data, simulate(SimConfig(n_buyers=4000, n_days=3, seed=5), data)


@pytest.fixture(scope="session")
def ab_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimResult]:
    """A/B mode: random against oracle, 3000 buyers, 3 days."""
    data = tmp_path_factory.mktemp("sim-ab")
    config = SimConfig(n_buyers=3000, n_days=3, seed=11)
    return data, run_ab(config, {"random": "random", "oracle": "oracle"}, data)
