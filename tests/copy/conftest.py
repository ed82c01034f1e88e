"""Fixtures of the copy tests: the simulated test set, built once."""

from __future__ import annotations

import pytest

from marketlift.copy.request import CopyRequest
from marketlift.sim.copy_testset import build_requests


@pytest.fixture(scope="session")
def requests_small() -> list[CopyRequest]:
    """Every touchpoint, action and locale over 6 simulated listings (about 480 requests)."""
    return build_requests(n_listings=6, seed=3)
