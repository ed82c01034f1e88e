"""SQL of the shared base views and of the three entity feature queries over a spine.

Views, created in this order by :func:`marketlift.features.build.prepare`:

- ``fx_events``: one row per event with a buyer (``COALESCE(buyer_id, anonymous_id)``),
  ``ts_us`` (microseconds), ``stage`` (funnel depth), ``seq`` (orders a buyer's events:
  time, then event id) and ``session_no``: the buyer's events ordered by time, a new
  session starts when the gap to the previous event exceeds ``session_gap_s``.
- ``fx_items``: one row per purchase line item (``buyer, ts_us, listing_id, quantity``).
- ``fx_catalog``: ``listing_id, category, price, review_count, rating, price_pct`` (empty
  when no catalog is given).

Entity queries read a spine view ``fx_spine_<entity>`` with ``sp_id``, the entity key and
``cutoff_us``, and return ``sp_id`` and the entity's features, computed only from events
with ``ts_us < cutoff_us``.

Example:
    >>> from marketlift.features.dialect import DUCKDB
    >>> "epoch_us(ts)" in raw_events_sql(DUCKDB)
    True
"""

from __future__ import annotations

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
    "STAGE_OF",
    "buyer_features_sql",
    "catalog_sql",
    "items_sql",
    "listing_features_sql",
    "raw_events_sql",
    "session_features_sql",
    "sessionized_sql",
    "sessions_table_sql",
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


def raw_events_sql(dialect: Dialect) -> str:
    """Typed, narrowed events with a buyer key (the ``events`` view of the lake)."""
    return f"""
SELECT event_id, type, COALESCE(buyer_id, anonymous_id) AS buyer,
    {dialect.epoch_us("ts")} AS ts_us,
    platform, locale, listing_id, CAST(COALESCE(quantity, 1) AS BIGINT) AS qty,
    CAST(price AS DOUBLE) AS price, CAST(revenue AS DOUBLE) AS revenue, channel,
    {_STAGE_SQL} AS stage
FROM events
WHERE COALESCE(buyer_id, anonymous_id) IS NOT NULL"""  # noqa: S608


def sessionized_sql(dialect: Dialect, config: FeatureConfig, source: str = "fx_raw") -> str:
    """Add ``seq`` and ``session_no`` (1, 2, ... per buyer, by the inactivity gap).

    ``seq`` orders a buyer's events by (time, event id): compare it only between events of
    one buyer (DuckDB numbers all rows, Spark each buyer's). Events at the same microsecond
    get the same ``session_no`` in any order (their gap is 0), so it is deterministic.

    With streaming windows (DuckDB) the events are sorted once by ``(buyer, ts_us,
    event_id)`` and one ordered pass numbers them and their sessions: a new session starts at
    a new buyer or after a gap; a running count of starts, minus that count at the buyer's
    first event, is the buyer's ``session_no``. ``OVER ()`` windows keep the order of the
    sorted subquery (only order-preserving operators in between). Otherwise (Spark) the same
    ``LAG`` and running ``SUM`` are windows partitioned by buyer.
    """
    gap = config.session_gap_us
    if dialect.streaming_windows:
        run = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
        return f"""
SELECT * EXCLUDE (prev_buyer, new_session, starts, buyer_starts),
    CAST(starts - MAX(buyer_starts) OVER ({run}) + 1 AS BIGINT) AS session_no
FROM (
    SELECT *, SUM(new_session) OVER ({run}) AS starts,
        CASE WHEN prev_buyer IS DISTINCT FROM buyer
            THEN SUM(new_session) OVER ({run}) END AS buyer_starts
    FROM (
        SELECT * EXCLUDE (prev_ts),
            CASE WHEN prev_buyer = buyer AND ts_us - prev_ts <= {gap} THEN 0 ELSE 1 END
                AS new_session
        FROM (
            SELECT *, CAST(ROW_NUMBER() OVER () AS BIGINT) AS seq,
                LAG(buyer) OVER () AS prev_buyer, LAG(ts_us) OVER () AS prev_ts
            FROM (SELECT * FROM {source} ORDER BY buyer, ts_us, event_id) s
        ) a
    ) b
) c"""  # noqa: S608
    w = "PARTITION BY buyer ORDER BY ts_us, event_id"
    return f"""
SELECT t.*, CAST(SUM(t.new_session) OVER (
        {w} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS session_no
FROM (
    SELECT r.*, CAST(ROW_NUMBER() OVER ({w}) AS BIGINT) AS seq,
        CASE WHEN r.ts_us - LAG(r.ts_us) OVER ({w}) <= {gap} THEN 0 ELSE 1 END AS new_session
    FROM {source} r
) t"""  # noqa: S608


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


