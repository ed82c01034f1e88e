"""The versioned listing table: idempotent writes, stale versions, deletions, as-of reads."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from marketlift.catalog import CatalogStore, feature_table, listing_texts

T0 = "2026-11-20T10:00:00Z"
T1 = "2026-11-25T10:00:00Z"
T2 = "2026-11-28T10:00:00Z"


def _raw(rows: list[dict[str, object]]) -> pa.Table:
    base = {"title": "Mug", "category": "ceramics", "price": "24.90", "currency": "EUR"}
    full = [{**base, **r} for r in rows]
    names = sorted({k for r in full for k in r})
    return pa.table({k: [r.get(k) for r in full] for k in names})


def test_retry_is_a_duplicate_and_stored_once(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path)
    raw = _raw([{"listing_id": "L-1", "updated_at": T0}, {"listing_id": "L-2", "updated_at": T0}])
    assert store.write_raw(raw, source="t").counts() == (2, 0, 0, 0)
    assert store.write_raw(raw, source="t").counts() == (0, 2, 0, 0)
    # a second process (a fresh store) sees the same index through the files
    assert CatalogStore(tmp_path).write_raw(raw, source="t").counts() == (0, 2, 0, 0)
    assert store.versions().num_rows == 2


def test_repeats_inside_one_batch_are_duplicates(tmp_path: Path) -> None:
    raw = _raw([{"listing_id": "L-1", "updated_at": T0}] * 3)
    assert CatalogStore(tmp_path).write_raw(raw, source="t").counts() == (1, 2, 0, 0)


def test_older_version_is_stale_and_newer_one_wins(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path)
    store.write_raw(_raw([{"listing_id": "L-1", "updated_at": T1, "price": "30.00"}]), source="t")
    report = store.write_raw(
        _raw(
            [
                {"listing_id": "L-1", "updated_at": T0},
                {"listing_id": "L-1", "updated_at": T2, "price": "35.50"},
            ]
        ),
        source="t",
    )
    assert report.counts() == (1, 0, 1, 0)
    listing = store.show("L-1")
    assert listing is not None
    assert listing["price"] == {"amount": "35.50", "currency": "EUR"}
    assert listing["versions"] == 2


def test_show_at_reads_the_version_live_then(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path)
    store.write_raw(
        _raw(
            [
                {"listing_id": "L-1", "updated_at": T0, "price": "10"},
                {"listing_id": "L-1", "updated_at": T1, "price": "12.5"},
            ]
        ),
        source="t",
    )
    at = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    before = store.show("L-1", at)
    assert before is not None
    assert before["price"]["amount"] == "10.00"
    assert store.show("L-1", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)) is None
    # the as-of table agrees with show, and the feature table carries the old price
    assert store.as_of(at).column("price_amount").to_pylist() == [Decimal("10")]
    features = feature_table(tmp_path, at)
    assert features is not None
    assert features.column("price").to_pylist() == [10.0]
    now = feature_table(tmp_path)
    assert now is not None
    assert now.column("price").to_pylist() == [12.5]


def test_deletions(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path)
    store.write_raw(_raw([{"listing_id": "L-1", "updated_at": T0}]), source="t")
    delete = _raw(
        [
            {
                "listing_id": "L-1",
                "updated_at": T1,
                "deleted": "true",
                "title": None,
                "price": None,
            },
            {"listing_id": "L-404", "updated_at": T1, "deleted": "true", "title": None},
            {"listing_id": "L-2", "updated_at": T1},
        ]
    )
    report = store.write_raw(delete, source="t")
    assert report.counts() == (2, 0, 0, 1)
    (rejected,) = report.rejected
    assert rejected.index == 1
    assert (rejected.errors[0].field, rejected.errors[0].value) == ("listing_id", "L-404")
    assert "a listing in the catalog" in rejected.errors[0].expected
    assert store.show("L-1") is None
    assert store.show("L-1", dt.datetime(2026, 11, 21, tzinfo=dt.UTC)) is not None
    texts = listing_texts(tmp_path)
    assert texts is not None
    assert texts.column("listing_id").to_pylist() == ["L-2"]
    # deleting again is rejected (nothing live); re-listing it later is a new live version
    again = _raw([{"listing_id": "L-1", "updated_at": T2, "deleted": "true"}])
    assert store.write_raw(again, source="t").counts() == (0, 0, 0, 1)
    back = _raw([{"listing_id": "L-1", "updated_at": T2}])
    assert store.write_raw(back, source="t").counts() == (1, 0, 0, 0)
    assert store.show("L-1") is not None


def test_upsert_then_delete_in_one_batch(tmp_path: Path) -> None:
    raw = _raw(
        [
            {"listing_id": "L-9", "updated_at": T1, "deleted": "true"},
            {"listing_id": "L-9", "updated_at": T0},
        ]
    )
    store = CatalogStore(tmp_path)
    assert store.write_raw(raw, source="t").counts() == (2, 0, 0, 0)
    assert store.show("L-9") is None


def _write_many(data: str, start: int) -> None:
    rows = [{"listing_id": f"L-{i}", "updated_at": T0} for i in range(start, start + 200)]
    CatalogStore(data).write_raw(_raw(rows), source="p")


def test_two_processes_write_the_same_lake(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(tmp_path), s)) for s in (0, 100)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    versions = CatalogStore(tmp_path).versions()
    assert versions.num_rows == 300  # the 100 listings both wrote are stored once
    assert len(set(versions.column("listing_id").to_pylist())) == 300


@pytest.mark.parametrize("bad", ["1", "12.5x"])
def test_no_partial_write_on_bad_row(tmp_path: Path, bad: str) -> None:
    raw = _raw(
        [
            {"listing_id": "L-1", "updated_at": T0},
            {"listing_id": "L-2", "updated_at": T0, "price": bad},
        ]
    )
    report = CatalogStore(tmp_path).write_raw(raw, source="t")
    assert report.accepted == 2 - int(bad != "1")
