"""SQL of the shared base views and of the three entity feature queries over a spine.

Views, created in this order by :func:`marketlift.features.build.prepare`:

- ``fx_events``: one row per event with a buyer (``COALESCE(buyer_id, anonymous_id)``),
  ``ts_us`` (microseconds) and ``stage`` (funnel depth), in no order. "Last" means the
  largest ``(ts_us, event_id)``.
- ``fx_buckets``: one row per buyer and ``session_gap_s``-wide time bucket with events: its
  tile of aggregates (:func:`tiles_sql`, made as ``fx_tiles`` and dropped once numbered) and
  the ``session_no`` of its events (a new session starts when the gap to the buyer's
  previous event exceeds ``session_gap_s``; see :func:`buckets_sql`).
- ``fx_sessions``: one row per session (``buyer, session_no, start_us, end_us``, counts)
  over every event; the session of an event is the buyer's one with
  ``start_us <= ts_us <= end_us``.
- ``fx_items``: one row per purchase line item (``buyer, ts_us, listing_id, quantity``).
- ``fx_catalog``: ``listing_id, category, price, review_count, rating, price_pct`` and
  ``category_rank`` (1 for the first category name in sort order; empty when no catalog is
  given).

Entity queries read a spine view ``fx_spine_<entity>`` with ``sp_id``, the entity key and
``cutoff_us``, and return ``sp_id`` and the entity's features, computed only from events
with ``ts_us < cutoff_us``. A build (one cut-off for every entity) passes ``cutoff``: the
events are then filtered by time instead of joined to the spine.

Example:
    >>> from marketlift.features.dialect import DUCKDB
    >>> "epoch_us(ts)" in raw_events_sql(DUCKDB)
    True
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final

from marketlift.features.config import FeatureConfig
from marketlift.features.definitions import (
    BUYER_FEATURES,
    DAY_US,
    LISTING_FEATURES,
    SESSION_FEATURES,
    lit,
    select_list,
)
from marketlift.features.dialect import Dialect

__all__ = [
    "MAX_CATEGORIES",
    "STAGE_OF",
    "TILE_AGGREGATES",
    "buckets_sql",
    "buyer_features_sql",
    "catalog_sql",
    "event_sessions_sql",
    "items_sql",
    "listing_features_sql",
    "live_at",
    "raw_events_sql",
    "session_features_sql",
    "sessions_sql",
    "sessions_table_sql",
    "tiles_sql",
]

STAGE_OF = {
    "listing_view": 1,
    "favorite": 2,
    "add_to_cart": 3,
    "remove_from_cart": 3,
    "checkout_start": 4,
    "purchase": 5,
}
"""Funnel stage of an event type (every other type: 0)."""

_STAGE_SQL = (
    "CASE type " + " ".join(f"WHEN '{t}' THEN {s}" for t, s in STAGE_OF.items()) + " ELSE 0 END"
)


def raw_events_sql(dialect: Dialect, event_types: tuple[str, ...] | None = None) -> str:
    """Typed, narrowed events with a buyer key (the ``events`` view of the lake).

    ``event_types``: every ``type`` the lake holds, when known; ``type`` is then a
    categorical column on engines that have one (DuckDB: an ``ENUM``, one byte a row).
    """
    kind = "type" if event_types is None else dialect.categorical("type", event_types)
    return f"""
SELECT event_id, {kind} AS type, COALESCE(buyer_id, anonymous_id) AS buyer,
    {dialect.epoch_us("ts")} AS ts_us,
    platform, locale, listing_id, CAST(COALESCE(quantity, 1) AS BIGINT) AS qty,
    CAST(price AS DOUBLE) AS price, CAST(revenue AS DOUBLE) AS revenue, channel,
    {_STAGE_SQL} AS stage
