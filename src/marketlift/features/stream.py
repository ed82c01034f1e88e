"""The stream updater: buyer and in-session features kept fresh from the event stream.

It mirrors the offline definitions (:mod:`marketlift.features.definitions`) event by event:
after it has seen every event before a cut-off, :meth:`StreamUpdater.features` at that
cut-off equals the offline build's row (proven by the skew check). Events are the wire
format (the JSON events of the collector, the JetStream subject ``<prefix>.events`` and the
lake's ``payload`` column). A buyer's events are expected in time order; a late event is
counted in the buyer's current session.

Time-dependent features (recency, dwell, cart age, fatigue) are computed at the ``as_of``
given to :meth:`StreamUpdater.flush`, by default just after the latest event seen.

Example:
    >>> from marketlift.features.store import MemoryStore
    >>> store = MemoryStore()
    >>> updater = StreamUpdater(store)
    >>> updater.update({"type": "listing_view", "ts": "2026-11-02T10:00:00Z",
    ...                 "event_id": "e1", "buyer_id": "b1", "platform": "web",
    ...                 "listing_id": "l1", "price": {"amount": "12.50", "currency": "EUR"}})
    >>> updater.flush()
    1
    >>> store.get("session", "b1")["s_views"], store.get("buyer", "b1")["b_platform"]
    (1, 'web')
"""

from __future__ import annotations

import asyncio
import datetime as dt
import queue
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Final

import msgspec

from marketlift.features.config import FeatureConfig
from marketlift.features.queries import STAGE_OF
from marketlift.features.store import OnlineStore

__all__ = ["StreamUpdater", "event_micros"]

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US: Final = dt.timedelta(microseconds=1)
_DAY_US: Final = 86_400_000_000
_HOUR_US: Final = 3_600_000_000
_SECOND_US: Final = 1_000_000


def event_micros(ts: str | dt.datetime) -> int:
    """Microseconds since the epoch of an event's ``ts`` (RFC 3339 text or datetime).

    Example:
        >>> event_micros("1970-01-01T00:00:01.5+00:00")
        1500000
    """
    value = dt.datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return (value - _EPOCH) // _US


def _amount(money: Any) -> float | None:
    if money is None:
        return None
    if isinstance(money, Mapping):
        return float(money["amount"])
    return float(money)


class _Buyer:
    """Running state of one buyer (and of its current session)."""

    __slots__ = (
        "cart_items",
        "cart_value",
        "categories",
        "first_add_us",
        "last_key",
        "last_purchase_us",
        "last_us",
        "locale",
        "n_clicked",
        "n_events",
        "n_favorites",
        "n_purchases",
        "n_shown",
        "n_views",
        "platform",
        "revenue",
        "s_cart",
        "s_events",
        "s_last_key",
        "s_last_stage",
        "s_listings",
        "s_max_stage",
        "s_price_max",
        "s_price_min",
        "s_start_us",
        "s_views",
        "session_no",
        "shown",
    )

    def __init__(self) -> None:
        self.n_events = self.n_purchases = self.n_views = self.n_favorites = 0
        self.n_shown = self.n_clicked = self.session_no = self.cart_items = 0
        self.revenue = self.cart_value = 0.0
        self.last_us: int | None = None
        self.last_purchase_us: int | None = None
        self.first_add_us: int | None = None
        self.last_key = ""
        self.locale: str | None = None
        self.platform: str | None = None
        self.shown: deque[tuple[int, float]] = deque()
        self.categories: dict[str, int] = {}
        self.new_session(0)

    def new_session(self, start_us: int) -> None:
        self.s_start_us = start_us
        self.s_events = self.s_views = self.s_cart = self.s_max_stage = self.s_last_stage = 0
        self.s_listings: set[str] = set()
        self.s_price_min: float | None = None
        self.s_price_max: float | None = None
        self.s_last_key = ""


