"""What a check returns: :class:`Check`; what a run returns: :class:`MonitorReport`.

Data conditions come back as results, not exceptions: a check that cannot judge (too few
rows, no model) says so in ``status`` and does not alert.

Example:
    >>> import datetime as dt
    >>> c = Check("volume", "purchase/ios", 0.1, 0.5, alert=True, status="below")
    >>> report = MonitorReport(dt.date(2026, 11, 7), [c])
    >>> report.alerts == [c], report.to_dict()["alerts"]
    (True, 1)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

__all__ = ["Check", "MonitorReport"]


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One check on one subject.

    Attributes:
        kind: ``drift``, ``missing``, ``calibration``, ``ranker``, ``freshness``, ``volume``,
            ``dead_letters`` or ``degraded``.
        subject: What was checked: a feature, ``type/platform``, ``model:intent`` ...
        value: The measured figure (``None`` when it could not be measured).
        threshold: The figure it is compared with.
        alert: Whether it alerts.
        status: ``ok``, ``above``, ``below``, ``stale``, ``too_few_rows``, ``no_data`` ...
        detail: Supporting figures (JSON-ready).
    """

    kind: str
    subject: str
    value: float | None
    threshold: float
    alert: bool
    status: str = "ok"
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def unjudged(
        cls,
        kind: str,
        subject: str,
        threshold: float,
        status: str,
        detail: dict[str, Any] | None = None,
    ) -> Check:
        """A check that could not judge (no model, too few rows ...): no figure, no alert."""
        return cls(kind, subject, None, threshold, alert=False, status=status, detail=detail or {})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class MonitorReport:
    """Every check of one monitored day.

    Attributes:
        interval: The monitored day (UTC).
        checks: The checks, in the order they ran.
        seconds: Wall time of the run.
    """

    interval: dt.date
    checks: list[Check]
    seconds: float = 0.0

    @property
    def alerts(self) -> list[Check]:
        """The checks that alert."""
        return [c for c in self.checks if c.alert]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: interval, counts by kind, the alerts and every check."""
        kinds: dict[str, int] = {}
        for c in self.checks:
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        return {
            "interval": self.interval.isoformat(),
            "alerts": len(self.alerts),
            "checks_by_kind": kinds,
            "alerting": [c.to_dict() for c in self.alerts],
            "checks": [c.to_dict() for c in self.checks],
            "seconds": round(self.seconds, 3),
        }
