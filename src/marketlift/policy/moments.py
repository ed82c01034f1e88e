"""Trigger moments: when a policy is asked whether to act now.

Moments (the simulator's names): ``browsing`` (a listing view), ``returning_visit`` (a new
session while a cart is open), ``cart_idle_1h`` and ``cart_idle_1d`` (a cart left alone for an
hour, a day). :class:`TriggerState` follows one buyer's events and says which moments are due.

Example:
    >>> import datetime as dt
    >>> t0 = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    >>> s = TriggerState()
    >>> s.on_event("add_to_cart", t0)
    []
    >>> s.due(t0 + dt.timedelta(minutes=30)), s.due(t0 + dt.timedelta(hours=2))
    ([], ['cart_idle_1h'])
    >>> s.due(t0 + dt.timedelta(hours=3)), s.due(t0 + dt.timedelta(days=2))
    ([], ['cart_idle_1d'])
    >>> s.on_event("session_start", t0 + dt.timedelta(days=2))
    ['returning_visit']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Final

__all__ = ["CART_IDLE", "MOMENTS", "TriggerState"]

MOMENTS: Final = ("browsing", "returning_visit", "cart_idle_1h", "cart_idle_1d")
CART_IDLE: Final = (("cart_idle_1h", dt.timedelta(hours=1)), ("cart_idle_1d", dt.timedelta(days=1)))
"""Idle-cart moments and how long after the last cart change they fire."""


@dataclasses.dataclass(slots=True)
class TriggerState:
    """One buyer's trigger state: the open cart and which idle moments already fired."""

    cart_since: dt.datetime | None = None
    fired: set[str] = dataclasses.field(default_factory=set)

    def on_event(self, event_type: str, when: dt.datetime) -> list[str]:
        """Update with an event; returns the moments it triggers immediately."""
        if event_type in ("add_to_cart", "remove_from_cart"):
            self.cart_since, self.fired = when, set()
            return []
        if event_type == "purchase":
            self.cart_since, self.fired = None, set()
            return []
        if event_type == "listing_view":
            return ["browsing"]
        if event_type == "session_start" and self.cart_since is not None:
            return ["returning_visit"]
        return []

    def due(self, now: dt.datetime) -> list[str]:
        """Idle-cart moments due at ``now`` and not fired yet (each fires once per cart)."""
        if self.cart_since is None:
            return []
        idle = now - self.cart_since
        out = [m for m, after in CART_IDLE if idle >= after and m not in self.fired]
        if len(out) > 1:  # both overdue: only the latest moment is still relevant
            self.fired.update(m for m, _ in CART_IDLE)
            return out[-1:]
        self.fired.update(out)
        return out
