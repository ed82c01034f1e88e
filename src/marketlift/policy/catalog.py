"""The engagement catalog: channels, actions and moments of one marketplace, as a TOML file.

The catalog is configuration, shaped like Braze, OneSignal and Iterable campaigns: channels
with their opt-in source, quiet hours, frequency caps, cost and attribution window; actions
with their channel, the moments where they may be taken, eligibility rules on declared
features, discount, cost and copy touchpoint; moments (on-site surfaces, and off-site triggers
by event type and delay). The decision API, the constraints, the policies, the training set
from the decision log and off-policy evaluation all read it. Loading is strict: unknown keys
are refused, every reference is resolved, and errors name the key, the value and what was
expected (:class:`~marketlift.errors.ConfigError`).

Rules compare one feature with a number (``{feature = "b_cart_value", op = ">=", value = 20}``);
a rule holds only when the feature has a value. The features a rule or a policy may use are
the catalog's ``[features]``: names of the feature store's buyer and session features
(:mod:`marketlift.features.definitions`), computed point-in-time from the lake for training and
read from the online store for serving, so no policy sees what serving cannot compute.

Example:
    >>> catalog = loads('''
    ... [features]
    ... names = ["b_cart_value"]
    ... [channels.email]
    ... opt_in = "request"
    ... attribution = {value = 24, unit = "hours"}
    ... [[moments]]
    ... id = "cart_idle_1h"
    ... surfaces = ["push"]
    ... trigger = {event = "add_to_cart", delay = {value = 1, unit = "hours"}}
    ... [[actions]]
    ... id = "wishlist_email"
    ... channel = "email"
    ... moments = ["cart_idle_1h"]
    ... rules = [{feature = "b_cart_value", op = ">=", value = 20}]
    ... ''')
    >>> catalog.action_ids, catalog.moment_for("push", {})
    (('none', 'wishlist_email'), 'cart_idle_1h')
    >>> catalog.eligible("cart_idle_1h", {"b_cart_value": 25.0}, channels=["email"]).tolist()
    [True, True]
    >>> catalog.eligible("cart_idle_1h", {"b_cart_value": 5.0}).tolist()
    [True, False]
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError

__all__ = [
    "CATALOG_FILE",
    "Action",
    "Cap",
    "Channel",
    "EngagementCatalog",
    "Moment",
    "Rule",
    "catalog_path",
    "duration_hours",
    "load",
    "loads",
]

CATALOG_FILE: Final = "engagement.toml"
"""The catalog's file name in a data directory (``DATA/engagement.toml``)."""
_UNITS: Final = {"minutes": 1 / 60, "hours": 1.0, "days": 24.0, "weeks": 168.0}
_OPS: Final = (">=", "<=", ">", "<", "==", "!=")
_OPT_IN: Final = ("always", "request")