def catalog_sql(source: str = "fx_catalog_in") -> str:
    """The catalog with each price's percent rank within its category."""
    return f"""
SELECT listing_id, category, CAST(price AS DOUBLE) AS price,
    CAST(review_count AS BIGINT) AS review_count, CAST(rating AS DOUBLE) AS rating,
    CASE WHEN price IS NULL THEN NULL ELSE
        percent_rank() OVER (PARTITION BY category ORDER BY CAST(price AS DOUBLE)) END
        AS price_pct
FROM {source}"""  # noqa: S608


def sessions_table_sql() -> str:
    """One row per (gap) session: keys, start and end, counts, revenue, deepest stage."""
    return """
SELECT buyer, session_no, CONCAT(buyer, '#', CAST(session_no AS STRING)) AS session_key,
    MIN(ts_us) AS start_us, MAX(ts_us) AS end_us, CAST(COUNT(*) AS BIGINT) AS n_events,
    CAST(SUM(CASE WHEN type = 'listing_view' THEN 1 ELSE 0 END) AS BIGINT) AS n_views,
    CAST(SUM(CASE WHEN type = 'purchase' THEN 1 ELSE 0 END) AS BIGINT) AS n_purchases,
    CAST(COALESCE(SUM(CASE WHEN type = 'purchase' THEN revenue END), 0.0) AS DOUBLE)
        AS revenue,
    CAST(MAX(stage) AS BIGINT) AS max_stage
FROM fx_events
GROUP BY buyer, session_no"""


def buyer_features_sql(
    dialect: Dialect, config: FeatureConfig, spine: str = "fx_spine_buyer"
) -> str:
    """Buyer features of every spine row (``sp_id, buyer, cutoff_us``)."""
    w_push, w_site = lit(config.fatigue_weight_push_email), lit(config.fatigue_weight_onsite)
    return f"""
WITH b AS (
    SELECT s.sp_id, MAX(s.cutoff_us) AS cutoff_us, COUNT(e.ts_us) AS n_events,
        MAX(e.session_no) AS n_sessions,
        SUM(CASE WHEN e.type = 'purchase' THEN 1 ELSE 0 END) AS n_purchases,
        SUM(CASE WHEN e.type = 'purchase' THEN COALESCE(e.revenue, 0.0) ELSE 0.0 END)
            AS revenue,
        SUM(CASE WHEN e.type = 'listing_view' THEN 1 ELSE 0 END) AS n_views,
        SUM(CASE WHEN e.type = 'favorite' THEN 1 ELSE 0 END) AS n_favorites,
        SUM(CASE WHEN e.type = 'engagement_shown' THEN 1 ELSE 0 END) AS n_shown,
        SUM(CASE WHEN e.type = 'engagement_clicked' THEN 1 ELSE 0 END) AS n_clicked,
        MAX(e.ts_us) AS last_us,
        MAX(CASE WHEN e.type = 'purchase' THEN e.ts_us END) AS last_purchase_us,
        {dialect.last_by("e.locale", "e.seq")} AS locale,
        {dialect.last_by("e.platform", "e.seq")} AS platform
    FROM {spine} s
    LEFT JOIN fx_events e ON e.buyer = s.buyer AND e.ts_us < s.cutoff_us
    GROUP BY s.sp_id
), c AS (
    SELECT s.sp_id,
        SUM(CASE WHEN e.type = 'add_to_cart' THEN e.qty ELSE -e.qty END) AS cart_items,
        SUM(CASE WHEN e.type = 'add_to_cart' THEN CAST(e.qty AS DOUBLE) * e.price
            ELSE 0.0 END) AS cart_value,
        MIN(CASE WHEN e.type = 'add_to_cart' THEN e.ts_us END) AS first_add_us
    FROM {spine} s
    JOIN b ON b.sp_id = s.sp_id
    JOIN fx_events e ON e.buyer = s.buyer AND e.ts_us < s.cutoff_us
        AND e.ts_us > COALESCE(b.last_purchase_us, -1)
        AND e.type IN ('add_to_cart', 'remove_from_cart')
    GROUP BY s.sp_id
), f AS (
    SELECT s.sp_id,
        SUM(CASE WHEN e.channel IN ('push', 'email') THEN {w_push} ELSE {w_site} END
            * POWER({lit(config.fatigue_decay)},
                    CAST(s.cutoff_us - e.ts_us AS DOUBLE) / {DAY_US})) AS fatigue
    FROM {spine} s
    JOIN fx_events e ON e.buyer = s.buyer AND e.ts_us < s.cutoff_us
        AND e.ts_us >= s.cutoff_us - {config.fatigue_window_us}
        AND e.type = 'engagement_shown'
    GROUP BY s.sp_id
), k AS (
    SELECT sp_id, category, n, total, ROW_NUMBER() OVER (
        PARTITION BY sp_id ORDER BY n DESC, category) AS rk
    FROM (
        SELECT s.sp_id, g.category, COUNT(*) AS n,
            SUM(COUNT(*)) OVER (PARTITION BY s.sp_id) AS total
        FROM {spine} s
        JOIN fx_events e ON e.buyer = s.buyer AND e.ts_us < s.cutoff_us
            AND e.type = 'listing_view'
        JOIN fx_catalog g ON g.listing_id = e.listing_id
        WHERE g.category IS NOT NULL
        GROUP BY s.sp_id, g.category
    ) t
)
SELECT b.sp_id, {select_list(BUYER_FEATURES, {})}
FROM b
LEFT JOIN c ON c.sp_id = b.sp_id
LEFT JOIN f ON f.sp_id = b.sp_id
LEFT JOIN k ON k.sp_id = b.sp_id AND k.rk = 1"""  # noqa: S608


