"""The ranker's online hit rate, on decisions and views sent through the real collector."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from marketlift.events import Limits
from marketlift.events.schema import Decision, ListingView
from marketlift.ingest import Collector, LakeSink
from marketlift.lake import connect
from marketlift.models.registry import Registry
from marketlift.monitor import MonitorConfig
from marketlift.monitor.ranker import ranker_checks

DAY = dt.date(2026, 11, 7)


def _events(rng: np.random.Generator, n: int) -> tuple[list[object], int, int]:
    events: list[object] = []
    hits = with_next = 0
    t0 = dt.datetime.combine(DAY, dt.time(8), dt.UTC)
    for i in range(n):
        ts = t0 + dt.timedelta(seconds=30 * i)
        shown = [f"l{k}" for k in rng.choice(50, size=6, replace=False)]
        common = {"schema_version": 1, "platform": "web", "anonymous_id": f"a{i}",
                  "session_id": f"s{i}"}  # fmt: skip
        events.append(Decision(event_id=f"d{i}", decision_id=f"d{i}", surface="listing",
                               propensity=1.0, listing_ids=shown, ts=ts,
                               model_versions={"ranker": "v0001"}, **common))  # fmt: skip
        if rng.random() < 0.8:  # a next view: in the slate 40% of the time
            nxt = shown[0] if rng.random() < 0.4 else "l99"
            events.append(ListingView(event_id=f"v{i}", listing_id=nxt,
                                      ts=ts + dt.timedelta(seconds=5), **common))  # fmt: skip
            # a later view that must not count (only the next one does)
            events.append(ListingView(event_id=f"w{i}", listing_id=shown[1],
                                      ts=ts + dt.timedelta(seconds=9), **common))  # fmt: skip
            with_next += 1
            hits += nxt in shown
    return events, hits, with_next


def test_hit_rate_matches_a_count_in_python(tmp_path: Path) -> None:
    events, hits, with_next = _events(np.random.default_rng(0), 400)
    sink = LakeSink(tmp_path)
    collector = Collector(sink, limits=Limits.unbounded_time())
    for i in range(0, len(events), 500):
        collector.ingest_events(events[i : i + 500])  # type: ignore[arg-type]
    sink.close()
    registry = Registry(tmp_path)
    meta = {"kind": "ranker", "metrics": {"ranker": {"recall_at_20": 0.5}}}
    version = registry.register("ranker", {"model.txt": b"m"}, meta)
    registry.promote("ranker", version.version)
    con = connect(tmp_path)
    try:
        (check,) = ranker_checks(con, tmp_path, DAY, MonitorConfig())
        (strict,) = ranker_checks(con, tmp_path, DAY, MonitorConfig(min_hit_rate_ratio=0.9))
    finally:
        con.close()
    assert check.detail["decisions"] == 400
    assert check.detail["with_next_view"] == with_next
    assert check.detail["hits"] == hits
    assert check.value is not None
    assert abs(check.value - hits / with_next / 0.5) < 1e-12
    assert not check.alert  # about 0.4 / 0.5 = 0.8 of the offline figure
    assert strict.alert
