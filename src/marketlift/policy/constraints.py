"""Constraints on engagement: frequency caps, quiet hours, opt-outs and a budget for costly actions.

A constraint never changes how a policy scores; it removes actions from the available set
before the policy decides (:class:`ConstrainedPolicy`), so the logged propensity stays the
probability of the choice given what was allowed.

Example:
    >>> import datetime as dt
    >>> c = Constraints(caps={"push": (1, 24.0)}, quiet_hours=(22, 8))
    >>> noon = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
    >>> c.allowed("b1", ["none", "cart_reminder_push"], noon, "UTC").tolist()
    [True, True]
    >>> c.record("b1", "cart_reminder_push", noon)
    >>> c.allowed("b1", ["none", "cart_reminder_push"], noon, "UTC").tolist()
    [True, False]
    >>> c.allowed("b2", ["none", "cart_reminder_push"], noon, "Asia/Tokyo").tolist()  # 21:00
    [True, True]
    >>> c.allowed("b2", ["none", "cart_reminder_push"], noon, "Pacific/Kiritimati").tolist()
    [True, False]
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.policy.base import BasePolicy, Decision, FloatArray, IntArray

__all__ = ["BudgetTracker", "ConstrainedPolicy", "Constraints", "allocate_budget", "channel_of"]


def channel_of(action: str, channels: Mapping[str, str] | None = None) -> str | None:
    """The channel of an action id.

    From ``channels`` (an engagement catalog's ``{action id: channel}``,
    :meth:`marketlift.policy.catalog.EngagementCatalog.channels_by_action`) when it names the
    action, else the part after the last ``_`` when it is a known channel (``push``, ``email``,
    ``onsite``, ``in_app``, ``sms``).

    Example:
        >>> channel_of("cart_reminder_push"), channel_of("wishlist", {"wishlist": "email"})
        ('push', 'email')
    """
    if channels is not None and action in channels:
        return channels[action]
    if action == "none":
        return None
    for channel in ("in_app", "push", "email", "onsite", "sms"):
        if action.endswith("_" + channel):
            return channel
    return None


class Constraints:
    """Frequency caps per buyer and channel, quiet hours in the buyer's time zone, opt-outs.

    Args:
        caps: Per channel, ``(max messages, window in hours)``.
        quiet_hours: ``(start, end)`` local hours during which ``quiet_channels`` are not used
            (wraps around midnight when start > end); ``None`` for none.
        quiet_channels: Channels silenced during quiet hours (onsite is never silenced).
    """

    def __init__(
        self,
        caps: Mapping[str, tuple[int, float]] | None = None,
        quiet_hours: tuple[int, int] | None = (21, 8),
        quiet_channels: Sequence[str] = ("push", "email", "sms"),
    ) -> None:
        for channel, (count, hours) in (caps or {}).items():
            if count < 0 or hours <= 0:
                raise ConfigError(f"caps[{channel!r}]", (count, hours), "(count >= 0, hours > 0)")
        if quiet_hours is not None and not all(0 <= h < 24 for h in quiet_hours):
            raise ConfigError("quiet_hours", quiet_hours, "two hours in 0..23")
        self.caps = dict(caps or {})
        self.quiet_hours = quiet_hours
        self.quiet_channels = tuple(quiet_channels)
        self.action_channels: dict[str, str] | None = None
        self.channel_quiet: dict[str, tuple[int, int]] = {}
        self.channel_caps: dict[str, list[tuple[int, float]]] = {}
        self._sent: defaultdict[tuple[str, str], deque[dt.datetime]] = defaultdict(deque)
        self._opted_out: set[tuple[str, str]] = set()

    @classmethod
    def from_catalog(cls, catalog: Any) -> Constraints:
        """The catalog's quiet hours and frequency caps, per channel (several caps: AND).

        A capped or quiet message is dropped (not queued), as OneSignal does.

        Example:
            >>> import datetime as dt
            >>> from marketlift.policy.catalog import loads
            >>> cat = loads('''
            ... [channels.push]
            ... quiet_hours = {start = 22, end = 8}
            ... caps = [{count = 1, per = {value = 1, unit = "days"}}]
            ... [[moments]]
            ... id = "idle"
            ... surfaces = ["push"]
            ... [[actions]]
            ... id = "nudge"
            ... channel = "push"
            ... moments = ["idle"]
            ... ''')
            >>> c = Constraints.from_catalog(cat)
            >>> noon, night = (dt.datetime(2026, 11, 2, h, tzinfo=dt.UTC) for h in (12, 23))
            >>> c.allowed("b1", ["none", "nudge"], night).tolist()
            [True, False]
            >>> c.record("b1", "nudge", noon)
            >>> c.allowed("b1", ["none", "nudge"], noon + dt.timedelta(hours=1)).tolist()
            [True, False]
        """
        out = cls(caps=None, quiet_hours=None, quiet_channels=())
        out.action_channels = catalog.channels_by_action()
        for ch in catalog.channels.values():
            if ch.quiet_hours is not None:
                out.channel_quiet[ch.id] = ch.quiet_hours
            if ch.caps:
                out.channel_caps[ch.id] = [(c.count, c.hours) for c in ch.caps]
        return out

    def opt_out(self, buyer: str, channel: str) -> None:
        """The buyer no longer accepts ``channel``."""
        self._opted_out.add((buyer, channel))

    def record(self, buyer: str, action: str, when: dt.datetime) -> None:
        """Count an action sent to ``buyer`` at ``when`` (for the caps)."""
        channel = channel_of(action, self.action_channels)
        if channel is not None:
            self._sent[(buyer, channel)].append(when)

    def _quiet(self, when: dt.datetime, tz: str, hours: tuple[int, int] | None = None) -> bool:
        hours = hours if hours is not None else self.quiet_hours
        if hours is None:
            return False
        hour = when.astimezone(ZoneInfo(tz)).hour
        start, end = hours
        return start <= hour < end if start <= end else hour >= start or hour < end

    def _capped(self, buyer: str, channel: str, when: dt.datetime) -> bool:
        rules = list(self.channel_caps.get(channel, []))
        if channel in self.caps:
            rules.append(self.caps[channel])
        if not rules:
            return False
        sent = self._sent[(buyer, channel)]
        longest = max(h for _, h in rules)
        while sent and sent[0] <= when - dt.timedelta(hours=longest):
            sent.popleft()
        return any(
            sum(1 for s in sent if s > when - dt.timedelta(hours=h)) >= count for count, h in rules
        )

    def allowed(
        self, buyer: str, actions: Sequence[str], when: dt.datetime, tz: str = "UTC"
    ) -> npt.NDArray[np.bool_]:
        """Which of ``actions`` may be taken for ``buyer`` now (``none`` always may)."""
        if when.tzinfo is None:
            raise ConfigError("when", when, "a timezone-aware datetime")
        quiet = self._quiet(when, tz)
        out = np.ones(len(actions), dtype=bool)
        for i, action in enumerate(actions):
            channel = channel_of(action, self.action_channels)
            if channel is None:
                continue
            if (buyer, channel) in self._opted_out or (quiet and channel in self.quiet_channels):
                out[i] = False
                continue
            if channel in self.channel_quiet and self._quiet(when, tz, self.channel_quiet[channel]):
                out[i] = False
                continue
            out[i] = not self._capped(buyer, channel, when)
        return out


class BudgetTracker:
    """Spend on costly actions (coupons) within a budget: actions that no longer fit are masked.

    Example:
        >>> b = BudgetTracker(10.0, {"coupon": 4.0})
        >>> b.spend("coupon"); b.spend("coupon"); b.remaining
        2.0
        >>> b.allowed(["none", "coupon"]).tolist()
        [True, False]
    """

    def __init__(self, budget: float, costs: Mapping[str, float]) -> None:
        if budget < 0:
            raise ConfigError("budget", budget, "a number >= 0")
        self.budget = budget
        self.costs = dict(costs)
        self.remaining = float(budget)

    def allowed(self, actions: Sequence[str]) -> npt.NDArray[np.bool_]:
        """Actions whose cost still fits in the remaining budget."""
        return np.array([self.costs.get(a, 0.0) <= self.remaining for a in actions], dtype=bool)

    def spend(self, action: str) -> None:
        """Charge an action's cost."""
        self.remaining -= self.costs.get(action, 0.0)