FROM events
WHERE COALESCE(buyer_id, anonymous_id) IS NOT NULL"""  # noqa: S608


TILE_AGGREGATES: Final = {
    "start_us": ("MIN", "MIN", "ts_us"),
    "end_us": ("MAX", "MAX", "ts_us"),
    "n_events": ("COUNT", "SUM", "*"),
    "n_views": ("COUNT_IF", "SUM", "type = 'listing_view'"),
    "n_favorites": ("COUNT_IF", "SUM", "type = 'favorite'"),
    "n_shown": ("COUNT_IF", "SUM", "type = 'engagement_shown'"),
    "n_clicked": ("COUNT_IF", "SUM", "type = 'engagement_clicked'"),
    "n_purchases": ("COUNT_IF", "SUM", "type = 'purchase'"),
    "revenue": (
        "SUM",
        "SUM",
        "CASE WHEN type = 'purchase' THEN COALESCE(revenue, 0.0) ELSE 0.0 END",
    ),
    "last_purchase_us": ("MAX", "MAX", "CASE WHEN type = 'purchase' THEN ts_us END"),
    "max_stage": ("MAX", "MAX", "stage"),
}
"""Per-buyer aggregates kept per time bucket (a *tile*): name -> (aggregate over events,
aggregate that combines partial results, event expression).

An aggregate over events before any cut-off is the combination of the whole tiles before the
cut-off's bucket and of the events in that bucket before the cut-off."""

MAX_CATEGORIES: Final = 1 << 20
"""Most distinct categories a catalog may have: the top category of a buyer is the one with
the most views, ties going to the first name in sort order, found as the largest
``views * MAX_CATEGORIES - category_rank`` (one integer, no sort)."""

_BUYER_TILES: Final = (
    "n_events",
    "n_views",
    "n_favorites",
    "n_shown",
    "n_clicked",
    "n_purchases",
    "revenue",
    "last_purchase_us",
    "end_us",
)


def _tile_select(names: tuple[str, ...], alias: str) -> str:
    items = []
    for name in names:
        fn, _, expr = TILE_AGGREGATES[name]
        items.append(f"{fn}({_qualified(expr, alias)}) AS {name}")
    return ", ".join(items)


def _qualified(expr: str, alias: str) -> str:
    for column in ("ts_us", "type", "revenue", "stage"):
        expr = re.sub(rf"\b(?<!\.){column}\b", f"{alias}.{column}", expr)
    return expr


def tiles_sql(dialect: Dialect, config: FeatureConfig, source: str = "fx_events") -> str:
    """One row per (buyer, time bucket of ``session_gap_s``) with events: its tile.

    The tile holds the :data:`TILE_AGGREGATES` of the bucket's events.
    """
    gap = config.session_gap_us
    return f"""
SELECT e.buyer, e.bucket, {_tile_select(tuple(TILE_AGGREGATES), "e")}
FROM (
    SELECT *, {dialect.floor_div("ts_us", gap)} AS bucket FROM {source}
) e
GROUP BY e.buyer, e.bucket"""  # noqa: S608


def buckets_sql(config: FeatureConfig, source: str = "fx_tiles") -> str:
    """The tiles (:func:`tiles_sql`) with the ``session_no`` of their events.

    Sessions are numbered without sorting the events: two events in the same bucket are less
    than a gap apart, so a session can start only at a bucket's first event, and it does
    unless the buyer's bucket just before exists and ended at most a gap earlier (a join of
    the tiles with themselves, one bucket apart). A running count of those starts over a
    buyer's buckets (far fewer rows than events) is the ``session_no`` of every event in the
    bucket. Events at the same microsecond share their bucket, so they always share their
    session. The bucket's tile serves the sessions table and the buyer features.
    """
    gap = config.session_gap_us
    return f"""
SELECT t.*, CAST(SUM(t.new_session) OVER (
        PARTITION BY t.buyer ORDER BY t.bucket ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        AS BIGINT) AS session_no
FROM (
    SELECT g.*, CASE WHEN p.end_us IS NOT NULL AND g.start_us - p.end_us <= {gap} THEN 0
            ELSE 1 END AS new_session
    FROM {source} g
    LEFT JOIN {source} p ON p.buyer = g.buyer AND p.bucket = g.bucket - 1
) t"""  # noqa: S608


