"""Trigger moments: when a policy is asked whether to act now.

:class:`CatalogTriggers` follows the off-site moments an engagement catalog declares (trigger
event, delay, cancelling events); :class:`TriggerState` is the simulator's four moments.

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
from typing import Any, Final

__all__ = ["CART_IDLE", "MOMENTS", "CatalogTriggers", "TriggerState"]

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


@dataclasses.dataclass(slots=True)
class CatalogTriggers:
    """One buyer's off-site moments from an engagement catalog's triggers (event and delay).

    A trigger event (``add_to_cart``) starts the clock of every moment it triggers; a
    ``cancel_on`` event (``purchase``) stops it; :meth:`due` returns the moments whose delay has
    passed, each once per start (when several are overdue, only the longest delay fires, as in
    :class:`TriggerState`).

    Example:
        >>> import datetime as dt
        >>> from marketlift.policy.catalog import loads
        >>> cat = loads('''
        ... [channels.email]
        ... [[moments]]
        ... id = "favorite_idle"
        ... surfaces = ["push"]
        ... trigger = {event = "favorite", delay = {value = 3, unit = "days"}}
        ... cancel_on = ["purchase"]
        ... ''')
        >>> t0 = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
        >>> s = CatalogTriggers.from_catalog(cat)
        >>> s.on_event("favorite", t0)
        >>> s.due(t0 + dt.timedelta(days=1)), s.due(t0 + dt.timedelta(days=4))
        ([], ['favorite_idle'])
        >>> s.on_event("favorite", t0); s.on_event("purchase", t0 + dt.timedelta(hours=1))
        >>> s.due(t0 + dt.timedelta(days=4))
        []
    """

    triggers: dict[str, list[tuple[str, dt.timedelta]]]
    cancel: dict[str, set[str]]
    started: dict[str, dt.datetime] = dataclasses.field(default_factory=dict)
    fired: set[str] = dataclasses.field(default_factory=set)

    @classmethod
    def from_catalog(cls, catalog: Any) -> CatalogTriggers:
        """The catalog's triggered moments, by trigger event, shortest delay first."""
        triggers: dict[str, list[tuple[str, dt.timedelta]]] = {}
        cancel: dict[str, set[str]] = {}
        for m in catalog.moments:
            if m.trigger_event is None or m.delay_hours is None:
                continue
            triggers.setdefault(m.trigger_event, []).append(
                (m.id, dt.timedelta(hours=m.delay_hours))
            )
            for event in m.cancel_on:
                cancel.setdefault(event, set()).add(m.trigger_event)
        for items in triggers.values():
            items.sort(key=lambda item: item[1])
        return cls(triggers, cancel)

    def on_event(self, event_type: str, when: dt.datetime) -> None:
        """A buyer's event: (re)starts the clocks it triggers, stops those it cancels."""
        for trigger in self.cancel.get(event_type, ()):
            self.started.pop(trigger, None)
        if event_type in self.triggers:
            self.started[event_type] = when
            self.fired -= {m for m, _ in self.triggers[event_type]}

    def due(self, now: dt.datetime) -> list[str]:
        """Moments due at ``now`` and not fired since their trigger."""
        out: list[str] = []
        for trigger, since in self.started.items():
            ready = [m for m, after in self.triggers[trigger] if now - since >= after]
            fresh = [m for m in ready if m not in self.fired]
            self.fired.update(ready)
            if fresh:
                out.append(fresh[-1])
        return out
