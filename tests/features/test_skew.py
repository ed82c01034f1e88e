"""Train/serve skew: the stream updater fed the same events equals the offline build at the
same cut-off; skew that exists is reported."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.features import (
    MemoryStore,
    RedisStore,
    StreamUpdater,
    build_features,
    check_skew,
)
from marketlift.features.skew import compare_tables
from marketlift.lake import connect
from tests.features._helpers import CATALOG, at, story

WriteLake = Callable[[list[dict[str, Any]]], Path]


def _cutoffs(data: Path) -> list[dt.datetime]:
    con = connect(data)
    lo, hi = con.sql("SELECT min(ts), max(ts) FROM events").fetchall()[0]
    con.close()
    return [lo + (hi - lo) * f for f in (0.3, 0.55, 0.8)]


def test_story_has_no_skew(write_lake: WriteLake) -> None:
    data = write_lake(story())
    for minutes in (1, 4.5, 100.5, 110, 200):
        report = check_skew(data, cutoff=at(minutes), catalog=CATALOG)
        assert report.ok, (minutes, report.examples)
        assert report.values > 0


def test_simulated_lake_has_no_skew(sim_lake: tuple[Path, pa.Table]) -> None:
    data, catalog = sim_lake
    live_sessions = 0
    for cutoff in [None, *_cutoffs(data)]:
        report = check_skew(data, cutoff=cutoff, catalog=catalog)
        assert report.ok, report.examples
        assert report.entities > 50
        offline = build_features(data, cutoff=cutoff, catalog=catalog, write=False)
        live = pc.greater(offline.tables["session_features"]["s_events"], 0)
        live_sessions += int(pc.sum(live).as_py() or 0)
    # The comparison covers live sessions, not only idle buyers.
    assert live_sessions > 0


def test_no_skew_through_redis(sim_lake: tuple[Path, pa.Table], redis_url: str) -> None:
    data, catalog = sim_lake
    store = RedisStore(redis_url, prefix=f"test:skew:{uuid.uuid4().hex}:")
    try:
        report = check_skew(data, cutoff=_cutoffs(data)[1], catalog=catalog, store=store)
    finally:
        store.clear()
        store.close()
    assert report.ok, report.examples


def test_skew_is_reported(sim_lake: tuple[Path, pa.Table]) -> None:
    """An online path that lost the purchase events disagrees on exactly the purchase-driven
    features, and the report names them."""
    data, catalog = sim_lake
    offline = build_features(data, catalog=catalog, write=False)
    con = connect(data)
    payloads = con.sql(
        "SELECT payload FROM events WHERE type <> 'purchase' ORDER BY ts, event_id"
    ).fetchall()
    con.close()
    categories = dict(zip(catalog["listing_id"].to_pylist(), catalog["category"].to_pylist(),
                          strict=True))  # fmt: skip
    store = MemoryStore()
    updater = StreamUpdater(store, categories=categories)
    updater.update_many(msgspec.json.decode(p[0]) for p in payloads)
    assert offline.cutoff is not None
    updater.flush(offline.cutoff, every_buyer=True)
    table = offline.tables["buyer_features"]
    rows = store.get_many([("buyer", b) for b in table["buyer"].to_pylist()])
    compared, mismatches, by_feature, examples = compare_tables("buyer", table, rows, "buyer")
    buyers_who_bought = int(pc.sum(pc.greater(table["b_n_purchases"], 0)).as_py())
    assert buyers_who_bought > 0
    assert compared == table.num_rows * len(table.column_names[2:])
    assert by_feature["buyer.b_n_purchases"] == buyers_who_bought
    assert by_feature["buyer.b_revenue"] == buyers_who_bought
    assert "buyer.b_n_views" not in by_feature
    assert mismatches >= 2 * buyers_who_bought
    assert {e["feature"] for e in examples} >= {"b_n_purchases", "b_revenue"}


def test_check_skew_command(sim_lake: tuple[Path, pa.Table]) -> None:
    data, _ = sim_lake
    result = CliRunner().invoke(
        app, ["features", "check-skew", "--data", str(data), "--catalog", "sim", "--json",
              "--strict"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["ok"], doc["mismatches"], doc["missing_online"]) == (True, 0, 0)
    assert doc["values"] > 1000
