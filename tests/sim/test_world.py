"""The world: reproducible, heterogeneous, heavy-tailed, multilingual."""

from __future__ import annotations

import numpy as np
import pytest

from marketlift.errors import ConfigError
from marketlift.sim import SimConfig, make_world
from marketlift.sim.text import CATEGORIES, LOCALES, query_texts


def test_same_seed_same_world_other_seed_other_world() -> None:
    a, b, c = (make_world(SimConfig(n_buyers=1000, seed=s)) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.buyers.price_sensitivity, b.buyers.price_sensitivity)
    np.testing.assert_array_equal(a.listings.price_cents, b.listings.price_cents)
    assert not np.array_equal(a.buyers.price_sensitivity, c.buyers.price_sensitivity)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_listings_are_heavy_tailed_and_priced_by_category(seed: int) -> None:
    lst = make_world(SimConfig(n_buyers=40_000, seed=seed)).listings
    pop = np.sort(lst.popularity)[::-1]
    assert pop[: len(pop) // 100].sum() > 0.1 * pop.sum()
    medians = [np.median(lst.price_cents[lst.category == c]) for c in range(len(CATEGORIES))]
    assert max(medians) > 2 * min(medians)
    log_price = np.log(lst.price_cents[lst.category == 0])
    assert 0.4 < log_price.std() < 0.8
    assert (lst.rating >= 1).all()
    assert (lst.rating <= 5).all()
    assert lst.review_count.max() > 20 * np.median(lst.review_count) + 1


def test_buyers_are_heterogeneous() -> None:
    b = make_world(SimConfig(n_buyers=20_000, seed=0)).buyers
    assert len(np.unique(b.locale)) == len(LOCALES)
    assert len(np.unique(b.platform)) == 3
    assert 0.1 < b.price_sensitivity.std() < 0.3
    assert 0.2 < b.push_opt_in.mean() < 0.5
    assert 0.2 < (b.first_day >= 0).mean() < 0.4
    assert not (b.push_opt_in & (b.platform == 0)).any()  # push needs an app
    assert not ((b.push_opt_in | b.email_opt_in) & ~b.signed_in).any()


def test_texts_are_json_safe_in_every_language() -> None:
    lst = make_world(SimConfig(n_buyers=2000, seed=0)).listings
    texts: list[str] = []
    for lang in ("en", "de", "fr", "es", "it", "ja"):
        titles, descriptions = lst.text_arrays(lang)
        texts += titles.to_pylist() + descriptions.to_pylist()
    texts += [q for loc in LOCALES for c in range(len(CATEGORIES)) for q in query_texts(loc, c)]
    assert all(t and '"' not in t and "\\" not in t and t.isprintable() for t in texts)
    titles = {lang: lst.text_arrays(lang)[0].to_pylist()[0] for lang in ("en", "de", "ja")}
    assert len(set(titles.values())) == 3


def test_config_errors_name_the_parameter() -> None:
    with pytest.raises(ConfigError, match=r"n_days == 0, expected an integer >= 1"):
        SimConfig(n_days=0)
    with pytest.raises(ConfigError, match="sessions_per_buyer_day"):
        SimConfig(sessions_per_buyer_day=9.0)
