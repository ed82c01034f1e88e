"""The training set from the decision log: outcomes per attribution window, point in time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from marketlift.errors import ConfigError
from marketlift.lake import LakeWriter
from marketlift.policy.catalog import loads
from marketlift.policy.decision_log import decision_rows, read_decision_log
from tests.features._helpers import append_events, event, events_table

CATALOG = loads("""
harms = ["engagement_dismissed"]
[reporting]
currency = "EUR"
rates = { USD = 0.9 }
[features]
names = ["b_n_purchases", "b_cart_value"]
[channels.onsite]
attribution = "session"
[channels.email]
opt_in = "request"
attribution = { value = 24, unit = "hours" }
[[moments]]
id = "cart_page"
surfaces = ["cart"]
[[moments]]
id = "favorite_idle"
surfaces = ["push"]
[[actions]]
id = "shipping_banner"
channel = "onsite"
moments = ["cart_page"]
[[actions]]
id = "wishlist_email"
channel = "email"
moments = ["favorite_idle"]
""")
HOUR = 60.0


def _money(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def _purchase(minutes: float, buyer: str, amount: str, currency: str = "EUR", **kw: Any) -> Any:
    return event(
        "purchase", minutes, buyer=buyer, order_id=f"o{minutes}{buyer}",
        revenue=_money(amount, currency),
        line_items=[{"listing_id": "l1", "quantity": 1, "unit_price": _money(amount, currency)}],
        **kw,
    )  # fmt: skip


def _decision(minutes: float, buyer: str, did: str, action: str, **kw: Any) -> Any:
    return event("decision", minutes, buyer=buyer, decision_id=did, action=action, **kw)


def _story() -> list[dict[str, Any]]:
    return [
        # b1: a cart of 30 EUR, the banner (propensity 0.25 of two), a purchase in the session
        event("add_to_cart", 0, buyer="b1", session_id="s1", listing_id="l1",
              price=_money("30.00")),
        _decision(10, "b1", "d1", "shipping_banner", surface="cart", channel="onsite",
                  session_id="s1", propensity=0.25, moment="cart_page",
                  eligible=["none", "shipping_banner"], probabilities=[0.75, 0.25]),
        _purchase(20, "b1", "30.00", session_id="s1"),
        # b2: none (0.6), a purchase 25 hours later: outside every window
        _decision(0, "b2", "d2", "none", surface="push", propensity=0.6, moment="favorite_idle",
                  eligible=["none", "wishlist_email"], probabilities=[0.6, 0.4]),
        _purchase(25 * HOUR, "b2", "50.00"),
        # b3: the email, dismissed, then a purchase in US dollars 23 hours later
        _decision(0, "b3", "d3", "wishlist", surface="push", channel="email", propensity=0.4,
                  moment="favorite_idle"),
        event("engagement_dismissed", 1, buyer="b3", decision_id="d3", action="wishlist",
              channel="email"),
        _purchase(23 * HOUR, "b3", "10.00", "USD"),
    ]  # fmt: skip


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    append_events(tmp_path, _story())
    return tmp_path


def _by_id(log: Any) -> dict[str, int]:
    return {d: i for i, d in enumerate(log.rows.column("decision_id").to_pylist())}


def test_outcomes_follow_each_channels_window_in_the_reporting_currency(lake: Path) -> None:
    log = read_decision_log(lake, CATALOG)
    row = _by_id(log)
    assert log.catalog.action_ids == ("none", "shipping_banner", "wishlist_email")
    # the slug + channel of a log that writes them apart resolves to the catalog's id
    assert log.action_names.tolist() == ["none", "wishlist_email", "shipping_banner"]
    revenue = log.rows.column("revenue").to_pylist()
    harms = log.rows.column("harms").to_pylist()
    assert revenue[row["d1"]] == pytest.approx(30.0)
    assert revenue[row["d2"]] == 0.0
    assert revenue[row["d3"]] == pytest.approx(9.0)  # 10 USD at 0.9 EUR
    assert harms[row["d3"]] == 1
    assert harms[row["d1"]] == 0
    assert log.propensity[row["d1"]] == 0.25
    # logged eligible sets; d3 logged none, so its moment's actions stand in (and a flag says so)
    assert log.available[row["d1"]].tolist() == [True, True, False]
    assert log.available[row["d3"]].tolist() == [True, False, True]
    assert log.flags == ("eligible_from_catalog:1",)
    # features point-in-time: the cart of 30 EUR is seen at d1, the purchase after it is not
    x = dict(zip(log.feature_names, log.features[row["d1"]].tolist(), strict=True))
    assert x["moment=cart_page"] == 1.0
    assert x["b_cart_value"] == pytest.approx(30.0)
    assert x["b_n_purchases"] == 0.0
    bandit = log.bandit()
    assert bandit.actions == CATALOG.action_ids
    assert len(bandit) == 3


def test_a_planted_future_event_changes_outcomes_never_features(lake: Path) -> None:
    before = read_decision_log(lake, CATALOG)
    # a purchase one minute after d1, in its session; a cart add long after every decision
    append_events(
        lake,
        [
            _purchase(11, "b1", "5.00", session_id="s1"),
            event("add_to_cart", 90 * HOUR, buyer="b2", listing_id="l2", price=_money("99.00")),
        ],
    )
    after = read_decision_log(lake, CATALOG)
    i, j = _by_id(before)["d1"], _by_id(after)["d1"]
    np.testing.assert_array_equal(before.features, after.features)
    assert after.rows.column("revenue")[j].as_py() == pytest.approx(35.0)
    assert before.rows.column("revenue")[i].as_py() == pytest.approx(30.0)
    # and an event just before a decision is seen by it (the check can fail)
    append_events(lake, [_purchase(9.9, "b1", "1.00", session_id="s0")])
    seen = read_decision_log(lake, CATALOG)
    k = _by_id(seen)["d1"]
    assert dict(zip(seen.feature_names, seen.features[k].tolist(), strict=True))[
        "b_n_purchases"
    ] == pytest.approx(1.0)


def test_the_last_decision_before_a_purchase_gets_it(tmp_path: Path) -> None:
    append_events(
        tmp_path,
        [
            _decision(0, "b1", "a", "wishlist_email", surface="push", channel="email",
                      propensity=0.5, moment="favorite_idle"),
            _decision(60, "b1", "b", "none", surface="push", propensity=0.5,
                      moment="favorite_idle"),
            _purchase(61, "b1", "12.00"),
        ],
    )  # fmt: skip
    rows = decision_rows(tmp_path, CATALOG)
    ids, revenue = rows.column("decision_id").to_pylist(), rows.column("revenue").to_pylist()
    got = dict(zip(ids, revenue, strict=True))
    assert got == {"a": 0.0, "b": pytest.approx(12.0)}


def test_decisions_without_valid_propensities_are_refused(tmp_path: Path) -> None:
    table = events_table(
        [_decision(0, "b1", "d1", "none", surface="cart", propensity=0.5, moment="cart_page")]
    )
    for bad in (None, 0.0, 1.5):
        target = tmp_path / str(bad)
        column = pa.array([bad], pa.float64())
        with LakeWriter(target) as writer:
            writer.append(table.set_column(table.schema.get_field_index("propensity"),
                                           "propensity", column))  # fmt: skip
        with pytest.raises(ConfigError, match="propensity") as info:
            read_decision_log(target, CATALOG)
        assert info.value.name == "decision.propensity"


def test_an_unknown_action_is_dropped_with_a_flag_and_no_log_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="logged decision events"):
        read_decision_log(tmp_path, CATALOG)
    append_events(
        tmp_path,
        [
            _decision(0, "b1", "d1", "sms_blast", surface="cart", propensity=0.5),
            _decision(1, "b2", "d2", "none", surface="cart", propensity=0.5, moment="cart_page"),
        ],
    )
    log = read_decision_log(tmp_path, CATALOG)
    assert len(log) == 1
    assert log.flags[0].startswith("dropped_unknown_action:1:sms_blast")
