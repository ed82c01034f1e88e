"""Listing features as of each row's cut-off on the catalog's versions (DuckDB and Spark).

A version planted after a row's cut-off (an absurd price, a new category) must not reach that
row; it reaches the rows whose cut-off is after it. DuckDB and Spark agree on a versioned
catalog in ``test_parity.py`` (its one Spark run uses one).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from marketlift.catalog import CatalogStore, feature_table, feature_versions
from marketlift.features import compute_features, compute_training_set, make_engine
from marketlift.features.build import to_micros
from marketlift.sim import SimConfig, simulate

PLANTED_PRICE = 99_999.0


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str], int]:
    """A small simulated lake with a later version of ten listings (absurd price, category)."""
    data = tmp_path_factory.mktemp("asof") / "data"
    simulate(SimConfig(n_buyers=150, n_days=3, seed=4), data)
    current = feature_table(data)
    assert current is not None
    ids = current.column("listing_id").to_pylist()[:10]
    at = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)  # inside the simulated days
    raw = pa.table({
        "listing_id": ids, "title": ["Planted"] * 10, "category": ["planted"] * 10,
        "price": [f"{PLANTED_PRICE:.2f}"] * 10, "currency": ["USD"] * 10,
        "updated_at": [at.isoformat()] * 10,
    })  # fmt: skip
    assert CatalogStore(data).write_raw(raw, source="test").accepted == 10
    return data, set(ids), to_micros(at)


DAY_US = 86_400_000_000


def _prices(table: pa.Table) -> list[tuple[str, int, float | None]]:
    """(listing, the cut-off of its listing features, l_price) of every training row.

    Listing features of a ranking row are taken at the start of its cut-off's UTC day.
    """
    rows = table.select(["listing_id", "cutoff_ts", "l_price"]).to_pylist()
    out = []
    for r in rows:
        cut = to_micros(r["cutoff_ts"])
        out.append((r["listing_id"], cut - cut % DAY_US, r["l_price"]))
    return out


def test_training_rows_see_the_version_live_at_their_cut_off(planted: Any) -> None:
    data, ids, at_us = planted
    versions = feature_versions(data)
    assert versions is not None
    engine = make_engine("duckdb", data)
    try:
        rows = compute_training_set(engine, "ranking", catalog=versions)
    finally:
        engine.close()
    seen = [(lid, cut, price) for lid, cut, price in _prices(rows) if lid in ids]
    before = [p for _, cut, p in seen if cut <= at_us]
    after = [p for _, cut, p in seen if cut > at_us]
    assert before, "rows before the planted version"
    assert after, "rows after the planted version"
    assert all(p != PLANTED_PRICE for p in before)  # no leak from the future
    assert all(p == PLANTED_PRICE for p in after)
    # without versions (today's values for every row) the planted price leaks into old rows
    engine = make_engine("duckdb", data)
    try:
        leaky = compute_training_set(engine, "ranking", catalog=feature_table(data))
    finally:
        engine.close()
    assert any(p == PLANTED_PRICE for lid, cut, p in _prices(leaky) if lid in ids and cut <= at_us)


def test_build_at_a_cut_off_reads_that_version(planted: Any) -> None:
    data, ids, _ = planted
    versions = feature_versions(data)
    engine = make_engine("duckdb", data)
    try:
        early, _ = compute_features(engine, cutoff=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
                                    catalog=versions)  # fmt: skip
        late, _ = compute_features(engine, cutoff=dt.datetime(2026, 11, 3, tzinfo=dt.UTC),
                                   catalog=versions)  # fmt: skip
    finally:
        engine.close()
    for table, planted_price in ((early, False), (late, True)):
        listings = table["listing_features"]
        rows = {r["listing_id"]: r for r in listings.to_pylist() if r["listing_id"] in ids}
        assert len(rows) == len(ids)  # one row per listing, whatever its number of versions
        assert all((r["l_price"] == PLANTED_PRICE) is planted_price for r in rows.values())
        assert all((r["l_category"] == "planted") is planted_price for r in rows.values())
