"""Feature definitions, written once: a name, a type, one SQL expression and a description.

Each entity's features are computed from a *spine*, a view of rows ``(sp_id, <entity key>,
cutoff_us)``: every feature of a row uses only events with ``ts < cutoff`` (strictly before;
timestamps are whole microseconds). The same definitions run on DuckDB and Spark SQL
(:mod:`marketlift.features.dialect` spells the few functions that differ) and are mirrored
event by event by the stream updater (:mod:`marketlift.features.stream`).

Example:
    >>> [f.name for f in BUYER_FEATURES][:3]
    ['b_n_events', 'b_n_sessions', 'b_n_purchases']
    >>> feature_names("listing")[:2]
    ['l_views', 'l_add_to_carts']
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal

from marketlift.errors import ConfigError

__all__ = [
    "BUYER_FEATURES",
    "LISTING_FEATURES",
    "SESSION_FEATURES",
    "Feature",
    "feature_names",
    "features_of",
    "lit",
    "select_list",
]

DType = Literal["int", "float", "str"]
_SQL_TYPES: Final = {"int": "BIGINT", "float": "DOUBLE", "str": "STRING"}
DAY_US: Final = "CAST(86400000000 AS DOUBLE)"
HOUR_US: Final = "CAST(3600000000 AS DOUBLE)"
SECOND_US: Final = "CAST(1000000 AS DOUBLE)"


@dataclasses.dataclass(frozen=True, slots=True)
class Feature:
    """One output column of a feature table.

    Attributes:
        name: Column name (prefix ``b_`` buyer, ``s_`` in-session, ``l_`` listing).
        dtype: ``int``, ``float`` or ``str``.
        expr: SQL over the columns of the entity's final query (see the entity module).
        doc: What it means, in one line.
    """

    name: str
    dtype: DType
    expr: str
    doc: str


def lit(value: float) -> str:
    """A double literal both engines read the same way.

    Example:
        >>> lit(0.75)
        'CAST(0.75 AS DOUBLE)'
    """
    return f"CAST({float(value)!r} AS DOUBLE)"


BUYER_FEATURES: Final = (
    Feature("b_n_events", "int", "COALESCE(b.n_events, 0)", "events before the cut-off"),
    Feature("b_n_sessions", "int", "COALESCE(n.n_sessions, 0)", "sessions started before it"),
    Feature("b_n_purchases", "int", "COALESCE(b.n_purchases, 0)", "orders (frequency)"),
    Feature("b_revenue", "float", "COALESCE(b.revenue, 0.0)", "sum of order revenue (monetary)"),
    Feature(
        "b_days_since_last_event",
        "float",
        f"CAST(s.cutoff_us - b.last_us AS DOUBLE) / {DAY_US}",
        "recency of any event in days (NULL: never seen)",
    ),
    Feature(
        "b_days_since_last_purchase",
        "float",
        f"CAST(s.cutoff_us - b.last_purchase_us AS DOUBLE) / {DAY_US}",
        "recency of the last order in days (NULL: never bought)",
    ),
    Feature("b_n_views", "int", "COALESCE(b.n_views, 0)", "listing views"),
    Feature("b_n_favorites", "int", "COALESCE(b.n_favorites, 0)", "favorites"),
    Feature(
        "b_cart_items",
        "int",
        "COALESCE(c.cart_items, 0)",
        "quantity added minus removed since the last order",
    ),
    Feature(
        "b_cart_value",
        "float",
        "COALESCE(c.cart_value, 0.0)",
        "price x quantity of adds since the last order (display currency)",
    ),
    Feature(
        "b_cart_age_hours",
        "float",
        f"CAST(s.cutoff_us - c.first_add_us AS DOUBLE) / {HOUR_US}",
        "hours since the first add since the last order (NULL: none)",
    ),
    Feature("b_n_shown", "int", "COALESCE(b.n_shown, 0)", "engagements shown"),
    Feature("b_n_clicked", "int", "COALESCE(b.n_clicked, 0)", "engagements clicked"),
    Feature(
        "b_click_rate",
        "float",
        "(COALESCE(b.n_clicked, 0) + 1.0) / (COALESCE(b.n_shown, 0) + 2.0)",
        "Laplace-smoothed engagement click rate",
    ),
    Feature(
        "b_fatigue",
        "float",
        "COALESCE(f.fatigue, 0.0)",
        "decayed sum of engagements shown in the fatigue window (push/email 1, onsite 0.25)",
    ),
    Feature("b_locale", "str", "l.locale", "locale of the last event"),
    Feature("b_platform", "str", "l.platform", "platform of the last event"),
    Feature("b_top_category", "str", "k.category", "most viewed category (catalog needed)"),
    Feature(
        "b_top_category_share",
        "float",
        "CAST(k.n AS DOUBLE) / CAST(k.total AS DOUBLE)",
        "share of categorized views in the top category",
    ),
)

SESSION_FEATURES: Final = (
    Feature("s_events", "int", "COALESCE(a.n_events, 0)", "events so far in the live session"),
    Feature(
        "s_dwell_s",
        "float",
        f"COALESCE(CAST(s.cutoff_us - a.start_us AS DOUBLE) / {SECOND_US}, 0.0)",
        "seconds since the live session started (0: no live session)",
    ),
    Feature(
        "s_since_last_event_s",
        "float",
        f"CAST(s.cutoff_us - u.last_us AS DOUBLE) / {SECOND_US}",
        "seconds since the buyer's last event (NULL: never seen)",
    ),
    Feature("s_views", "int", "COALESCE(a.n_views, 0)", "listing views in the session"),
    Feature("s_distinct_listings", "int", "COALESCE(a.n_listings, 0)", "distinct listings viewed"),
    Feature("s_price_min", "float", "a.price_min", "lowest price viewed"),
    Feature("s_price_max", "float", "a.price_max", "highest price viewed"),
    Feature("s_cart_items", "int", "COALESCE(a.cart_items, 0)", "quantity added minus removed"),
    Feature(
        "s_max_stage",
        "int",
        "COALESCE(a.max_stage, 0)",
        "deepest funnel stage: 1 view, 2 favorite, 3 cart, 4 checkout, 5 purchase",
    ),
    Feature(
        "s_last_stage",
        "int",
        "COALESCE(a.last_stage, 0)",
        "stage of the latest funnel event (with s_max_stage: the intent trajectory)",
    ),
)

LISTING_FEATURES: Final = (
    Feature("l_views", "int", "COALESCE(v.views, 0)", "views before the cut-off"),
    Feature("l_add_to_carts", "int", "COALESCE(v.adds, 0)", "add-to-carts"),
    Feature("l_purchases", "int", "COALESCE(p.purchases, 0)", "order lines"),
    Feature("l_favorites", "int", "COALESCE(v.favorites, 0)", "favorites"),
    Feature("l_add_to_cart_rate", "float", "@atc", "smoothed add-to-cart rate per view"),
    Feature("l_conversion_rate", "float", "@conv", "smoothed purchase rate per view"),
    Feature(
        "l_days_since_first_seen",
        "float",
        f"CAST(s.cutoff_us - LEAST(v.first_us, p.first_us) AS DOUBLE) / {DAY_US}",
        "freshness: days since its first event (NULL: never seen)",
    ),
    Feature("l_category", "str", "c.category", "catalog category"),
    Feature("l_price", "float", "COALESCE(c.price, v.last_price)", "catalog or last seen price"),
    Feature(
        "l_price_pct_in_category",
        "float",
        "c.price_pct",
        "percent rank of the catalog price within its category",
    ),
    Feature("l_review_count", "int", "c.review_count", "catalog review count"),
    Feature("l_rating", "float", "c.rating", "catalog mean rating"),
    Feature("l_rating_smoothed", "float", "@rating", "rating shrunk towards the prior"),
)

_BY_ENTITY: Final = {
    "buyer": BUYER_FEATURES,
    "session": SESSION_FEATURES,
    "listing": LISTING_FEATURES,
}


def features_of(entity: str) -> tuple[Feature, ...]:
    """The features of ``buyer``, ``session`` or ``listing``."""
    try:
        return _BY_ENTITY[entity]
    except KeyError:
        raise ConfigError("entity", entity, "'buyer', 'session' or 'listing'") from None


def feature_names(entity: str) -> list[str]:
    """Column names of an entity's features, in table order."""
    return [f.name for f in features_of(entity)]


def select_list(features: tuple[Feature, ...], substitutions: dict[str, str]) -> str:
    """The final SELECT items: every expression cast to its type and named.

    Example:
        >>> select_list((Feature("x", "int", "@n", ""),), {"@n": "n + 1"})
        'CAST(n + 1 AS BIGINT) AS x'
    """
    items = []
    for f in features:
        expr = f.expr
        for key, value in substitutions.items():
            expr = expr.replace(key, value)
        items.append(f"CAST({expr} AS {_SQL_TYPES[f.dtype]}) AS {f.name}")
    return ", ".join(items)
