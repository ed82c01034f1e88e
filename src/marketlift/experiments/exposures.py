"""Exposure logging: one exposure event per unit, experiment and day.

:class:`ExposureDeduplicator` remembers which ``(unit, experiment, day)`` keys were logged and
forgets days older than ``keep_days``, so memory stays bounded on a long-running server. The
event id is derived from the key, so a retry or a second server logs the same id and the lake
stores it once.

Example:
    >>> import datetime as dt
    >>> from marketlift.experiments.assignment import Assignment
    >>> dedupe = ExposureDeduplicator()
    >>> a = Assignment("checkout_copy", "treatment", "buyer_id", "b1")
    >>> now = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
    >>> dedupe.should_log(a, now), dedupe.should_log(a, now + dt.timedelta(hours=1))
    (True, False)
    >>> dedupe.should_log(a, now + dt.timedelta(days=1))
    True
    >>> exposure_event(a, ts=now, platform="web").event_id == exposure_event_id(a, now.date())
    True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterable
from typing import Any

from marketlift.errors import ConfigError
from marketlift.events import Exposure
from marketlift.experiments.assignment import Assignment

__all__ = ["ExposureDeduplicator", "exposure_event", "exposure_event_id", "exposures_to_log"]


class ExposureDeduplicator:
    """Thread-safe memory of the exposures logged per day.

    Args:
        keep_days: Days kept, counting the newest seen (older keys are dropped).
    """

    def __init__(self, keep_days: int = 2) -> None:
        if keep_days < 1:
            raise ConfigError("keep_days", keep_days, "at least 1")
        self.keep_days = keep_days
        self._days: dict[dt.date, set[tuple[str, str]]] = {}
        self._lock = threading.Lock()

    def should_log(self, assignment: Assignment, ts: dt.datetime) -> bool:
        """Record the exposure; ``True`` the first time its (unit, experiment, UTC day) is seen."""
        if ts.tzinfo is None:
            raise ConfigError("ts", ts, "a timezone-aware datetime")
        day = ts.astimezone(dt.UTC).date()
        key = (assignment.unit_id, assignment.experiment_key)
        with self._lock:
            if self._days and day < max(self._days) - dt.timedelta(days=self.keep_days - 1):
                return False  # older than anything kept: assume it was logged then
            seen = self._days.setdefault(day, set())
            if key in seen:
                return False
            seen.add(key)
            newest = max(self._days)
            for old in [d for d in self._days if d <= newest - dt.timedelta(days=self.keep_days)]:
                del self._days[old]
            return True

    def __len__(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._days.values())


def exposure_event_id(assignment: Assignment, day: dt.date) -> str:
    """Deterministic event id of the exposure of ``assignment`` on ``day``."""
    raw = f"{assignment.experiment_key}\x00{assignment.unit}\x00{assignment.unit_id}\x00{day}"
    return "exp-" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def exposure_event(assignment: Assignment, *, ts: dt.datetime, **fields: Any) -> Exposure:
    """The :class:`~marketlift.events.Exposure` event of an assignment.

    ``fields`` are further event fields (``platform`` is required; ``session_id``, ``locale``,
    ``country``, ``decision_id``, the other unit id, ...).
    """
    unit_fields = {assignment.unit: assignment.unit_id}
    return Exposure(
        event_id=exposure_event_id(assignment, ts.astimezone(dt.UTC).date()),
        schema_version=1,
        ts=ts,
        experiment_key=assignment.experiment_key,
        variant=assignment.variant,
        **{**fields, **unit_fields},
    )


def exposures_to_log(
    dedupe: ExposureDeduplicator,
    assignments: Iterable[Assignment],
    *,
    ts: dt.datetime,
    **fields: Any,
) -> list[Exposure]:
    """Exposure events for the assignments not yet logged today (what ``/v1/assign`` emits)."""
    return [exposure_event(a, ts=ts, **fields) for a in assignments if dedupe.should_log(a, ts)]
