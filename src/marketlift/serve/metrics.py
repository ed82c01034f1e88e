"""Prometheus metrics of the collector and the decision API, in a registry per app."""

from __future__ import annotations

import dataclasses

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["CollectorMetrics", "DecideMetrics"]


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


_STAGE_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
)  # fmt: skip


@dataclasses.dataclass(slots=True)
class DecideMetrics:
    """The decision API's metrics, in the collector's registry (one ``/metrics``).

    ``recent`` keeps the last 4,096 request times (seconds) for ``GET /v1/stats``.
    """

    requests: Counter
    stage_seconds: Histogram
    total_seconds: Histogram
    fallbacks: Counter
    errors: Counter
    reloads: Counter
    breaker_open: Gauge
    recent: np.ndarray = dataclasses.field(default_factory=lambda: np.full(4096, np.nan))
    count: int = 0
    fallback_count: int = 0

    @classmethod
    def create(cls, registry: CollectorRegistry) -> DecideMetrics:
        """Make the metrics in ``registry``."""
        return cls(
            requests=Counter(
                "marketlift_decide_requests", "Requests to POST /v1/decide by status code.",
                ["status"], registry=registry,
            ),
            stage_seconds=Histogram(
                "marketlift_decide_stage_seconds", "Time per decision stage.", ["stage"],
                buckets=_STAGE_BUCKETS, registry=registry,
            ),
            total_seconds=Histogram(
                "marketlift_decide_seconds", "Server-side time of one decision.",
                buckets=_STAGE_BUCKETS, registry=registry,
            ),
            fallbacks=Counter(
                "marketlift_decide_fallbacks", "Decisions answered by a fallback, by reason.",
                ["reason"], registry=registry,
            ),
            errors=Counter(
                "marketlift_decide_errors", "Decisions that failed with an unexpected error.",
                registry=registry,
            ),
            reloads=Counter(
                "marketlift_model_reloads", "Model or policy versions loaded while serving.",
                registry=registry,
            ),
            breaker_open=Gauge(
                "marketlift_feature_store_breaker_open",
                "1 while the feature store's circuit breaker is open.", registry=registry,
            ),
        )  # fmt: skip

    def observe(self, timings_ms: dict[str, float], reasons: list[str]) -> None:
        """Record one decision's stage times and fallbacks."""
        for stage, ms in timings_ms.items():
            if stage == "total":
                self.total_seconds.observe(ms / 1000.0)
            else:
                self.stage_seconds.labels(stage).observe(ms / 1000.0)
        for reason in reasons:
            self.fallbacks.labels(reason.split(":")[0]).inc()
        if reasons:
            self.fallback_count += 1
        self.recent[self.count % len(self.recent)] = timings_ms.get("total", np.nan)
        self.count += 1

    def summary(self) -> dict[str, float | int | None]:
        """Requests, fallbacks, p50 and p99 of the recent server-side times (milliseconds)."""
        seen = self.recent[~np.isnan(self.recent)]
        p50, p99 = (
            (float(np.percentile(seen, 50)), float(np.percentile(seen, 99)))
            if len(seen) else (None, None)
        )  # fmt: skip
        return {"requests": self.count, "fallbacks": self.fallback_count,
                "p50_ms": p50, "p99_ms": p99}  # fmt: skip
