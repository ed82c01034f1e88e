"""Event schema v1: typed buyer-journey events as a msgspec tagged union on ``type``.

Every event carries the common fields of :class:`BaseEvent`; each subclass adds the fields of
its type. Money is always a :class:`Money` (a decimal string plus an ISO 4217 currency), never a
float, never negative. Length limits are part of the types, so the JSON Schema that mobile apps
validate against at build time states them too.

Example:
    >>> import msgspec
    >>> raw = b'''{"type": "page_view", "event_id": "e1", "schema_version": 1,
    ...   "ts": "2026-11-26T10:00:00Z", "anonymous_id": "a1", "platform": "web"}'''
    >>> event = msgspec.json.decode(raw, type=Event)
    >>> type(event).__name__, event.platform
    ('PageView', 'web')
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "AddToCart",
    "BaseEvent",
    "CheckoutStart",
    "Decision",
    "EngagementClicked",
    "EngagementDismissed",
    "EngagementShown",
    "Event",
    "Exposure",
    "Favorite",
    "Impression",
    "ImpressionItem",
    "LineItem",
    "ListingView",
    "Money",
    "PageView",
    "Purchase",
    "RemoveFromCart",
    "Search",
]

SCHEMA_VERSION: Final = 1

Id = Annotated[str, Meta(min_length=1, max_length=128)]
"""An identifier: 1 to 128 characters (no pattern: a regex per id field halves validation speed)."""
ShortText = Annotated[str, Meta(max_length=256)]
LongText = Annotated[str, Meta(max_length=2048)]
Locale = Annotated[str, Meta(pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$", max_length=35)]
"""A BCP 47 language tag such as ``en-US`` or ``ja``."""
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 currency code such as ``EUR``."""
Country = Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]
"""An ISO 3166-1 alpha-2 country code such as ``DE``."""
Amount = Annotated[str, Meta(pattern=r"^[0-9]{1,13}(\.[0-9]{1,6})?$")]
"""A non-negative decimal amount as a string, at most 13 integer and 6 fractional digits:
``"24.90"``. Prices, revenue and cart values are never negative; no field of schema v1 is a
refund or a discount (a signed amount would be its own type, named so)."""
Slug = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""A lower-case name such as an action or a surface: ``cart_reminder``."""
Propensity = Annotated[float, Meta(gt=0.0, le=1.0)]
Probability = Annotated[float, Meta(ge=0.0, le=1.0)]
Quantity = Annotated[int, Meta(ge=1, le=10_000)]
Position = Annotated[int, Meta(ge=0, le=10_000)]
PropertyValue = Annotated[str, Meta(max_length=1024)] | int | float | bool | None
Properties = Annotated[
    dict[Annotated[str, Meta(min_length=1, max_length=64)], PropertyValue],
    Meta(max_length=50),
]
Timestamp = Annotated[dt.datetime, Meta(tz=True)]
Platform = Literal["web", "ios", "android"]
Channel = Literal["push", "email", "in_app", "onsite"]


class Money(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An amount of money: a decimal string and its currency.

    Example:
        >>> Money(amount="24.90", currency="EUR").amount
        '24.90'
    """

    amount: Amount
    currency: Currency


