"""Realistic sample events for docs, smoke tests and the ingestion benchmark.

This is a small, seeded generator of plausible buyer journeys (page views, searches, listing
views, carts, purchases, impressions, engagement, exposures), not the simulator
(:mod:`marketlift.sim` has the world with known ground truth).

Example:
    >>> events = sample_events(20, random_state=7)
    >>> len(events), all(e["schema_version"] == 1 for e in events)
    (20, True)
    >>> sample_events(5, random_state=7) == sample_events(5, random_state=7)
    True
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any, Final

__all__ = ["sample_events"]

_LOCALES: Final = (
    ("en-US", "USD", "US"),
    ("en-GB", "GBP", "GB"),
    ("de-DE", "EUR", "DE"),
    ("fr-FR", "EUR", "FR"),
    ("ja-JP", "JPY", "JP"),
)
_QUERIES: Final = ("ceramic mug", "vintage lamp", "linen scarf", "silver ring", "wool blanket")
_SURFACES: Final = ("home", "search", "listing", "cart")
_ACTIONS: Final = ("cart_reminder", "free_shipping_banner", "similar_items", "review_highlight")
_WEIGHTS: Final = (
    ("page_view", 20),
    ("search", 10),
    ("listing_view", 30),
    ("impression", 15),
    ("favorite", 4),
    ("add_to_cart", 6),
    ("remove_from_cart", 1),
    ("checkout_start", 3),
    ("purchase", 2),
    ("engagement_shown", 4),
    ("engagement_clicked", 1),
    ("engagement_dismissed", 1),
    ("decision", 2),
    ("exposure", 1),
)


def sample_events(
    n: int,
    *,
    random_state: int = 0,
    start: dt.datetime | None = None,
    buyers: int = 1000,
) -> list[dict[str, Any]]:
    """Return ``n`` valid schema-v1 events as JSON-ready dicts.

    Args:
        n: Number of events.
        random_state: Seed; the same seed gives the same events.
        start: Time of the first event (events spread over the hour that follows); an hour
            ago when ``None``.
        buyers: Number of distinct buyers to spread events over.
    """
    rng = random.Random(random_state)  # noqa: S311 - sample data, not security
    start = start or dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    kinds = [k for k, _ in _WEIGHTS]
    weights = [w for _, w in _WEIGHTS]
    chosen = rng.choices(kinds, weights=weights, k=n)
    step = 3600.0 / max(n, 1)
    return [_event(kind, i, rng, start, step) for i, kind in enumerate(chosen)]


def _money(rng: random.Random, currency: str) -> dict[str, str]:
    value = rng.lognormvariate(3.2, 0.7)
    amount = f"{round(value * 150)}" if currency == "JPY" else f"{value:.2f}"
    return {"amount": amount, "currency": currency}


def _event(
    kind: str, i: int, rng: random.Random, start: dt.datetime, step: float
) -> dict[str, Any]:
    buyer = rng.randrange(1000)
    locale, currency, country = _LOCALES[buyer % len(_LOCALES)]
    ts = start + dt.timedelta(seconds=(i + rng.random()) * step)
    event: dict[str, Any] = {
        "type": kind,
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "schema_version": 1,
        "ts": ts.isoformat().replace("+00:00", "Z"),
        "anonymous_id": f"anon-{buyer:05d}",
        "session_id": f"s-{buyer:05d}-{i // 200}",
        "platform": ("web", "ios", "android")[buyer % 3],
        "app_version": "5.2.0",
        "locale": locale,
        "currency": currency,
        "country": country,
    }
    if buyer % 2 == 0:
        event["buyer_id"] = f"b-{buyer:05d}"
    listing = f"L-{int(rng.paretovariate(1.2)) % 5000:05d}"
    if kind == "page_view":
        event["url"] = f"https://shop.example/{rng.choice(_SURFACES)}"
        event["properties"] = {"referrer_kind": rng.choice(("direct", "search", "social"))}
    elif kind == "search":
        event["query"] = rng.choice(_QUERIES)
        event["results_count"] = rng.randrange(0, 500)
    elif kind in ("listing_view", "add_to_cart"):
        event["listing_id"] = listing
        event["price"] = _money(rng, currency)
        if kind == "listing_view":
            event["surface"] = rng.choice(_SURFACES)
            event["position"] = rng.randrange(0, 48)
    elif kind in ("favorite", "remove_from_cart"):
        event["listing_id"] = listing
    elif kind == "checkout_start":
        event["cart_value"] = _money(rng, currency)
        event["item_count"] = rng.randrange(1, 5)
    elif kind == "purchase":
        price = _money(rng, currency)
        quantity = rng.randrange(1, 3)
        total = (
            int(price["amount"]) * quantity
            if currency == "JPY"
            else float(price["amount"]) * quantity
        )
        event["order_id"] = f"O-{i:08d}"
        event["line_items"] = [{"listing_id": listing, "quantity": quantity, "unit_price": price}]
        amount = str(total) if currency == "JPY" else f"{total:.2f}"
        event["revenue"] = {"amount": amount, "currency": currency}
    elif kind == "impression":
        event["surface"] = rng.choice(_SURFACES)
        event["listings"] = [
            {"listing_id": f"L-{rng.randrange(5000):05d}", "position": p} for p in range(12)
        ]
    elif kind.startswith("engagement_"):
        event["action"] = rng.choice(_ACTIONS)
        event["channel"] = rng.choice(("push", "email", "in_app", "onsite"))
        event["decision_id"] = f"d-{rng.randrange(10**9)}"
        event["propensity"] = round(rng.uniform(0.05, 1.0), 4)
    elif kind == "decision":
        event["decision_id"] = f"d-{rng.randrange(10**9)}"
        event["surface"] = rng.choice(_SURFACES)
        event["propensity"] = round(rng.uniform(0.05, 1.0), 4)
        event["action"] = rng.choice(_ACTIONS)
        event["channel"] = "onsite"
    elif kind == "exposure":
        event["experiment_key"] = "ranking_v2"
        event["variant"] = rng.choice(("control", "treatment"))
    return event
