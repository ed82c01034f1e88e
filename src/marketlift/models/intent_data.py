"""Point-in-time-correct purchase-intent rows built from the lake's events with SQL.

``marketlift.features`` owns the shared intent training set (``train intent --data`` uses it by
default); this module is our own, documented alternative (``--rows events``) that keeps the
session id, so rows join the simulator's truth. One row per in-session engagement decision
(``decision`` events whose ``properties.moment`` is ``browsing`` or ``returning_visit``), with a
snapshot time ``ts`` chosen by ``at``:

- ``"cart"`` (default): the last listing view or favorite before the session's first
  add-to-cart (or the last of the session when none): "will this buyer buy the listing they
  are looking at?" It sees in-session behaviour: views, favorites, engagement clicks;
- ``"decision"``: the engagement decision itself (only what happened before it).

Every feature uses only events at or before ``ts`` in the session and strictly before ``ts`` in
the buyer's earlier sessions (same ``buyer_id``, else ``anonymous_id``):

- context: platform, locale, country, hour, weekday, moment, page surface, search and its
  category, the engagement action and whether it was clicked or dismissed;
- session so far: views, favorites, distinct listings, last viewed price and currency, its
  ratio to the session's mean price, whether it was viewed in an earlier session;
- buyer history: sessions, views, favorites, add-to-carts, checkouts, purchases, engagement
  clicks, hours since last seen, and whether a cart is still open.

The label ``purchased`` is 1 when the session has a ``purchase`` event after ``ts``.

Example:
    >>> import tempfile
    >>> from marketlift.sim import SimConfig, simulate
    >>> data = tempfile.mkdtemp()
    >>> _ = simulate(SimConfig(n_buyers=300, n_days=2, seed=1), data)
    >>> rows = intent_rows(data)
    >>> rows.num_rows > 100, "purchased" in rows.column_names, "session_id" in rows.column_names
    (True, True, True)
"""

from __future__ import annotations

import os
from typing import Final, Literal

import pyarrow as pa

from marketlift.errors import ConfigError

__all__ = ["ID_COLUMNS", "INTENT_LABEL", "INTENT_SQL", "Snapshot", "intent_rows"]

Snapshot = Literal["cart", "decision"]

INTENT_LABEL: Final = "purchased"
ID_COLUMNS: Final = ("decision_id", "session_id", "ts")
"""Columns of :func:`intent_rows` that identify a row and are not features."""