def _tiled(
    dialect: Dialect,
    config: FeatureConfig,
    spine: str,
    cutoff: int | None,
    names: tuple[str, ...],
) -> str:
    """``sp_id`` and tile aggregates over each spine row's events before its cut-off.

    Whole tiles of earlier buckets are combined with the events of the cut-off's own bucket.
    """
    gap = config.session_gap_us
    if cutoff is None:
        bucket = dialect.floor_div("s.cutoff_us", gap)
        tiles = f"FROM {spine} s JOIN fx_buckets t ON t.buyer = s.buyer WHERE t.bucket < {bucket}"
        events = (
            f"FROM {spine} s JOIN fx_events e ON e.buyer = s.buyer "
            f"WHERE e.ts_us < s.cutoff_us AND e.ts_us >= {bucket} * {gap}"
        )
        tile_id = event_id = "s.sp_id"
    else:
        bucket_no = cutoff // gap
        tiles = f"FROM fx_buckets t WHERE t.bucket < {bucket_no}"
        events = f"FROM fx_events e WHERE e.ts_us < {cutoff} AND e.ts_us >= {bucket_no * gap}"
        tile_id, event_id = "t.buyer", "e.buyer"
    combine = ", ".join(f"{TILE_AGGREGATES[n][1]}(p.{n}) AS {n}" for n in names)
    return f"""
SELECT p.sp_id, {combine}
FROM (
    SELECT {tile_id} AS sp_id, {", ".join(f"t.{n}" for n in names)}
    {tiles}
    UNION ALL
    SELECT {event_id} AS sp_id, {_tile_select(names, "e")}
    {events}
    GROUP BY {event_id}
) p
GROUP BY p.sp_id"""  # noqa: S608


def sessions_sql(source: str = "fx_buckets") -> str:
    """One row per (gap) session of a buyer, over every event (no cut-off), from its buckets."""
    return f"""
SELECT buyer, session_no, MIN(start_us) AS start_us, MAX(end_us) AS end_us,
    CAST(SUM(n_events) AS BIGINT) AS n_events, CAST(SUM(n_views) AS BIGINT) AS n_views,
    CAST(SUM(n_purchases) AS BIGINT) AS n_purchases,
    CAST(SUM(revenue) AS DOUBLE) AS revenue,
    CAST(MAX(max_stage) AS BIGINT) AS max_stage
FROM {source}
GROUP BY buyer, session_no"""  # noqa: S608


def event_sessions_sql(dialect: Dialect, config: FeatureConfig) -> str:
    """``fx_events`` with each event's ``session_no`` (its bucket's, from ``fx_buckets``)."""
    bucket = dialect.floor_div("e.ts_us", config.session_gap_us)
    return f"""
SELECT e.*, k.session_no
FROM fx_events e JOIN fx_buckets k ON k.buyer = e.buyer AND k.bucket = {bucket}"""  # noqa: S608


@dataclasses.dataclass(frozen=True, slots=True)
class _Scope:
    """Events (or sessions) of every spine row before the row's cut-off.

    ``frm`` is a FROM clause more JOINs may follow, ``where`` the condition that keeps the
    rows before the cut-off, ``id`` the spine row id and ``cut`` its cut-off. With one cut-off
    for every row (a build), the spine join is left out: the entity key is the row id.
    """

    frm: str
    where: str
    id: str
    cut: str


def _scope(
    spine: str,
    cutoff: int | None,
    key: str,
    *,
    table: str = "fx_events",
    alias: str = "e",
    ts: str = "ts_us",
) -> _Scope:
    if cutoff is None:
        return _Scope(
            f"FROM {spine} s JOIN {table} {alias} ON {alias}.{key} = s.{key}",
            f"{alias}.{ts} < s.cutoff_us",
            "s.sp_id",
            "s.cutoff_us",
        )
    where = f"{alias}.{ts} < {cutoff}"
    return _Scope(f"FROM {table} {alias}", where, f"{alias}.{key}", str(cutoff))


