"""The ranker's online hit rate on the monitored day against its offline figure.

A ranked decision is a ``decision`` event with ``listing_ids`` whose ``model_versions`` name a
ranker. It is a hit when the buyer's next ``listing_view`` in the same session (after the
decision) is one of the listings shown. The offline figure is the promoted ranker's
``recall_at_20`` on its held-out sessions (the next item among the top 20); the slate served
is usually shorter, so the online rate is expected lower, and the check alerts only when it
falls below ``min_hit_rate_ratio`` of the offline figure.
"""

from __future__ import annotations

import datetime as dt
import os

import duckdb

from marketlift.monitor.config import MonitorConfig
from marketlift.monitor.result import Check

__all__ = ["HIT_RATE_SQL", "ranker_checks"]

HIT_RATE_SQL = """
WITH dec AS (
    SELECT decision_id, session_id, ts,
           CAST(json_extract(payload, '$.listing_ids') AS VARCHAR[]) AS shown
    FROM events
    WHERE type = 'decision' AND event_date = $day AND session_id IS NOT NULL
      AND json_extract_string(payload, '$.model_versions.ranker') IS NOT NULL
      AND json_array_length(json_extract(payload, '$.listing_ids')) > 0
), nxt AS (
    SELECT d.decision_id, arg_min(v.listing_id, v.ts) AS next_listing
    FROM dec d JOIN events v
      ON v.type = 'listing_view' AND v.session_id = d.session_id AND v.ts > d.ts
     AND v.event_date BETWEEN $day AND $day + INTERVAL 1 DAY
    GROUP BY d.decision_id
)
SELECT count(*) AS decisions,
       count(n.next_listing) AS with_next_view,
       count(*) FILTER (WHERE list_contains(d.shown, n.next_listing)) AS hits
FROM dec d LEFT JOIN nxt n USING (decision_id)
"""


def ranker_checks(
    con: duckdb.DuckDBPyConnection,
    data_dir: str | os.PathLike[str],
    interval: dt.date,
    config: MonitorConfig,
) -> list[Check]:
    """The online hit rate of ranked decisions with a next view, against the offline figure."""
    from marketlift.models.registry import Registry  # noqa: PLC0415

    registry = Registry(data_dir)
    if "ranker" not in registry.names() or registry.promoted("ranker") is None:
        return [Check.unjudged("ranker", "model:ranker", config.min_hit_rate_ratio, "no_model")]
    version = registry.get("ranker")
    offline = ((version.meta.get("metrics") or {}).get("ranker") or {}).get("recall_at_20")
    row = con.execute(HIT_RATE_SQL, {"day": interval}).fetchone()
    decisions, with_next, hits = (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)
    detail = {
        "version": version.version,
        "decisions": decisions,
        "with_next_view": with_next,
        "hits": hits,
        "offline_recall_at_20": offline,
    }
    if with_next < config.min_rows or not offline:
        return [
            Check.unjudged(
                "ranker",
                "model:ranker",
                config.min_hit_rate_ratio,
                "too_few_rows" if offline else "no_offline_figure",
                detail,
            )
        ]
    rate = hits / with_next
    ratio = rate / float(offline)
    detail["online_hit_rate"] = rate
    alert = ratio < config.min_hit_rate_ratio
    return [
        Check(
            "ranker",
            "model:ranker",
            ratio,
            config.min_hit_rate_ratio,
            alert,
            "below" if alert else "ok",
            detail,
        )
    ]