def allocate_budget(net_uplift: npt.ArrayLike, costs: npt.ArrayLike, budget: float) -> IntArray:
    """Choose at most one action per row, spending at most ``budget`` on costly actions.

    Free actions (cost 0) are taken wherever their net uplift is positive. Costly ones are
    allocated greedily by net uplift per unit of cost (the knapsack heuristic), best first,
    while the budget lasts. Column 0 is ``none`` (returned where nothing is worth it).

    Example:
        >>> net = [[0, 5.0, 1.0], [0, 2.0, 3.0], [0, 1.0, -1.0]]
        >>> allocate_budget(net, [0, 2.0, 0.0], 2.0).tolist()
        [1, 2, 0]
    """
    u = np.asarray(net_uplift, dtype=np.float64)
    c = np.asarray(costs, dtype=np.float64)
    n, k = u.shape
    if c.shape != (k,) or (c < 0).any():
        raise ConfigError("costs", c.tolist(), f"{k} numbers >= 0")
    free = np.where((c == 0)[None, :], u, -np.inf)
    free[:, 0] = 0.0
    choice = free.argmax(axis=1)
    best_free = free[np.arange(n), choice]
    costly = np.flatnonzero(c > 0)
    if len(costly) == 0:
        return np.asarray(choice, dtype=np.int64)
    gain = u[:, costly] - best_free[:, None]
    ratio = np.where(gain > 0, gain / c[costly][None, :], -np.inf)
    order = np.argsort(-ratio, axis=None, kind="stable")
    left = float(budget)
    taken = np.zeros(n, dtype=bool)
    for flat in order:
        row, j = divmod(int(flat), len(costly))
        if not np.isfinite(ratio[row, j]):
            break
        cost = c[costly[j]]
        if taken[row] or cost > left:
            continue
        choice[row] = costly[j]
        taken[row] = True
        left -= cost
    return np.asarray(choice, dtype=np.int64)


