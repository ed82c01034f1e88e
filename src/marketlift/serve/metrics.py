"""Prometheus metrics of the collector, in a registry per app (so tests can run several)."""

from __future__ import annotations

import dataclasses

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["CollectorMetrics"]


@dataclasses.dataclass(frozen=True, slots=True)
class CollectorMetrics:
    """The collector's counters and histograms."""

    registry: CollectorRegistry
    requests: Counter
    events: Counter
    latency: Histogram
    batch_size: Histogram
    stored_events: Gauge

    @classmethod
    def create(cls) -> CollectorMetrics:
        """Make the metrics in a fresh registry."""
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            requests=Counter(
                "marketlift_collector_requests",
                "Requests to POST /v1/events by status code.",
                ["status"],
                registry=registry,
            ),
            events=Counter(
                "marketlift_collector_events",
                "Events received, by outcome (accepted, duplicate, rejected).",
                ["outcome"],
                registry=registry,
            ),
            latency=Histogram(
                "marketlift_collector_ack_seconds",
                "Time from request start to durable acknowledgement.",
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
                registry=registry,
            ),
            batch_size=Histogram(
                "marketlift_collector_batch_events",
                "Events per request.",
                buckets=(1, 10, 50, 100, 250, 500, 1000),
                registry=registry,
            ),
            stored_events=Gauge(
                "marketlift_lake_events",
                "Distinct events stored in the lake by this writer.",
                registry=registry,
            ),
        )
