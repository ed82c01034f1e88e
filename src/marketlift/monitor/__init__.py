"""Monitoring of the loop: drift, calibration, freshness and data quality of one day.

Module map:

- :mod:`~marketlift.monitor.config`: :class:`MonitorConfig`, the thresholds.
- :mod:`~marketlift.monitor.stats`: population stability index, reliability by decile.
- :mod:`~marketlift.monitor.result`: :class:`Check` and :class:`MonitorReport`.
- :mod:`~marketlift.monitor.intent`: feature drift and calibration of the intent model.
- :mod:`~marketlift.monitor.ranker`: the ranker's online hit rate against its offline figure.
- :mod:`~marketlift.monitor.quality`: volume, dead letters, degraded decisions, freshness.
- :mod:`~marketlift.monitor.run`: :func:`monitor` runs them all; :func:`write_report`.
- :mod:`~marketlift.monitor.prometheus`: the latest report as Prometheus gauges (``serve``).
"""

from marketlift.monitor.config import MonitorConfig
from marketlift.monitor.result import Check, MonitorReport
from marketlift.monitor.run import latest_complete_day, monitor, report_path, write_report
from marketlift.monitor.stats import categorical_psi, psi, reliability

__all__ = [
    "Check",
    "MonitorConfig",
    "MonitorReport",
    "categorical_psi",
    "latest_complete_day",
    "monitor",
    "psi",
    "reliability",
    "report_path",
    "write_report",
]
