"""The online feature store: one interface, an in-process and a Redis implementation.

Values are flat dicts of feature name -> value, keyed by ``(namespace, key)``: namespaces
``buyer`` and ``session`` (keyed by buyer id), ``listing`` (keyed by listing id). Writes are
bulk; reads fetch many keys in one round trip (:func:`read_features`: one buyer, its live
session and any number of listings).

Example:
    >>> store = MemoryStore()
    >>> store.write("listing", {"l1": {"l_views": 3}, "l2": {"l_views": 0}})
    2
    >>> read_features(store, "b1", ["l2", "l9"]).listings
    [{'l_views': 0}, None]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol, runtime_checkable

import pyarrow as pa

__all__ = [
    "NAMESPACES",
    "MemoryStore",
    "OnlineFeatures",
    "OnlineStore",
    "read_features",
    "write_table",
]

NAMESPACES: Final = ("buyer", "session", "listing")

Row = dict[str, Any]


@runtime_checkable
class OnlineStore(Protocol):
    """Where served features live (memory, Redis)."""

    def write(self, namespace: str, rows: Mapping[str, Mapping[str, Any]]) -> int:
        """Store (replace) the features of many keys at once; return how many."""

    def get_many(self, items: Sequence[tuple[str, str]]) -> list[Row | None]:
        """Features of many ``(namespace, key)`` pairs, in order (``None``: unknown key)."""

    def get(self, namespace: str, key: str) -> Row | None:
        """Features of one key (``None``: unknown)."""

    def clear(self) -> None:
        """Remove every key of this store."""

    def close(self) -> None:
        """Release connections."""


class MemoryStore:
    """An in-process store: a dict per namespace. Returned dicts are shared: do not mutate."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Row]] = {}

    def write(self, namespace: str, rows: Mapping[str, Mapping[str, Any]]) -> int:
        """Store the features of many keys."""
        self._data.setdefault(namespace, {}).update({k: dict(v) for k, v in rows.items()})
        return len(rows)

    def get_many(self, items: Sequence[tuple[str, str]]) -> list[Row | None]:
        """Features of many keys."""
        data = self._data
        empty: dict[str, Row] = {}
        return [data.get(ns, empty).get(key) for ns, key in items]

    def get(self, namespace: str, key: str) -> Row | None:
        """Features of one key."""
        return self._data.get(namespace, {}).get(key)

    def clear(self) -> None:
        """Drop everything."""
        self._data.clear()

    def close(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        return sum(len(v) for v in self._data.values())


@dataclasses.dataclass(frozen=True, slots=True)
class OnlineFeatures:
    """What the decision path reads for one request.

    Attributes:
        buyer: ``b_*`` features (``None``: unknown buyer).
        session: ``s_*`` features of the buyer's live session (``None``: unknown).
        listings: ``l_*`` features per requested listing, in order (``None``: unknown).
    """

    buyer: Row | None
    session: Row | None
    listings: list[Row | None]


def read_features(store: OnlineStore, buyer: str, listing_ids: Sequence[str]) -> OnlineFeatures:
    """Read one buyer, its session and many listings in one round trip."""
    items = [("buyer", buyer), ("session", buyer)]
    items.extend(("listing", lid) for lid in listing_ids)
    values = store.get_many(items)
    return OnlineFeatures(buyer=values[0], session=values[1], listings=values[2:])


def write_table(store: OnlineStore, namespace: str, table: pa.Table, key: str) -> int:
    """Load a feature table into a store in one bulk write, keyed by column ``key``.

    For example ``DATA/features/listing_features.parquet``; timestamp columns are dropped.

    Example:
        >>> store = MemoryStore()
        >>> write_table(store, "listing", pa.table({"listing_id": ["l1"], "l_views": [4]}),
        ...             "listing_id")
        1
        >>> store.get("listing", "l1")
        {'l_views': 4}
    """
    keep = [
        name
        for name, typ in zip(table.column_names, table.schema.types, strict=True)
        if name != key and not pa.types.is_timestamp(typ)
    ]
    keys = table.column(key).to_pylist()
    rows = table.select(keep).to_pylist()
    return store.write(namespace, dict(zip(keys, rows, strict=True)))
