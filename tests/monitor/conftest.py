"""Simulated lakes with a promoted intent model, clean and with planted faults."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pytest

from marketlift.features.training import training_set
from marketlift.models.registry import Registry
from marketlift.models.training import register_intent, train_intent
from marketlift.monitor import MonitorReport, monitor
from marketlift.sim import SimConfig, simulate
from marketlift.sim.faults import Faults

START = dt.date(2026, 11, 1)
DAYS = 8
MONITORED = START + dt.timedelta(days=DAYS - 1)
_IDS = ["row_id", "decision_id", "buyer", "session_no", "label_revenue"]


def promote_intent(data: Path, train_days: int) -> None:
    """Train the intent model on the rows before ``START + train_days`` and promote it."""
    rows = training_set(data, "intent", intent_cutoff="decision")
    end = dt.datetime.combine(START + dt.timedelta(days=train_days), dt.time(), dt.UTC)
    rows = rows.filter(pc.less(rows["cutoff_ts"], end))
    result = train_intent(rows, label="label", drop=_IDS, time_column="cutoff_ts",
                          n_estimators=30)  # fmt: skip
    version = register_intent(data, result, compile_=False)
    Registry(data).promote("intent", version.version)


def _lake(root: Path, faults: Faults | None) -> Path:
    simulate(SimConfig(n_buyers=1200, n_days=DAYS, seed=3), root, faults=faults, truth=False)
    return root


@pytest.fixture(scope="package")
def clean_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight clean days; the model trained on the first seven (yesterday's retrain)."""
    data = _lake(tmp_path_factory.mktemp("clean"), None)
    promote_intent(data, DAYS - 1)
    return data


@pytest.fixture(scope="package")
def stale_lake(clean_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean lake, but the promoted model stopped being retrained four days ago."""
    data = tmp_path_factory.mktemp("stale") / "data"
    shutil.copytree(clean_lake, data)
    promote_intent(data, DAYS - 4)
    return data


@pytest.fixture(scope="package")
def faulty_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """On the last day page views are double-fired and 90% of the iOS app's events break."""
    faults = Faults(from_day=DAYS - 1, duplicate_type="page_view", broken_platform="ios")
    data = _lake(tmp_path_factory.mktemp("faulty"), faults)
    promote_intent(data, DAYS - 1)
    return data


@pytest.fixture(scope="package")
def faulty_report(faulty_lake: Path) -> MonitorReport:
    """The monitoring report of the faulty lake's last day."""
    return monitor(faulty_lake, MONITORED)
