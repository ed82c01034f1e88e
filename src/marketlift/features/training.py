"""Point-in-time correct training sets for the intent, ranking and uplift models.

Every row has a ``cutoff_ts``; its features are computed only from events strictly before
it (buyer and in-session features at the cut-off itself, listing features at the start of the
cut-off's UTC day, which is earlier). Labels look at events at or after the cut-off.

- ``intent``: one row per gap session with at least ``cutoff_events`` events and no purchase
  among them; ``cutoff_ts`` = the time of its ``cutoff_events``-th event + 1 microsecond;
  ``label`` = 1 when the session has a purchase at or after the cut-off; ``label_revenue``.
  With ``intent_cutoff="decision"`` instead: one row per in-session engagement ``decision``
  event (moment ``browsing`` or ``returning_visit``: the decision API's call) whose gap session
  has no purchase before it; ``cutoff_ts`` = the decision's time (features see only the events
  before it, as the online store does when the API is called); ``decision_id`` identifies the
  row; same ``label`` and ``label_revenue``.
- ``ranking``: one row per (impression, listing shown); ``cutoff_ts`` = the impression's time;
  ``label`` = the buyer viewed the listing later in the same session, ``label_cart`` = added it
  to the cart; ``position``; buyer, session and listing features, and ``x_category_match``.
- ``uplift``: one row per ``decision`` event; ``cutoff_ts`` = its time; ``treatment`` (action
  other than ``none``), ``action``, ``channel``, ``propensity``, ``moment``; ``label`` = a
  purchase by the buyer within ``horizon_hours`` from the cut-off, ``label_revenue``.

Example:
    >>> import tempfile
    >>> training_set(tempfile.mkdtemp(), "intent").num_rows
    0
"""

from __future__ import annotations

import os
from typing import Any, Final

import pyarrow as pa

from marketlift.errors import ConfigError
from marketlift.features.build import prepare, with_timestamps
from marketlift.features.config import FeatureConfig
from marketlift.features.definitions import feature_names
from marketlift.features.dialect import Dialect
from marketlift.features.engines import Engine, make_engine
from marketlift.features.queries import (
    buyer_features_sql,
    event_sessions_sql,
    listing_features_sql,
    session_features_sql,
)

__all__ = ["INTENT_CUTOFFS", "TASKS", "compute_training_set", "training_set"]

TASKS: Final = ("intent", "ranking", "uplift")
INTENT_CUTOFFS: Final = ("events", "decision")
_DAY: Final = 86_400_000_000


def _intent_rows(cutoff_events: int) -> str:
    n = cutoff_events
    return f"""
WITH n AS (
    SELECT buyer, session_no, ts_us, type, revenue, ROW_NUMBER() OVER (
        PARTITION BY buyer, session_no ORDER BY ts_us, event_id) AS k
    FROM fx_events_s
), c AS (
    SELECT buyer, session_no, MAX(CASE WHEN k = {n} THEN ts_us END) + 1 AS cutoff_us
    FROM n GROUP BY buyer, session_no HAVING MAX(k) >= {n}
), l AS (
    SELECT c.buyer, c.session_no, c.cutoff_us,
        SUM(CASE WHEN n.type = 'purchase' AND n.ts_us < c.cutoff_us THEN 1 ELSE 0 END)
            AS early,
        SUM(CASE WHEN n.type = 'purchase' AND n.ts_us >= c.cutoff_us THEN 1 ELSE 0 END)
            AS later,
        SUM(CASE WHEN n.type = 'purchase' AND n.ts_us >= c.cutoff_us
            THEN COALESCE(n.revenue, 0.0) ELSE 0.0 END) AS revenue
    FROM c JOIN n ON n.buyer = c.buyer AND n.session_no = c.session_no
    GROUP BY c.buyer, c.session_no, c.cutoff_us
)
SELECT CONCAT(buyer, '#', CAST(session_no AS STRING)) AS row_id,
    CONCAT(buyer, '#', CAST(session_no AS STRING)) AS sp_id, buyer, session_no, cutoff_us,
    CAST(CASE WHEN later > 0 THEN 1 ELSE 0 END AS BIGINT) AS label,
    CAST(revenue AS DOUBLE) AS label_revenue
FROM l WHERE early = 0"""  # noqa: S608


