"""Every simulated event is exactly what the collector would have stored."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from marketlift.events.limits import Limits
from marketlift.events.schema import EVENT_TYPES
from marketlift.events.table import EVENTS_SCHEMA, events_to_arrow
from marketlift.events.validate import validate_batch
from marketlift.lake import LakeLayout, query
from marketlift.sim import SimConfig, SimResult, simulate


def _lake_events(data: Path) -> pa.Table:
    files = LakeLayout(data).live_files("events")
    table = pa.concat_tables([pq.read_table(f, schema=EVENTS_SCHEMA) for f in files])
    return table.sort_by("event_id")


def _collector_rows(table: pa.Table) -> pa.Table:
    """Validate every payload and convert it the way the collector does."""
    limits = dataclasses.replace(Limits.unbounded_time(), max_events=10_000_000)
    parts = []
    for received in table.column("received_at").unique().to_pylist():
        rows = table.filter(pa.compute.equal(table.column("received_at"), pa.scalar(
            received, EVENTS_SCHEMA.field("received_at").type)))  # fmt: skip
        body = "\n".join(rows.column("payload").to_pylist()).encode()
        batch = validate_batch(body, now=dt.datetime.now(dt.UTC), limits=limits)
        assert batch.rejected == [], batch.rejected[:3]
        assert len(batch.events) == rows.num_rows
        parts.append(events_to_arrow(batch.events, received_at=received))
    return pa.concat_tables(parts).sort_by("event_id")


@pytest.mark.parametrize("fixture", ["logging_run", "ab_run"])
def test_every_event_validates_and_equals_the_collector_row(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    data, result = request.getfixturevalue(fixture)
    stored = _lake_events(data)
    assert stored.num_rows == result.events
    expected = _collector_rows(stored)
    assert expected.schema.equals(stored.schema)
    for name in EVENTS_SCHEMA.names:
        assert expected.column(name).equals(stored.column(name)), name


def test_all_event_types_are_emitted(ab_run: tuple[Path, SimResult]) -> None:
    data, _ = ab_run
    types = {r["type"] for r in query(data, "SELECT DISTINCT type FROM events").to_pylist()}
    assert types == set(EVENT_TYPES)


def test_collector_path_writes_the_same_lake(tmp_path: Path) -> None:
    config = SimConfig(n_buyers=300, n_days=2, seed=3)
    direct = simulate(config, tmp_path / "direct")
    collected = simulate(config, tmp_path / "collector", via_collector=True)
    assert collected.events == direct.events == collected.written
    a, b = _lake_events(tmp_path / "direct"), _lake_events(tmp_path / "collector")
    assert a.equals(b)
    dead = query(tmp_path / "collector", "SELECT count(*) AS n FROM dead_letters")
    assert dead.column("n")[0].as_py() == 0


def test_ids_times_and_money_are_well_formed(logging_run: tuple[Path, SimResult]) -> None:
    data, _ = logging_run
    rows = query(data, """
        SELECT
          count(*) FILTER (WHERE buyer_id IS NULL AND anonymous_id IS NULL) AS no_id,
          count(*) FILTER (WHERE type = 'purchase' AND (revenue IS NULL OR revenue <= 0)) AS bad,
          count(*) FILTER (WHERE type IN ('decision', 'engagement_shown')
                           AND (propensity <= 0 OR propensity > 1)) AS bad_propensity,
          count(DISTINCT currency) AS currencies,
          count(DISTINCT platform) AS platforms,
          min(ts) < max(ts) AS spread
        FROM events
    """).to_pylist()[0]  # fmt: skip
    assert rows == {"no_id": 0, "bad": 0, "bad_propensity": 0, "currencies": 4,
                    "platforms": 3, "spread": True}  # fmt: skip
