"""Shared fixtures of the service tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serve.served import make_served_data


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with lake, features, promoted ranker and intent, and a policy.

    Read-only: tests that serve from it copy it first (the app writes into its lake).
    """
    return make_served_data(tmp_path_factory.mktemp("served") / "data")
