"""The latest monitoring report as Prometheus gauges, for ``serve``'s ``/metrics``.

``marketlift monitor`` (or the pipeline's monitor step) writes ``DATA/monitor/latest.json``;
:class:`MonitorCollector` reads it at each scrape (a small JSON file) and exposes:

- ``marketlift_monitor_value{kind, subject}``: each check's figure (PSI, ECE, ratio, age);
- ``marketlift_monitor_alert{kind, subject}``: 1 when the check alerts, else 0;
- ``marketlift_monitor_alerts``: the number of alerts; ``marketlift_monitor_report_age_seconds``:
  how old the report file is.

Example:
    >>> import datetime as dt, tempfile
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> from marketlift.monitor import Check, MonitorReport, write_report
    >>> data = tempfile.mkdtemp()
    >>> check = Check("volume", "purchase/ios", 0.1, 0.5, alert=True)
    >>> _ = write_report(data, MonitorReport(dt.date(2026, 11, 7), [check]))
    >>> registry = CollectorRegistry()
    >>> registry.register(MonitorCollector(data))
    >>> 'marketlift_monitor_alert{kind="volume",subject="purchase/ios"} 1.0' in (
    ...     generate_latest(registry).decode())
    True
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from marketlift.monitor.run import report_path

__all__ = ["MonitorCollector"]


class MonitorCollector(Collector):
    """Gauges of the latest report under ``data_dir`` (none before the first report)."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = report_path(data_dir)

    def collect(self) -> Iterator[Metric]:
        """Read the report and yield its gauges."""
        try:
            doc = json.loads(self.path.read_text())
            age = time.time() - self.path.stat().st_mtime
        except (OSError, ValueError):
            return
        value = GaugeMetricFamily(
            "marketlift_monitor_value",
            "Figure of each monitoring check.",
            labels=["kind", "subject"],
        )
        alert = GaugeMetricFamily(
            "marketlift_monitor_alert",
            "1 when a monitoring check alerts.",
            labels=["kind", "subject"],
        )
        for check in doc.get("checks", []):
            labels = [str(check["kind"]), str(check["subject"])]
            if check.get("value") is not None:
                value.add_metric(labels, float(check["value"]))
            alert.add_metric(labels, 1.0 if check.get("alert") else 0.0)
        yield value
        yield alert
        yield GaugeMetricFamily(
            "marketlift_monitor_alerts",
            "Alerts of the latest report.",
            value=float(doc.get("alerts", 0)),
        )
        yield GaugeMetricFamily(
            "marketlift_monitor_report_age_seconds",
            "Age of the latest monitoring report.",
            value=age,
        )
