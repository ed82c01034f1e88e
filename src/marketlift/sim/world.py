"""The world: buyers and listings with the hidden traits that drive their behaviour.

Everything is drawn once per seed from :meth:`SimConfig.rng`, as numpy arrays (one row per
buyer or listing), so a world of 100,000 buyers is built in well under a second.

Example:
    >>> from marketlift.sim.config import SimConfig
    >>> world = make_world(SimConfig(n_buyers=200, seed=1))
    >>> world.buyers.n, world.listings.n, len(world.listings.title_en)
    (200, 500, 500)
    >>> bool((world.listings.price_cents > 0).all())
    True
"""

from __future__ import annotations

import dataclasses
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.errors import ConfigError
from marketlift.sim.config import SimConfig
from marketlift.sim.text import (
    CATEGORIES,
    LOCALES,
    N_ADJECTIVES,
    N_COLORS,
    N_MATERIALS,
    N_NOUNS,
    description_text,
    title_text,
)

__all__ = [
    "FX",
    "PLATFORMS",
    "TEXT_LOCALES",
    "Buyers",
    "Listings",
    "World",
    "continue_world",
    "make_world",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

PLATFORMS: Final = ("web", "ios", "android")
FX: Final = {"USD": 1.0, "GBP": 0.79, "EUR": 0.92, "JPY": 150.0}
"""Display-currency units per US dollar."""
_LOCALE_WEIGHTS: Final = np.array([0.36, 0.12, 0.16, 0.11, 0.09, 0.08, 0.08])
_CATEGORY_WEIGHTS: Final = np.array([0.2, 0.12, 0.16, 0.12, 0.1, 0.1, 0.1, 0.1])
_LOG_PRICE_MEAN: Final = np.log([38.0, 30.0, 42.0, 55.0, 22.0, 20.0, 48.0, 60.0])
TEXT_LOCALES: Final = ("en", "de", "fr", "es", "it", "ja")
"""Languages of listing texts."""


@dataclasses.dataclass(frozen=True, slots=True)
class Buyers:
    """Buyers, one row per buyer (index ``i`` is buyer ``b{i:07d}``).

    Attributes:
        locale: Index into :data:`~marketlift.sim.text.LOCALES` (gives country and currency).
        platform: Index into :data:`PLATFORMS` of the buyer's main device.
        price_sensitivity: In (0, 1); how much price, discounts and shipping matter.
        intent: Base purchase propensity on the logit scale.
        activity: Mean sessions per day relative to the configured mean.
        affinity: Category preferences, a probability row per buyer.
        fatigue_sensitivity: How much repeated nudges annoy this buyer (>= 0).
        push_opt_in: Accepts push notifications at the start (needs an app and an account).
        email_opt_in: Accepts marketing email at the start (needs an account).
        signed_in: Has an account (events carry ``buyer_id``).
        first_day: Day the buyer joins; ``-1`` for buyers who were here before the period.
    """

    locale: IntArray
    platform: IntArray
    price_sensitivity: FloatArray
    intent: FloatArray
    activity: FloatArray
    affinity: FloatArray
    fatigue_sensitivity: FloatArray
    push_opt_in: BoolArray
    email_opt_in: BoolArray
    signed_in: BoolArray
    first_day: IntArray

    @property
    def n(self) -> int:
        """Number of buyers."""
        return len(self.locale)


@dataclasses.dataclass(frozen=True, slots=True)
class Listings:
    """Listings, one row per listing (index ``j`` is listing ``l{j:07d}``), sorted by category.

    Attributes:
        category: Index into :data:`~marketlift.sim.text.CATEGORIES`.
        shop: Shop index (``s{k:05d}``); shop sizes are heavy-tailed.
        price_cents: Price in US cents (log-normal per category).
        shipping_cents: Shipping cost in US cents.
        popularity: Heavy-tailed weight of being seen.
        stock: Items in stock (vintage items are often unique).
        review_count: Number of reviews (heavy-tailed, follows popularity).
        rating: Mean rating in [1, 5].
        category_start: For each category, the first row of that category (and ``n`` at the end).
        popularity_cdf: Cumulative popularity within each category, offset by the category index.
        title_en: English titles (the other locales are in :meth:`texts`).
        words: Word choices per listing: adjective, material, color, noun, shipping days.
    """

    category: IntArray
    shop: IntArray
    price_cents: IntArray
    shipping_cents: IntArray
    popularity: FloatArray
    stock: IntArray
    review_count: IntArray
    rating: FloatArray
    category_start: IntArray
    popularity_cdf: FloatArray
    title_en: list[str]
    words: IntArray

    @property
    def n(self) -> int:
        """Number of listings."""
        return len(self.category)

    def sample(self, category: IntArray, u: FloatArray) -> IntArray:
        """Draw one listing per row from ``category`` by popularity, with uniforms ``u``.

        Example:
            >>> from marketlift.sim.config import SimConfig
            >>> lst = make_world(SimConfig(n_buyers=10)).listings
            >>> picks = lst.sample(np.array([2, 2, 5]), np.array([0.1, 0.9, 0.5]))
            >>> lst.category[picks].tolist()
            [2, 2, 5]
        """
        idx = np.searchsorted(self.popularity_cdf, category + u, side="right")
        lo = self.category_start[category]
        hi = self.category_start[category + 1] - 1
        return np.clip(idx, lo, hi).astype(np.int64)

    def text_arrays(self, lang: str) -> tuple[pa.Array, pa.Array]:
        """Titles and descriptions in ``lang`` as Arrow arrays, equal to :meth:`texts`.

        Every word combination is formatted once, so this is fast for many listings.

        Example:
            >>> from marketlift.sim.config import SimConfig
            >>> lst = make_world(SimConfig(n_buyers=10)).listings
            >>> lst.text_arrays("it")[0].to_pylist() == lst.texts("it")[0]
            True
        """
        dims = (len(CATEGORIES), N_NOUNS, N_ADJECTIVES, N_MATERIALS, N_COLORS)
        titles = []
        for combo in np.ndindex(*dims):
            cat, noun, adj, mat, col = combo
            titles.append(title_text(lang, category=cat, adjective=adj, material=mat, color=col,
                                     noun=noun))  # fmt: skip
        adj, mat, col, noun, days = (self.words[:, k] for k in range(5))
        key = np.ravel_multi_index((self.category, noun, adj, mat, col), dims)
        title = pa.array(titles).take(pa.array(key))
        tails = [description_text(lang, title="", material=m, days=d)
                 for m in range(N_MATERIALS) for d in range(1, 6)]  # fmt: skip
        tail = pa.array(tails).take(pa.array(mat * 5 + days - 1))
        return title, pc.binary_join_element_wise(title, tail, "")

    def texts(self, lang: str) -> tuple[list[str], list[str]]:
        """Titles and descriptions in ``lang`` (one of en, de, fr, es, it, ja)."""
        titles, descriptions = [], []
        for j in range(self.n):
            adj, mat, col, noun, days = (int(x) for x in self.words[j])
            title = title_text(
                lang, category=int(self.category[j]), adjective=adj, material=mat,
                color=col, noun=noun,
            )  # fmt: skip
            titles.append(title)
            descriptions.append(description_text(lang, title=title, material=mat, days=days))
        return titles, descriptions


@dataclasses.dataclass(frozen=True, slots=True)
class World:
    """Buyers and listings of one seed."""

    config: SimConfig
    buyers: Buyers
    listings: Listings


def make_world(config: SimConfig) -> World:
    """Draw the buyers and listings of ``config`` (deterministic in ``config.seed``)."""
    return World(config, _make_buyers(config), _make_listings(config))


def continue_world(world: World, config: SimConfig) -> World:
    """The same buyers and listings in a later period, simulated by ``config``.

    For a run that follows ``world``'s (an A/B test after the history the models learned
    from): the buyer and listing ids mean the same people and items. Every buyer is there from
    the start (``first_day`` -1); opt-ins start as they did in ``world``. ``config`` draws the
    sessions (give it another seed than the earlier run) and must have as many buyers and
    listings.

    Example:
        >>> history = make_world(SimConfig(n_buyers=400, n_days=7, seed=1))
        >>> later = continue_world(history, SimConfig(n_buyers=400, n_days=3, seed=2))
        >>> bool((later.buyers.intent == history.buyers.intent).all()), later.config.seed
        (True, 2)
    """
    b, lst = world.buyers, world.listings
    if config.n_buyers != b.n or config.listings != lst.n:
        raise ConfigError(
            "config", f"{config.n_buyers} buyers and {config.listings} listings",
            f"the world's {b.n} buyers and {lst.n} listings",
        )  # fmt: skip
    buyers = dataclasses.replace(b, first_day=np.full(b.n, -1, dtype=np.int64))
    return World(config, buyers, lst)


def _make_buyers(config: SimConfig) -> Buyers:
    rng = config.rng(0, 1)
    n = config.n_buyers
    locale = rng.choice(len(LOCALES), size=n, p=_LOCALE_WEIGHTS).astype(np.int64)
    platform = rng.choice(3, size=n, p=[0.45, 0.32, 0.23]).astype(np.int64)
    signed_in = rng.random(n) < config.signed_in_share
    has_app = platform > 0
    first_day = np.where(
        rng.random(n) < config.new_buyer_share, rng.integers(0, config.n_days, n), -1
    ).astype(np.int64)
    return Buyers(
        locale=locale,
        platform=platform,
        price_sensitivity=rng.beta(2.0, 3.0, n),
        intent=rng.normal(0.0, 0.7, n),
        activity=rng.gamma(0.8, 1.0 / 0.8, n),
        affinity=rng.dirichlet(np.full(len(CATEGORIES), 0.4), n),
        fatigue_sensitivity=rng.gamma(2.0, 0.5, n),
        push_opt_in=signed_in & has_app & (rng.random(n) < 0.6),
        email_opt_in=signed_in & (rng.random(n) < 0.65),
        signed_in=signed_in,
        first_day=first_day,
    )


def _make_listings(config: SimConfig) -> Listings:
    rng = config.rng(0, 2)
    n = config.listings
    category = np.sort(rng.choice(len(CATEGORIES), size=n, p=_CATEGORY_WEIGHTS)).astype(np.int64)
    shop_weight = rng.pareto(1.2, config.shops) + 1.0
    shop = rng.choice(config.shops, size=n, p=shop_weight / shop_weight.sum()).astype(np.int64)
    price = np.exp(_LOG_PRICE_MEAN[category] + rng.normal(0.0, 0.6, n))
    price_cents = np.maximum(np.round(price * 100.0), 300).astype(np.int64)
    shipping_cents = (np.round((3.5 + 0.04 * price + rng.exponential(1.5, n)) * 4) * 25).astype(
        np.int64
    )
    popularity = rng.pareto(1.1, n) + 0.05
    review_count = rng.poisson(popularity * 20.0).astype(np.int64)
    rating = np.clip(5.0 - rng.gamma(1.2, 0.25, n), 1.0, 5.0).round(2)
    vintage = category == CATEGORIES.index("vintage_clothing")
    stock = np.where(vintage, 1, 1 + rng.geometric(0.2, n)).astype(np.int64)
    counts = np.bincount(category, minlength=len(CATEGORIES))
    category_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    cdf = np.empty(n)
    for c in range(len(CATEGORIES)):
        lo, hi = category_start[c], category_start[c + 1]
        if hi > lo:
            part = np.cumsum(popularity[lo:hi])
            cdf[lo:hi] = c + part / part[-1]
    words = np.stack(
        [
            rng.integers(0, N_ADJECTIVES, n),
            rng.integers(0, N_MATERIALS, n),
            rng.integers(0, N_COLORS, n),
            rng.integers(0, N_NOUNS, n),
            rng.integers(1, 6, n),
        ],
        axis=1,
    ).astype(np.int64)
    listings = Listings(
        category=category, shop=shop, price_cents=price_cents, shipping_cents=shipping_cents,
        popularity=popularity, stock=stock, review_count=review_count, rating=rating,
        category_start=category_start, popularity_cdf=cdf, title_en=[], words=words,
    )  # fmt: skip
    titles, _ = listings.text_arrays("en")
    listings.title_en.extend(titles.to_pylist())
    return listings
