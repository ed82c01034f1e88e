import datetime as dt
import threading
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pytest

from marketlift.errors import LakeBusyError
from marketlift.events import Event, Limits, validate_batch
from marketlift.events.samples import sample_events
from marketlift.events.table import EVENTS_SCHEMA, events_to_arrow
from marketlift.lake import LakeLayout, LakeWriter, connect, query

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)


def _table(events: list[dict[str, Any]]) -> pa.Table:
    batch = validate_batch(
        msgspec.json.encode(events),
        now=NOW,
        limits=Limits(max_past=None, max_future=None, max_events=100_000),
    )
    assert not batch.rejected
    return events_to_arrow(batch.events, received_at=NOW)


def _count(data: Path) -> tuple[int, int]:
    row = query(data, "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events")
    got = row.to_pylist()[0]
    return got["n"], got["d"]


def test_exactly_once_within_and_across_restarts(tmp_path: Path) -> None:
    events = sample_events(300, random_state=1, start=NOW)
    with LakeWriter(tmp_path) as writer:
        assert writer.append(_table(events[:200])) == [True] * 200
        flags = writer.append(_table(events[100:300]))
        assert flags == [False] * 100 + [True] * 100
    with LakeWriter(tmp_path) as writer:
        assert writer.event_count == 300
        assert writer.append(_table(events)) == [False] * 300
    assert _count(tmp_path) == (300, 300)


def test_duplicates_inside_one_batch_are_stored_once(tmp_path: Path) -> None:
    events = sample_events(10, random_state=2, start=NOW)
    with LakeWriter(tmp_path) as writer:
        flags = writer.append(_table(events + events[:3]))
    assert flags == [True] * 10 + [False] * 3
    assert _count(tmp_path) == (10, 10)


def test_columns_round_trip(tmp_path: Path) -> None:
    events = sample_events(400, random_state=3, start=NOW)
    with LakeWriter(tmp_path) as writer:
        writer.append(_table(events))
    purchases = [e for e in events if e["type"] == "purchase"]
    assert purchases
    rows = query(
        tmp_path,
        "SELECT event_id, CAST(revenue AS VARCHAR) AS revenue, revenue_currency, order_id, "
        "json_extract(payload, '$.line_items') AS items FROM events "
        "WHERE type = 'purchase' ORDER BY ts",
    ).to_pylist()
    assert [r["event_id"] for r in rows] == [p["event_id"] for p in purchases]
    for row, event in zip(rows, purchases, strict=True):
        assert float(row["revenue"]) == pytest.approx(float(event["revenue"]["amount"]))
        assert row["revenue_currency"] == event["revenue"]["currency"]
        assert row["order_id"] == event["order_id"]
        assert msgspec.json.decode(row["items"]) == event["line_items"]


def test_compaction_keeps_every_event_once_and_partitions(tmp_path: Path) -> None:
    events = sample_events(600, random_state=4, start=NOW)
    with LakeWriter(tmp_path, background=False) as writer:
        for i in range(0, 600, 50):
            writer.append(_table(events[i : i + 50]))
        layout = LakeLayout(tmp_path)
        assert len(layout.incoming_files("events")) == 12
        report = writer.compact()
        assert report.files_in == 12
        assert report.rows == 600
        # The inputs are no longer live but stay on disk for readers during the grace period.
        assert not [f for f in layout.live_files("events") if "incoming" in f.as_posix()]
        assert len(layout.incoming_files("events")) == 12
    parts = sorted(p.relative_to(tmp_path / "lake").as_posix() for p in layout.live_files("events"))
    assert all(p.startswith("events/date=2026-11-26/type=") for p in parts)
    assert _count(tmp_path) == (600, 600)
    by_type = query(tmp_path, "SELECT type, count(*) AS n FROM events GROUP BY 1").to_pylist()
    expected: dict[str, int] = {}
    for event in events:
        expected[event["type"]] = expected.get(event["type"], 0) + 1
    assert {r["type"]: r["n"] for r in by_type} == expected


def test_retired_files_are_deleted_after_the_grace_period(tmp_path: Path) -> None:
    events = sample_events(200, random_state=10, start=NOW)
    layout = LakeLayout(tmp_path)
    with LakeWriter(tmp_path, background=False, retire_grace_s=0.0) as writer:
        for i in range(0, 200, 50):
            writer.append(_table(events[i : i + 50]))
        writer.compact()
        writer.compact()  # the next compaction deletes what the first retired
    assert layout.incoming_files("events") == []
    manifest = layout.read_manifest().table("events")
    assert manifest.retired == []
    assert manifest.consumed == []
    assert _count(tmp_path) == (200, 200)


def test_many_compactions_merge_small_parts(tmp_path: Path) -> None:
    events = sample_events(400, random_state=5, start=NOW)
    with LakeWriter(tmp_path, background=False, merge_parts_over=3) as writer:
        for i in range(0, 400, 40):
            writer.append(_table(events[i : i + 40]))
            writer.compact()
    files = LakeLayout(tmp_path).live_files("events")
    per_dir: dict[str, int] = {}
    for f in files:
        per_dir[str(f.parent)] = per_dir.get(str(f.parent), 0) + 1
    assert max(per_dir.values()) <= 4
    assert _count(tmp_path) == (400, 400)