def duration_hours(key: str, raw: Any) -> float:
    """A duration table ``{value = 1, unit = "hours"}`` in hours.

    Example:
        >>> duration_hours("delay", {"value": 2, "unit": "days"})
        48.0
    """
    table = _table(key, raw, {"value", "unit"}, {"value", "unit"})
    value, unit = table["value"], table["unit"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{key}.value", value, "a number > 0")
    if unit not in _UNITS:
        raise ConfigError(f"{key}.unit", unit, f"one of {', '.join(_UNITS)}")
    return float(value) * _UNITS[unit]


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """``feature op value``: holds only when the feature has a (finite) value."""

    feature: str
    op: str
    value: float

    def holds(self, x: float | None) -> bool:
        """Whether the rule holds for the feature's value ``x``."""
        if x is None or not math.isfinite(x):
            return False
        v = self.value
        return {
            ">=": x >= v,
            "<=": x <= v,
            ">": x > v,
            "<": x < v,
            "==": x == v,
            "!=": x != v,
        }[self.op]


@dataclasses.dataclass(frozen=True, slots=True)
class Cap:
    """At most ``count`` messages per ``hours`` on a channel."""

    count: int
    hours: float


@dataclasses.dataclass(frozen=True, slots=True)
class Channel:
    """A channel: how buyers opt in, when it is silent, how often it may be used, its cost.

    Attributes:
        id: ``onsite``, ``in_app``, ``push``, ``email`` or the marketplace's own.
        opt_in: ``always`` (on-site surfaces), or ``request``: the buyer must be reachable on
            it (the request's ``context.channels``).
        quiet_hours: ``(start, end)`` local hours when it is not used (``None``: never quiet).
        caps: Frequency caps; several combine with AND. A capped message is dropped.
        cost: Cost per send, in the reporting currency.
        attribution_hours: A purchase within this long after the decision is attributed to
            it; ``None``: within the decision's session.
    """

    id: str
    opt_in: str = "always"
    quiet_hours: tuple[int, int] | None = None
    caps: tuple[Cap, ...] = ()
    cost: float = 0.0
    attribution_hours: float | None = 24.0


@dataclasses.dataclass(frozen=True, slots=True)
class Moment:
    """A decision point: on-site surfaces, or an off-site trigger (event type and delay).

    The decision API picks the first moment (in file order) that lists the request's surface
    and whose rules hold.
    """

    id: str
    surfaces: tuple[str, ...]
    rules: tuple[Rule, ...] = ()
    trigger_event: str | None = None
    delay_hours: float | None = None
    cancel_on: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Action:
    """An engagement action: its channel, moments, eligibility, discount, cost and copy."""

    id: str
    channel: str
    moments: tuple[str, ...]
    rules: tuple[Rule, ...] = ()
    discount: float = 0.0
    cost: float = 0.0
    copy: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class EngagementCatalog:
    """A loaded catalog; ``actions`` has ``none`` first (always eligible, no channel).

    Attributes:
        channels: By id.
        moments: In file order.
        actions: ``none`` first, then in file order.
        features: Declared policy features (feature-store names).
        currency: Reporting currency of revenue and costs.
        rates: Value of one unit of each currency in the reporting currency.
        harms: Event types counted as harms of the decision they follow (dismissal, opt-out).
        digest: SHA-256 of the file's bytes (the registry records it with each policy).
    """

    channels: Mapping[str, Channel]
    moments: tuple[Moment, ...]
    actions: tuple[Action, ...]
    features: tuple[str, ...]
    currency: str = "USD"
    rates: Mapping[str, float] = dataclasses.field(default_factory=dict)
    harms: tuple[str, ...] = ("engagement_dismissed",)
    digest: str = ""

    @property
    def action_ids(self) -> tuple[str, ...]:
        """Action ids, ``none`` first: the policies' column order."""
        return tuple(a.id for a in self.actions)

    @property
    def moment_ids(self) -> tuple[str, ...]:
        """Moment ids in file order."""
        return tuple(m.id for m in self.moments)

    def action(self, action_id: str) -> Action:
        """One action by id."""
        for a in self.actions:
            if a.id == action_id:
                return a
        raise ConfigError("action", action_id, f"one of {', '.join(self.action_ids)}")

    def channels_by_action(self) -> dict[str, str]:
        """``{action id: channel id}`` (``none`` has none)."""
        return {a.id: a.channel for a in self.actions if a.id != "none"}

    def actions_at(self, moment: str) -> tuple[str, ...]:
        """The actions a moment allows (``none`` first)."""
        return ("none", *(a.id for a in self.actions[1:] if moment in a.moments))

    def moment_for(self, surface: str, row: Mapping[str, Any]) -> str | None:
        """The moment of a request on ``surface`` with features ``row`` (``None``: no moment)."""
        for m in self.moments:
            if surface in m.surfaces and all(r.holds(_num(row.get(r.feature))) for r in m.rules):
                return m.id
        return None

    def eligible(
        self, moment: str | None, row: Mapping[str, Any], channels: Sequence[str] | None = None
    ) -> npt.NDArray[np.bool_]:
        """Which actions (in :attr:`action_ids` order) may be taken at ``moment`` for ``row``.

        ``channels``: where the buyer can be reached (``None``: everywhere); a channel with
        ``opt_in = "request"`` needs to be among them.
        """
        out = np.zeros(len(self.actions), dtype=bool)
        out[0] = True
        if moment is None:
            return out
        for i, a in enumerate(self.actions[1:], start=1):
            if moment not in a.moments:
                continue
            ch = self.channels[a.channel]
            if ch.opt_in == "request" and channels is not None and a.channel not in channels:
                continue
            out[i] = all(r.holds(_num(row.get(r.feature))) for r in a.rules)
        return out

    def to_reporting(self, amount: float, currency: str | None) -> float:
        """An amount in ``currency`` converted to the reporting currency."""
        if currency is None or currency == self.currency:
            return amount
        if currency not in self.rates:
            raise ConfigError("reporting.rates", currency, f"a rate for {currency}")
        return amount * self.rates[currency]


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, str):
        return None
    return float(value)


def _table(key: str, raw: Any, allowed: set[str], required: set[str] = frozenset()) -> dict:  # type: ignore[assignment,type-arg]
    if not isinstance(raw, dict):
        raise ConfigError(key, raw, "a table")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", raw[unknown[0]], f"a key among {sorted(allowed)}")
    missing = sorted(required - set(raw))
    if missing:
        raise ConfigError(f"{key}.{missing[0]}", None, "a value (required)")
    return raw


