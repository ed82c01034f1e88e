"""The ranker's online listing features: point-in-time training columns equal serving columns."""

import datetime as dt
import json

import numpy as np
import pyarrow as pa

from marketlift.catalog import CatalogStore, feature_table
from marketlift.features.build import build_features, from_micros, to_micros
from marketlift.features.store import MemoryStore, read_features, write_table
from marketlift.lake import connect
from marketlift.models.candidates import FEATURE_NAMES
from marketlift.models.ranker import store_matrix
from marketlift.models.ranking_train import (
    STORE_FEATURES,
    LakeListingFeatures,
    listing_matrix,
    register_ranker,
    train_ranker_table,
)
from marketlift.models.sessions import sessions_from_lake


def _midpoint(lake) -> int:
    con = connect(lake)
    lo, hi = con.execute("SELECT min(epoch_us(ts)), max(epoch_us(ts)) FROM events").fetchone()
    con.close()
    return (lo + hi) // 2


def test_store_features_are_the_numeric_listing_features():
    assert len(STORE_FEATURES) == 12
    assert "l_category" not in STORE_FEATURES
    assert all(name.startswith("l_") for name in STORE_FEATURES)
    assert 38 <= len(FEATURE_NAMES) + len(STORE_FEATURES) <= 40


def test_store_matrix_missing_rows_keys_and_values_are_nan():
    got = store_matrix(
        [{"l_views": 3, "l_rating": None, "l_price": 9.5}, None, {"l_views": True}],
        ["l_views", "l_rating", "l_price"],
    )
    expected = np.array([[3.0, np.nan, 9.5], [np.nan] * 3, [1.0, np.nan, np.nan]])
    np.testing.assert_array_equal(got, expected)
    assert store_matrix([], ["l_views"]).shape == (0, 1)


def test_training_and_serving_build_the_same_store_columns(sim_lake):
    """Offline features at a cut-off, loaded into the online store, read back for serving."""
    cut = _midpoint(sim_lake)
    catalog = feature_table(sim_lake)
    built = build_features(sim_lake, cutoff=from_micros(cut), catalog=catalog, write=False)
    table = built.tables["listing_features"]
    store = MemoryStore()
    write_table(store, "listing", table, "listing_id")
    known = table.column("listing_id").to_pylist()
    ids = [known[0], "l-unknown", known[5], known[-1], known[len(known) // 2]]

    source = LakeListingFeatures(sim_lake, ids, catalog=catalog)
    train_cols = source.at(cut)  # what train_ranker_lake appends for these candidates
    serve_cols = store_matrix(read_features(store, "b-any", ids).listings, STORE_FEATURES)

    assert train_cols.shape == serve_cols.shape == (5, 12)
    np.testing.assert_array_equal(train_cols, serve_cols)  # NaN in the same places
    assert np.isnan(train_cols[1]).all()  # the unknown listing
    assert np.isfinite(train_cols[[0, 2, 3, 4], STORE_FEATURES.index("l_views")]).all()


def test_listing_matrix_is_point_in_time(sim_lake):
    """l_views at a cut-off counts only the listing views strictly before it."""
    cut = _midpoint(sim_lake)
    sessions = sessions_from_lake(sim_lake)
    source = LakeListingFeatures(sim_lake, sessions.item_ids)
    views = source.at(cut)[:, STORE_FEATURES.index("l_views")]
    con = connect(sim_lake)
    counted = con.sql(
        f"SELECT listing_id, count(*) AS n FROM events WHERE type = 'listing_view' "
        f"AND epoch_us(ts) < {cut} GROUP BY listing_id"
    ).to_arrow_table()
    total = con.execute("SELECT count(*) FROM events WHERE type = 'listing_view'").fetchone()[0]
    con.close()
    before = dict(zip(*(counted[c].to_pylist() for c in ("listing_id", "n")), strict=True))
    expected = np.array([before.get(i, np.nan) for i in sessions.item_ids], dtype=float)
    seen = np.isfinite(expected)
    np.testing.assert_array_equal(views[seen], expected[seen])
    assert np.nansum(views) == sum(before.values()) < total  # later views are not counted
    assert to_micros(from_micros(cut)) == cut


def test_listing_matrix_joins_by_id_without_a_row_loop():
    t = pa.table({"listing_id": ["b", "a", "c"], "l_views": [2, 5, None],
                  "l_rating": [4.5, None, 3.0]})  # fmt: skip
    got = listing_matrix(t, ["a", "z", "c", "b"], ["l_rating", "l_views"])
    expected = np.array([[np.nan, 5.0], [np.nan, np.nan], [3.0, np.nan], [4.5, 2.0]])
    np.testing.assert_array_equal(got, expected)
    assert listing_matrix(t.slice(0, 0), ["a"], ["l_views"]).shape == (1, 1)


def test_table_rankers_have_no_store_features(tmp_path):
    rng = np.random.default_rng(0)
    start = rng.integers(0, 40, 2500)
    clicks = pa.table({
        "session": np.repeat(np.arange(2500), 3).astype(str),
        "item": np.stack([start, (start + 1) % 40, (start + 2) % 40], 1).ravel().astype(str),
        "t": np.arange(7500),
    })  # fmt: skip
    result = train_ranker_table(clicks, session_col="session", item_col="item", time_col="t",
                                n_estimators=10)  # fmt: skip
    version = register_ranker(tmp_path, result, compile_=False)
    meta = json.loads((version.path / "meta.json").read_text())
    assert meta["store_features"] == []
    assert meta["features"] == list(FEATURE_NAMES)
    assert result.ranker.booster_.feature_name() == list(FEATURE_NAMES)


def test_catalog_price_is_as_of_the_cut_off(lake_copy):
    """A price changed after the cut-off does not leak into the training features (planted)."""
    cut = _midpoint(lake_copy)
    before = feature_table(lake_copy)
    assert before is not None
    listing = before.column("listing_id")[0].as_py()
    later = from_micros(cut) + dt.timedelta(seconds=1)
    planted = pa.table({
        "listing_id": [listing], "title": ["Planted"], "category": ["ceramics"],
        "price": ["99999.00"], "currency": ["USD"], "updated_at": [later.isoformat()],
    })  # fmt: skip
    assert CatalogStore(lake_copy).write_raw(planted, source="test").accepted == 1
    price = STORE_FEATURES.index("l_price")
    at_cut = LakeListingFeatures(lake_copy, [listing]).at(cut)[0, price]
    assert at_cut == before.column("price")[0].as_py()  # the version live before the cut-off
    after = LakeListingFeatures(lake_copy, [listing]).at(cut + 2_000_000)[0, price]
    assert after == 99999.0  # and the planted version once it is live
