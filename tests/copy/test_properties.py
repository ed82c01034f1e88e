"""Properties over many values and seeds: formatting round-trips through the guards."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketlift.copy.evaluate import guard_report
from marketlift.copy.facts import Money
from marketlift.copy.guards import numbers_in
from marketlift.copy.localize import percent, plural, price
from marketlift.copy.touchpoints import LOCALES
from marketlift.sim.copy_testset import build_requests

CURRENCY = {"en-US": "USD", "en-GB": "GBP", "ja-JP": "JPY"}


@settings(max_examples=300, deadline=None)
@given(minor=st.integers(min_value=0, max_value=10**9), locale=st.sampled_from(LOCALES))
def test_every_formatted_price_reads_back_as_that_price(minor: int, locale: str) -> None:
    money = Money(minor, CURRENCY.get(locale, "EUR"))
    [number] = numbers_in(price(money, locale))
    assert number.kind == "money"
    assert money.amount in number.values


@settings(max_examples=100, deadline=None)
@given(pct=st.integers(min_value=1, max_value=99), locale=st.sampled_from(LOCALES))
def test_every_formatted_percentage_reads_back(pct: int, locale: str) -> None:
    [number] = numbers_in(percent(pct, locale))
    assert number.kind == "percent"
    assert pct in number.values


@settings(max_examples=100, deadline=None)
@given(n=st.integers(min_value=0, max_value=10**7), locale=st.sampled_from(LOCALES))
def test_plural_counts_read_back(n: int, locale: str) -> None:
    text = plural(locale, n, one="{n} x", other="{n} xs")
    assert n in numbers_in(text)[0].values


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_guards_separate_planted_from_valid_for_several_seeds(seed: int) -> None:
    report = guard_report(build_requests(n_listings=2, seed=seed))
    assert report.catch_rate == 1.0, report.by_kind
    assert report.false_rejection_rate < 0.02
