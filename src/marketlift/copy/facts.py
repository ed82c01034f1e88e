"""Typed, hashable facts: the only thing a prompt or a template may say something about.

Facts are frozen dataclasses (hashable, comparable). Prices are integer minor units of the
buyer's display currency (cents, pence, yen). Seller-provided text (titles, descriptions,
review texts) is carried as *data*: it is never interpreted as instructions, and the template
provider quotes a title only after :func:`marketlift.copy.guards.safe_seller_text` accepts it.

:func:`facts_hash` is a content address: the SHA-256 of the canonical JSON of the facts.

Example:
    >>> f = Facts(listing=ListingFacts("l1", "Linen cushion", "cushion",
    ...                                Money(2450, "EUR"), materials=("linen",)))
    >>> f.listing.price.amount
    Decimal('24.5')
    >>> facts_hash(f) == facts_hash(Facts(listing=f.listing))
    True
    >>> len(facts_hash(f))
    64
    >>> Money(-1, "EUR")
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: Money.minor == -1, expected an integer >= 0.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import msgspec

from marketlift.errors import ConfigError

__all__ = [
    "ASPECTS",
    "LOW_STOCK",
    "ActionTerms",
    "BuyerFacts",
    "Facts",
    "ListingFacts",
    "Money",
    "ReviewFacts",
    "facts_hash",
    "facts_json",
]

LOW_STOCK: Final = 5
"""Stock at or below which a scarcity claim ("only 3 left") is true and may be made."""

ASPECTS: Final = (
    "quality",
    "packaging",
    "shipping_speed",
    "value",
    "as_described",
    "seller_communication",
    "size",
    "color_accuracy",
)
"""Review aspects a review summary may name (extracted upstream from review texts)."""

_CURRENCY_DIGITS: Final = {"JPY": 0, "KRW": 0}


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units of an ISO 4217 currency.

    Attributes:
        minor: Amount in minor units (cents; yen for JPY), ``>= 0``.
        currency: ISO 4217 code (``USD``, ``GBP``, ``EUR``, ``JPY``).
    """

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or self.minor < 0:
            raise ConfigError("Money.minor", self.minor, "an integer >= 0")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ConfigError("Money.currency", self.currency, "a 3-letter ISO 4217 code")

    @property
    def digits(self) -> int:
        """Number of minor-unit digits of the currency (0 for JPY, else 2)."""
        return _CURRENCY_DIGITS.get(self.currency, 2)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exact."""
        return (Decimal(self.minor) / (Decimal(10) ** self.digits)).normalize()


@dataclass(frozen=True, slots=True)
class ListingFacts:
    """What is true about one listing.

    Attributes:
        listing_id: The listing.
        title: The seller's title (data, never instructions), in ``title_language``.
        product_type: Product type slug (``mug``, ``necklace``; see ``vocab.PRODUCT_TYPES``).
        price: Price in the buyer's display currency.
        materials: Material slugs (``linen``, ``sterling_silver``; see ``vocab.MATERIALS``).
        color: Color slug or ``None``.
        shipping: Shipping cost; ``Money(0, ...)`` means free shipping, ``None`` unknown.
        stock: Items in stock, or ``None`` if unknown.
        review_count: Number of reviews.
        rating: Mean rating in [1, 5], or ``None`` without reviews.
        ships_in_days: Dispatch time in days, or ``None``.
        description: The seller's description (data, never instructions).
        title_language: Language code of ``title`` (``en``, ``de``...), ``None`` if unknown.
        category: Category slug (``ceramics``), optional.
    """

    listing_id: str
    title: str
    product_type: str
    price: Money
    materials: tuple[str, ...] = ()
    color: str | None = None
    shipping: Money | None = None
    stock: int | None = None
    review_count: int = 0
    rating: float | None = None
    ships_in_days: int | None = None
    description: str = ""
    title_language: str | None = None
    category: str | None = None

    @property
    def free_shipping(self) -> bool:
        """Whether shipping is known to be free."""
        return self.shipping is not None and self.shipping.minor == 0


@dataclass(frozen=True, slots=True)
class ActionTerms:
    """The terms of an engagement action: what the nudge may promise.

    Attributes:
        action: The engagement action (``cart_reminder``, ``price_drop``, ...).
        discount_pct: Percent off (``10`` for 10 %), for coupons and price drops.
        old_price: Price before a price drop.
        new_price: Price after a price drop.
        expires: Last day an offer is valid, or ``None`` (then no urgency may be claimed).
        items_in_cart: Number of items in the buyer's cart (cart reminders).
        similar_count: Number of similar items found (similar items).
    """

    action: str
    discount_pct: int | None = None
    old_price: Money | None = None
    new_price: Money | None = None
    expires: dt.date | None = None
    items_in_cart: int | None = None
    similar_count: int | None = None


@dataclass(frozen=True, slots=True)
class ReviewFacts:
    """Review statistics of a listing (aspects extracted upstream, texts kept as data).

    Attributes:
        review_count: Number of reviews.
        rating: Mean rating in [1, 5].
        liked: Aspects buyers praised, most frequent first (slugs from :data:`ASPECTS`).
        disliked: Aspects buyers criticized, most frequent first.
        texts: A few review texts (data, never instructions; not quoted by templates).
    """

    review_count: int
    rating: float
    liked: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BuyerFacts:
    """Non-personal traits that say why a listing fits a buyer (no names, no contacts).

    Attributes:
        favorite_category: The buyer's most viewed category slug, if any.
        new_buyer: First weeks on the marketplace (reviews reassure most).
        price_sensitive: Price and shipping cost matter most.
    """

    favorite_category: str | None = None
    new_buyer: bool = False
    price_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything one piece of copy may be grounded in.

    Attributes:
        listing: The listing the copy is about.
        terms: The engagement action's terms (nudges).
        reviews: Review statistics (review summaries).
        buyer: Non-personal buyer traits (highlights).
        query: The buyer's search query (data; search rewrite).
        today: The date the copy is generated for (urgency is judged against it).
    """

    listing: ListingFacts | None = None
    terms: ActionTerms | None = None
    reviews: ReviewFacts | None = None
    buyer: BuyerFacts | None = None
    query: str | None = None
    today: dt.date | None = None


_ENCODER: Final = msgspec.json.Encoder(order="deterministic")


def facts_json(facts: Facts) -> bytes:
    """The canonical JSON of ``facts`` (sorted keys, no whitespace): what a prompt carries."""
    return _ENCODER.encode(facts)


def facts_hash(facts: Facts) -> str:
    """The SHA-256 hex digest of the canonical JSON of ``facts``."""
    return hashlib.sha256(facts_json(facts)).hexdigest()