INTENT_SQL: Final = """
WITH ev AS (
    SELECT type, ts, session_id, listing_id, coalesce(buyer_id, anonymous_id) AS who,
           surface, price, price_currency, payload
    FROM events
),
dec AS (
    SELECT decision_id, session_id, ts AS decision_ts, coalesce(buyer_id, anonymous_id) AS who,
           platform, locale, country, action,
           json_extract_string(payload, '$.properties.moment') AS moment
    FROM events
    WHERE type = 'decision'
      AND json_extract_string(payload, '$.properties.moment') IN ('browsing', 'returning_visit')
),
first_cart AS (
    SELECT session_id, min(ts) AS cart_ts FROM ev WHERE type = 'add_to_cart' GROUP BY session_id
),
cut AS (
    SELECT d.*, CASE WHEN $at = 'decision' THEN d.decision_ts
                     ELSE coalesce((SELECT max(v.ts) FROM ev v
                                    WHERE v.session_id = d.session_id
                                      AND v.type IN ('listing_view', 'favorite')
                                      AND v.ts < coalesce(c.cart_ts, TIMESTAMPTZ '9999-01-01')),
                                   d.decision_ts) END AS ts
    FROM dec d LEFT JOIN first_cart c USING (session_id)
),
sess AS (
    SELECT d.decision_id,
           max(CASE WHEN e.type = 'page_view' THEN e.surface END) AS surface,
           bool_or(e.type = 'search') AS searched,
           max(CASE WHEN e.type = 'search'
                    THEN json_extract_string(e.payload, '$.category') END) AS search_category,
           bool_or(e.type = 'engagement_clicked') AS engagement_clicked,
           bool_or(e.type = 'engagement_dismissed') AS engagement_dismissed,
           count(*) FILTER (WHERE e.type = 'favorite') AS session_favorites,
           count(*) FILTER (WHERE e.type = 'listing_view') AS session_views,
           count(DISTINCT e.listing_id) FILTER (WHERE e.type = 'listing_view')
               AS session_listings,
           arg_max(e.price::DOUBLE, e.ts) FILTER (WHERE e.type = 'listing_view') AS last_price,
           arg_max(e.price_currency, e.ts) FILTER (WHERE e.type = 'listing_view')
               AS price_currency,
           avg(e.price::DOUBLE) FILTER (WHERE e.type = 'listing_view') AS mean_price,
           arg_max(e.listing_id, e.ts) FILTER (WHERE e.type = 'listing_view') AS last_listing
    FROM cut d JOIN ev e ON e.session_id = d.session_id AND e.ts <= d.ts
    GROUP BY d.decision_id
),
hist AS (
    SELECT d.decision_id,
           count(DISTINCT e.session_id) AS prev_sessions,
           count(*) FILTER (WHERE e.type = 'listing_view') AS prev_views,
           count(*) FILTER (WHERE e.type = 'favorite') AS prev_favorites,
           count(*) FILTER (WHERE e.type = 'add_to_cart') AS prev_add_to_carts,
           count(*) FILTER (WHERE e.type = 'checkout_start') AS prev_checkouts,
           count(*) FILTER (WHERE e.type = 'purchase') AS prev_purchases,
           count(*) FILTER (WHERE e.type = 'engagement_clicked') AS prev_engagement_clicks,
           date_diff('second', max(e.ts), d.ts) / 3600.0 AS hours_since_seen,
           max(e.ts) FILTER (WHERE e.type = 'add_to_cart') AS last_cart,
           max(e.ts) FILTER (WHERE e.type IN ('purchase', 'remove_from_cart')) AS last_close,
           list(DISTINCT e.listing_id) FILTER (WHERE e.type = 'listing_view') AS seen_listings
    FROM cut d JOIN ev e ON e.who = d.who AND e.ts < d.ts AND e.session_id <> d.session_id
    GROUP BY d.decision_id, d.ts
),
label AS (
    SELECT DISTINCT d.decision_id
    FROM cut d JOIN ev e ON e.session_id = d.session_id AND e.ts > d.ts AND e.type = 'purchase'
)
SELECT d.decision_id, d.session_id, d.ts,
       d.platform, d.locale, d.country, d.moment,
       hour(d.ts) AS hour, dayofweek(d.ts) AS weekday,
       s.surface, coalesce(s.searched, false) AS searched, s.search_category,
       CASE WHEN $at = 'decision' THEN NULL ELSE d.action END AS action,
       coalesce(s.engagement_clicked, false) AS engagement_clicked,
       coalesce(s.engagement_dismissed, false) AS engagement_dismissed,
       coalesce(s.session_views, 0) AS session_views,
       coalesce(s.session_favorites, 0) AS session_favorites,
       coalesce(s.session_listings, 0) AS session_listings,
       s.last_price, s.price_currency, s.last_price / nullif(s.mean_price, 0) AS last_price_ratio,
       coalesce(list_contains(h.seen_listings, s.last_listing), false) AS last_listing_seen_before,
       coalesce(h.prev_sessions, 0) AS prev_sessions,
       coalesce(h.prev_views, 0) AS prev_views,
       coalesce(h.prev_favorites, 0) AS prev_favorites,
       coalesce(h.prev_add_to_carts, 0) AS prev_add_to_carts,
       coalesce(h.prev_checkouts, 0) AS prev_checkouts,
       coalesce(h.prev_purchases, 0) AS prev_purchases,
       coalesce(h.prev_engagement_clicks, 0) AS prev_engagement_clicks,
       h.hours_since_seen,
       coalesce(h.last_cart > coalesce(h.last_close, TIMESTAMPTZ '1970-01-01'), false)
           AS cart_open,
       (l.decision_id IS NOT NULL) AS purchased
FROM cut d
LEFT JOIN sess s USING (decision_id)
LEFT JOIN hist h USING (decision_id)
LEFT JOIN label l USING (decision_id)
ORDER BY d.ts, d.decision_id
"""


def intent_rows(data_dir: str | os.PathLike[str], *, at: Snapshot = "cart") -> pa.Table:
    """The point-in-time intent rows of the lake under ``data_dir``, ordered by time.

    Columns: :data:`ID_COLUMNS`, the features described in the module docstring, and the
    label :data:`INTENT_LABEL`.
    """
    from marketlift.lake import connect  # noqa: PLC0415

    con = connect(data_dir)
    try:
        if at not in ("cart", "decision"):
            raise ConfigError("at", at, "'cart' or 'decision'")
        return con.sql(INTENT_SQL, params={"at": at}).to_arrow_table()
    finally:
        con.close()