def _intent_decision_rows(d: Dialect) -> str:
    moment = d.json_string("payload", "$.properties.moment")
    return f"""
WITH dec AS (
    SELECT f.event_id, e.decision_id, f.buyer, f.session_no, f.ts_us AS cutoff_us
    FROM events e JOIN fx_events_s f ON f.event_id = e.event_id
    WHERE e.type = 'decision' AND {moment} IN ('browsing', 'returning_visit')
), l AS (
    SELECT dec.event_id, dec.decision_id, dec.buyer, dec.session_no, dec.cutoff_us,
        SUM(CASE WHEN p.ts_us < dec.cutoff_us THEN 1 ELSE 0 END) AS early,
        SUM(CASE WHEN p.ts_us >= dec.cutoff_us THEN 1 ELSE 0 END) AS later,
        SUM(CASE WHEN p.ts_us >= dec.cutoff_us THEN COALESCE(p.revenue, 0.0) ELSE 0.0 END)
            AS revenue
    FROM dec LEFT JOIN fx_events_s p ON p.buyer = dec.buyer AND p.session_no = dec.session_no
        AND p.type = 'purchase'
    GROUP BY dec.event_id, dec.decision_id, dec.buyer, dec.session_no, dec.cutoff_us
)
SELECT event_id AS row_id, event_id AS sp_id, decision_id, buyer, session_no, cutoff_us,
    CAST(CASE WHEN later > 0 THEN 1 ELSE 0 END AS BIGINT) AS label,
    CAST(revenue AS DOUBLE) AS label_revenue
FROM l WHERE early = 0"""  # noqa: S608


def _ranking_rows(d: Dialect) -> str:
    fields = {"listing_id": "STRING", "position": "INT"}
    return f"""
WITH imp AS (
    SELECT event_id, {d.item_field("listing_id", "STRING")} AS listing_id,
        {d.item_field("position", "INT")} AS position
    FROM (
        SELECT event_id, {d.explode_json("payload", "listings", fields)}
        FROM events WHERE type = 'impression'
    ) t
), r AS (
    SELECT CONCAT(e.event_id, ':', CAST(imp.position AS STRING), ':', imp.listing_id)
            AS row_id,
        e.event_id AS sp_id, e.buyer, e.session_no, e.ts_us AS cutoff_us, imp.listing_id,
        CAST(imp.position AS BIGINT) AS position,
        e.ts_us - (e.ts_us % {_DAY}) AS listing_cutoff_us
    FROM imp JOIN fx_events_s e ON e.event_id = imp.event_id
)
SELECT r.*, CONCAT(r.listing_id, '@', CAST(r.listing_cutoff_us AS STRING)) AS l_sp,
    CAST(MAX(CASE WHEN v.type = 'listing_view' THEN 1 ELSE 0 END) AS BIGINT) AS label,
    CAST(MAX(CASE WHEN v.type = 'add_to_cart' THEN 1 ELSE 0 END) AS BIGINT) AS label_cart
FROM r LEFT JOIN fx_events_s v ON v.buyer = r.buyer AND v.session_no = r.session_no
    AND v.listing_id = r.listing_id AND v.ts_us >= r.cutoff_us
    AND v.type IN ('listing_view', 'add_to_cart')
GROUP BY r.row_id, r.sp_id, r.buyer, r.session_no, r.cutoff_us, r.listing_id, r.position,
    r.listing_cutoff_us"""  # noqa: S608


def _uplift_rows(d: Dialect, horizon_us: int) -> str:
    return f"""
WITH r AS (
    SELECT event_id AS row_id, event_id AS sp_id, decision_id,
        COALESCE(buyer_id, anonymous_id) AS buyer, {d.epoch_us("ts")} AS cutoff_us,
        COALESCE(action, 'none') AS action, channel, propensity,
        {d.json_string("payload", "$.properties.moment")} AS moment,
        CAST(CASE WHEN COALESCE(action, 'none') <> 'none' THEN 1 ELSE 0 END AS BIGINT)
            AS treatment
    FROM events WHERE type = 'decision' AND COALESCE(buyer_id, anonymous_id) IS NOT NULL
)
SELECT r.*, CAST(MAX(CASE WHEN p.ts_us IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS label,
    CAST(COALESCE(SUM(p.revenue), 0.0) AS DOUBLE) AS label_revenue
FROM r LEFT JOIN fx_events p ON p.buyer = r.buyer AND p.type = 'purchase'
    AND p.ts_us >= r.cutoff_us AND p.ts_us < r.cutoff_us + {horizon_us}
GROUP BY r.row_id, r.sp_id, r.decision_id, r.buyer, r.cutoff_us, r.action, r.channel,
    r.propensity, r.moment, r.treatment"""  # noqa: S608


def _cols(alias: str, entity: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in feature_names(entity))