class ConstrainedPolicy:
    """A policy behind constraints: masks disallowed actions, decides, records what was sent.

    Args:
        policy: A fitted marketlift policy.
        constraints: Caps, quiet hours and opt-outs.
        budget: Optional budget for costly actions.
    """

    def __init__(
        self, policy: BasePolicy, constraints: Constraints, budget: BudgetTracker | None = None
    ) -> None:
        self.policy = policy
        self.constraints = constraints
        self.budget = budget

    def decide(
        self,
        x: FloatArray,
        *,
        buyer: str,
        when: dt.datetime,
        tz: str = "UTC",
        available: npt.ArrayLike | None = None,
        u: float = 0.5,
    ) -> Decision:
        """Decide for one request under the constraints, and record the action taken."""
        actions = self.policy.actions_
        mask = self.constraints.allowed(buyer, actions, when, tz)
        if available is not None:
            mask &= np.asarray(available, dtype=bool)
        if self.budget is not None:
            mask &= self.budget.allowed(actions)
        mask[0] = True
        decision = self.policy.decide(x, mask, u)
        name = str(decision.action)
        self.constraints.record(buyer, name, when)
        if self.budget is not None:
            self.budget.spend(name)
        return decision

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters."""
        return {"policy": self.policy, "constraints": self.constraints, "budget": self.budget}
