"""The stream updater: from an in-process queue and from NATS JetStream."""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

import msgspec
import pytest

from marketlift.features import FeatureConfig, MemoryStore, StreamUpdater
from tests.features._helpers import at, event, money, story


def test_sessions_split_on_the_gap_and_flush_writes_only_changed_buyers() -> None:
    store = MemoryStore()
    updater = StreamUpdater(store, config=FeatureConfig(session_gap_s=60))
    updater.update_many([event("page_view", 0), event("page_view", 0.5, buyer="b2")])
    assert updater.flush() == 2
    updater.update(event("listing_view", 2, listing_id="l1", price=money("5.00")))
    assert updater.flush() == 1
    buyer = store.get("buyer", "b1")
    session = store.get("session", "b1")
    assert buyer is not None
    assert session is not None
    assert (buyer["b_n_sessions"], session["s_events"], session["s_views"]) == (2, 1, 1)
    assert updater.flush() == 0


def test_flush_measures_time_at_as_of() -> None:
    store = MemoryStore()
    updater = StreamUpdater(store)
    updater.update_many(story())
    updater.flush(at(110), every_buyer=True)
    b1, d2 = store.get("buyer", "b1"), store.get("session", "d2")
    assert b1 is not None
    assert d2 is not None
    assert b1["b_days_since_last_event"] == pytest.approx(6 / 1440)
    assert (d2["s_events"], d2["s_since_last_event_s"]) == (0, pytest.approx(3600.0))


def test_queue_consumer() -> None:
    store = MemoryStore()
    updater = StreamUpdater(store)
    source: queue.Queue[Any] = queue.Queue()
    events = story()
    applied: list[int] = []
    worker = threading.Thread(target=lambda: applied.append(updater.run_queue(source)))
    worker.start()
    source.put(events[:5])
    for item in events[5:]:
        source.put(item)
    source.put(None)
    worker.join(timeout=30)
    assert applied == [len(events)]
    buyer = store.get("buyer", "b1")
    assert buyer is not None
    assert (buyer["b_n_events"], buyer["b_n_purchases"]) == (15, 1)


@pytest.mark.services
def test_jetstream_consumer(jetstream_config: Any) -> None:
    import nats

    from marketlift.ingest.jetstream import ensure_stream

    events = story()

    async def publish() -> None:
        nc = await nats.connect(jetstream_config.url)
        js = nc.jetstream()
        await ensure_stream(js, jetstream_config)
        for item in events:
            await js.publish(f"{jetstream_config.subject_prefix}.events", msgspec.json.encode(item))
        await nc.close()

    asyncio.run(publish())
    from_stream, direct = MemoryStore(), MemoryStore()
    updater = StreamUpdater(from_stream)
    assert updater.run_jetstream(jetstream_config, durable="features-test", batch=4) == 16
    reference = StreamUpdater(direct)
    reference.update_many(events)
    reference.flush()
    for namespace in ("buyer", "session"):
        assert from_stream.get(namespace, "b1") == direct.get(namespace, "b1")
    # The durable consumer acknowledged everything: a second run finds nothing new.
    assert (
        StreamUpdater(MemoryStore()).run_jetstream(
            jetstream_config, durable="features-test", idle_timeout_s=0.5
        )
        == 0
    )
