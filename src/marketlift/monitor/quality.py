"""Data quality and freshness of the lake: SQL reduces the events to counts per day.

- volume: events per type and platform on the monitored day against the median of the
  ``baseline_days`` before it;
- dead letters: the day's rejected payloads over everything received that day, with the top
  reasons;
- degraded decisions: the share of the day's ``decision`` events whose properties say
  ``degraded``;
- freshness: the age of the newest event of each type and platform, of the newest feature
  build (``DATA/features``) and of each promoted model's newest training row, at the end of
  the monitored day.

Busy streams only (baseline median at least ``min_daily_events``) are judged on volume and
event age; the others are reported with status ``too_few_events``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import duckdb

from marketlift.monitor.config import MonitorConfig
from marketlift.monitor.result import Check

__all__ = ["dead_letter_checks", "freshness_checks", "newest_training_row", "volume_checks"]

_VOLUME_SQL = """
WITH cal AS (
    SELECT CAST(r.d AS DATE) AS day
    FROM range(CAST($first AS TIMESTAMP), CAST($day AS TIMESTAMP) + INTERVAL 1 DAY,
               INTERVAL 1 DAY) r(d)
), counts AS (
    SELECT type, platform, event_date AS day, count(*) AS n, max(ts) AS newest
    FROM events WHERE event_date BETWEEN $first AND $day GROUP BY ALL
), keys AS (SELECT DISTINCT type, platform FROM counts),
grid AS (
    SELECT k.type, k.platform, c.day, coalesce(x.n, 0) AS n, x.newest
    FROM keys k CROSS JOIN cal c
    LEFT JOIN counts x ON x.type = k.type AND x.platform = k.platform AND x.day = c.day
)
SELECT type, platform,
       coalesce(sum(n) FILTER (WHERE day = $day), 0) AS n,
       coalesce(median(n) FILTER (WHERE day < $day), 0) AS baseline,
       max(newest) AS newest
FROM grid GROUP BY ALL ORDER BY type, platform
"""


def volume_checks(
    con: duckdb.DuckDBPyConnection, interval: dt.date, config: MonitorConfig
) -> list[Check]:
    """Volume and freshness of every type and platform seen in the baseline or the day.

    A baseline day without an event of a type and platform counts as zero; the baseline
    starts at the lake's first day when the lake is younger than ``baseline_days``.
    """
    oldest = con.execute("SELECT min(event_date) FROM events").fetchone()
    lake_first = oldest[0] if oldest and oldest[0] is not None else interval
    first = max(interval - dt.timedelta(days=config.baseline_days), lake_first)
    span = (interval - first).days
    rows = con.execute(_VOLUME_SQL, {"first": first, "day": interval}).fetchall()
    end = dt.datetime.combine(interval + dt.timedelta(days=1), dt.time(), dt.UTC)
    checks: list[Check] = []
    for type_, platform, n, baseline, newest in rows:
        subject = f"{type_}/{platform}"
        base = float(baseline)
        detail: dict[str, Any] = {"events": int(n), "baseline_median": base, "baseline_days": span}
        if span == 0 or base < config.min_daily_events:
            checks.append(
                Check.unjudged("volume", subject, config.volume_low, "too_few_events", detail)
            )
            checks.append(_age(subject, newest, end, config, judge=False))
            continue
        ratio = int(n) / base
        low, high = ratio < config.volume_low, ratio > config.volume_high
        status = "below" if low else "above" if high else "ok"
        limit = config.volume_low if ratio < 1 else config.volume_high
        checks.append(Check("volume", subject, ratio, limit, low or high, status, detail))
        checks.append(_age(subject, newest, end, config, judge=True))
    return checks


def _age(
    subject: str, newest: Any, end: dt.datetime, config: MonitorConfig, *, judge: bool
) -> Check:
    limit = config.max_event_age_hours
    if newest is None:
        return Check("freshness", f"events:{subject}", None, limit, judge, "no_data")
    hours = (end - newest).total_seconds() / 3600.0
    alert = judge and hours > limit
    status = "stale" if alert else "ok" if judge else "too_few_events"
    return Check(
        "freshness",
        f"events:{subject}",
        hours,
        limit,
        alert,
        status,
        {"newest": newest.isoformat()},
    )


_DEAD_SQL = """
SELECT (SELECT count(*) FROM dead_letters WHERE received_date = $day) AS dead,
       (SELECT count(*) FROM events WHERE CAST(received_at AS DATE) = $day) AS events
"""
_REASONS_SQL = """
SELECT reason, count(*) AS n FROM dead_letters WHERE received_date = $day
GROUP BY ALL ORDER BY n DESC, reason LIMIT $k
"""
_DEGRADED_SQL = """
SELECT count(*) AS n,
       count(*) FILTER (WHERE TRY_CAST(json_extract(payload, '$.properties.degraded') AS BOOLEAN))