def _strings(key: str, raw: Any, *, empty: bool = True) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise ConfigError(key, raw, "a list of names")
    if not empty and not raw:
        raise ConfigError(key, raw, "at least one name")
    return tuple(raw)


def _number(key: str, raw: Any, low: float = 0.0) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < low:
        raise ConfigError(key, raw, f"a number >= {low:g}")
    return float(raw)


def _id(key: str, raw: Any) -> str:
    ok = isinstance(raw, str) and 0 < len(raw) <= 64 and raw[0].isalpha() and raw.islower()
    if not ok or not all(c.isalnum() or c == "_" for c in raw):
        raise ConfigError(key, raw, "a lower-case name (letters, digits, _; 64 at most)")
    return str(raw)


def _rules(key: str, raw: Any, features: tuple[str, ...]) -> tuple[Rule, ...]:
    if not isinstance(raw, list):
        raise ConfigError(key, raw, "a list of rules {feature, op, value}")
    out = []
    for i, item in enumerate(raw):
        k = f"{key}[{i}]"
        t = _table(k, item, {"feature", "op", "value"}, {"feature", "op", "value"})
        if t["feature"] not in features:
            raise ConfigError(f"{k}.feature", t["feature"], f"a declared feature ({features})")
        if t["op"] not in _OPS:
            raise ConfigError(f"{k}.op", t["op"], f"one of {' '.join(_OPS)}")
        value = t["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{k}.value", value, "a number")
        out.append(Rule(t["feature"], t["op"], float(value)))
    return tuple(out)


def _known_features() -> frozenset[str]:
    from marketlift.features.definitions import feature_names  # noqa: PLC0415

    return frozenset([*feature_names("buyer"), *feature_names("session")])