def test_recovery_finishes_an_interrupted_compaction(tmp_path: Path) -> None:
    """A crash after the manifest commit but before inputs were deleted loses nothing."""
    events = sample_events(100, random_state=6, start=NOW)
    with LakeWriter(tmp_path, background=False, retire_grace_s=0.0) as writer:
        writer.append(_table(events[:50]))
        writer.append(_table(events[50:]))
    layout = LakeLayout(tmp_path)
    manifest = layout.read_manifest()
    inputs = manifest.table("events").files
    # Rebuild the state of a crash mid-compaction: the compacted outputs are live, the
    # inputs they came from are back in incoming and marked consumed, an orphan output of
    # an uncommitted compaction and a half-written temp file lie around.
    compacted = pa.concat_tables([pa.parquet.read_table(layout.root / f) for f in inputs])
    incoming = layout.incoming_dir("events")
    pa.parquet.write_table(compacted, incoming / "00000000000000000001-deadbeef.parquet")
    manifest.table("events").consumed.append(
        "events/incoming/00000000000000000001-deadbeef.parquet"
    )
    layout.write_manifest(manifest)
    orphan = layout.root / "events/date=2026-11-26/type=search/part-orphan.parquet"
    pa.parquet.write_table(compacted, orphan)
    (incoming / "x.parquet.tmp").write_bytes(b"partial")
    # Readers already see each event once, even before recovery.
    assert _count(tmp_path) == (100, 100)
    with LakeWriter(tmp_path, background=False, retire_grace_s=0.0) as writer:
        assert writer.event_count == 100
    assert not orphan.exists()
    assert not (incoming / "x.parquet.tmp").exists()
    assert layout.read_manifest().table("events").consumed == []
    assert not (incoming / "00000000000000000001-deadbeef.parquet").exists()
    assert _count(tmp_path) == (100, 100)


def test_second_writer_is_refused_with_the_holder(tmp_path: Path) -> None:
    with LakeWriter(tmp_path), pytest.raises(LakeBusyError, match=r"pid \d+"):
        LakeWriter(tmp_path)
    LakeWriter(tmp_path).close()  # released on close


def test_concurrent_overlapping_submits_store_each_event_once(tmp_path: Path) -> None:
    events = sample_events(1000, random_state=7, start=NOW)
    tables = [_table(events[i : i + 200]) for i in range(0, 1000, 100)]  # every event twice
    results: list[list[bool]] = []
    with LakeWriter(tmp_path) as writer:

        def send(table: pa.Table) -> None:
            results.append(writer.append(table))

        threads = [threading.Thread(target=send, args=(t,)) for t in tables]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sum(sum(flags) for flags in results) == 1000
    assert _count(tmp_path) == (1000, 1000)


def test_reader_sees_a_consistent_lake_while_compacting(tmp_path: Path) -> None:
    events = sample_events(2000, random_state=8, start=NOW)
    counts: list[int] = []
    stop = threading.Event()

    def read() -> None:
        con_counts = []
        while not stop.is_set():
            con_counts.append(
                query(
                    tmp_path, "SELECT count(DISTINCT event_id) - count(*) AS d FROM events"
                ).to_pylist()[0]["d"]
            )
        counts.extend(con_counts)

    tables = [_table(events[i : i + 100]) for i in range(0, 2000, 100)]
    reader = threading.Thread(target=read)
    with LakeWriter(tmp_path, background=False, merge_parts_over=2) as writer:
        reader.start()
        try:
            for i, table in enumerate(tables):
                writer.append(table)
                if i % 3 == 0:
                    writer.compact()
        finally:
            stop.set()
            reader.join()
    assert counts
    assert set(counts) == {0}


def test_empty_lake_has_typed_views(tmp_path: Path) -> None:
    con = connect(tmp_path)
    columns = [r[0] for r in con.sql("DESCRIBE events").fetchall()]
    assert columns == EVENTS_SCHEMA.names
    assert con.sql("SELECT count(*) FROM dead_letters").fetchall() == [(0,)]


def test_submit_rejects_nothing_valid_and_keeps_event_types(tmp_path: Path) -> None:
    events = sample_events(50, random_state=9, start=NOW)
    decoded = msgspec.json.decode(msgspec.json.encode(events), type=list[Event])
    with LakeWriter(tmp_path) as writer:
        writer.append(events_to_arrow(decoded, received_at=NOW))
    types = query(tmp_path, "SELECT DISTINCT type FROM events").column("type").to_pylist()
    assert set(types) == {e["type"] for e in events}


def test_bulk_appends_share_the_dedupe_with_group_commits(tmp_path: Path) -> None:
    events = sample_events(600, random_state=12, start=NOW)
    with LakeWriter(tmp_path) as writer:
        assert writer.append(_table(events[:200])) == [True] * 200
        flags = writer.append_bulk(_table(events[100:500]))
        assert flags == [False] * 100 + [True] * 300
        assert writer.append(_table(events[400:])) == [False] * 100 + [True] * 100
    layout = LakeLayout(tmp_path)
    bulk_parts = [f for f in layout.live_files("events") if "incoming" not in f.as_posix()]
    assert bulk_parts
    assert _count(tmp_path) == (600, 600)
    with LakeWriter(tmp_path) as writer:  # across a restart too
        assert writer.append_bulk(_table(events)) == [False] * 600
