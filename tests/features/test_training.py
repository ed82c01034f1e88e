"""Training sets: row and label semantics on a hand-written story, and planted leakage."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from marketlift.errors import ConfigError
from marketlift.features import build_features, feature_names, training_set
from tests.features._helpers import CATALOG, append_events, at, event, money, story

WriteLake = Callable[[list[dict[str, Any]]], Path]


def test_intent_rows_and_labels(write_lake: WriteLake) -> None:
    data = write_lake(story())
    rows = training_set(data, "intent", catalog=CATALOG).to_pylist()
    assert [(r["row_id"], r["label"]) for r in rows] == [("b1#1", 1), ("b1#2", 0)]
    first, second = rows
    assert first["cutoff_ts"] == at(1) + dt.timedelta(microseconds=1)
    assert first["label_revenue"] == pytest.approx(20.0)
    # Features see exactly the three events before the cut-off, nothing after.
    assert (first["b_n_events"], first["s_events"], first["b_n_purchases"]) == (3, 3, 0)
    assert (first["b_n_views"], first["s_max_stage"]) == (1, 1)
    assert second["cutoff_ts"] == at(102) + dt.timedelta(microseconds=1)
    assert (second["b_n_purchases"], second["s_events"], second["b_n_shown"]) == (1, 3, 2)
    # A session whose purchase is among the first events has no row (its label is known).
    late = training_set(data, "intent", cutoff_events=9).column("row_id").to_pylist()
    assert late == []


def test_intent_rows_at_the_decision(write_lake: WriteLake) -> None:
    """One row per in-session decision (the decision API's call), features just before it."""
    data = write_lake(story())
    rows = training_set(data, "intent", catalog=CATALOG, intent_cutoff="decision").to_pylist()
    assert [(r["decision_id"], r["label"]) for r in rows] == [("d1", 1)]  # d2 has no moment
    (d1,) = rows
    assert d1["cutoff_ts"] == at(5)
    assert d1["label_revenue"] == pytest.approx(20.0)  # the purchase one minute later
    # page view, impression, three views and the add-to-cart: all before the decision
    assert (d1["s_events"], d1["s_views"], d1["b_cart_items"], d1["b_n_purchases"]) == (
        6, 3, 2, 0,
    )  # fmt: skip
    assert (d1["b_n_shown"], d1["s_max_stage"]) == (0, 3)  # the later engagement is unseen
    with pytest.raises(ConfigError):
        training_set(data, "intent", intent_cutoff="cart")


def test_ranking_rows_and_labels(write_lake: WriteLake) -> None:
    data = write_lake(story())
    table = training_set(data, "ranking", catalog=CATALOG)
    rows = {r["listing_id"]: r for r in table.to_pylist()}
    assert sorted(rows) == ["l1", "l2", "l9"]
    assert {k: (r["position"], r["label"], r["label_cart"]) for k, r in rows.items()} == {
        "l1": (0, 1, 1),
        "l2": (1, 1, 0),  # carted only in the next session
        "l9": (2, 0, 0),
    }
    l1 = rows["l1"]
    assert l1["cutoff_ts"] == at(0.5)
    assert (l1["b_n_events"], l1["l_views"], l1["l_category"]) == (1, 0, "a")
    assert l1["listing_cutoff_ts"] == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    assert set(feature_names("listing")) <= set(table.column_names)


def test_uplift_rows_and_labels(write_lake: WriteLake) -> None:
    data = write_lake(story())
    rows = training_set(data, "uplift", horizon_hours=1).to_pylist()
    assert [(r["decision_id"], r["treatment"], r["label"]) for r in rows] == [
        ("d1", 1, 1),
        ("d2", 0, 0),
    ]
    d1 = rows[0]
    assert (d1["action"], d1["channel"], d1["propensity"], d1["moment"]) == (
        "discount_coupon", "in_app", 0.5, "browsing",
    )  # fmt: skip
    assert d1["label_revenue"] == pytest.approx(20.0)
    assert (d1["b_n_events"], d1["b_cart_items"], d1["b_n_purchases"]) == (6, 2, 0)


def test_unknown_task_and_bad_parameters(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="task == 'churn'"):
        training_set(tmp_path, "churn")
    with pytest.raises(ConfigError, match="cutoff_events"):
        training_set(tmp_path, "intent", cutoff_events=0)


def _features(table: pa.Table) -> dict[str, dict[str, Any]]:
    keep = [c for c in table.column_names if c[:2] in ("b_", "s_", "l_", "x_")]
    return dict(zip(table.column("row_id").to_pylist(), table.select(keep).to_pylist(),
                    strict=True))  # fmt: skip


def _assert_same_features(got: dict[str, dict[str, Any]], want: dict[str, dict[str, Any]]) -> None:
    """Equal values; floats up to summation order (DuckDB aggregates in parallel)."""
    assert got.keys() == want.keys()
    for row_id, row in want.items():
        expected = {
            k: pytest.approx(v, rel=1e-12, abs=1e-12) if isinstance(v, float) else v
            for k, v in row.items()
        }
        assert got[row_id] == expected, row_id


@pytest.mark.parametrize(
    ("task", "options"),
    [
        ("intent", {}),
        ("intent", {"intent_cutoff": "decision"}),
        ("ranking", {}),
        ("uplift", {}),
    ],
)
def test_planted_future_events_never_leak(
    task: str, options: dict[str, Any], sim_lake: tuple[Path, pa.Table], tmp_path: Path
) -> None:
    """For every buyer, plant a huge purchase, carts, views, favorites and engagement at
    exactly (and after) the buyer's last row cut-off: no row's features may change, while
    labels can."""
    data, catalog = sim_lake
    before = training_set(data, task, catalog=catalog, **options)
    assert before.num_rows > 50
    last_cut: dict[str, dt.datetime] = {}
    for buyer, cut in zip(before.column("buyer").to_pylist(),
                          before.column("cutoff_ts").to_pylist(), strict=True):  # fmt: skip
        last_cut[buyer] = max(cut, last_cut.get(buyer, cut))
    planted: list[dict[str, Any]] = []
    offsets = (dt.timedelta(0), dt.timedelta(microseconds=1), dt.timedelta(minutes=5))
    for buyer, cut in last_cut.items():
        for k, offset in enumerate(offsets):
            when = cut + offset
            planted += [
                event("purchase", when, buyer=buyer, order_id=f"x{buyer}-{k}",
                      revenue=money("99999.00"),
                      line_items=[{"listing_id": "lplant", "quantity": 1,
                                   "unit_price": money("99999.00")}]),
                event("add_to_cart", when, buyer=buyer, listing_id="lplant",
                      quantity=50, price=money("99999.00")),
                event("listing_view", when, buyer=buyer, listing_id="lplant",
                      price=money("99999.00")),
                event("favorite", when, buyer=buyer, listing_id="lplant"),
                event("engagement_shown", when, buyer=buyer, action="x",
                      channel="push", decision_id="dx", propensity=1.0),
            ]  # fmt: skip
    planted_lake = tmp_path / "planted"
    shutil.copytree(data, planted_lake)
    append_events(planted_lake, planted)
    after = training_set(planted_lake, task, catalog=catalog, **options)
    assert after.column("row_id").to_pylist() == before.column("row_id").to_pylist()
    _assert_same_features(_features(after), _features(before))
    if task != "ranking":  # the planted purchases are after every cut-off, inside horizons
        assert (
            after.column("label_revenue").to_pylist() != before.column("label_revenue").to_pylist()
        )


def test_row_features_equal_a_build_at_the_row_cutoff(
    sim_lake: tuple[Path, pa.Table],
) -> None:
    """Training rows (each at its own cut-off, mid-bucket) against builds at those cut-offs:
    two ways through the tiles (per-row bucket in SQL, one bucket for a whole build)."""
    data, catalog = sim_lake
    rows = training_set(data, "intent", catalog=catalog)
    assert rows.num_rows > 20
    names = feature_names("buyer") + feature_names("session")
    checked = 0
    for row in rows.to_pylist()[:: max(1, rows.num_rows // 8)]:
        built = build_features(data, cutoff=row["cutoff_ts"], catalog=catalog, write=False)
        buyer = {r["buyer"]: r for r in built.tables["buyer_features"].to_pylist()}[row["buyer"]]
        session = {r["buyer"]: r for r in built.tables["session_features"].to_pylist()}[
            row["buyer"]
        ]
        expected = buyer | session
        for name in names:
            got, want = row[name], expected[name]
            if isinstance(want, float):
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (name, row["row_id"])
            else:
                assert got == want, (name, row["row_id"])
        assert row["b_n_events"] >= 3  # the cut-off is after the session's 3rd event
        checked += 1
    assert checked >= 8
