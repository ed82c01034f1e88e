"""Facts from your own listing table (bring your own table; column names are arguments).

:func:`listing_facts_from_rows` turns rows (dicts, e.g. ``pyarrow.Table.to_pylist()``) into
:class:`~marketlift.copy.facts.ListingFacts` for one buyer locale: prices are converted from
US cents with the given exchange rates, the title is taken in the buyer's language when a
``title_<lang>`` column exists, and product type, materials and color are recognized in the
English title when no slug columns are given. The simulator's ``sim_listings`` table works
as is.

Example:
    >>> rows = [{"listing_id": "l1", "title_en": "Rustic linen cushion in cream",
    ...          "title_de": "Rustikale Leinen-Kissen in Creme", "price_usd_cents": 2000,
    ...          "shipping_usd_cents": 0, "stock": 3, "review_count": 4, "rating": 4.5}]
    >>> [facts] = listing_facts_from_rows(rows, "de-DE")
    >>> facts.title, facts.product_type, facts.materials, facts.color, facts.price
    ('Rustikale Leinen-Kissen in Creme', 'cushion', ('linen',), 'cream', Money(minor=1840, \
currency='EUR'))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Final

from marketlift.copy.facts import ActionTerms, Facts, ListingFacts, Money, ReviewFacts
from marketlift.copy.lexicon import fold, materials_in
from marketlift.copy.request import CopyRequest
from marketlift.copy.touchpoints import ACTIONS, check_touchpoint
from marketlift.copy.vocab import COLORS, PRODUCT_TYPES, lang_of
from marketlift.errors import ConfigError

__all__ = [
    "CURRENCY_OF",
    "FX",
    "display_money",
    "listing_facts_from_rows",
    "query_requests",
    "requests_for",
]

FX: Final = {"USD": 1.0, "GBP": 0.79, "EUR": 0.92, "JPY": 150.0}
"""Display-currency units per US dollar (the simulator's rates)."""
CURRENCY_OF: Final = {"en-US": "USD", "en-GB": "GBP", "ja-JP": "JPY"}
"""Display currency per locale; every other locale pays in EUR."""


def display_money(usd_cents: int, locale: str, fx: Mapping[str, float] = FX) -> Money:
    """US cents in the display currency of ``locale`` (yen rounded to 10)."""
    currency = CURRENCY_OF.get(locale, "EUR")
    if currency not in fx:
        raise ConfigError("fx", sorted(fx), f"a rate for {currency}")
    if currency == "JPY":
        return Money(round(usd_cents / 100 * fx["JPY"] / 10) * 10, currency)
    return Money(round(usd_cents * fx[currency]), currency)


def _find(table: Mapping[str, Mapping[str, str]], text: str) -> str | None:
    folded = fold(text)
    best = None
    for slug, names in table.items():
        name = fold(names["en"])
        if name in folded and (best is None or len(name) > len(fold(table[best]["en"]))):
            best = slug
    return best


def listing_facts_from_rows(
    rows: Iterable[Mapping[str, Any]],
    locale: str,
    *,
    id_col: str = "listing_id",
    title_col: str | None = None,
    english_title_col: str = "title_en",
    price_col: str = "price_usd_cents",
    shipping_col: str | None = "shipping_usd_cents",
    stock_col: str | None = "stock",
    reviews_col: str | None = "review_count",
    rating_col: str | None = "rating",
    category_col: str | None = "category",
    fx: Mapping[str, float] = FX,
) -> list[ListingFacts]:
    """One :class:`ListingFacts` per row, for buyers in ``locale``.

    ``title_col`` defaults to ``title_<lang>`` of the locale when present, else the English
    title; rows whose product type cannot be recognized are skipped.
    """
    lang = lang_of(locale)
    out = []
    for row in rows:
        english = str(row.get(english_title_col) or row.get("title") or "")
        column = title_col or (f"title_{lang}" if row.get(f"title_{lang}") else english_title_col)
        title = str(row.get(column) or english)
        title_lang = lang if column == f"title_{lang}" else "en"
        product = _find(PRODUCT_TYPES, english)
        if product is None:
            continue
        reviews = int(row.get(reviews_col) or 0) if reviews_col else 0
        rating = row.get(rating_col) if rating_col else None
        shipping = row.get(shipping_col) if shipping_col else None
        stock = row.get(stock_col) if stock_col else None
        desc_col = f"description_{title_lang}"
        out.append(
            ListingFacts(
                listing_id=str(row[id_col]),
                title=title,
                product_type=product,
                price=display_money(int(row[price_col]), locale, fx),
                materials=tuple(sorted(materials_in(english))),
                color=_find(COLORS, english),
                shipping=display_money(int(shipping), locale, fx) if shipping is not None else None,
                stock=int(stock) if stock is not None else None,
                review_count=reviews,
                rating=float(rating) if rating is not None and reviews else None,
                description=str(row.get(desc_col) or ""),
                title_language=title_lang,
                category=str(row[category_col]) if category_col and row.get(category_col) else None,
            )
        )
    return out


def requests_for(
    touchpoint: str,
    listings: Iterable[ListingFacts],
    locale: str,
    *,
    actions: Iterable[str] = ACTIONS,
    discount_pct: int = 10,
    price_drop_pct: int = 5,
    expires: dt.date | None = None,
    today: dt.date | None = None,
) -> list[CopyRequest]:
    """Requests of ``touchpoint`` for listings in ``locale`` (nudges: one per action).

    Action terms are the defaults of the marketplace's actions: a ``discount_pct`` coupon
    valid until ``expires``, a ``price_drop_pct`` price drop; unknown cart sizes and similar
    counts make the copy generic rather than invent them. Review summaries use the review
    statistics (aspects need a review pipeline). Search rewrites take queries instead: see
    :func:`query_requests`.

    Example:
        >>> listing = ListingFacts("l1", "Wool beanie", "beanie", Money(1500, "USD"),
        ...                        review_count=3, rating=4.7)
        >>> [r.action for r in requests_for("nudge", [listing], "en-US")][:2]
        ['cart_reminder', 'price_drop']
    """
    check_touchpoint(touchpoint)
    out = []
    for listing in listings:
        if touchpoint == "nudge":
            for action in actions:
                terms = ActionTerms(action)
                if action == "discount_coupon":
                    terms = ActionTerms(action, discount_pct=discount_pct, expires=expires)
                elif action == "price_drop":
                    new = Money(listing.price.minor * (100 - price_drop_pct) // 100,
                                listing.price.currency)  # fmt: skip
                    terms = ActionTerms(action, discount_pct=price_drop_pct,
                                        old_price=listing.price, new_price=new)  # fmt: skip
                facts = Facts(listing=listing, terms=terms, today=today)
                out.append(CopyRequest(touchpoint, locale, facts))
        elif touchpoint == "review_summary":
            if listing.review_count and listing.rating is not None:
                reviews = ReviewFacts(listing.review_count, listing.rating)
                out.append(CopyRequest(touchpoint, locale, Facts(reviews=reviews)))
        elif touchpoint != "search_rewrite":
            out.append(CopyRequest(touchpoint, locale, Facts(listing=listing)))
    return out


def query_requests(queries: Iterable[str], locale: str) -> list[CopyRequest]:
    """Search-rewrite requests for buyers' queries (blank lines skipped)."""
    return [
        CopyRequest("search_rewrite", locale, Facts(query=q.strip())) for q in queries if q.strip()
    ]
