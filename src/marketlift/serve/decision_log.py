"""The decision log: decisions and impressions written to the event sink after the answer.

A request appends one :class:`~marketlift.serve.decide.DecisionRecord` to an in-memory queue
(a deque append: nothing else on the critical path). A task on the server's event loop wakes
every ``interval_s``, turns the queued records into ``decision`` and ``impression`` events
(schema v1; the ``decision`` event's id is the ``decision_id``, so a replay is stored once),
scores the shadow ranker when one is configured, and submits them to the sink in one batch.

The ``decision`` event carries what off-policy evaluation and debugging need: the action
(``none`` included), its propensity under the policy and masks that served it, the eligible
actions with the probability of each, the moment, the listings shown, the model versions, the
policy's uniform draw ``u``, the purchase probability, ``degraded`` with its reasons, the total
time and, with a shadow ranker, its version, its top listings and their overlap with the live
ones.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from marketlift.events.schema import Decision, Impression, ImpressionItem
from marketlift.ingest.sink import Sink, SinkBatch
from marketlift.serve.decide import DecisionRecord

__all__ = ["DecisionLog", "decision_events", "shadow_ranking"]

_log = logging.getLogger("marketlift.serve.decisions")
_MAX_IDS: Final = 500
_BASELINE: Final = "never"
"""The policy logged for decisions no learned policy made (the ``control`` arm's baseline and
the fallback): never nudge, so ``none`` with propensity 1."""


def shadow_ranking(record: DecisionRecord, k: int = 10) -> list[str] | None:
    """The shadow ranker's top ``k`` for the same request (``None``: no shadow or no query)."""
    shadow = record.resources.shadow
    if shadow is None:
        return None
    query = shadow.query(record.session_items, locale=record.request.locale)
    if query is None:
        return None
    if record.candidates is None:
        cands, X_index = shadow.generate(query)  # noqa: N806
    else:
        cands = record.candidates
        X_index = shadow.index_features(cands, query)  # noqa: N806
    if not cands:
        return []
    rows: Sequence[Any] = (
        record.listing_rows if record.candidates is not None else [None] * len(cands)
    )
    if len(rows) != len(cands):
        rows = [None] * len(cands)
    scores = shadow.score(shadow.full_matrix(X_index, rows))
    order = np.argsort(-scores, kind="stable")[:k]
    return [cands[i] for i in order.tolist()]


