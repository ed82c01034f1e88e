"""One suite for every online store: memory and Redis (real server on 127.0.0.1:6379)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pyarrow as pa
import pytest

from marketlift.errors import ConfigError
from marketlift.features import (
    MemoryStore,
    OnlineStore,
    RedisStore,
    read_features,
    write_table,
)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[OnlineStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("redis_url")
    redis_store = RedisStore(url, prefix=f"test:features:{uuid.uuid4().hex}:", chunk=300)
    yield redis_store
    redis_store.clear()
    redis_store.close()


def test_write_then_read(store: OnlineStore) -> None:
    rows = {"b1": {"b_n_events": 3, "b_locale": "de-DE", "b_fatigue": 0.25, "x": None}}
    assert store.write("buyer", rows) == 1
    assert store.get("buyer", "b1") == rows["b1"]
    assert store.get("buyer", "nobody") is None
    assert store.get("listing", "b1") is None  # namespaces are separate


def test_write_replaces_a_key(store: OnlineStore) -> None:
    store.write("buyer", {"b1": {"a": 1, "b": 2}})
    store.write("buyer", {"b1": {"a": 5}})
    assert store.get("buyer", "b1") == {"a": 5}


def test_bulk_write_and_ordered_multi_read(store: OnlineStore) -> None:
    rows = {f"l{i}": {"l_views": i, "l_rate": i / 7} for i in range(2000)}
    assert store.write("listing", rows) == 2000
    keys = [("listing", f"l{i}") for i in (5, 1999, 0)] + [("listing", "missing")]
    assert store.get_many(keys) == [rows["l5"], rows["l1999"], rows["l0"], None]
    assert store.get_many([]) == []


def test_read_features_for_the_decision_path(store: OnlineStore) -> None:
    store.write("buyer", {"b1": {"b_n_events": 4}})
    store.write("session", {"b1": {"s_events": 2}})
    store.write("listing", {f"l{i}": {"l_views": i} for i in range(500)})
    got = read_features(store, "b1", [f"l{i}" for i in range(499, -1, -1)] + ["gone"])
    assert got.buyer == {"b_n_events": 4}
    assert got.session == {"s_events": 2}
    assert [row["l_views"] if row else None for row in got.listings] == [
        *range(499, -1, -1),
        None,
    ]
    unknown = read_features(store, "b2", [])
    assert (unknown.buyer, unknown.session, unknown.listings) == (None, None, [])


def test_write_table_keys_rows_and_drops_timestamps(store: OnlineStore) -> None:
    table = pa.table(
        {
            "listing_id": ["l1", "l2"],
            "cutoff_ts": pa.array([0, 0], pa.timestamp("us", tz="UTC")),
            "l_views": [3, 0],
            "l_category": ["a", None],
        }
    )
    assert write_table(store, "listing", table, "listing_id") == 2
    assert store.get("listing", "l2") == {"l_views": 0, "l_category": None}


def test_clear_removes_only_this_store(store: OnlineStore) -> None:
    store.write("buyer", {"b1": {"a": 1}})
    store.clear()
    assert store.get("buyer", "b1") is None


def test_redis_keys_are_prefixed_and_cleared(redis_url: str) -> None:
    import redis

    prefix = f"test:features:{uuid.uuid4().hex}:"
    one, other = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix + "x:")
    try:
        one.write("buyer", {"b1": {"a": 1}})
        other.write("buyer", {"b1": {"a": 2}})
        client = redis.Redis.from_url(redis_url)
        assert client.exists(f"{prefix}buyer:b1") == 1
        one.clear()  # its prefix covers the other's keys too: both go
        assert one.get("buyer", "b1") is None
        assert client.exists(f"{prefix}x:buyer:b1") == 0
        client.close()
    finally:
        one.close()
        other.close()


def test_redis_ttl(redis_url: str) -> None:
    import redis

    prefix = f"test:features:{uuid.uuid4().hex}:"
    store = RedisStore(redis_url, prefix=prefix, ttl_s=60)
    try:
        store.write("buyer", {"b1": {"a": 1}})
        client = redis.Redis.from_url(redis_url)
        assert 0 < client.ttl(f"{prefix}buyer:b1") <= 60
        client.close()
    finally:
        store.clear()
        store.close()


def test_redis_rejects_an_empty_prefix(redis_url: str) -> None:
    with pytest.raises(ConfigError, match="prefix"):
        RedisStore(redis_url, prefix="")