def session_features_sql(
    dialect: Dialect, config: FeatureConfig, spine: str = "fx_spine_buyer"
) -> str:
    """In-session features of every spine row (``sp_id, buyer, cutoff_us``).

    The live session is the one of the buyer's last event before the cut-off, if that event
    is at most ``session_gap_s`` before it.
    """
    return f"""
WITH u AS (
    SELECT s.sp_id, MAX(s.buyer) AS buyer, MAX(s.cutoff_us) AS cutoff_us,
        MAX(e.ts_us) AS last_us, MAX(e.session_no) AS session_no
    FROM {spine} s
    JOIN fx_events e ON e.buyer = s.buyer AND e.ts_us < s.cutoff_us
    GROUP BY s.sp_id
), a AS (
    SELECT u.sp_id, MIN(e.ts_us) AS start_us, COUNT(*) AS n_events,
        SUM(CASE WHEN e.type = 'listing_view' THEN 1 ELSE 0 END) AS n_views,
        COUNT(DISTINCT CASE WHEN e.type = 'listing_view' THEN e.listing_id END) AS n_listings,
        MIN(CASE WHEN e.type = 'listing_view' THEN e.price END) AS price_min,
        MAX(CASE WHEN e.type = 'listing_view' THEN e.price END) AS price_max,
        SUM(CASE WHEN e.type = 'add_to_cart' THEN e.qty
            WHEN e.type = 'remove_from_cart' THEN -e.qty ELSE 0 END) AS cart_items,
        MAX(e.stage) AS max_stage,
        {
        dialect.last_by(
            "CASE WHEN e.stage > 0 THEN e.stage END", "CASE WHEN e.stage > 0 THEN e.seq END"
        )
    } AS last_stage
    FROM u
    JOIN fx_events e ON e.buyer = u.buyer AND e.session_no = u.session_no
        AND e.ts_us < u.cutoff_us
    WHERE u.cutoff_us - u.last_us <= {config.session_gap_us}
    GROUP BY u.sp_id
)
SELECT s.sp_id, {select_list(SESSION_FEATURES, {})}
FROM {spine} s
LEFT JOIN u ON u.sp_id = s.sp_id
LEFT JOIN a ON a.sp_id = s.sp_id"""  # noqa: S608


def listing_features_sql(
    dialect: Dialect, config: FeatureConfig, spine: str = "fx_spine_listing"
) -> str:
    """Listing features of every spine row (``sp_id, listing_id, cutoff_us``)."""
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
    return f"""
WITH v AS (
    SELECT s.sp_id, SUM(CASE WHEN {view} THEN 1 ELSE 0 END) AS views,
        SUM(CASE WHEN e.type = 'add_to_cart' THEN 1 ELSE 0 END) AS adds,
        SUM(CASE WHEN e.type = 'favorite' THEN 1 ELSE 0 END) AS favorites,
        MIN(e.ts_us) AS first_us,
        {
        dialect.last_by(
            f"CASE WHEN {view} THEN e.price END",
            f"CASE WHEN {view} THEN {dialect.order_key('e.ts_us', 'e.event_id')} END",
        )
    } AS last_price
    FROM {spine} s
    JOIN fx_events e ON e.listing_id = s.listing_id AND e.ts_us < s.cutoff_us
    GROUP BY s.sp_id
), p AS (
    SELECT s.sp_id, COUNT(*) AS purchases, MIN(i.ts_us) AS first_us
    FROM {spine} s
    JOIN fx_items i ON i.listing_id = s.listing_id AND i.ts_us < s.cutoff_us
    GROUP BY s.sp_id
)
SELECT s.sp_id, {select_list(LISTING_FEATURES, subs)}
FROM {spine} s
LEFT JOIN v ON v.sp_id = s.sp_id
LEFT JOIN p ON p.sp_id = s.sp_id
LEFT JOIN fx_catalog c ON c.listing_id = s.listing_id"""  # noqa: S608