def items_sql(dialect: Dialect) -> str:
    """One row per purchase line item."""
    fields = {"listing_id": "STRING", "quantity": "INT"}
    return f"""
SELECT buyer, ts_us, {dialect.item_field("listing_id", "STRING")} AS listing_id,
    {dialect.item_field("quantity", "INT")} AS quantity
FROM (
    SELECT COALESCE(buyer_id, anonymous_id) AS buyer, {dialect.epoch_us("ts")} AS ts_us,
        {dialect.explode_json("payload", "line_items", fields)}
    FROM events WHERE type = 'purchase'
) t"""  # noqa: S608


def live_at(alias: str, cutoff: str) -> str:
    """The catalog version of ``alias`` is the one live at ``cutoff``: updated strictly before.

    Example:
        >>> for part in live_at("c", "t").split(" AND "):
        ...     print(part)
        (c.valid_from_us IS NULL OR c.valid_from_us < t)
        (c.valid_to_us IS NULL OR t <= c.valid_to_us)
    """
    return (
        f"({alias}.valid_from_us IS NULL OR {alias}.valid_from_us < {cutoff}) AND "
        f"({alias}.valid_to_us IS NULL OR {cutoff} <= {alias}.valid_to_us)"
    )


def catalog_sql(source: str = "fx_catalog_in") -> str:
    """The catalog with each price's percent rank within its category.

    ``category_rank`` (the category's rank in name order, from 1, made by the build) breaks
    ties between a buyer's top categories. A versioned catalog (``marketlift.catalog``) has one
    row per version, live from ``valid_from_us`` (exclusive of cut-offs at or before it) to
    ``valid_to_us``; NULL bounds are open, so a plain catalog is live at every time. The
    percent rank is taken over every version of the category.
    """
    return f"""
SELECT listing_id, category, CAST(price AS DOUBLE) AS price,
    CAST(valid_from_us AS BIGINT) AS valid_from_us, CAST(valid_to_us AS BIGINT) AS valid_to_us,
    CAST(review_count AS BIGINT) AS review_count, CAST(rating AS DOUBLE) AS rating,
    CASE WHEN price IS NULL THEN NULL ELSE
        percent_rank() OVER (PARTITION BY category ORDER BY CAST(price AS DOUBLE)) END
        AS price_pct,
    CAST(category_rank AS BIGINT) AS category_rank
FROM {source}"""  # noqa: S608


def sessions_table_sql(cutoff: str) -> str:
    """The sessions that ended before a cut-off (SQL of it): keys, start and end, counts."""
    return f"""
SELECT buyer, session_no, CONCAT(buyer, '#', CAST(session_no AS STRING)) AS session_key,
    start_us, end_us, n_events, n_views, n_purchases, revenue, max_stage
FROM fx_sessions
WHERE end_us < {cutoff}"""  # noqa: S608


