"""The simulated test set of the copy evaluation, in all eight locales.

:func:`build_requests` turns listings of the simulator's world into copy requests for every
touchpoint and action, with facts the simulator knows to be true (its hidden listing words), so
faithfulness can be checked. The simulator is a client: ``marketlift copy eval`` and the
benchmarks pass these requests to :func:`marketlift.copy.evaluate.evaluate`.

Example:
    >>> requests = build_requests(n_listings=2, seed=0)
    >>> len(requests), sorted({r.locale for r in requests})[:3]
    (160, ['de-DE', 'en-GB', 'en-US'])
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from marketlift.copy.facts import (
    ASPECTS,
    ActionTerms,
    BuyerFacts,
    Facts,
    ListingFacts,
    Money,
    ReviewFacts,
)
from marketlift.copy.request import CopyRequest
from marketlift.copy.sources import CURRENCY_OF, display_money
from marketlift.copy.touchpoints import ACTIONS, LOCALES
from marketlift.copy.vocab import COLORS, PRODUCT_TYPES, lang_of
from marketlift.sim.config import SimConfig
from marketlift.sim.world import make_world

__all__ = ["TODAY", "build_requests", "listing_facts"]

_SIM_NOUNS: Final = (
    ("necklace", "ring"), ("mug", "vase"), ("wall_hanging", "cushion"),
    ("denim_jacket", "silk_scarf"), ("art_print", "poster"), ("soy_candle", "candle_set"),
    ("sweater", "beanie"), ("wallet", "tote_bag"),
)  # fmt: skip
_SIM_MATERIALS: Final = ("sterling_silver", "linen", "ceramic", "wool", "leather", "oak")
_SIM_COLORS: Final = ("sage_green", "blue", "terracotta", "cream", "black", "mustard")
_SIM_CATEGORIES: Final = ("jewelry", "ceramics", "home_decor", "vintage_clothing",
                          "art_prints", "candles", "knitwear", "leather_goods")  # fmt: skip
TODAY: Final = dt.date(2026, 11, 26)


def listing_facts(
    world: Any, j: int, locale: str, cache: dict[str, tuple[list[str], list[str]]] | None = None
) -> ListingFacts:
    """Facts of simulated listing ``j`` for a buyer in ``locale`` (prices converted).

    ``cache`` keeps the world's texts per language between calls (one dict per world).
    """
    listings = world.listings
    lang = lang_of(locale)
    text_lang = lang if lang != "nl" else "en"  # the simulator has no Dutch sellers
    cache = {} if cache is None else cache
    if text_lang not in cache:
        cache[text_lang] = listings.texts(text_lang)
    titles, descriptions = cache[text_lang]
    _adj, mat, col, noun, days = (int(x) for x in listings.words[j])
    category = int(listings.category[j])
    return ListingFacts(
        listing_id=f"l{j:07d}",
        title=titles[j],
        product_type=_SIM_NOUNS[category][noun],
        price=display_money(int(listings.price_cents[j]), locale),
        materials=(_SIM_MATERIALS[mat],),
        color=_SIM_COLORS[col],
        shipping=(
            display_money(int(listings.shipping_cents[j]), locale)
            if j % 4
            else Money(0, CURRENCY_OF.get(locale, "EUR"))
        ),
        stock=int(listings.stock[j]),
        review_count=int(listings.review_count[j]),
        rating=float(listings.rating[j]) if int(listings.review_count[j]) else None,
        ships_in_days=days,
        description=descriptions[j],
        title_language=text_lang,
        category=_SIM_CATEGORIES[category],
    )


def _terms(action: str, listing: ListingFacts, j: int) -> ActionTerms:
    if action == "price_drop":
        new = Money(round(listing.price.minor * 0.95), listing.price.currency)
        return ActionTerms(action, discount_pct=5, old_price=listing.price, new_price=new)
    if action == "discount_coupon":
        pct = (10, 15)[j % 2]
        return ActionTerms(action, discount_pct=pct, expires=TODAY + dt.timedelta(days=7 + j % 5))
    if action == "cart_reminder":
        return ActionTerms(action, items_in_cart=1 + j % 4)
    if action == "similar_items":
        return ActionTerms(action, similar_count=1 + (j * 7) % 12)
    return ActionTerms(action)


def build_requests(n_listings: int = 25, seed: int = 0) -> list[CopyRequest]:
    """Requests for every touchpoint, action and locale over ``n_listings`` simulated listings.

    Each listing yields, per locale: six nudges (one per action), highlights, a review summary
    (when it has reviews), a search rewrite (a query buyers of that language type) and a
    translation. Deterministic in ``seed``.
    """
    world = make_world(SimConfig(n_buyers=10, seed=seed))
    n = world.listings.n
    picks = [(i * 7919 + seed) % n for i in range(n_listings)]
    out = []
    texts: dict[str, tuple[list[str], list[str]]] = {}
    for k, j in enumerate(picks):
        for locale in LOCALES:
            listing = listing_facts(world, j, locale, texts)
            buyer = BuyerFacts(
                favorite_category=listing.category if k % 3 == 0 else None,
                new_buyer=k % 3 == 1,
                price_sensitive=k % 3 == 2,
            )
            for action in ACTIONS:
                terms = _terms(action, listing, j)
                facts = Facts(listing=listing, terms=terms, today=TODAY)
                out.append(CopyRequest("nudge", locale, facts))
            out.append(CopyRequest("highlights", locale, Facts(listing=listing, buyer=buyer)))
            if listing.review_count and listing.rating is not None:
                reviews = ReviewFacts(
                    listing.review_count, listing.rating,
                    liked=(ASPECTS[j % 4], ASPECTS[(j + 1) % 4 + 4]),
                    disliked=(ASPECTS[6 + j % 2],) if j % 3 else (),
                )  # fmt: skip
                out.append(CopyRequest("review_summary", locale, Facts(reviews=reviews)))
            noun = PRODUCT_TYPES[listing.product_type][lang_of(locale)]
            color = COLORS[_SIM_COLORS[k % len(_SIM_COLORS)]][lang_of(locale)]
            query = noun if k % 2 else f"{noun} {color}"
            out.append(CopyRequest("search_rewrite", locale, Facts(query=query)))
            out.append(CopyRequest("translation", locale, Facts(listing=listing)))
    return out
