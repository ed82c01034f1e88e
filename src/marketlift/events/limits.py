"""Explicit limits on what the collector accepts.

Per-field string lengths live in the schema itself (:mod:`marketlift.events.schema`); the
limits here apply to a request and to an event as a whole.

Example:
    >>> Limits().max_events
    1000
    >>> Limits(max_events=0)
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: max_events == 0, expected an integer >= 1.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from marketlift.errors import ConfigError
from marketlift.events.scan import MAX_DEPTH

__all__ = ["Limits"]


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """Limits on one request to ``POST /v1/events`` and on each event in it.

    Attributes:
        max_body_bytes: Largest request body as sent (gzip-compressed or not); 413 above it.
        max_decompressed_bytes: Largest body after gzip decompression; 413 above it.
        max_events: Most events in one batch; 413 above it.
        max_event_bytes: Largest single event as JSON; a larger event is rejected alone.
        max_depth: Deepest nesting of arrays and objects in one event (a valid event nests 4
            levels at most); a deeper event is rejected alone, its neighbours are kept.
        max_past: How far before the server's clock an event's ``ts`` may lie; ``None`` for
            no limit (backfills, simulations).
        max_future: How far after the server's clock an event's ``ts`` may lie; ``None`` for
            no limit.
    """

    max_body_bytes: int = 5 * 1024 * 1024
    max_decompressed_bytes: int = 20 * 1024 * 1024
    max_events: int = 1000
    max_event_bytes: int = 32 * 1024
    max_depth: int = MAX_DEPTH
    max_past: dt.timedelta | None = dt.timedelta(days=30)
    max_future: dt.timedelta | None = dt.timedelta(minutes=10)

    def __post_init__(self) -> None:
        """Validate every limit."""
        for name in (
            "max_body_bytes",
            "max_decompressed_bytes",
            "max_events",
            "max_event_bytes",
            "max_depth",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(name, value, "an integer >= 1")
        for name in ("max_past", "max_future"):
            value = getattr(self, name)
            if value is not None and value < dt.timedelta(0):
                raise ConfigError(name, value, "a non-negative timedelta or None")

    @classmethod
    def unbounded_time(cls) -> Limits:
        """Limits for backfills and simulations: any event time is accepted.

        Example:
            >>> Limits.unbounded_time().max_past is None
            True
        """
        return cls(max_past=None, max_future=None)