def _channel(cid: str, raw: Any) -> Channel:
    key = f"channels.{cid}"
    t = _table(key, raw, {"opt_in", "quiet_hours", "caps", "cost", "attribution"})
    opt_in = t.get("opt_in", "always")
    if opt_in not in _OPT_IN:
        raise ConfigError(f"{key}.opt_in", opt_in, f"one of {', '.join(_OPT_IN)}")
    quiet = None
    if "quiet_hours" in t:
        q = _table(f"{key}.quiet_hours", t["quiet_hours"], {"start", "end"}, {"start", "end"})
        hours = (q["start"], q["end"])
        if not all(isinstance(h, int) and not isinstance(h, bool) and 0 <= h < 24 for h in hours):
            raise ConfigError(f"{key}.quiet_hours", q, "start and end hours in 0..23")
        quiet = (int(hours[0]), int(hours[1]))
    caps = []
    raw_caps = t.get("caps", [])
    if not isinstance(raw_caps, list):
        raise ConfigError(f"{key}.caps", raw_caps, "a list of {count, per}")
    for i, item in enumerate(raw_caps):
        ck = f"{key}.caps[{i}]"
        c = _table(ck, item, {"count", "per"}, {"count", "per"})
        count = c["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ConfigError(f"{ck}.count", count, "an integer >= 0")
        caps.append(Cap(count, duration_hours(f"{ck}.per", c["per"])))
    attribution: float | None = 24.0
    if "attribution" in t:
        a = t["attribution"]
        attribution = None if a == "session" else duration_hours(f"{key}.attribution", a)
    return Channel(
        cid, opt_in, quiet, tuple(caps), _number(f"{key}.cost", t.get("cost", 0.0)), attribution
    )


def _moment(i: int, raw: Any, features: tuple[str, ...]) -> Moment:
    key = f"moments[{i}]"
    t = _table(key, raw, {"id", "surfaces", "rules", "trigger", "cancel_on"}, {"id", "surfaces"})
    mid = _id(f"{key}.id", t["id"])
    event, delay = None, None
    if "trigger" in t:
        tr = _table(f"{key}.trigger", t["trigger"], {"event", "delay"}, {"event", "delay"})
        event = _id(f"{key}.trigger.event", tr["event"])
        delay = duration_hours(f"{key}.trigger.delay", tr["delay"])
    return Moment(
        mid,
        _strings(f"{key}.surfaces", t["surfaces"], empty=False),
        _rules(f"{key}.rules", t.get("rules", []), features),
        event,
        delay,
        _strings(f"{key}.cancel_on", t.get("cancel_on", [])),
    )


def _action(i: int, raw: Any, catalog: dict[str, Any]) -> Action:
    key = f"actions[{i}]"
    allowed = {"id", "channel", "moments", "rules", "discount", "cost", "copy"}
    t = _table(key, raw, allowed, {"id", "channel", "moments"})
    aid = _id(f"{key}.id", t["id"])
    if aid == "none":
        raise ConfigError(f"{key}.id", aid, "an id other than 'none' (no action is built in)")
    if t["channel"] not in catalog["channels"]:
        raise ConfigError(
            f"{key}.channel", t["channel"], f"a declared channel ({sorted(catalog['channels'])})"
        )
    moments = _strings(f"{key}.moments", t["moments"], empty=False)
    for m in moments:
        if m not in catalog["moments"]:
            raise ConfigError(f"{key}.moments", m, f"a declared moment ({catalog['moments']})")
    discount = _number(f"{key}.discount", t.get("discount", 0.0))
    if discount >= 1:
        raise ConfigError(f"{key}.discount", discount, "a share of the price in [0, 1)")
    copy = t.get("copy")
    if copy is not None and not isinstance(copy, str):
        raise ConfigError(f"{key}.copy", copy, "a copy touchpoint name")
    return Action(
        aid,
        str(t["channel"]),
        moments,
        _rules(f"{key}.rules", t.get("rules", []), catalog["features"]),
        discount,
        _number(f"{key}.cost", t.get("cost", 0.0)),
        copy,
    )


def loads(text: str, *, digest: str | None = None) -> EngagementCatalog:
    """Parse and check a catalog from TOML text.

    Raises:
        ConfigError: A key, value or reference breaks its rule (the message names it).
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("catalog", str(exc), "valid TOML") from exc
    top = _table(
        "catalog", doc, {"reporting", "features", "channels", "moments", "actions", "harms"}
    )
    rep = _table("reporting", top.get("reporting", {}), {"currency", "rates"})
    currency = rep.get("currency", "USD")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isupper()):
        raise ConfigError("reporting.currency", currency, "an ISO 4217 code such as USD")
    rates_raw = _table("reporting.rates", rep.get("rates", {}), set(rep.get("rates", {})))
    rates = {str(c): _number(f"reporting.rates.{c}", v) for c, v in rates_raw.items()}
    feat = _table("features", top.get("features", {}), {"names"})
    features = _strings("features.names", feat.get("names", []))
    known = _known_features()
    for f in features:
        if f not in known:
            raise ConfigError("features.names", f, "a buyer or session feature of the store")
    if len(set(features)) != len(features):
        raise ConfigError("features.names", list(features), "names without duplicates")
    channels_raw = top.get("channels", {})
    if not isinstance(channels_raw, dict) or not channels_raw:
        raise ConfigError("channels", channels_raw, "at least one [channels.<id>] table")
    channels = {_id("channels", cid): _channel(cid, raw) for cid, raw in channels_raw.items()}
    moments_raw = top.get("moments", [])
    if not isinstance(moments_raw, list) or not moments_raw:
        raise ConfigError("moments", moments_raw, "at least one [[moments]] entry")
    moments = tuple(_moment(i, m, features) for i, m in enumerate(moments_raw))
    _unique("moments", [m.id for m in moments])
    ctx = {"channels": channels, "moments": [m.id for m in moments], "features": features}
    actions_raw = top.get("actions", [])
    if not isinstance(actions_raw, list):
        raise ConfigError("actions", actions_raw, "a list of [[actions]] entries")
    actions = tuple(_action(i, a, ctx) for i, a in enumerate(actions_raw))
    _unique("actions", [a.id for a in actions])
    harms = _strings("harms", top.get("harms", ["engagement_dismissed"]))
    return EngagementCatalog(
        channels=channels,
        moments=moments,
        actions=(Action("none", "", ()), *actions),
        features=features,
        currency=currency,
        rates=rates,
        harms=harms,
        digest=digest or hashlib.sha256(text.encode()).hexdigest(),
    )


def _unique(key: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise ConfigError(f"{key}[{i}].id", x, "an id not used before (ids are unique)")
        seen.add(x)


def catalog_path(data_dir: str | os.PathLike[str]) -> Path:
    """``DATA/engagement.toml``: where the decision API and the CLI look for the catalog."""
    return Path(data_dir) / CATALOG_FILE


def load(path: str | os.PathLike[str]) -> EngagementCatalog:
    """Load a catalog file.

    Raises:
        ConfigError: The file is missing or breaks a rule.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError("catalog", str(p), "an existing engagement catalog file (TOML)")
    data = p.read_bytes()
    return loads(data.decode(), digest=hashlib.sha256(data).hexdigest())