def applied_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The experiment arm values a decision applied, as event properties (``value_<key>``).

    Example:
        >>> applied_values({"ranker": "popularity", "actions_off": ["a", "b"], "limit": 5})
        {'value_ranker': 'popularity', 'value_actions_off': 'a,b', 'value_limit': 5}
    """
    return {
        f"value_{k}": ",".join(v)[:1024] if isinstance(v, list | tuple) else v
        for k, v in values.items()
    }


def decision_events(record: DecisionRecord) -> list[Any]:
    """The ``decision`` (and ``impression``) events of one record."""
    req, resp = record.request, record.response
    ts = dt.datetime.fromtimestamp(record.ts, dt.UTC)
    common: dict[str, Any] = {
        "schema_version": 1,
        "ts": ts,
        "platform": req.platform,
        "buyer_id": req.buyer_id,
        "anonymous_id": req.anonymous_id,
        "session_id": req.session_id,
        "locale": req.locale,
        "country": req.country,
    }
    eng = resp.engagement
    props: dict[str, Any] = {
        "degraded": resp.degraded,
        "u": round(record.u, 6),
        "total_ms": resp.timings_ms.get("total"),
    }
    if resp.degraded_reasons:
        props["degraded_reasons"] = ",".join(resp.degraded_reasons)[:1024]
    if record.intent is not None:
        props["intent"] = round(record.intent, 6)
    if eng is not None:
        props["copy_status"] = eng.copy_status
    for a in resp.assignments:
        key = f"exp_{a['experiment_key']}"[:64]
        if len(props) < 45:
            props[key] = a["variant"]
    props.update(applied_values(record.values))
    if record.resources.shadow is not None:
        try:
            top = shadow_ranking(record)
        except Exception as exc:  # noqa: BLE001 - shadow scoring must never break logging
            props["shadow_error"] = f"{type(exc).__name__}: {exc}"[:1024]
            top = None
        if top is not None:
            live = [item.listing_id for item in resp.listings[: len(top)]]
            props["shadow_version"] = record.resources.shadow.version.version
            props["shadow_top"] = ",".join(top)[:1024]
            props["shadow_overlap"] = (
                round(len(set(top) & set(live)) / max(len(top), 1), 4) if top else None
            )
    versions = {k: v for k, v in resp.models.items() if v is not None}
    ids = [item.listing_id for item in resp.listings[:_MAX_IDS]]
    events: list[Any] = [
        Decision(
            event_id=resp.decision_id,
            decision_id=resp.decision_id,
            surface=req.surface,
            propensity=record.propensity if record.propensity > 0 else 1.0,
            action=record.action,
            channel=eng.channel if eng is not None else None,
            policy=resp.models.get("policy") or _BASELINE,
            moment=record.moment,
            eligible=list(record.eligible),
            probabilities=list(record.probabilities) or None,
            listing_ids=ids or None,
            model_versions=versions or None,
            properties=props,
            **common,
        )
    ]
    if ids:
        events.append(
            Impression(
                event_id=resp.decision_id + "-imp",
                surface=req.surface,
                listings=[ImpressionItem(lid, pos) for pos, lid in enumerate(ids)],
                decision_id=resp.decision_id,
                **common,
            )
        )
    return events


class DecisionLog:
    """A queue of decision records and the task that writes them to a sink.

    Args:
        sink: Where events go (the collector's sink).
        interval_s: How often the queue is drained.
        max_queue: Records kept at most while the sink is slow (the oldest are dropped and
            counted in :attr:`dropped`).
    """

    def __init__(self, sink: Sink, *, interval_s: float = 0.05, max_queue: int = 100_000) -> None:
        self.sink = sink
        self.interval_s = interval_s
        self.queue: collections.deque[DecisionRecord] = collections.deque(maxlen=max_queue)
        self.max_queue = max_queue
        self.dropped = 0
        self.written = 0
        self.failures = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()

    def append(self, record: DecisionRecord) -> None:
        """Queue a record (constant time)."""
        if len(self.queue) >= self.max_queue:
            self.dropped += 1
        self.queue.append(record)

    def drain(self) -> list[Any]:
        """Turn every queued record into events (and empty the queue)."""
        events: list[Any] = []
        queue = self.queue
        while queue:
            record = queue.popleft()
            try:
                events.extend(decision_events(record))
            except Exception:  # noqa: BLE001 - one bad record must not stop the log
                self.failures += 1
                _log.exception("could not log decision %s", record.response.decision_id)
        return events

    async def flush(self) -> int:
        """Write what is queued now; return the number of events."""
        events = self.drain()
        if not events:
            return 0
        now = dt.datetime.now(dt.UTC)
        try:
            await asyncio.wrap_future(self.sink.submit(SinkBatch(events, [], now, "decide")))
        except Exception:  # noqa: BLE001 - counted and logged; serving goes on
            self.failures += 1
            _log.exception("the sink refused %d decision events", len(events))
            return 0
        self.written += len(events)
        return len(events)

    async def _run(self) -> None:
        wake = self._wake
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.interval_s)
            if self.queue:
                await self.flush()

    def start(self) -> None:
        """Start the writer task on the running loop."""
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Let the task finish its current write, then write what is left."""
        self._stopping = True
        if self._task is not None:
            self._wake.set()
            await self._task  # not cancelled: a cancelled write would lose its events
            self._task = None
        await self.flush()