class StreamUpdater:
    """Keep ``buyer`` and ``session`` features of an :class:`OnlineStore` fresh.

    Args:
        store: Where :meth:`flush` writes.
        config: Feature parameters (the same as the offline build's).
        categories: Listing id -> catalog category (for the category affinity).
    """

    def __init__(
        self,
        store: OnlineStore,
        *,
        config: FeatureConfig | None = None,
        categories: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.config = config or FeatureConfig()
        self.categories = dict(categories or {})
        self._buyers: dict[str, _Buyer] = {}
        self._dirty: set[str] = set()
        self.watermark_us: int | None = None
        self.events_seen = 0

    def update(self, event: Mapping[str, Any]) -> None:  # noqa: PLR0915 - one branch per type
        """Apply one event (a wire-format dict)."""
        buyer = event.get("buyer_id") or event.get("anonymous_id")
        if not buyer:
            return
        ts = event_micros(event["ts"])
        key = f"{ts}{event.get('event_id', '')}"
        st = self._buyers.get(buyer)
        if st is None:
            st = self._buyers[buyer] = _Buyer()
        if st.last_us is None or ts - st.last_us > self.config.session_gap_us:
            st.session_no += 1
            st.new_session(ts)
        st.last_us = ts if st.last_us is None else max(st.last_us, ts)
        self.watermark_us = ts if self.watermark_us is None else max(self.watermark_us, ts)
        self.events_seen += 1
        self._dirty.add(buyer)
        st.n_events += 1
        st.s_events += 1
        if key > st.last_key:
            st.last_key = key
            st.locale = event.get("locale")
            st.platform = event.get("platform")
        kind = event.get("type")
        stage = STAGE_OF.get(str(kind), 0)
        if stage:
            st.s_max_stage = max(st.s_max_stage, stage)
            if key > st.s_last_key:
                st.s_last_key = key
                st.s_last_stage = stage
        quantity = event.get("quantity")
        qty = 1 if quantity is None else int(quantity)
        if kind == "listing_view":
            st.n_views += 1
            st.s_views += 1
            listing = event.get("listing_id")
            if listing is not None:
                st.s_listings.add(listing)
                category = self.categories.get(listing)
                if category is not None:
                    st.categories[category] = st.categories.get(category, 0) + 1
            price = _amount(event.get("price"))
            if price is not None:
                st.s_price_min = price if st.s_price_min is None else min(st.s_price_min, price)
                st.s_price_max = price if st.s_price_max is None else max(st.s_price_max, price)
        elif kind == "purchase":
            st.n_purchases += 1
            st.revenue += _amount(event.get("revenue")) or 0.0
            st.last_purchase_us = (
                ts if st.last_purchase_us is None else max(st.last_purchase_us, ts)
            )
            st.cart_items, st.cart_value, st.first_add_us = 0, 0.0, None
        elif kind == "add_to_cart":
            st.cart_items += qty
            st.s_cart += qty
            price = _amount(event.get("price"))
            if price is not None:
                st.cart_value += float(qty) * price
            st.first_add_us = ts if st.first_add_us is None else min(st.first_add_us, ts)
        elif kind == "remove_from_cart":
            st.cart_items -= qty
            st.s_cart -= qty
        elif kind == "favorite":
            st.n_favorites += 1
        elif kind == "engagement_shown":
            st.n_shown += 1
            push_email = event.get("channel") in ("push", "email")
            cfg = self.config
            weight = cfg.fatigue_weight_push_email if push_email else cfg.fatigue_weight_onsite
            st.shown.append((ts, weight))
        elif kind == "engagement_clicked":
            st.n_clicked += 1

    def update_many(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Apply events in order; return how many."""
        n = 0
        for event in events:
            self.update(event)
            n += 1
        return n

    def buyers(self) -> list[str]:
        """Every buyer seen so far."""
        return list(self._buyers)

    def features(self, buyer: str, as_of_us: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``b_*`` and ``s_*`` features of a buyer at ``as_of_us`` (after its events).

        Raises:
            KeyError: The buyer was never seen.
        """
        st = self._buyers[buyer]
        cfg = self.config
        last = st.last_us if st.last_us is not None else as_of_us
        horizon = as_of_us - cfg.fatigue_window_us
        while st.shown and st.shown[0][0] < horizon:
            st.shown.popleft()
        fatigue = sum(w * cfg.fatigue_decay ** ((as_of_us - t) / _DAY_US) for t, w in st.shown)
        top: str | None = None
        share: float | None = None
        if st.categories:
            top, n = min(st.categories.items(), key=lambda kv: (-kv[1], kv[0]))
            share = n / sum(st.categories.values())
        b = {
            "b_n_events": st.n_events,
            "b_n_sessions": st.session_no,
            "b_n_purchases": st.n_purchases,
            "b_revenue": st.revenue,
            "b_days_since_last_event": (as_of_us - last) / _DAY_US,
            "b_days_since_last_purchase": None
            if st.last_purchase_us is None
            else (as_of_us - st.last_purchase_us) / _DAY_US,
            "b_n_views": st.n_views,
            "b_n_favorites": st.n_favorites,
            "b_cart_items": st.cart_items,
            "b_cart_value": st.cart_value,
            "b_cart_age_hours": None
            if st.first_add_us is None
            else (as_of_us - st.first_add_us) / _HOUR_US,
            "b_n_shown": st.n_shown,
            "b_n_clicked": st.n_clicked,
            "b_click_rate": (st.n_clicked + 1.0) / (st.n_shown + 2.0),
            "b_fatigue": fatigue,
            "b_locale": st.locale,
            "b_platform": st.platform,
            "b_top_category": top,
            "b_top_category_share": share,
        }
        live = as_of_us - last <= cfg.session_gap_us
        s = {
            "s_events": st.s_events if live else 0,
            "s_dwell_s": (as_of_us - st.s_start_us) / _SECOND_US if live else 0.0,
            "s_since_last_event_s": (as_of_us - last) / _SECOND_US,
            "s_views": st.s_views if live else 0,
            "s_distinct_listings": len(st.s_listings) if live else 0,
            "s_price_min": st.s_price_min if live else None,
            "s_price_max": st.s_price_max if live else None,
            "s_cart_items": st.s_cart if live else 0,
            "s_max_stage": st.s_max_stage if live else 0,
            "s_last_stage": st.s_last_stage if live else 0,
        }
        return b, s

    def flush(self, as_of: dt.datetime | int | None = None, *, every_buyer: bool = False) -> int:
        """Write the features of changed buyers to the store, one bulk write per namespace.

        Changed: with events since the last flush (or every buyer with ``every_buyer``).

        Args:
            as_of: When time-dependent features are measured (datetime or microseconds);
                default: 1 microsecond after the latest event seen.
            every_buyer: Refresh every buyer, not only those with new events.

        Returns:
            How many buyers were written.
        """
        if as_of is None:
            if self.watermark_us is None:
                return 0
            as_of_us = self.watermark_us + 1
        else:
            as_of_us = as_of if isinstance(as_of, int) else event_micros(as_of)
        names = list(self._buyers) if every_buyer else list(self._dirty)
        buyer_rows: dict[str, dict[str, Any]] = {}
        session_rows: dict[str, dict[str, Any]] = {}
        for name in names:
            buyer_rows[name], session_rows[name] = self.features(name, as_of_us)
        if names:
            self.store.write("buyer", buyer_rows)
            self.store.write("session", session_rows)
        self._dirty.clear()
        return len(names)

    def run_queue(
        self, source: queue.Queue[Any], *, flush_every: int = 1000, timeout_s: float = 0.5
    ) -> int:
        """Consume an in-process queue of events (dicts, or lists of dicts) until ``None``.

        Flushes after every ``flush_every`` events, whenever the queue is idle for
        ``timeout_s``, and at the end. Returns the number of events applied.
        """
        total = pending = 0
        while True:
            try:
                item = source.get(timeout=timeout_s)
            except queue.Empty:
                if pending:
                    self.flush()
                    pending = 0
                continue
            if item is None:
                break
            n = self.update_many(item if isinstance(item, list) else [item])
            total += n
            pending += n
            if pending >= flush_every:
                self.flush()
                pending = 0
        self.flush()
        return total

    def run_jetstream(
        self,
        config: Any,
        *,
        durable: str = "features",
        batch: int = 500,
        idle_timeout_s: float = 1.0,
        follow: bool = False,
    ) -> int:
        """Consume ``<prefix>.events`` from NATS JetStream (a durable pull consumer).

        Flushes after each fetched batch and acknowledges only after the flush.

        Args:
            config: A :class:`marketlift.serve.config.JetStreamConfig`.
            durable: The consumer's durable name (resumes where it stopped).
            batch: Messages per fetch.
            idle_timeout_s: How long a fetch waits.
            follow: Keep waiting for new events; else stop at the first idle fetch.

        Returns:
            The number of events applied.
        """
        return asyncio.run(self._jetstream(config, durable, batch, idle_timeout_s, follow))

    async def _jetstream(
        self, config: Any, durable: str, batch: int, idle_timeout_s: float, follow: bool
    ) -> int:
        from marketlift.ingest.jetstream import ensure_stream, import_nats  # noqa: PLC0415

        nats = import_nats()
        from nats.errors import TimeoutError as FetchTimeout  # noqa: PLC0415

        decode = msgspec.json.Decoder(dict[str, Any]).decode
        total = 0
        nc = await nats.connect(config.url, connect_timeout=5, max_reconnect_attempts=3)
        try:
            js = nc.jetstream()
            await ensure_stream(js, config)
            sub = await js.pull_subscribe(
                f"{config.subject_prefix}.events", durable=durable, stream=config.stream
            )
            while True:
                try:
                    msgs = await sub.fetch(batch, timeout=idle_timeout_s)
                except (TimeoutError, FetchTimeout):
                    if follow:
                        continue
                    break
                total += self.update_many(decode(m.data) for m in msgs)
                self.flush()
                await asyncio.gather(*(m.ack() for m in msgs))
        finally:
            await nc.close()
        return total
