"""The engagement catalog: strict loading, resolved references, moments and eligibility."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from marketlift.errors import ConfigError
from marketlift.policy.catalog import catalog_path, duration_hours, load, loads
from marketlift.serve.resources import ModelWatcher
from marketlift.sim.runner import CATALOG_FILE

GOOD = """
[reporting]
currency = "EUR"
rates = { USD = 0.9 }

[features]
names = ["b_cart_value", "b_n_favorites"]

[channels.onsite]

[channels.email]
opt_in = "request"
quiet_hours = { start = 21, end = 8 }
caps = [{ count = 2, per = { value = 1, unit = "days" } }]
cost = 0.002
attribution = { value = 24, unit = "hours" }

[[moments]]
id = "cart_page"
surfaces = ["cart"]

[[moments]]
id = "favorite_idle"
surfaces = ["push"]
trigger = { event = "favorite", delay = { value = 3, unit = "days" } }
cancel_on = ["purchase"]

[[actions]]
id = "shipping_banner"
channel = "onsite"
moments = ["cart_page"]
rules = [{ feature = "b_cart_value", op = ">=", value = 20 }]
copy = "free_shipping"

[[actions]]
id = "wishlist_email"
channel = "email"
moments = ["favorite_idle"]
rules = [{ feature = "b_n_favorites", op = ">", value = 0 }]
discount = 0.1
"""


def test_a_catalog_loads_with_every_reference_resolved() -> None:
    cat = loads(GOOD)
    assert cat.action_ids == ("none", "shipping_banner", "wishlist_email")
    assert cat.currency == "EUR"
    assert cat.to_reporting(10.0, "USD") == pytest.approx(9.0)
    email = cat.channels["email"]
    assert email.quiet_hours == (21, 8)
    assert email.caps[0].count == 2
    assert email.caps[0].hours == 24.0
    assert email.attribution_hours == 24.0
    assert cat.moments[1].trigger_event == "favorite"
    assert cat.moments[1].delay_hours == 72.0
    assert cat.actions_at("favorite_idle") == ("none", "wishlist_email")
    assert cat.channels_by_action() == {"shipping_banner": "onsite", "wishlist_email": "email"}
    assert cat.moment_for("cart", {}) == "cart_page"
    assert cat.moment_for("home", {}) is None
    assert cat.eligible("cart_page", {"b_cart_value": 25}).tolist() == [True, True, False]
    assert cat.eligible("cart_page", {"b_cart_value": 19.99}).tolist() == [True, False, False]
    reachable = cat.eligible("favorite_idle", {"b_n_favorites": 1}, channels=["email"])
    assert reachable.tolist() == [True, False, True]
    unreachable = cat.eligible("favorite_idle", {"b_n_favorites": 1}, channels=["push"])
    assert unreachable.tolist() == [True, False, False]
    with pytest.raises(ConfigError, match=r"reporting\.rates"):
        cat.to_reporting(1.0, "JPY")


def test_the_simulators_catalog_is_one_catalog_among_others() -> None:
    cat = load(CATALOG_FILE)
    assert cat.action_ids[0] == "none"
    assert cat.moment_ids == ("browsing", "returning_visit", "cart_idle_1d", "cart_idle_1h")
    assert len(cat.digest) == 64


@pytest.mark.parametrize(
    ("old", "new", "key", "value"),
    [
        ('channel = "email"', 'channel = "sms"', "actions[1].channel", "sms"),
        ('moments = ["favorite_idle"]', "moments = []", "actions[1].moments", []),
        ('moments = ["favorite_idle"]', 'moments = ["idle"]', "actions[1].moments", "idle"),
        ('id = "wishlist_email"', 'id = "shipping_banner"', "actions[1].id", "shipping_banner"),
        ('id = "favorite_idle"', 'id = "cart_page"', "moments[1].id", "cart_page"),
        ('feature = "b_n_favorites"', 'feature = "b_wealth"', "actions[1].rules[0].feature",
         "b_wealth"),
        ('op = ">"', 'op = "=>"', "actions[1].rules[0].op", "=>"),
        ("discount = 0.1", "discount = 1.5", "actions[1].discount", 1.5),
        ("discount = 0.1", "colour = 1", "actions[1].colour", 1),
        ('unit = "days" } }]', 'unit = "fortnights" } }]', "channels.email.caps[0].per.unit",
         "fortnights"),
        ("value = 3, unit", "value = 0, unit", "moments[1].trigger.delay.value", 0),
        ('opt_in = "request"', 'opt_in = "sometimes"', "channels.email.opt_in", "sometimes"),
        ("start = 21", "start = 25", "channels.email.quiet_hours", None),
        ('"b_n_favorites"]', '"price_sensitivity"]', "features.names", "price_sensitivity"),
        ('currency = "EUR"', 'currency = "euro"', "reporting.currency", "euro"),
    ],
)  # fmt: skip
def test_bad_catalogs_are_refused_naming_key_value_and_expectation(
    old: str, new: str, key: str, value: object
) -> None:
    assert old in GOOD
    with pytest.raises(ConfigError) as info:
        loads(GOOD.replace(old, new, 1))
    assert info.value.name == key
    if value is not None:
        assert info.value.value == value
    assert info.value.expected


def test_durations_are_a_value_and_a_unit() -> None:
    assert duration_hours("d", {"value": 30, "unit": "minutes"}) == 0.5
    with pytest.raises(ConfigError, match=r"d\.unit"):
        duration_hours("d", {"value": 1})
    with pytest.raises(ConfigError, match="expected a table"):
        duration_hours("d", "1h")


def test_a_missing_file_and_broken_toml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="existing engagement catalog"):
        load(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="valid TOML"):
        loads("[channels\n")


def test_serving_keeps_the_last_good_catalog_when_a_reload_fails(tmp_path: Path) -> None:
    path = catalog_path(tmp_path)
    path.write_text(GOOD)
    watcher = ModelWatcher(tmp_path)
    first = watcher.current.engagement
    assert first is not None
    assert first.action_ids[-1] == "wishlist_email"
    path.write_text(GOOD.replace('channel = "email"', 'channel = "sms"'))
    _touch_later(path)
    watcher.check()
    assert watcher.current.engagement is first  # the broken file did not replace it
    assert any("actions[1].channel" in e for e in watcher.errors)
    path.write_text(GOOD.replace("wishlist_email", "wishlist_reminder_email"))
    _touch_later(path)
    assert any(c.startswith("catalog") for c in watcher.check())
    assert watcher.current.engagement.action_ids[-1] == "wishlist_reminder_email"


def _touch_later(path: Path) -> None:
    later = time.time() + 5
    os.utime(path, (later, later))


def test_every_feature_a_catalog_may_declare_is_one_check_skew_compares() -> None:
    """Policy features are store features, so ``features check-skew`` covers them."""
    from marketlift.features.definitions import features_of
    from marketlift.policy.catalog import _known_features

    compared = {f.name for ns in ("buyer", "session") for f in features_of(ns)}
    assert _known_features() == compared
    assert set(load(CATALOG_FILE).features) <= compared