class LineItem(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One line of an order."""

    listing_id: Id
    quantity: Quantity
    unit_price: Money


class ImpressionItem(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A listing shown on a surface at a position (0 is first)."""

    listing_id: Id
    position: Position


class BaseEvent(
    msgspec.Struct,
    tag_field="type",
    kw_only=True,
    forbid_unknown_fields=True,
    frozen=True,
):
    """The common fields of every event.

    Attributes:
        event_id: Made by the client; the idempotency key (a retried event is stored once).
        schema_version: Always ``1`` for this schema.
        ts: Client time, RFC 3339 with a time zone offset.
        buyer_id: Pseudonymous id of a signed-in buyer; ``buyer_id`` and/or ``anonymous_id``.
        anonymous_id: Device or cookie id of a buyer who may not be signed in.
        session_id: The client's session.
        platform: ``web``, ``ios`` or ``android``.
        app_version: Version of the app or site build.
        locale: BCP 47 tag of the buyer's language, such as ``de-DE``.
        currency: ISO 4217 code of the buyer's display currency.
        country: ISO 3166-1 alpha-2 code of the buyer's country.
        properties: Free-form extras: at most 50 keys of at most 64 characters, values are
            strings of at most 1024 characters, numbers, booleans or null.
    """

    event_id: Id
    schema_version: Literal[1]
    ts: Timestamp
    platform: Platform
    buyer_id: Id | None = None
    anonymous_id: Id | None = None
    session_id: Id | None = None
    app_version: Annotated[str, Meta(max_length=64)] | None = None
    locale: Locale | None = None
    currency: Currency | None = None
    country: Country | None = None
    properties: Properties | None = None

    def __post_init__(self) -> None:
        """Check the rules that span fields."""
        if self.buyer_id is None and self.anonymous_id is None:
            msg = "buyer_id or anonymous_id is required, both are missing"
            raise ValueError(msg)


class PageView(BaseEvent, tag="page_view", frozen=True):
    """A page or screen was shown. Needs nothing beyond the common fields."""

    url: LongText | None = None
    referrer: LongText | None = None
    surface: Slug | None = None


class Search(BaseEvent, tag="search", frozen=True):
    """The buyer searched."""

    query: Annotated[str, Meta(min_length=1, max_length=512)]
    results_count: Annotated[int, Meta(ge=0)] | None = None
    category: ShortText | None = None


class ListingView(BaseEvent, tag="listing_view", frozen=True):
    """The buyer opened a listing page."""

    listing_id: Id
    shop_id: Id | None = None
    price: Money | None = None
    surface: Slug | None = None
    position: Position | None = None
    decision_id: Id | None = None


class Favorite(BaseEvent, tag="favorite", frozen=True):
    """The buyer favorited a listing."""

    listing_id: Id


class AddToCart(BaseEvent, tag="add_to_cart", frozen=True):
    """The buyer added a listing to the cart."""

    listing_id: Id
    quantity: Quantity = 1
    price: Money | None = None


class RemoveFromCart(BaseEvent, tag="remove_from_cart", frozen=True):
    """The buyer removed a listing from the cart."""

    listing_id: Id
    quantity: Quantity = 1


class CheckoutStart(BaseEvent, tag="checkout_start", frozen=True):
    """The buyer started checkout."""

    cart_value: Money | None = None
    item_count: Annotated[int, Meta(ge=0, le=10_000)] | None = None


class Purchase(BaseEvent, tag="purchase", frozen=True):
    """An order was placed."""

    order_id: Id
    line_items: Annotated[list[LineItem], Meta(min_length=1, max_length=200)]
    revenue: Money


class Impression(BaseEvent, tag="impression", frozen=True):
    """Listings were shown on a surface, with their positions."""

    surface: Slug
    listings: Annotated[list[ImpressionItem], Meta(min_length=1, max_length=500)]
    decision_id: Id | None = None


class _Engagement(BaseEvent, frozen=True):
    """Fields shared by the engagement events."""

    action: Slug
    channel: Channel
    decision_id: Id


class EngagementShown(_Engagement, tag="engagement_shown", frozen=True):
    """An engagement (banner, push, email ...) was shown; carries the policy's propensity."""

    propensity: Propensity


class EngagementClicked(_Engagement, tag="engagement_clicked", frozen=True):
    """The buyer acted on an engagement."""

    propensity: Propensity | None = None


class EngagementDismissed(_Engagement, tag="engagement_dismissed", frozen=True):
    """The buyer dismissed an engagement."""

    propensity: Propensity | None = None


class Decision(BaseEvent, tag="decision", frozen=True):
    """The decision API answered; logged with the propensity of what it chose.

    ``propensity`` is the probability the serving policy had of choosing ``action`` (``none``
    included) under the masks of this request; ``eligible`` lists the actions it chose from
    (``none`` first) and ``probabilities`` their probabilities in the same order, so
    off-policy evaluation knows every eligible action's propensity. ``moment`` is the
    engagement catalog's moment the decision was made at. ``channel`` is the catalog's
    channel id (a lower-case name; marketplaces declare their own).
    """

    decision_id: Id
    surface: Slug
    propensity: Propensity
    action: Slug | None = None
    channel: Slug | None = None
    policy: ShortText | None = None
    listing_ids: Annotated[list[Id], Meta(max_length=500)] | None = None
    model_versions: Annotated[dict[Slug, ShortText], Meta(max_length=20)] | None = None
    moment: Slug | None = None
    eligible: Annotated[list[Slug], Meta(max_length=64)] | None = None
    probabilities: Annotated[list[Probability], Meta(max_length=64)] | None = None


class Exposure(BaseEvent, tag="exposure", frozen=True):
    """A unit was exposed to an experiment's variant."""

    experiment_key: Slug
    variant: Slug
    decision_id: Id | None = None


Event = (
    PageView
    | Search
    | ListingView
    | Favorite
    | AddToCart
    | RemoveFromCart
    | CheckoutStart
    | Purchase
    | Impression
    | EngagementShown
    | EngagementClicked
    | EngagementDismissed
    | Decision
    | Exposure
)
"""Any event of schema v1, told apart by its ``type`` field."""

EVENT_TYPES: Final[tuple[str, ...]] = (
    "page_view",
    "search",
    "listing_view",
    "favorite",
    "add_to_cart",
    "remove_from_cart",
    "checkout_start",
    "purchase",
    "impression",
    "engagement_shown",
    "engagement_clicked",
    "engagement_dismissed",
    "decision",
    "exposure",
)