FROM events WHERE type = 'decision' AND event_date = $day
"""


def dead_letter_checks(
    con: duckdb.DuckDBPyConnection, interval: dt.date, config: MonitorConfig
) -> list[Check]:
    """The day's dead-letter rate with its top reasons, and the share of degraded decisions."""
    row = con.execute(_DEAD_SQL, {"day": interval}).fetchone()
    dead, events = (int(row[0]), int(row[1])) if row else (0, 0)
    received = dead + events
    reasons = con.execute(_REASONS_SQL, {"day": interval, "k": config.top_reasons}).fetchall()
    rate = dead / received if received else 0.0
    alert = rate > config.max_dead_letter_rate
    checks = [
        Check(
            "dead_letters",
            "received",
            rate,
            config.max_dead_letter_rate,
            alert,
            "above" if alert else "ok" if received else "no_data",
            {
                "dead_letters": dead,
                "received": received,
                "top_reasons": [{"reason": r, "n": int(n)} for r, n in reasons],
            },
        )
    ]
    row = con.execute(_DEGRADED_SQL, {"day": interval}).fetchone()
    decisions, degraded = (int(row[0]), int(row[1])) if row else (0, 0)
    share = degraded / decisions if decisions else 0.0
    alert = share > config.max_degraded_share
    checks.append(
        Check(
            "degraded",
            "decisions",
            share,
            config.max_degraded_share,
            alert,
            "above" if alert else "ok" if decisions else "no_data",
            {"decisions": decisions, "degraded": degraded},
        )
    )
    return checks


def newest_training_row(value: str | float) -> dt.datetime:
    """A registry ``data_range`` bound: an ISO time (intent) or microseconds (ranker).

    Example:
        >>> newest_training_row(1_793_577_600_000_000).isoformat()
        '2026-11-02T00:00:00+00:00'
        >>> newest_training_row("2026-11-02 00:00:00+00:00").isoformat()
        '2026-11-02T00:00:00+00:00'
    """
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1e6, dt.UTC)
    seen = dt.datetime.fromisoformat(value)
    return seen if seen.tzinfo else seen.replace(tzinfo=dt.UTC)


def freshness_checks(
    data_dir: str | os.PathLike[str], interval: dt.date, config: MonitorConfig
) -> list[Check]:
    """Age of the newest feature build and of each promoted model's and policy's newest row.

    A model's newest training row is its ``data_range`` maximum; a policy's (the registry's
    ``engagement`` versions) the end of its ``training_range_us``.
    """
    import pyarrow.parquet as pq  # noqa: PLC0415

    from marketlift.models.registry import Registry  # noqa: PLC0415

    end = dt.datetime.combine(interval + dt.timedelta(days=1), dt.time(), dt.UTC)
    checks: list[Check] = []
    path = Path(data_dir) / "features" / "buyer_features.parquet"
    limit = config.max_features_age_hours
    if path.exists():
        table = pq.read_table(path, columns=["cutoff_ts"])
        newest = table["cutoff_ts"].to_numpy(zero_copy_only=False).max() if table.num_rows else None
        if newest is not None:
            cutoff = dt.datetime.fromtimestamp(
                newest.astype("datetime64[us]").astype(int) / 1e6, dt.UTC
            )
            hours = (end - cutoff).total_seconds() / 3600.0
            alert = hours > limit
            checks.append(
                Check(
                    "freshness",
                    "features:online",
                    hours,
                    limit,
                    alert,
                    "stale" if alert else "ok",
                    {"cutoff": cutoff.isoformat()},
                )
            )
    else:
        checks.append(Check.unjudged("freshness", "features:online", limit, "no_data"))
    registry = Registry(data_dir)
    for name in registry.names():
        if registry.promoted(name) is None:
            continue
        version = registry.get(name)
        meta = version.meta
        kind = "policy" if meta.get("kind") == "policy" else "model"
        newest_row = (meta.get("data_range") or {}).get("max")
        if not newest_row and kind == "policy":
            newest_row = (meta.get("training_range_us") or [None, None])[-1]
        limit = config.max_model_age_days
        if not newest_row:
            checks.append(
                Check.unjudged(
                    "freshness",
                    f"{kind}:{name}",
                    limit,
                    "no_data_range",
                    {"version": version.version},
                )
            )
            continue
        seen = newest_training_row(newest_row)
        days = (end - seen).total_seconds() / 86400.0
        alert = days > limit
        checks.append(
            Check(
                "freshness",
                f"{kind}:{name}",
                days,
                limit,
                alert,
                "stale" if alert else "ok",
                {"version": version.version, "newest_row": seen.isoformat()},
            )
        )
    return checks
