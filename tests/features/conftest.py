"""Shared lakes for the feature tests: one small simulation (session-scoped), hand-written
events, and one SparkSession for every Spark test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one local SparkSession of the test run."""
    pytest.importorskip("pyspark")
    from marketlift.features import local_spark

    small_data = {
        "spark.sql.adaptive.enabled": "false",
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.autoBroadcastJoinThreshold": str(256 * 2**20),
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    }
    session = local_spark(memory="1g", partitions=1, conf=small_data)
    yield session
    session.stop()
