"""Run every check on one day: :func:`monitor`; keep the latest report: :func:`write_report`.

Example:
    >>> import tempfile
    >>> from marketlift.sim import SimConfig, simulate
    >>> data = tempfile.mkdtemp()
    >>> _ = simulate(SimConfig(n_buyers=300, n_days=3, seed=1), data)
    >>> report = monitor(data)
    >>> report.interval.isoformat(), [c.subject for c in report.alerts]
    ('2026-11-03', [])
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

from marketlift.errors import ConfigError
from marketlift.lake import connect
from marketlift.monitor.config import MonitorConfig
from marketlift.monitor.intent import intent_checks
from marketlift.monitor.quality import dead_letter_checks, freshness_checks, volume_checks
from marketlift.monitor.ranker import ranker_checks
from marketlift.monitor.result import MonitorReport

__all__ = ["latest_complete_day", "monitor", "report_path", "write_report"]


def latest_complete_day(data_dir: str | os.PathLike[str], today: dt.date | None = None) -> dt.date:
    """The newest day of the lake that is over, at most yesterday (UTC).

    The newest event's day is still being written (a live stream), and a few stragglers can
    land on later days (sessions past midnight, a reminder the next morning), so it is the
    newest day before the newest event's day that has at least half the median day's volume.

    Raises:
        ConfigError: the lake has no events.
    """
    con = connect(data_dir)
    try:
        rows = con.execute(
            "SELECT event_date, count(*) FROM events GROUP BY ALL ORDER BY event_date"
        ).fetchall()
    finally:
        con.close()
    if not rows:
        raise ConfigError("--data", str(data_dir), "a data directory whose lake has events")
    yesterday = (today or dt.datetime.now(dt.UTC).date()) - dt.timedelta(days=1)
    counts = sorted(int(n) for _, n in rows)
    median = counts[len(counts) // 2]
    newest: dt.date = rows[-1][0]
    full = [day for day, n in rows[:-1] if n >= median / 2]
    day = full[-1] if full else newest - dt.timedelta(days=1)
    return min(day, yesterday)


def monitor(
    data_dir: str | os.PathLike[str],
    interval: dt.date | None = None,
    config: MonitorConfig | None = None,
) -> MonitorReport:
    """Every check on the day ``interval`` (default: :func:`latest_complete_day`).

    Args:
        data_dir: The data directory (lake, features, registry).
        interval: The monitored day (UTC).
        config: The thresholds (default: :class:`MonitorConfig`).
    """
    if not Path(data_dir).is_dir():
        raise ConfigError("--data", str(data_dir), "an existing data directory")
    started = time.perf_counter()
    config = config or MonitorConfig()
    day = interval or latest_complete_day(data_dir)
    con = connect(data_dir)
    try:
        checks = volume_checks(con, day, config)
        checks += dead_letter_checks(con, day, config)
        checks += ranker_checks(con, data_dir, day, config)
    finally:
        con.close()
    checks += freshness_checks(data_dir, day, config)
    checks += intent_checks(data_dir, day, config)
    return MonitorReport(day, checks, time.perf_counter() - started)


def report_path(data_dir: str | os.PathLike[str]) -> Path:
    """Where the latest report is kept (``DATA/monitor/latest.json``), read by ``serve``."""
    return Path(data_dir) / "monitor" / "latest.json"


def write_report(data_dir: str | os.PathLike[str], report: MonitorReport) -> Path:
    """Write ``report`` as the latest one (atomically) and return its path."""
    path = report_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report.to_dict(), indent=1, default=str))
    tmp.replace(path)
    return path
