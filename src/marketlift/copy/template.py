# ruff: noqa: RUF002  (typographic apostrophes and Japanese punctuation)
r"""The template provider: deterministic, offline, grounded by construction, in 8 locales.

Every sentence comes from the phrase book (:mod:`marketlift.copy.phrases`); every number,
price, percentage and date is formatted from a fact by Babel; every material, color, product
type and review aspect is named through :mod:`marketlift.copy.vocab` from a fact slug. A
seller's title is quoted only when it is in the buyer's language and
:func:`~marketlift.copy.guards.safe_seller_text` accepts it; otherwise the product is named
from its facts (``„Tasse aus Keramik in Blau“``), or not at all.

Example:
    >>> import datetime as dt
    >>> from marketlift.copy.facts import ActionTerms, Facts, ListingFacts, Money
    >>> from marketlift.copy.request import CopyRequest
    >>> listing = ListingFacts("l1", "Keramik-Tasse in Blau", "mug", Money(2450, "EUR"),
    ...                        materials=("ceramic",), stock=2, title_language="de")
    >>> terms = ActionTerms("cart_reminder", items_in_cart=3)
    >>> parts = render(CopyRequest("nudge", "de-DE", Facts(listing=listing, terms=terms)))
    >>> parts["push_body"][:50]
    'Du hast 3 Artikel im Warenkorb, darunter „Keramik-'
    >>> parts["push_body"][50:]
    'Tasse in Blau“ für 24,50\xa0€. Nur noch 2 verfügbar.'
    >>> coupon = ActionTerms("discount_coupon", discount_pct=15, expires=dt.date(2026, 12, 3))
    >>> render(CopyRequest("nudge", "fr-FR", Facts(listing=listing, terms=coupon)))["banner"]
    '15\xa0% de réduction sur «\xa0Tasse en céramique\xa0» jusqu’au 3 déc.'
    >>> render(CopyRequest("translation", "ja-JP", Facts(listing=listing)))
    {'title': 'セラミックマグカップ'}
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Final

from marketlift.copy.facts import LOW_STOCK, Facts
from marketlift.copy.guards import safe_seller_text
from marketlift.copy.localize import day, join, percent, plural, price, rating
from marketlift.copy.phrases import phrases, plural_pair
from marketlift.copy.request import CopyRequest, Draft
from marketlift.copy.touchpoints import surfaces
from marketlift.copy.vocab import (
    ASPECT_NAMES,
    CATEGORY_NAMES,
    COLORS,
    MATERIALS,
    PRODUCT_CATEGORY,
    PRODUCT_MATERIAL,
    PRODUCT_TYPES,
    lang_of,
    name,
)

__all__ = [
    "TEMPLATE_PLAIN_VERSION",
    "TEMPLATE_VERSION",
    "TemplateProvider",
    "localized_facts",
    "render",
]

TEMPLATE_VERSION: Final = "tpl-1"
"""Version of the phrase book; part of every cache key of template copy."""
TEMPLATE_PLAIN_VERSION: Final = "tpl-1-plain"
"""The plain style of the same phrase book (``render(..., plain=True)``)."""

_FIELD: Final = re.compile(r"\{(\w+)\}")
_SPACES: Final = re.compile(r"[ \t\n]+")
_DOTS: Final = re.compile(r"(?<!\.)\.\.(?!\.)")  # an abbreviated date ending a sentence
Context = dict[str, str | None]


def _plural(locale: str, key: str, n: int | None) -> str | None:
    if n is None:
        return None
    one, other = plural_pair(locale, key)
    return plural(locale, n, one=one, other=other)


_QUOTES: Final = {
    "en-US": ("\u201c", "\u201d"), "en-GB": ("\u2018", "\u2019"), "de": ("\u201e", "\u201c"),
    "fr": ("\u00ab\u00a0", "\u00a0\u00bb"), "es": ("\u00ab", "\u00bb"), "it": ("\u00ab", "\u00bb"),
    "nl": ("\u2018", "\u2019"), "ja": ("\u300c", "\u300d"),
}  # fmt: skip
"""CLDR quotation marks per locale or language."""


def _quoted(text: str, locale: str) -> str:
    start, end = _QUOTES.get(locale) or _QUOTES[lang_of(locale)]
    return f"{start}{text}{end}"


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def _fill(
    candidates: tuple[str, ...],
    ctx: Mapping[str, str | None],
    max_chars: int,
    *,
    plain: bool = False,
) -> str:
    """The first (``plain``: the last) candidate whose placeholders are known and that fits."""
    last = ""
    if plain:
        fitting = [_fill((c,), ctx, max_chars) for c in candidates]
        fitting = [t for t in fitting if t and not t.endswith("…")]
        return fitting[-1] if fitting else _fill(candidates, ctx, max_chars)
    for candidate in candidates:
        names = _FIELD.findall(candidate)
        if any(ctx.get(n) is None for n in names):
            continue
        text = _capitalize(_DOTS.sub(".", _SPACES.sub(" ", candidate.format(**ctx))).strip())
        last = text
        if len(text) <= max_chars:
            return text
    return last[: max_chars - 1] + "…" if last else ""


def _context(facts: Facts, locale: str) -> Context:
    listing, terms = facts.listing, facts.terms
    ctx: Context = {}
    if listing is not None:
        same_language = listing.title_language in (None, lang_of(locale))
        usable = same_language and safe_seller_text(listing.title)
        ctx["price"] = price(listing.price, locale)
        names = [name(MATERIALS, m, locale) for m in listing.materials]
        known = [n for n in names if n is not None]
        ctx["material"] = join(known, locale) if known else None
        ctx["color"] = name(COLORS, listing.color, locale)
        ctx["noun"] = name(PRODUCT_TYPES, listing.product_type, locale)
        if usable:
            ctx["product"] = _quoted(listing.title.strip(), locale)
        elif ctx["noun"] and (ctx["material"] or ctx["color"]):
            # a foreign-language or unsafe title: name the product from its facts instead
            ctx["product"] = _quoted(_fill(phrases(locale)["tr.title"], ctx, 60), locale)
        else:
            ctx["product"] = None
        has_reviews = listing.review_count > 0 and listing.rating is not None
        ctx["reviews"] = _plural(locale, "reviews", listing.review_count if has_reviews else None)
        ctx["rating"] = rating(listing.rating, locale) if has_reviews and listing.rating else None
        low = listing.stock is not None and 0 < listing.stock <= LOW_STOCK
        ctx["left"] = _plural(locale, "left", listing.stock if low else None)
        ctx["hl_left"] = _plural(locale, "hl.left", listing.stock if low else None)
        ctx["days"] = _plural(locale, "days", listing.ships_in_days)
        shipping = listing.shipping
        ctx["shipping"] = price(shipping, locale) if shipping and shipping.minor else None
        category = listing.category or PRODUCT_CATEGORY.get(listing.product_type)
        favorite = facts.buyer.favorite_category if facts.buyer else None
        fits = favorite is not None and favorite == category
        ctx["category"] = name(CATEGORY_NAMES, category, locale) if fits else None
    if terms is not None:
        ctx["old"] = price(terms.old_price, locale) if terms.old_price else None
        ctx["new"] = price(terms.new_price, locale) if terms.new_price else None
        ctx["pct"] = percent(terms.discount_pct, locale) if terms.discount_pct else None
        ctx["date"] = day(terms.expires, locale) if terms.expires else None
        ctx["items"] = _plural(locale, "items", terms.items_in_cart)
        similar = terms.similar_count if terms.similar_count else None
        ctx["similar"] = _plural(locale, "similar", similar)
    return ctx


def localized_facts(facts: Facts, locale: str) -> dict[str, str]:
    r"""The facts as the template would word them in ``locale`` (what a model prompt may cite).

    Prices, percentages, dates and counts are formatted by Babel, materials, colors, product
    types and review aspects named from their slugs; unknown facts are left out.

    Example:
        >>> from marketlift.copy.facts import ListingFacts, Money
        >>> listing = ListingFacts("l1", "Oak bowl", "vase", Money(123450, "EUR"),
        ...                        materials=("oak",), title_language="en")
        >>> localized_facts(Facts(listing=listing), "de-DE")["price"]
        '1.234,50\xa0€'
        >>> localized_facts(Facts(listing=listing), "de-DE")["material"]
        'Eiche'
    """
    ctx = _context(facts, locale)
    reviews = facts.reviews
    if reviews is not None:
        for key, slugs in (("liked", reviews.liked), ("disliked", reviews.disliked)):
            known = [n for s in slugs[:3] if (n := name(ASPECT_NAMES, s, locale)) is not None]
            ctx[key] = join(known, locale) if known else None
        ctx["rating"] = rating(reviews.rating, locale)
        ctx["reviews"] = _plural(locale, "reviews", reviews.review_count)
    return {k: v for k, v in ctx.items() if v is not None}


def _nudge(request: CopyRequest, ctx: Context, *, plain: bool = False) -> dict[str, str]:
    book = phrases(request.locale)
    out = {}
    for surface in surfaces("nudge"):
        candidates = book[f"{request.action}.{surface.name}"]
        out[surface.name] = _fill(candidates, ctx, surface.max_chars, plain=plain)
    return out


def _highlights(request: CopyRequest, ctx: Context) -> dict[str, str]:
    facts, book = request.facts, phrases(request.locale)
    listing = facts.listing
    assert listing is not None
    buyer = facts.buyer
    shipping: list[str | None] = []
    if listing.free_shipping:
        shipping.append(_fill(book["hl.free_shipping"], ctx, 60))
    elif ctx["shipping"] is not None:
        shipping.append(_fill(book["hl.shipping"], ctx, 60))
    shipping.append(ctx["days"])
    bullets: dict[str, list[str | None]] = {
        "fit": [_fill(book["hl.fit"], ctx, 60) if ctx["category"] else None],
        "material": [_fill(book["hl.material"], ctx, 60) if ctx["material"] else None],
        "rating": [_fill(book["hl.rating"], ctx, 60) if ctx["rating"] else None],
        "shipping": shipping,
        "left": [ctx["hl_left"]],
        "price": [_fill(book["hl.price"], ctx, 60)],
        "color": [_fill(book["hl.color"], ctx, 60) if ctx["color"] else None],
    }
    order = ["fit", "material", "rating", "shipping", "left", "price", "color"]
    if buyer is not None and buyer.new_buyer:
        order = ["fit", "rating", "material", "shipping", "left", "price", "color"]
    if buyer is not None and buyer.price_sensitive:
        order = ["fit", "shipping", "price", "material", "rating", "left", "color"]
    chosen = [b for key in order for b in bullets[key] if b]
    return {f"bullet_{i + 1}": _capitalize(text) for i, text in enumerate(chosen[:3])}


def _review_summary(request: CopyRequest) -> dict[str, str]:
    reviews, locale = request.facts.reviews, request.locale
    assert reviews is not None

    def names(slugs: tuple[str, ...], k: int) -> str | None:
        known = [n for s in slugs[:k] if (n := name(ASPECT_NAMES, s, locale)) is not None]
        return join(known, locale) if known else None

    ctx: Context = {
        "liked": names(reviews.liked, 3),
        "disliked": names(reviews.disliked, 2),
        "rating": rating(reviews.rating, locale),
        "reviews": _plural(locale, "reviews", reviews.review_count),
    }
    return {"summary": _fill(phrases(locale)["rs.summary"], ctx, 240)}


def _search_rewrite(request: CopyRequest) -> dict[str, str]:
    locale, query = request.locale, request.facts.query or ""
    clean = " ".join(re.sub(r"[^\w\s'-]", " ", query).split())[:80].strip()
    lang = lang_of(locale)
    folded = clean.casefold()
    match = None
    for slug, names in sorted(PRODUCT_TYPES.items(), key=lambda kv: -len(kv[1][lang])):
        if names[lang].casefold() in folded:
            match = slug
            break
    if not safe_seller_text(query):  # the buyer's text is data: keep only what is safe
        noun = name(PRODUCT_TYPES, match, locale)
        words = [w for w in clean.split()[:3] if safe_seller_text(w)]
        clean = noun or " ".join(words[:1])
        folded = clean.casefold()
    out = {"query": clean}
    if match is None:
        return out
    book = phrases(locale)
    ctx: Context = {
        "noun": name(PRODUCT_TYPES, match, locale),
        "material": name(MATERIALS, PRODUCT_MATERIAL.get(match), locale),
    }
    expansions = [
        _fill(book["sq.material"], ctx, 80) if ctx["material"] else None,
        _fill(book["sq.handmade"], ctx, 80),
        name(CATEGORY_NAMES, PRODUCT_CATEGORY[match], locale),
    ]
    kept = [e for e in expansions if e and e.casefold() != folded]
    out["query"] = clean
    for i, text in enumerate(kept[:3]):
        out[f"expansion_{i + 1}"] = text if lang == "de" else text[:1].lower() + text[1:]
    return out


def _translation(request: CopyRequest, ctx: Context) -> dict[str, str]:
    return {"title": _fill(phrases(request.locale)["tr.title"], ctx, 140)}


def render(request: CopyRequest, *, plain: bool = False) -> dict[str, str]:
    """Template copy for ``request``: text per surface, within every length limit.

    ``plain=True`` takes the most generic wording of every nudge surface (fewest facts named):
    a second, equally grounded style, e.g. for an experiment arm or as more valid copy to test
    the guards on.

    Example:
        >>> from marketlift.copy.facts import ActionTerms, Facts, ListingFacts, Money
        >>> listing = ListingFacts("l1", "Oak bowl", "vase", Money(900, "USD"),
        ...                        title_language="en")
        >>> request = CopyRequest("nudge", "en-US", Facts(listing=listing,
        ...                       terms=ActionTerms("free_shipping")))
        >>> render(request)["banner"], render(request, plain=True)["banner"]
        ('Free shipping on “Oak bowl”', 'Free shipping on this item')
    """
    ctx = _context(request.facts, request.locale)
    renderers: dict[str, Callable[[], dict[str, str]]] = {
        "nudge": lambda: _nudge(request, ctx, plain=plain),
        "highlights": lambda: _highlights(request, ctx),
        "review_summary": lambda: _review_summary(request),
        "search_rewrite": lambda: _search_rewrite(request),
        "translation": lambda: _translation(request, ctx),
    }
    return renderers[request.touchpoint]()


class TemplateProvider:
    """The offline default provider (see the module docstring).

    Args:
        plain: Write the plain style (prompt version ``tpl-1-plain``), e.g. for an A/B arm.

    Example:
        >>> TemplateProvider().name, TemplateProvider().model, TemplateProvider().prompt_version
        ('template', 'template', 'tpl-1')
        >>> TemplateProvider(plain=True).prompt_version
        'tpl-1-plain'
    """

    name: Final = "template"
    model: Final = "template"

    def __init__(self, *, plain: bool = False) -> None:
        self.plain = plain
        self.prompt_version = TEMPLATE_PLAIN_VERSION if plain else TEMPLATE_VERSION

    def render(self, request: CopyRequest) -> dict[str, str]:
        """Text per surface (synchronous; the decision API's fallback)."""
        return render(request, plain=self.plain)

    async def generate(self, request: CopyRequest) -> Draft:
        """The :class:`~marketlift.copy.providers.Provider` interface."""
        start = time.perf_counter()
        parts = render(request, plain=self.plain)
        return Draft(parts, self.name, self.model, latency_s=time.perf_counter() - start)
