"""One suite, every sink: what is acknowledged ends up in the lake exactly once."""

import datetime as dt
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import pytest

from marketlift.events.samples import sample_events
from marketlift.ingest import Collector, LakeSink, Sink
from marketlift.lake import query

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)

# A harness gives a sink and a function that brings what the sink holds into the lake.
Harness = tuple[Sink, Callable[[], None]]


@pytest.fixture(params=["lake", "remote", "jetstream"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "remote":
        import tempfile

        from marketlift.ingest.remote import RemoteLakeSink, WriterService
        from marketlift.lake import LakeWriter

        writer = LakeWriter(tmp_path)
        socket_dir = tempfile.mkdtemp(prefix="ml-")
        service = WriterService(writer, f"{socket_dir}/writer.sock")
        remote = RemoteLakeSink(service.path)

        def settle_remote() -> None:
            remote.close()
            service.close()
            writer.close()

        yield remote, settle_remote
        settle_remote()
        return
    if request.param == "lake":
        sink = LakeSink(tmp_path)

        def settle() -> None:
            sink.close()

        yield sink, settle
        sink.close()
        return
    from marketlift.ingest.jetstream import JetStreamSink
    from marketlift.ingest.lander import land

    config = request.getfixturevalue("jetstream_config")
    js_sink = JetStreamSink(config)

    def land_all() -> None:
        js_sink.close()
        land(tmp_path, config, idle_timeout_s=0.5)

    yield js_sink, land_all
    js_sink.close()


def _collector(sink: Sink) -> Collector:
    return Collector(sink, clock=lambda: NOW + dt.timedelta(hours=2))


def _body(events: list[dict[str, Any]]) -> bytes:
    return msgspec.json.encode(events)


def test_every_acknowledged_event_lands_once(harness: Harness, tmp_path: Path) -> None:
    sink, settle = harness
    events = sample_events(300, random_state=21, start=NOW)
    report = _collector(sink).ingest(_body(events))
    assert report.counts() == (300, 0, 0)
    settle()
    rows = query(tmp_path, "SELECT event_id, type, platform FROM events").to_pylist()
    stored = {r["event_id"]: (r["type"], r["platform"]) for r in rows}
    assert len(rows) == len(stored) == 300
    assert stored == {e["event_id"]: (e["type"], e["platform"]) for e in events}


def test_retried_batches_are_reported_as_duplicates(harness: Harness, tmp_path: Path) -> None:
    sink, settle = harness
    collector = _collector(sink)
    events = sample_events(200, random_state=22, start=NOW)
    assert collector.ingest(_body(events[:150])).counts() == (150, 0, 0)
    assert collector.ingest(_body(events[50:])).counts() == (50, 100, 0)
    settle()
    got = query(tmp_path, "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events")
    assert got.to_pylist() == [{"n": 200, "d": 200}]


def test_invalid_events_are_dead_lettered_with_reasons(harness: Harness, tmp_path: Path) -> None:
    sink, settle = harness
    events = sample_events(20, random_state=23, start=NOW)
    bad = dict(events[3], platform="tv", event_id="bad-1")
    report = _collector(sink).ingest(_body([*events, bad]))
    assert report.counts() == (20, 0, 1)
    assert report.rejected[0].index == 20
    settle()
    rows = query(tmp_path, "SELECT event_id, reason, payload, batch_index FROM dead_letters")
    (row,) = rows.to_pylist()
    assert row["event_id"] == "bad-1"
    assert row["batch_index"] == 20
    assert "platform == 'tv'" in row["reason"]
    assert json.loads(row["payload"])["platform"] == "tv"


def test_concurrent_retries_store_each_event_once(harness: Harness, tmp_path: Path) -> None:
    sink, settle = harness
    collector = _collector(sink)
    events = sample_events(400, random_state=24, start=NOW)
    bodies = [_body(events[i : i + 100]) for i in range(0, 400, 50)]  # overlapping halves
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(collector.ingest, bodies + bodies))
    accepted = sum(r.accepted for r in reports)
    duplicates = sum(r.duplicates for r in reports)
    assert accepted == 400
    assert accepted + duplicates == 2 * sum(len(events[i : i + 100]) for i in range(0, 400, 50))
    settle()
    got = query(tmp_path, "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events")
    assert got.to_pylist() == [{"n": 400, "d": 400}]


def test_lander_redelivery_does_not_duplicate(tmp_path: Path, jetstream_config: Any) -> None:
    """A lander that died before acking lands the same messages again: no duplicates."""
    from marketlift.ingest.jetstream import JetStreamSink
    from marketlift.ingest.lander import land

    sink = JetStreamSink(jetstream_config)
    events = sample_events(100, random_state=25, start=NOW)
    _collector(sink).ingest(_body(events))
    sink.close()
    first = land(tmp_path, jetstream_config, durable="first", idle_timeout_s=0.5)
    # A second consumer re-reads the whole stream, like a redelivery after a crash.
    again = land(tmp_path, jetstream_config, durable="second", idle_timeout_s=0.5)
    assert first["events"] == 100
    assert (again["events"], again["duplicates"]) == (0, 100)
    got = query(tmp_path, "SELECT count(*) AS n FROM events").to_pylist()
    assert got == [{"n": 100}]