def compute_training_set(
    engine: Engine,
    task: str,
    *,
    catalog: pa.Table | None = None,
    config: FeatureConfig | None = None,
    cutoff_events: int = 3,
    horizon_hours: float = 24.0,
    intent_cutoff: str = "events",
) -> pa.Table:
    """Build one task's training set on an engine (see the module doc for row semantics).

    Raises:
        ConfigError: Unknown task or ``intent_cutoff``, ``cutoff_events < 1`` or
            ``horizon_hours <= 0``.
    """
    if task not in TASKS:
        raise ConfigError("task", task, "one of " + ", ".join(TASKS))
    if cutoff_events < 1:
        raise ConfigError("cutoff_events", cutoff_events, "an integer >= 1")
    if not horizon_hours > 0:
        raise ConfigError("horizon_hours", horizon_hours, "a number > 0")
    if intent_cutoff not in INTENT_CUTOFFS:
        raise ConfigError("intent_cutoff", intent_cutoff, "one of " + ", ".join(INTENT_CUTOFFS))
    cfg = config or FeatureConfig()
    d = engine.dialect
    prepare(engine, cfg, catalog)
    if task != "uplift":
        # Row and label queries group events by session: give each event its session_no.
        engine.materialize("fx_events_s", event_sessions_sql(d, cfg))
    if task == "intent" and intent_cutoff == "decision":
        rows = _intent_decision_rows(d)
        head = (
            "r.row_id, r.decision_id, r.buyer, r.session_no, r.cutoff_us, r.label, r.label_revenue"
        )
    elif task == "intent":
        rows = _intent_rows(cutoff_events)
        head = "r.row_id, r.buyer, r.session_no, r.cutoff_us, r.label, r.label_revenue"
    elif task == "ranking":
        rows = _ranking_rows(d)
        head = (
            "r.row_id, r.sp_id AS impression_id, r.buyer, r.session_no, r.cutoff_us, "
            "r.listing_id, r.position, r.listing_cutoff_us, r.label, r.label_cart"
        )
    else:
        rows = _uplift_rows(d, round(horizon_hours * 3_600_000_000))
        head = (
            "r.row_id, r.decision_id, r.buyer, r.cutoff_us, r.action, r.channel, "
            "r.propensity, r.moment, r.treatment, r.label, r.label_revenue"
        )
    engine.materialize("fx_rows", rows)
    engine.execute(
        d.create_view("fx_spine_buyer", "SELECT DISTINCT sp_id, buyer, cutoff_us FROM fx_rows")
    )
    engine.materialize("fx_buyer_at", buyer_features_sql(d, cfg))
    engine.materialize("fx_session_at", session_features_sql(d, cfg))
    select = f"{head}, {_cols('b', 'buyer')}, {_cols('s', 'session')}"
    joins = (
        "FROM fx_rows r JOIN fx_buyer_at b ON b.sp_id = r.sp_id "
        "JOIN fx_session_at s ON s.sp_id = r.sp_id"
    )
    if task == "ranking":
        engine.execute(
            d.create_view(
                "fx_spine_listing",
                "SELECT DISTINCT l_sp AS sp_id, listing_id, listing_cutoff_us AS cutoff_us "
                "FROM fx_rows",
            )
        )
        engine.materialize("fx_listing_at", listing_features_sql(d, cfg))
        select += (
            f", {_cols('l', 'listing')}, CAST(CASE WHEN l.l_category IS NULL OR "
            "b.b_top_category IS NULL THEN NULL WHEN l.l_category = b.b_top_category "
            "THEN 1 ELSE 0 END AS BIGINT) AS x_category_match"
        )
        joins += " JOIN fx_listing_at l ON l.sp_id = r.l_sp"
    table = engine.query(f"SELECT {select} {joins}")
    return with_timestamps(table.sort_by([("row_id", "ascending")]))


def training_set(
    data_dir: str | os.PathLike[str],
    task: str,
    *,
    engine: str = "duckdb",
    catalog: pa.Table | None = None,
    config: FeatureConfig | None = None,
    cutoff_events: int = 3,
    horizon_hours: float = 24.0,
    intent_cutoff: str = "events",
    spark: Any = None,
) -> pa.Table:
    """The training set of ``task`` (``intent``, ``ranking`` or ``uplift``) from a lake.

    Args:
        data_dir: The data directory.
        task: Which model the rows are for (see the module doc).
        engine: ``duckdb`` (default) or ``spark``.
        catalog: Listing catalog (``marketlift.features.CATALOG_SCHEMA``), optional.
        config: Feature parameters.
        cutoff_events: Intent: events of the session seen before the cut-off.
        horizon_hours: Uplift: how long after the decision a purchase counts.
        intent_cutoff: Intent: ``events`` (after ``cutoff_events`` events of each session) or
            ``decision`` (at each in-session engagement decision).
        spark: An existing SparkSession for ``engine="spark"``.
    """
    eng = make_engine(engine, data_dir, spark=spark)
    try:
        return compute_training_set(
            eng,
            task,
            catalog=catalog,
            config=config,
            cutoff_events=cutoff_events,
            horizon_hours=horizon_hours,
            intent_cutoff=intent_cutoff,
        )
    finally:
        eng.close()