def buyer_features_sql(
    dialect: Dialect,
    config: FeatureConfig,
    spine: str = "fx_spine_buyer",
    cutoff: int | None = None,
) -> str:
    """Buyer features of every spine row (``sp_id, buyer, cutoff_us``).

    With ``cutoff``, every row is at that one cut-off and ``sp_id`` is the buyer (a build):
    events are filtered by time, not joined to the spine.
    """
    w_push, w_site = lit(config.fatigue_weight_push_email), lit(config.fatigue_weight_onsite)
    e = _scope(spine, cutoff, "buyer")
    x = _scope(spine, cutoff, "buyer", table="fx_sessions", alias="x", ts="start_us")
    return f"""
WITH b AS (
    SELECT q.*, q.end_us AS last_us
    FROM ({_tiled(dialect, config, spine, cutoff, _BUYER_TILES)}) q
), n AS (
    SELECT {x.id} AS sp_id, COUNT(*) AS n_sessions
    {x.frm}
    WHERE {x.where}
    GROUP BY {x.id}
), l AS (
    SELECT {e.id} AS sp_id, {dialect.last_by("e.locale", "e.event_id")} AS locale,
        {dialect.last_by("e.platform", "e.event_id")} AS platform
    {e.frm}
    JOIN b ON b.sp_id = {e.id}
    WHERE {e.where} AND e.ts_us = b.last_us
    GROUP BY {e.id}
), c AS (
    SELECT {e.id} AS sp_id,
        SUM(CASE WHEN e.type = 'add_to_cart' THEN e.qty ELSE -e.qty END) AS cart_items,
        SUM(CASE WHEN e.type = 'add_to_cart' THEN CAST(e.qty AS DOUBLE) * e.price
            ELSE 0.0 END) AS cart_value,
        MIN(CASE WHEN e.type = 'add_to_cart' THEN e.ts_us END) AS first_add_us
    {e.frm}
    JOIN b ON b.sp_id = {e.id}
    WHERE {e.where} AND e.ts_us > COALESCE(b.last_purchase_us, -1)
        AND e.type IN ('add_to_cart', 'remove_from_cart')
    GROUP BY {e.id}
), f AS (
    SELECT {e.id} AS sp_id,
        SUM(CASE WHEN e.channel IN ('push', 'email') THEN {w_push} ELSE {w_site} END
            * POWER({lit(config.fatigue_decay)},
                    CAST({e.cut} - e.ts_us AS DOUBLE) / {DAY_US})) AS fatigue
    {e.frm}
    WHERE {e.where} AND e.ts_us >= {e.cut} - {config.fatigue_window_us}
        AND e.type = 'engagement_shown'
    GROUP BY {e.id}
), k AS (
    SELECT sp_id, {dialect.last_by("category", f"n * {MAX_CATEGORIES} - category_rank")}
            AS category,
        MAX(n) AS n, SUM(n) AS total
    FROM (
        SELECT {e.id} AS sp_id, g.category, g.category_rank, COUNT(*) AS n
        {e.frm}
        JOIN fx_catalog g ON g.listing_id = e.listing_id
            AND {live_at("g", "e.ts_us + 1")}
        WHERE {e.where} AND e.type = 'listing_view' AND g.category IS NOT NULL
        GROUP BY {e.id}, g.category, g.category_rank
    ) t
    GROUP BY sp_id
)
SELECT s.sp_id, {select_list(BUYER_FEATURES, {})}
FROM {spine} s
LEFT JOIN b ON b.sp_id = s.sp_id
LEFT JOIN n ON n.sp_id = s.sp_id
LEFT JOIN l ON l.sp_id = s.sp_id
LEFT JOIN c ON c.sp_id = s.sp_id
LEFT JOIN f ON f.sp_id = s.sp_id
LEFT JOIN k ON k.sp_id = s.sp_id"""  # noqa: S608


