"""Offline build on DuckDB: exact values on a hand-written story, files, cut-off strictness."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from marketlift.errors import ConfigError, MissingDependencyError
from marketlift.features import (
    TABLES,
    FeatureConfig,
    build_features,
    feature_names,
    make_engine,
)
from marketlift.features.dialect import dialect_for
from tests.features._helpers import CATALOG, at, story

WriteLake = Callable[[list[dict[str, Any]]], Path]


def _row(table: Any, key: str, value: str) -> dict[str, Any]:
    rows = [r for r in table.to_pylist() if r[key] == value]
    assert len(rows) == 1
    return rows[0]


def test_buyer_features_of_the_story(write_lake: WriteLake) -> None:
    data = write_lake(story())
    result = build_features(data, cutoff=at(110), catalog=CATALOG)
    b = _row(result.tables["buyer_features"], "buyer", "b1")
    assert b["b_n_events"] == 15
    assert b["b_n_sessions"] == 2
    assert b["b_n_purchases"] == 1
    assert b["b_revenue"] == pytest.approx(20.0)
    assert b["b_days_since_last_event"] == pytest.approx(6 / 1440)
    assert b["b_days_since_last_purchase"] == pytest.approx(104 / 1440)
    assert (b["b_n_views"], b["b_n_favorites"]) == (4, 1)
    # The cart only counts what was added after the purchase.
    assert (b["b_cart_items"], b["b_cart_value"]) == (1, pytest.approx(30.0))
    assert b["b_cart_age_hours"] == pytest.approx(9 / 60)
    assert (b["b_n_shown"], b["b_n_clicked"], b["b_click_rate"]) == (2, 1, 0.5)
    expected_fatigue = 1.0 * 0.75 ** (104.5 / 1440) + 0.25 * 0.75 ** (8 / 1440)
    assert b["b_fatigue"] == pytest.approx(expected_fatigue, rel=1e-12)
    assert (b["b_locale"], b["b_platform"]) == ("fr-FR", "ios")
    # Views: a (l1, l3) twice, b (l2) twice; the tie goes to the first name.
    assert (b["b_top_category"], b["b_top_category_share"]) == ("a", 0.5)
    anonymous = _row(result.tables["buyer_features"], "buyer", "d2")
    assert (anonymous["b_n_events"], anonymous["b_top_category"]) == (1, None)


def test_session_and_listing_features_of_the_story(write_lake: WriteLake) -> None:
    data = write_lake(story())
    result = build_features(data, cutoff=at(110), catalog=CATALOG)
    s = _row(result.tables["session_features"], "buyer", "b1")
    assert s == s | {
        "s_events": 6,
        "s_dwell_s": pytest.approx(600.0),
        "s_since_last_event_s": pytest.approx(360.0),
        "s_views": 1,
        "s_distinct_listings": 1,
        "s_price_min": 30.0,
        "s_price_max": 30.0,
        "s_cart_items": 1,
        "s_max_stage": 3,
        "s_last_stage": 2,
    }
    # d2's last event was 60 minutes ago: no live session.
    idle = _row(result.tables["session_features"], "buyer", "d2")
    assert (idle["s_events"], idle["s_dwell_s"], idle["s_since_last_event_s"]) == (0, 0.0, 3600)
    listings = result.tables["listing_features"]
    assert sorted(listings.column("listing_id").to_pylist()) == ["l1", "l2", "l3"]
    l1 = _row(listings, "listing_id", "l1")
    assert (l1["l_views"], l1["l_add_to_carts"], l1["l_purchases"]) == (1, 1, 1)
    assert l1["l_add_to_cart_rate"] == pytest.approx((1 + 20 * 0.05) / 21)
    assert l1["l_conversion_rate"] == pytest.approx((1 + 20 * 0.01) / 21)
    assert l1["l_days_since_first_seen"] == pytest.approx(109 / 1440)
    assert (l1["l_category"], l1["l_price"], l1["l_price_pct_in_category"]) == ("a", 10.0, 0.0)
    assert l1["l_rating_smoothed"] == pytest.approx((5.0 * 10 + 4.0 * 10) / 20)
    l3 = _row(listings, "listing_id", "l3")
    assert l3["l_price_pct_in_category"] == 1.0
    l2 = _row(listings, "listing_id", "l2")
    assert (l2["l_views"], l2["l_favorites"], l2["l_rating_smoothed"]) == (2, 1, 4.0)


def test_cutoff_is_strict(write_lake: WriteLake) -> None:
    data = write_lake(story())
    at_favorite = build_features(data, cutoff=at(104), write=False)
    b = _row(at_favorite.tables["buyer_features"], "buyer", "b1")
    assert (b["b_n_events"], b["b_n_favorites"]) == (14, 0)
    before_all = build_features(data, cutoff=at(0), write=False)
    assert before_all.tables["buyer_features"].num_rows == 0


def test_session_gap_is_a_parameter(write_lake: WriteLake) -> None:
    data = write_lake(story())
    long_gap = FeatureConfig(session_gap_s=2 * 3600)
    result = build_features(data, cutoff=at(110), config=long_gap, write=False)
    assert _row(result.tables["buyer_features"], "buyer", "b1")["b_n_sessions"] == 1
    assert result.tables["sessions"].num_rows == 2  # b1 once, d2 once


def test_files_are_written_with_the_registry_columns(write_lake: WriteLake) -> None:
    data = write_lake(story())
    result = build_features(data, catalog=CATALOG)
    assert set(result.paths) == set(TABLES)
    folder = data / "features"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    buyers = pq.read_table(folder / "buyer_features.parquet")
    assert buyers.column_names == ["buyer", "cutoff_ts", *feature_names("buyer")]
    listings = pq.read_table(folder / "listing_features.parquet")
    assert listings.column_names == ["listing_id", "cutoff_ts", *feature_names("listing")]
    assert result.summary()["rows"]["buyer_features"] == 2
    # Default cut-off: just after the last event, so every event counts.
    assert _row(buyers, "buyer", "b1")["b_n_events"] == 15


def test_sessions_table(write_lake: WriteLake) -> None:
    data = write_lake(story())
    sessions = build_features(data, write=False).tables["sessions"].to_pylist()
    first, second = (s for s in sessions if s["buyer"] == "b1")
    assert (first["session_key"], first["n_events"], first["n_purchases"]) == ("b1#1", 9, 1)
    assert (first["revenue"], first["max_stage"]) == (pytest.approx(20.0), 5)
    assert (second["start_ts"], second["end_ts"]) == (at(100), at(104))


def test_misuse_raises() -> None:
    with pytest.raises(ConfigError, match="engine == 'presto'"):
        make_engine("presto", ".")
    with pytest.raises(ConfigError, match="engine"):
        dialect_for("presto")
    with pytest.raises(ConfigError, match="fatigue_decay"):
        FeatureConfig(fatigue_decay=1.5)
    with pytest.raises(ConfigError, match="entity"):
        feature_names("shop")


def test_spark_without_pyspark_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(MissingDependencyError, match=r"marketlift\[spark\]"):
        make_engine("spark", tmp_path)
