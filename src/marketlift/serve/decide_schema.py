"""The body of ``POST /v1/decide`` and of its answer, with their limits.

Requests are decoded and validated by msgspec in one pass (unknown fields are refused, so a
typo never passes silently); :func:`decode_decide` turns a failure into a
:class:`~marketlift.events.validate.FieldError` that names the field, the value and what was
expected.

Limits (documented in ``docs/decide.md``): at most :data:`MAX_CANDIDATES` candidates, a ``limit``
of 1 to :data:`MAX_LIMIT`, a cart of at most :data:`MAX_CART` listings, a query of at most 512
characters, a body of at most :data:`MAX_DECIDE_BODY` bytes nested at most
:data:`~marketlift.events.scan.MAX_DEPTH` levels deep.

Example:
    >>> req = decode_decide(b'{"buyer_id": "b1", "surface": "home", "platform": "web"}')
    >>> req.limit, req.locale
    (20, 'en-US')
    >>> decode_decide(b'{"buyer_id": "b1", "surface": "checkout", "platform": "web"}').field
    'surface'
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from marketlift.events.scan import MAX_DEPTH
from marketlift.events.schema import Country, Id, Locale
from marketlift.events.validate import FieldError, explain_decode_error, too_deep

__all__ = [
    "MAX_CANDIDATES",
    "MAX_CART",
    "MAX_DECIDE_BODY",
    "MAX_LIMIT",
    "SURFACES",
    "DecideContext",
    "DecideRequest",
    "DecideResponse",
    "EngagementOut",
    "ListingOut",
    "decode_decide",
]

MAX_CANDIDATES: Final = 1000
"""Most candidate listings one request may send."""
MAX_LIMIT: Final = 100
"""Most listings one answer may hold."""
MAX_CART: Final = 200
"""Most listings in ``context.cart``."""
MAX_DECIDE_BODY: Final = 256 * 1024
"""Most bytes of a request body (1,000 candidates of 128-character ids fit)."""
SURFACES: Final = ("home", "search", "listing", "cart", "push")
"""Where a decision is shown."""

Surface = Literal["home", "search", "listing", "cart", "push"]


class DecideContext(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What the page shows: the current listing, the query, the cart, recently viewed listings.

    ``recent`` lists the session's viewed listings, most recent last (at most 50): the ranker
    generates candidates from them. ``channels`` lists the message channels the buyer can be
    reached on now (push permission granted, email opted in); omitted, every channel is
    allowed, and the caller must drop a message it cannot send.
    """

    listing_id: Id | None = None
    query: Annotated[str, Meta(max_length=512)] | None = None
    cart: Annotated[list[Id], Meta(max_length=MAX_CART)] = []
    recent: Annotated[list[Id], Meta(max_length=50)] = []
    channels: Annotated[list[Literal["push", "email"]], Meta(max_length=2)] | None = None


class DecideRequest(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One product view asking what to show and whether to engage.

    Attributes:
        surface: Where the answer is shown.
        platform: ``web``, ``ios`` or ``android``.
        buyer_id: The signed-in buyer; ``buyer_id`` and/or ``anonymous_id``.
        anonymous_id: The device or cookie id.
        session_id: The client's session.
        locale: The buyer's language (copy is written in it; default ``en-US``).
        country: ISO 3166-1 alpha-2 country, for experiment targeting.
        context: The current listing, query and cart.
        candidates: Listings to rank; none: marketlift generates candidates.
        limit: How many listings to answer (1 to 100).
    """

    surface: Surface
    platform: Literal["web", "ios", "android"]
    buyer_id: Id | None = None
    anonymous_id: Id | None = None
    session_id: Id | None = None
    locale: Locale = "en-US"
    country: Country | None = None
    context: DecideContext = DecideContext()
    candidates: Annotated[list[Id], Meta(max_length=MAX_CANDIDATES)] | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT)] = 20

    def __post_init__(self) -> None:
        """At least one unit id is needed."""
        if self.buyer_id is None and self.anonymous_id is None:
            msg = "buyer_id or anonymous_id is required, both are missing"
            raise ValueError(msg)

    @property
    def unit(self) -> str:
        """The id features and decisions are keyed by (the buyer, else the device)."""
        return self.buyer_id or self.anonymous_id or ""


class ListingOut(msgspec.Struct, frozen=True):
    """One ranked listing with its score and why it was chosen."""

    listing_id: str
    score: float
    reason: str


class EngagementOut(msgspec.Struct, frozen=True):
    """The engagement to show: action, channel, copy in the buyer's locale, propensity."""

    action: str
    channel: str | None
    propensity: float
    touchpoint: str
    copy: dict[str, str]
    copy_status: str


class DecideResponse(msgspec.Struct, frozen=True):
    """The answer of ``POST /v1/decide``."""

    decision_id: str
    listings: list[ListingOut]
    engagement: EngagementOut | None
    assignments: list[dict[str, str]]
    models: dict[str, str | None]
    degraded: bool
    degraded_reasons: list[str]
    timings_ms: dict[str, float]


_DECODER: Final = msgspec.json.Decoder(DecideRequest)


def decode_decide(body: bytes) -> DecideRequest | FieldError:
    """Decode and validate a request body, or explain what is wrong with it."""
    try:
        return _DECODER.decode(body)
    except (msgspec.DecodeError, RecursionError) as exc:
        return too_deep(body, MAX_DEPTH) or explain_decode_error(exc, body)


def example_request() -> dict[str, Any]:
    """A request for the OpenAPI document."""
    return {
        "buyer_id": "b0000042",
        "session_id": "s-7f3a",
        "surface": "listing",
        "platform": "web",
        "locale": "de-DE",
        "context": {"listing_id": "l000123", "cart": ["l000077"]},
        "limit": 10,
    }


def example_response() -> dict[str, Any]:
    """An answer for the OpenAPI document."""
    return {
        "decision_id": "d-5b2c1e0f9a8d4c3b",
        "listings": [
            {"listing_id": "l000456", "score": 2.31, "reason": "covisited"},
            {"listing_id": "l000789", "score": 1.87, "reason": "similar"},
        ],
        "engagement": {
            "action": "free_shipping",
            "channel": "onsite",
            "propensity": 0.62,
            "touchpoint": "nudge",
            "copy": {"banner": "Kostenloser Versand für deine Leinen-Kissen"},
            "copy_status": "hit",
        },
        "assignments": [
            {"experiment_key": "decide", "variant": "treatment", "unit": "buyer_id"},
        ],
        "models": {"ranker": "v0003", "intent": "v0002", "policy": "engagement.pkl@1764150000"},
        "degraded": False,
        "degraded_reasons": [],
        "timings_ms": {"assign": 0.02, "features": 0.4, "candidates": 0.6, "score": 0.3,
                       "engage": 0.05, "copy": 0.03, "total": 1.5},
    }  # fmt: skip