def session_features_sql(
    dialect: Dialect,
    config: FeatureConfig,
    spine: str = "fx_spine_buyer",
    cutoff: int | None = None,
) -> str:
    """In-session features of every spine row (``sp_id, buyer, cutoff_us``).

    The live session is the one of the buyer's last event before the cut-off, if that event
    is at most ``session_gap_s`` before it; its events are the buyer's from the session's
    start to the cut-off. ``cutoff``: as in :func:`buyer_features_sql`.
    """
    e = _scope(spine, cutoff, "buyer")
    return f"""
WITH u AS (
    SELECT q.sp_id, q.end_us AS last_us
    FROM ({_tiled(dialect, config, spine, cutoff, ("end_us",))}) q
), v AS (
    SELECT u.sp_id, x.start_us
    FROM u
    JOIN {spine} s ON s.sp_id = u.sp_id
    JOIN fx_sessions x ON x.buyer = s.buyer AND x.start_us <= u.last_us
        AND x.end_us >= u.last_us
    WHERE s.cutoff_us - u.last_us <= {config.session_gap_us}
), a AS (
    SELECT {e.id} AS sp_id, MIN(e.ts_us) AS start_us, COUNT(*) AS n_events,
        SUM(CASE WHEN e.type = 'listing_view' THEN 1 ELSE 0 END) AS n_views,
        COUNT(DISTINCT CASE WHEN e.type = 'listing_view' THEN e.listing_id END) AS n_listings,
        MIN(CASE WHEN e.type = 'listing_view' THEN e.price END) AS price_min,
        MAX(CASE WHEN e.type = 'listing_view' THEN e.price END) AS price_max,
        SUM(CASE WHEN e.type = 'add_to_cart' THEN e.qty
            WHEN e.type = 'remove_from_cart' THEN -e.qty ELSE 0 END) AS cart_items,
        MAX(e.stage) AS max_stage,
        {
        dialect.last_by(
            "CASE WHEN e.stage > 0 THEN e.stage END",
            f"CASE WHEN e.stage > 0 THEN {dialect.order_key('e.ts_us', 'e.event_id')} END",
        )
    } AS last_stage
    {e.frm}
    JOIN v ON v.sp_id = {e.id}
    WHERE {e.where} AND e.ts_us >= v.start_us
    GROUP BY {e.id}
)
SELECT s.sp_id, {select_list(SESSION_FEATURES, {})}
FROM {spine} s
LEFT JOIN u ON u.sp_id = s.sp_id
LEFT JOIN a ON a.sp_id = s.sp_id"""  # noqa: S608


def listing_features_sql(
    dialect: Dialect,
    config: FeatureConfig,
    spine: str = "fx_spine_listing",
    cutoff: int | None = None,
) -> str:
    """Listing features of every spine row (``sp_id, listing_id, cutoff_us``).

    ``cutoff``: one cut-off for every row, whose ``sp_id`` is the listing id (a build).
    """
    m = lit(config.smoothing_views)
    k = lit(config.rating_prior_reviews)
    subs = {
        "@atc": f"(COALESCE(v.adds, 0) + {m} * {lit(config.prior_add_to_cart_rate)})"
        f" / NULLIF(COALESCE(v.views, 0) + {m}, 0.0)",
        "@conv": f"(COALESCE(p.purchases, 0) + {m} * {lit(config.prior_conversion_rate)})"
        f" / NULLIF(COALESCE(v.views, 0) + {m}, 0.0)",
        "@rating": f"CASE WHEN c.listing_id IS NULL THEN NULL ELSE"
        f" (COALESCE(c.rating, 0.0) * COALESCE(c.review_count, 0) + {lit(config.rating_prior)}"
        f" * {k}) / NULLIF(COALESCE(c.review_count, 0) + {k}, 0.0) END",
    }
    view = "e.type = 'listing_view'"
    e = _scope(spine, cutoff, "listing_id")
    i = _scope(spine, cutoff, "listing_id", table="fx_items", alias="i")
    return f"""
WITH v AS (
    SELECT {e.id} AS sp_id, COUNT_IF({view}) AS views,
        COUNT_IF(e.type = 'add_to_cart') AS adds, COUNT_IF(e.type = 'favorite') AS favorites,
        MIN(e.ts_us) AS first_us,
        {
        dialect.last_by(
            f"CASE WHEN {view} THEN e.price END",
            f"CASE WHEN {view} THEN {dialect.order_key('e.ts_us', 'e.event_id')} END",
        )
    } AS last_price
    {e.frm}
    WHERE {e.where} AND e.listing_id IS NOT NULL
    GROUP BY {e.id}
), p AS (
    SELECT {i.id} AS sp_id, COUNT(*) AS purchases, MIN(i.ts_us) AS first_us
    {i.frm}
    WHERE {i.where}
    GROUP BY {i.id}
)
SELECT s.sp_id, {select_list(LISTING_FEATURES, subs)}
FROM {spine} s
LEFT JOIN v ON v.sp_id = s.sp_id
LEFT JOIN p ON p.sp_id = s.sp_id
LEFT JOIN fx_catalog c ON c.listing_id = s.listing_id AND {live_at("c", "s.cutoff_us")}"""  # noqa: S608
