"""Turn a simulated day into an Arrow table of the lake's event schema, without Python loops.

Each row is exactly what the collector would store for the same event: the typed columns of
:data:`~marketlift.events.table.EVENTS_SCHEMA` and ``payload``, the JSON that msgspec encodes for
the validated event (the tests check both against the collector's own conversion).

Example:
    >>> from marketlift.sim.config import SimConfig
    >>> from marketlift.sim.funnel import BuyerState, simulate_day
    >>> from marketlift.sim.policies import NeverNudge
    >>> from marketlift.sim.world import make_world
    >>> world = make_world(SimConfig(n_buyers=300, seed=2))
    >>> day = simulate_day(world, BuyerState.start(world), 0, [NeverNudge()],
    ...                    np.zeros(300, dtype=np.int64))
    >>> table = EventBuilder(world, run="r1", policy_names=["never"]).build(day)
    >>> table.schema.equals(EVENTS_SCHEMA), table.num_rows > day.n_sessions
    (True, True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.events import schema as ev
from marketlift.events.table import EVENTS_SCHEMA
from marketlift.sim import jsonfrag as js
from marketlift.sim.effects import ACTIONS, DISCOUNT, FREE_SHIPPING, MOMENTS
from marketlift.sim.funnel import MAX_VIEWS, N_IMPRESSIONS, Day
from marketlift.sim.text import CATEGORIES, COUNTRY_OF, CURRENCY_OF, LOCALES, query_texts
from marketlift.sim.world import FX, PLATFORMS, World

__all__ = ["EventBuilder"]

IntArray = npt.NDArray[np.int64]
_TS: Final = pa.timestamp("us", tz="UTC")
_MONEY: Final = pa.decimal128(19, 6)
_APP_VERSION: Final = ("null", '"5.3.0"', '"5.2.1"')
_STRUCTS: Final = {cls.__struct_config__.tag: cls for cls in ev.Event.__args__}
_STRING_COLUMNS: Final = (
    "listing_id", "shop_id", "order_id", "query", "surface", "action", "channel",
    "decision_id", "experiment_key", "variant",
)  # fmt: skip


@dataclasses.dataclass(slots=True)
class _Field:
    """One event field: its JSON fragments and, for promoted columns, its typed values."""

    json: js.Piece | list[js.Piece]
    value: pa.Array | None = None
    currency: pa.Array | None = None


@dataclasses.dataclass(slots=True)
class _Frame:
    """Events of one type: the session each belongs to, its time and its own fields."""

    type: str
    session: IntArray
    ts_us: IntArray
    fields: dict[str, _Field]
    properties: js.Piece = "null"
    recovery: bool = False


def _const(text: str | None, n: int) -> pa.Array:
    return pa.array([text] * n, pa.string()) if text is not None else pa.nulls(n, pa.string())


class EventBuilder:
    """Builds the event tables of one run.

    Args:
        world: The simulated world.
        run: A short key of the run, part of every id (so reruns deduplicate exactly).
        policy_names: Names of the policies by arm (logged on every decision).
        experiment_key: Logged on exposures in A/B mode; variants are ``policy_names``.
    """

    def __init__(
        self,
        world: World,
        *,
        run: str,
        policy_names: Sequence[str],
        experiment_key: str | None = None,
    ) -> None:
        self.world = world
        self.run = run
        self.policy_names = list(policy_names)
        self.experiment_key = experiment_key
        b, lst = world.buyers, world.listings
        self._listing_id = pc.cast(pa.array(np.arange(lst.n)), pa.string())
        self._listing_id = js.join(["l", pc.utf8_lpad(self._listing_id, 7, "0")])
        shop = pc.utf8_lpad(pc.cast(pa.array(lst.shop), pa.string()), 5, "0")
        self._shop_id = js.join(["s", shop])
        bid = js.join(["b", pc.utf8_lpad(pc.cast(pa.array(np.arange(b.n)), pa.string()), 7, "0")])
        self._buyer_id = pc.if_else(pa.array(b.signed_in), bid, pa.nulls(b.n, pa.string()))
        self._device = js.join(["d", pc.utf8_lpad(pc.cast(pa.array(np.arange(b.n)), pa.string()),
                                                  7, "0")])  # fmt: skip
        locales = pa.array(LOCALES)
        self._locale = locales.take(pa.array(b.locale))
        currencies = [CURRENCY_OF[x] for x in LOCALES]
        self._currency = pa.array(currencies).take(pa.array(b.locale))
        self._country = pa.array([COUNTRY_OF[x] for x in LOCALES]).take(pa.array(b.locale))
        self._fx = np.array([FX[c] for c in currencies])[b.locale]
        self._jpy = (np.array(currencies) == "JPY")[b.locale]
        queries = [[query_texts(loc, c) for c in range(len(CATEGORIES))] for loc in LOCALES]
        self._n_query = len(queries[0][0])
        self._queries = pa.array([q for loc in queries for cat in loc for q in cat])

    # -- helpers ---------------------------------------------------------------------------

    def _amount(
        self, usd_cents: npt.NDArray[np.float64], buyer: IntArray
    ) -> tuple[pa.Array, IntArray]:
        """Display-currency amounts (decimal strings) and their minor units."""
        jpy = self._jpy[buyer]
        minor = np.where(
            jpy,
            np.round(usd_cents / 100.0 * self._fx[buyer]),
            np.round(usd_cents * self._fx[buyer]),
        ).astype(np.int64)
        whole = pc.cast(pa.array(np.where(jpy, minor, minor // 100)), pa.string())
        cents = pc.utf8_lpad(pc.cast(pa.array(minor % 100), pa.string()), 2, "0")
        amount = pc.if_else(pa.array(jpy), whole, js.join([whole, ".", cents]))
        return amount, minor

    def _minor_to_amount(self, minor: IntArray, buyer: IntArray) -> pa.Array:
        jpy = self._jpy[buyer]
        whole = pc.cast(pa.array(np.where(jpy, minor, minor // 100)), pa.string())
        cents = pc.utf8_lpad(pc.cast(pa.array(minor % 100), pa.string()), 2, "0")
        return pc.if_else(pa.array(jpy), whole, js.join([whole, ".", cents]))

    def _money(self, amount: pa.Array, buyer: IntArray) -> _Field:
        currency = self._currency.take(pa.array(buyer))
        return _Field(js.money(amount, currency), amount, currency)

    @staticmethod
    def _str(values: pa.Array) -> _Field:
        if values.null_count == 0:
            return _Field(['"', values, '"'], values)
        return _Field(js.string(values), values)

    def _take(self, table: pa.Array, idx: IntArray) -> pa.Array:
        return table.take(pa.array(idx))

    # -- frames ----------------------------------------------------------------------------

    def build(self, day: Day) -> pa.Table:
        """All events of ``day`` as a table of :data:`EVENTS_SCHEMA`."""
        frames = self._session_frames(day) + self._cart_frames(day)
        return self._assemble(day, [f for f in frames if len(f.session)])

    def ids(self, prefix: str, day: Day, rows: IntArray, suffix: str = "") -> pa.Array:
        """Ids for rows of a day: ``<prefix><run>-<day>-<row><suffix>``.

        Prefixes: ``e`` event, ``s`` session, ``d`` decision, ``o`` order.
        """
        num = pc.cast(pa.array(rows), pa.string())
        return js.join([f"{prefix}{self.run}-{day.day:03d}-", num, suffix])

    def _decision_fields(
        self, action: IntArray, propensity: npt.NDArray[np.float64], decision_id: pa.Array,
        *, with_policy: IntArray | None, surface: str | None = None,
    ) -> dict[str, _Field]:  # fmt: skip
        slugs = pa.array([a.slug for a in ACTIONS])
        channels = pa.array([a.channel for a in ACTIONS], pa.string())
        fields: dict[str, _Field] = {}
        if surface is not None:
            fields["surface"] = self._str(_const(surface, len(action)))
        fields["action"] = self._str(self._take(slugs, action))
        fields["channel"] = self._str(self._take(channels, action))
        fields["decision_id"] = self._str(decision_id)
        fields["propensity"] = _Field(js.floats(propensity), pa.array(propensity))
        if with_policy is not None:
            names = pa.array(self.policy_names)
            fields["policy"] = _Field(js.string(self._take(names, with_policy)))
        return fields

    def _eligible_fields(
        self, moment: IntArray, available: npt.NDArray[np.bool_]
    ) -> dict[str, _Field]:
        """``moment``, ``eligible`` (the catalog's action ids, ``none`` first) of decisions.

        ``probabilities`` is null: the simulator's logging policies give only the chosen
        action's propensity.
        """
        names = [a.name for a in ACTIONS]
        bits = available.astype(np.int64) @ (1 << np.arange(len(names), dtype=np.int64))
        patterns, index = np.unique(bits, return_inverse=True)
        lists = pa.array(
            [
                "[" + ",".join(f'"{n}"' for k, n in enumerate(names) if int(p) >> k & 1) + "]"
                for p in patterns.tolist()
            ]
        )
        moments = pa.array(list(MOMENTS))
        return {
            "moment": self._str(self._take(moments, moment)),
            "eligible": _Field(self._take(lists, index.astype(np.int64))),
            "probabilities": _Field("null"),
        }

    def _session_frames(self, day: Day) -> list[_Frame]:
        n = day.n_sessions
        s = np.arange(n, dtype=np.int64)
        off, start = day.offsets_us, day.start_us
        frames: list[_Frame] = []
        moment_props = pa.array([f'{{"moment":"{m}"}}' for m in MOMENTS])
        props = self._take(moment_props, day.moment)
        # page views and exposures
        surface = pc.if_else(pa.array(day.moment > 0), "cart", "home")
        frames.append(
            _Frame(
                "page_view",
                s,
                start + off[:, 0],
                {"url": _Field("null"), "referrer": _Field("null"), "surface": self._str(surface)},
            )
        )
        if day.exposure.any() and self.experiment_key is not None:
            e = np.flatnonzero(day.exposure)
            variants = pa.array(self.policy_names)
            frames.append(
                _Frame(
                    "exposure",
                    e,
                    start[e] - 1,
                    {
                        "experiment_key": self._str(_const(self.experiment_key, len(e))),
                        "variant": self._str(self._take(variants, day.arm[e])),
                        "decision_id": _Field("null"),
                    },
                )
            )
        # search
        q = np.flatnonzero(day.searched)
        buyer = day.buyer
        cat = self.world.listings.category[day.listing[q]]
        qi = (self.world.buyers.locale[buyer[q]] * len(CATEGORIES) + cat) * self._n_query
        qi = qi + day.query_variant[q] % self._n_query
        frames.append(
            _Frame(
                "search",
                q,
                start[q] + off[q, 1],
                {
                    "query": self._str(self._take(self._queries, qi)),
                    "results_count": _Field(js.integers(day.results_count[q])),
                    "category": _Field(js.string(self._take(pa.array(CATEGORIES), cat))),
                },
            )
        )
        # the in-session decision and its engagement events
        did = self.ids("d", day, s)
        frames.append(
            _Frame(
                "decision",
                s,
                start + off[:, 2],
                {
                    **self._decision_fields(
                        day.action, day.propensity, did, with_policy=day.arm, surface="onsite"
                    ),
                    **self._eligible_fields(day.moment, day.available),
                    "listing_ids": _Field("null"),
                    "model_versions": _Field("null"),
                },
                props,
            )
        )
        for kind, mask, slot in (("engagement_shown", day.shown, 3),
                                 ("engagement_clicked", day.clicked, 4),
                                 ("engagement_dismissed", day.dismissed, 4)):  # fmt: skip
            e = np.flatnonzero(mask)
            frames.append(_Frame(kind, e, start[e] + off[e, slot], self._decision_fields(
                day.action[e], day.propensity[e], self._take(did, e), with_policy=None),
                self._take(props, e)))  # fmt: skip
        # the impression and the listing views
        similar = day.action == 2
        imp_surface = pc.if_else(
            pa.array(similar), "similar_items", pc.if_else(pa.array(day.searched), "search", "home")
        )
        pieces: list[js.Piece] = ["["]
        for k in range(N_IMPRESSIONS):
            pieces += [
                '{"listing_id":"',
                self._take(self._listing_id, day.impressions[:, k]),
                f'","position":{k}}}' + ("," if k < N_IMPRESSIONS - 1 else "]"),
            ]
        frames.append(_Frame("impression", s, start + off[:, 5], {
            "surface": self._str(imp_surface), "listings": _Field(js.join(pieces)),
            "decision_id": self._str(pc.if_else(pa.array(similar), did,
                                                pa.nulls(n, pa.string())))}))  # fmt: skip
        vs, vk = np.nonzero(np.arange(MAX_VIEWS)[None, :] < day.n_views[:, None])
        vl = day.views[vs, vk]
        amount, _ = self._amount(self.world.listings.price_cents[vl].astype(float), buyer[vs])
        frames.append(
            _Frame(
                "listing_view",
                vs,
                start[vs] + off[vs, 6 + vk],
                {
                    "listing_id": self._str(self._take(self._listing_id, vl)),
                    "shop_id": self._str(self._take(self._shop_id, vl)),
                    "price": self._money(amount, buyer[vs]),
                    "surface": self._str(self._take(imp_surface, vs)),
                    "position": _Field(js.integers(vk)),
                    "decision_id": _Field("null"),
                },
            )
        )
        # favorite, cart, checkout, purchase
        lst = self.world.listings
        price_amount, price_minor = self._amount(lst.price_cents[day.listing].astype(float), buyer)
        lid = self._take(self._listing_id, day.listing)
        f = np.flatnonzero(day.favorited)
        frames.append(
            _Frame(
                "favorite", f, start[f] + off[f, 14], {"listing_id": self._str(self._take(lid, f))}
            )
        )
        a = np.flatnonzero(day.add_to_cart)
        frames.append(
            _Frame(
                "add_to_cart",
                a,
                start[a] + off[a, 15],
                {
                    "listing_id": self._str(self._take(lid, a)),
                    "quantity": _Field("1", pa.array(np.ones(len(a), np.int32))),
                    "price": self._money(self._take(price_amount, a), buyer[a]),
                },
            )
        )
        r = np.flatnonzero(day.removed)
        frames.append(
            _Frame(
                "remove_from_cart",
                r,
                start[r] + off[r, 16],
                {
                    "listing_id": self._str(self._take(lid, r)),
                    "quantity": _Field("1", pa.array(np.ones(len(r), np.int32))),
                },
            )
        )
        frames += self._checkout_frames(
            day, np.flatnonzero(day.checkout), start + off[:, 17], day.action, recovery=False
        )
        frames += self._purchase_frames(
            day,
            np.flatnonzero(day.purchased),
            start + off[:, 18],
            day.action,
            price_minor=price_minor,
            lid=lid,
            recovery=False,
        )
        return frames

    def _order(self, day: Day, rows: IntArray, action: IntArray, price_minor: IntArray
               ) -> tuple[pa.Array, pa.Array]:  # fmt: skip
        """Unit price and revenue amounts after the action's discount and free shipping."""
        lst = self.world.listings
        buyer = day.buyer[rows]
        listing = day.listing[rows]
        unit = np.round(price_minor[rows] * (1.0 - DISCOUNT[action])).astype(np.int64)
        _, ship = self._amount(lst.shipping_cents[listing].astype(float), buyer)
        total = unit + np.where(FREE_SHIPPING[action], 0, ship)
        return self._minor_to_amount(unit, buyer), self._minor_to_amount(total, buyer)

    def _checkout_frames(self, day: Day, rows: IntArray, ts: IntArray, action: IntArray, *,
                         recovery: bool) -> list[_Frame]:  # fmt: skip
        lst = self.world.listings
        buyer = day.buyer[rows]
        listing = day.listing[rows]
        value = lst.price_cents[listing] + lst.shipping_cents[listing]
        amount, _ = self._amount(value.astype(float), buyer)
        return [
            _Frame(
                "checkout_start",
                rows,
                ts[rows] if not recovery else ts,
                {
                    "cart_value": _Field(js.money(amount, self._currency.take(pa.array(buyer)))),
                    "item_count": _Field("1"),
                },
                recovery=recovery,
            )
        ]

    def _purchase_frames(self, day: Day, rows: IntArray, ts: IntArray, action: IntArray, *,
                         price_minor: IntArray, lid: pa.Array, recovery: bool
                         ) -> list[_Frame]:  # fmt: skip
        act = action if recovery else action[rows]
        unit, revenue = self._order(day, rows, act, price_minor)
        buyer = day.buyer[rows]
        currency = self._currency.take(pa.array(buyer))
        items = js.join(['[{"listing_id":"', self._take(lid, rows), '","quantity":1,"unit_price":',
                         js.money(unit, currency), "}]"])  # fmt: skip
        oid = self.ids("o", day, rows, "r" if recovery else "")
        return [
            _Frame(
                "purchase",
                rows,
                ts if recovery else ts[rows],
                {
                    "order_id": self._str(oid),
                    "line_items": _Field(items),
                    "revenue": self._money(revenue, buyer),
                },
                recovery=recovery,
            )
        ]

    def _cart_frames(self, day: Day) -> list[_Frame]:
        c = day.carts
        if len(c.session) == 0:
            return []
        s = c.session
        moment_props = pa.array([f'{{"moment":"{m}"}}' for m in MOMENTS])
        props = self._take(moment_props, c.moment)
        suffix = pc.if_else(pa.array(c.moment == 2), "h", "d")
        did = js.join([self.ids("d", day, s), suffix])
        frames = [
            _Frame(
                "decision",
                s,
                c.ts_us,
                {
                    **self._decision_fields(
                        c.action, c.propensity, did, with_policy=c.arm, surface="cart_recovery"
                    ),
                    **self._eligible_fields(c.moment, c.available),
                    "listing_ids": _Field("null"),
                    "model_versions": _Field("null"),
                },
                props,
            )
        ]
        for kind, mask, delay in (("engagement_shown", c.shown, None),
                                  ("engagement_clicked", c.clicked, None),
                                  ("engagement_dismissed", c.dismissed, 600_000_000)):  # fmt: skip
            e = np.flatnonzero(mask)
            ts = (
                (c.purchase_ts_us[e] - 300_000_000)
                if kind == "engagement_clicked"
                else (c.ts_us[e] + (delay or 2))
            )
            frames.append(_Frame(kind, s[e], ts, self._decision_fields(
                c.action[e], c.propensity[e], self._take(did, e), with_policy=None),
                self._take(props, e)))  # fmt: skip
        rec = np.flatnonzero(c.recovered)
        rs = s[rec]
        pts = c.purchase_ts_us[rec]
        frames.append(
            _Frame(
                "page_view",
                rs,
                pts - 240_000_000,
                {
                    "url": _Field("null"),
                    "referrer": _Field("null"),
                    "surface": self._str(_const("cart", len(rs))),
                },
                recovery=True,
            )
        )
        frames += self._checkout_frames(day, rs, pts - 120_000_000, c.action[rec], recovery=True)
        lst = self.world.listings
        _, price_minor = self._amount(lst.price_cents[day.listing].astype(float), day.buyer)
        lid = self._take(self._listing_id, day.listing)
        frames += self._purchase_frames(
            day, rs, pts, c.action[rec], price_minor=price_minor, lid=lid, recovery=True
        )
        return frames

    # -- assembly --------------------------------------------------------------------------

    def _assemble(self, day: Day, frames: list[_Frame]) -> pa.Table:
        sizes = [len(f.session) for f in frames]
        n_total = sum(sizes)
        session = np.concatenate([f.session for f in frames])
        recovery = np.concatenate([np.full(len(f.session), f.recovery) for f in frames])
        ts_us = np.concatenate([f.ts_us for f in frames]).astype(np.int64) | 1
        buyer = day.buyer[session]
        platform = day.platform[session]
        n = day.n_sessions
        sid_base = self.ids("s", day, np.arange(n, dtype=np.int64))
        sid_all = pa.concat_arrays([sid_base, js.join([sid_base, "r"])])
        sess_row = pa.array(session + n * recovery)
        sid = sid_all.take(sess_row)
        event_id = self.ids("e", day, np.arange(n_total, dtype=np.int64))
        plat_names = pa.array(PLATFORMS)
        letters = pa.array(["w", "i", "a"])
        s_buyer = day.buyer
        s_anon = js.join([self._take(self._device, s_buyer), self._take(letters, day.platform)])
        s_buyer_id = self._take(self._buyer_id, s_buyer)
        s_fragment = js.join([
            '"platform":"', self._take(plat_names, day.platform), '","buyer_id":',
            js.string(s_buyer_id), ',"anonymous_id":"', s_anon, '","session_id":"',
            sid_base, '","app_version":', self._take(pa.array(_APP_VERSION), day.platform),
            ',"locale":"', self._take(self._locale, s_buyer), '","currency":"',
            self._take(self._currency, s_buyer), '","country":"',
            self._take(self._country, s_buyer), '"',
        ])  # fmt: skip
        r_fragment = pc.replace_substring_regex(s_fragment, '("session_id":"[^"]+)"', r'\1r"')
        fragments = pa.concat_arrays([s_fragment, r_fragment]).take(sess_row)
        ts_pieces = js.timestamp_pieces(ts_us)
        payloads = []
        lo = 0
        for frame, size in zip(frames, sizes, strict=True):
            hi = lo + size
            pieces = self._head(frame)
            pieces += [',"event_id":"', event_id.slice(lo, size), '","schema_version":1,"ts":"']
            pieces += [p if isinstance(p, str) else p.slice(lo, size) for p in ts_pieces]
            pieces += ['Z",', fragments.slice(lo, size), ',"properties":', frame.properties, "}"]
            payloads.append(js.join(pieces))
            lo = hi
        ts = pa.array(ts_us, pa.int64()).cast(_TS)
        received = pa.array(np.full(n_total, int(ts_us.max()) + 1), pa.int64()).cast(_TS)
        versions = pa.array([None, "5.3.0", "5.2.1"], pa.string())
        app_version = versions.take(pa.array(platform))
        columns: dict[str, pa.Array | pa.ChunkedArray] = {
            "event_id": event_id,
            "type": pa.concat_arrays([_const(f.type, len(f.session)) for f in frames]),
            "schema_version": pa.array(np.ones(n_total, np.int16)),
            "ts": ts, "received_at": received, "event_date": pc.cast(ts, pa.date32()),
            "buyer_id": self._take(self._buyer_id, buyer),
            "anonymous_id": s_anon.take(pa.array(session)), "session_id": sid,
            "platform": self._take(plat_names, platform), "app_version": app_version,
            "locale": self._take(self._locale, buyer),
            "currency": self._take(self._currency, buyer),
            "country": self._take(self._country, buyer),
            "quantity": self._promoted(frames, "quantity", pa.int32()),
            "propensity": self._promoted(frames, "propensity", pa.float64()),
            "payload": pa.chunked_array(payloads, pa.string()),
        }  # fmt: skip
        for name in _STRING_COLUMNS:
            columns[name] = self._promoted(frames, name, pa.string())
        for name in ("price", "revenue"):
            amount = self._promoted(frames, name, pa.string())
            columns[name] = pc.cast(amount, _MONEY)
            columns[f"{name}_currency"] = self._promoted(frames, name, pa.string(), currency=True)
        return pa.Table.from_pydict(
            {name: columns[name] for name in EVENTS_SCHEMA.names}, schema=EVENTS_SCHEMA
        )

    @staticmethod
    def _promoted(frames: list[_Frame], name: str, type_: pa.DataType, *,
                  currency: bool = False) -> pa.Array:  # fmt: skip
        parts = []
        for f in frames:
            field = f.fields.get(name)
            value = None if field is None else (field.currency if currency else field.value)
            parts.append(pa.nulls(len(f.session), type_) if value is None else value.cast(type_))
        return pa.concat_arrays(parts)

    @staticmethod
    def _head(frame: _Frame) -> list[js.Piece]:
        struct = _STRUCTS[frame.type]
        own = struct.__struct_fields__[: struct.__struct_fields__.index("event_id")]
        if set(own) != set(frame.fields):
            msg = f"{frame.type}: fields {sorted(frame.fields)} != schema fields {sorted(own)}"
            raise AssertionError(msg)
        pieces: list[js.Piece] = [f'{{"type":"{frame.type}"']
        for name in own:
            json = frame.fields[name].json
            pieces += [f',"{name}":', *(json if isinstance(json, list) else [json])]
        return pieces
