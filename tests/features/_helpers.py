"""Hand-written events and the simulator's catalog for the feature tests."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.events import Event
from marketlift.events.table import events_to_arrow
from marketlift.lake import LakeWriter
from marketlift.sim import read_truth

T0 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
_ids = itertools.count()


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def sim_catalog(data: Path) -> pa.Table:
    listings = read_truth(data, "sim_listings")
    return pa.table(
        {
            "listing_id": listings.column("listing_id"),
            "category": listings.column("category"),
            "price": pc.divide(pc.cast(listings.column("price_usd_cents"), pa.float64()), 100.0),
            "review_count": listings.column("review_count"),
            "rating": listings.column("rating"),
        }
    )


def event(
    kind: str, minutes: float | dt.datetime, buyer: str | None = "b1", **fields: Any
) -> dict[str, Any]:
    """A valid wire event ``minutes`` after T0 (or at a given time)."""
    when = minutes if isinstance(minutes, dt.datetime) else at(minutes)
    doc: dict[str, Any] = {
        "type": kind,
        "event_id": f"e{next(_ids):08d}",
        "schema_version": 1,
        "ts": when.isoformat().replace("+00:00", "Z"),
        "platform": fields.pop("platform", "web"),
    }
    if buyer is not None:
        doc["buyer_id"] = buyer
    doc.update(fields)
    return doc


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def events_table(events: list[dict[str, Any]]) -> pa.Table:
    """Wire events, validated, as a lake table (received 30 days after T0)."""
    decoded = msgspec.json.decode(msgspec.json.encode(events), type=list[Event])
    return events_to_arrow(decoded, received_at=T0 + dt.timedelta(days=30))


def append_events(data: Path, events: list[dict[str, Any]]) -> None:
    """Append wire events to a lake through the lake's writer."""
    with LakeWriter(data) as writer:
        writer.append(events_table(events))


CATALOG = pa.table(
    {
        "listing_id": ["l1", "l2", "l3"],
        "category": ["a", "b", "a"],
        "price": [10.0, 30.0, 20.0],
        "review_count": [10, 0, 5],
        "rating": [5.0, None, 3.0],
    }
)


def story() -> list[dict[str, Any]]:
    """Buyer b1: a first session ending in a purchase, a second one 94 minutes later; an
    anonymous buyer d2 with one page view."""
    shown = {"decision_id": "d1", "propensity": 0.5}
    return [
        event("page_view", 0, locale="de-DE"),
        event(
            "impression",
            0.5,
            surface="search",
            listings=[
                {"listing_id": "l1", "position": 0},
                {"listing_id": "l2", "position": 1},
                {"listing_id": "l9", "position": 2},
            ],
        ),
        event("listing_view", 1, listing_id="l1", price=money("10.00")),
        event("listing_view", 2, listing_id="l2", price=money("30.00")),
        event("listing_view", 3, listing_id="l3", price=money("20.00")),
        event("add_to_cart", 4, listing_id="l1", quantity=2, price=money("10.00")),
        event(
            "decision",
            5,
            decision_id="d1",
            surface="onsite",
            propensity=0.5,
            action="discount_coupon",
            channel="in_app",
            properties={"moment": "browsing"},
        ),
        event("engagement_shown", 5.5, action="cart_reminder", channel="push", **shown),
        event(
            "purchase",
            6,
            order_id="o1",
            revenue=money("20.00"),
            line_items=[{"listing_id": "l1", "quantity": 2, "unit_price": money("10.00")}],
        ),
        event("listing_view", 100, listing_id="l2", price=money("30.00")),
        event("add_to_cart", 101, listing_id="l2", price=money("30.00")),
        event("engagement_shown", 102, action="similar_items", channel="onsite", **shown),
        event("engagement_clicked", 103, action="similar_items", channel="onsite", **shown),
        event(
            "decision",
            103.5,
            decision_id="d2",
            surface="onsite",
            propensity=0.25,
            action="none",
        ),
        event("favorite", 104, listing_id="l2", locale="fr-FR", platform="ios"),
        event("page_view", 50, buyer=None, anonymous_id="d2"),
    ]
