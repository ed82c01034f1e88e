"""The Redis online store: one msgpack value per key, pipelined bulk writes, one MGET a read.

Keys are ``<prefix><namespace>:<key>``; give each deployment (and each test) its own prefix.
``redis`` is imported when the store is made (extra ``redis``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import msgspec

from marketlift.errors import ConfigError, MissingDependencyError

__all__ = ["RedisStore"]

Row = dict[str, Any]


class RedisStore:
    """Features in Redis.

    Args:
        url: ``redis://host:port/db``.
        prefix: Prepended to every key (``clear`` removes only keys with it).
        ttl_s: Expire written keys after this many seconds (``None``: never).
        chunk: Keys per ``MSET`` in a bulk write (all chunks go in one pipeline).
        timeout_s: Socket connect and read timeout (``None``: block); the decision API sets
            a few milliseconds so a slow or dead server cannot hold a request.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "marketlift:features:",
        ttl_s: int | None = None,
        chunk: int = 5000,
        timeout_s: float | None = None,
    ) -> None:
        try:
            import redis  # noqa: PLC0415
        except ImportError as exc:  # pragma: no cover - redis is in the dev extra
            raise MissingDependencyError("redis", "redis") from exc
        if not prefix:
            raise ConfigError("prefix", prefix, "a non-empty key prefix")
        if chunk < 1:
            raise ConfigError("chunk", chunk, "an integer >= 1")
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.chunk = chunk
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._encode = msgspec.msgpack.Encoder().encode
        self._decode = msgspec.msgpack.Decoder(dict[str, Any]).decode

    def _key(self, namespace: str, key: str) -> str:
        return f"{self.prefix}{namespace}:{key}"

    def write(self, namespace: str, rows: Mapping[str, Mapping[str, Any]]) -> int:
        """Store many keys with pipelined ``MSET`` (and ``EXPIRE``) commands."""
        encode = self._encode
        items = [(self._key(namespace, k), encode(v)) for k, v in rows.items()]
        pipe = self._client.pipeline(transaction=False)
        for start in range(0, len(items), self.chunk):
            part = dict(items[start : start + self.chunk])
            pipe.mset(part)
            if self.ttl_s is not None:
                for name in part:
                    pipe.expire(name, self.ttl_s)
        pipe.execute()
        return len(items)

    def get_many(self, items: Sequence[tuple[str, str]]) -> list[Row | None]:
        """One ``MGET`` for all keys."""
        if not items:
            return []
        raw = cast("list[bytes | None]", self._client.mget([self._key(ns, k) for ns, k in items]))
        decode = self._decode
        return [None if value is None else decode(value) for value in raw]

    def get(self, namespace: str, key: str) -> Row | None:
        """Features of one key."""
        value = cast("bytes | None", self._client.get(self._key(namespace, key)))
        return None if value is None else self._decode(value)

    def clear(self) -> None:
        """Unlink every key with this store's prefix (SCAN in batches)."""
        batch: list[bytes] = []
        for name in self._client.scan_iter(match=f"{self.prefix}*", count=1000):
            batch.append(name)
            if len(batch) >= 1000:
                self._client.unlink(*batch)
                batch.clear()
        if batch:
            self._client.unlink(*batch)

    def reconnect(self) -> None:
        """Drop every pooled connection (after a failure: none may be stale when it is back)."""
        self._client.connection_pool.disconnect()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
