"""Train/serve skew check: online values against offline values at the same cut-off.

Online: the stream updater fed the lake's events. Offline: the build. Same buyers.

Example:
    >>> import tempfile
    >>> check_skew(tempfile.mkdtemp()).ok
    True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.features.build import build_features, from_micros, to_micros
from marketlift.features.config import FeatureConfig
from marketlift.features.definitions import features_of
from marketlift.features.store import MemoryStore, OnlineStore
from marketlift.features.stream import StreamUpdater
from marketlift.lake import connect

__all__ = ["SkewReport", "check_skew", "compare_tables", "feed_lake"]


@dataclasses.dataclass(frozen=True, slots=True)
class SkewReport:
    """Result of a skew check (mismatches are data conditions, not errors).

    Attributes:
        cutoff: The common cut-off (``None`` for an empty lake).
        entities: Buyers compared.
        values: Feature values compared.
        mismatches: Values that differ beyond the tolerance.
        missing_online: Buyers with offline features but none online.
        by_feature: Feature -> mismatch count (only features with mismatches).
        examples: Up to 20 mismatches: namespace, buyer, feature, offline, online.
        tolerance: Relative (and absolute, below 1) tolerance on numbers.
    """

    cutoff: dt.datetime | None
    entities: int
    values: int
    mismatches: int
    missing_online: int
    by_feature: dict[str, int]
    examples: list[dict[str, Any]]
    tolerance: float

    @property
    def ok(self) -> bool:
        """No mismatch and nothing missing."""
        return self.mismatches == 0 and self.missing_online == 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document."""
        doc = dataclasses.asdict(self)
        doc["cutoff"] = self.cutoff.isoformat() if self.cutoff else None
        doc["ok"] = self.ok
        return doc


def feed_lake(
    updater: StreamUpdater, data_dir: str | os.PathLike[str], cutoff_us: int | None
) -> int:
    """Feed the updater every lake event before the cut-off, in time order.

    Events are decoded from their own JSON (``payload``), as the stream delivers them.
    """
    where = "" if cutoff_us is None else f"WHERE epoch_us(ts) < {int(cutoff_us)}"
    con = connect(data_dir)
    try:
        reader = con.sql(
            f"SELECT payload FROM events {where} ORDER BY ts, event_id"  # noqa: S608
        ).to_arrow_reader(batch_size=50_000)
        import msgspec  # noqa: PLC0415

        decode = msgspec.json.Decoder(dict[str, Any]).decode
        n = 0
        for batch in reader:
            n += updater.update_many(decode(p) for p in batch.column(0).to_pylist())
        return n
    finally:
        con.close()


def _equal(a: pa.ChunkedArray, b: pa.ChunkedArray, tolerance: float) -> np.ndarray:
    a_null = pc.is_null(a).to_numpy(zero_copy_only=False)
    b_null = pc.is_null(b).to_numpy(zero_copy_only=False)
    if pa.types.is_floating(a.type) or pa.types.is_integer(a.type):
        x = pc.cast(a, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        y = pc.cast(b, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        close = np.abs(x - y) <= tolerance * np.maximum(1.0, np.abs(x))
    else:
        close = pc.equal(a, b).fill_null(fill_value=False).to_numpy(zero_copy_only=False)
    return np.asarray((a_null & b_null) | (~a_null & ~b_null & close))


def compare_tables(
    namespace: str,
    offline: pa.Table,
    online_rows: list[dict[str, Any] | None],
    key: str,
    tolerance: float = 1e-9,
) -> tuple[int, int, dict[str, int], list[dict[str, Any]]]:
    """Compare an offline table with online rows (same order).

    Returns:
        Values compared, mismatches, mismatches by feature, and examples.
    """
    names = [f.name for f in features_of(namespace)]
    present = [row for row in online_rows if row is not None]
    mask = pa.array([row is not None for row in online_rows], type=pa.bool_())
    off = offline.filter(mask)
    on = pa.Table.from_pylist(present, schema=off.select(names).schema)
    compared = mismatches = 0
    by_feature: dict[str, int] = {}
    examples: list[dict[str, Any]] = []
    keys = off.column(key)
    for name in names:
        ok = _equal(off.column(name), on.column(name), tolerance)
        bad = np.flatnonzero(~ok)
        compared += len(ok)
        if len(bad):
            mismatches += len(bad)
            by_feature[f"{namespace}.{name}"] = len(bad)
            examples.extend(
                {
                    "namespace": namespace,
                    key: keys[int(i)].as_py(),
                    "feature": name,
                    "offline": off.column(name)[int(i)].as_py(),
                    "online": on.column(name)[int(i)].as_py(),
                }
                for i in bad[:5]
            )
    return compared, mismatches, by_feature, examples


def check_skew(
    data_dir: str | os.PathLike[str],
    *,
    cutoff: dt.datetime | None = None,
    catalog: pa.Table | None = None,
    config: FeatureConfig | None = None,
    store: OnlineStore | None = None,
    tolerance: float = 1e-9,
    engine: str = "duckdb",
    spark: Any = None,
) -> SkewReport:
    """Compare the stream updater's features with the offline build at one cut-off.

    Feeds a stream updater the lake's events before the cut-off, flushes it at the cut-off
    into ``store`` (a fresh :class:`MemoryStore` by default), build the offline tables at the
    same cut-off, and compare every buyer and session feature.

    Args:
        data_dir: The data directory.
        cutoff: Default: just after the last event.
        catalog: Listing catalog (category affinity needs it), optional.
        config: Feature parameters (the same on both sides).
        store: The online store to go through (memory or Redis).
        tolerance: Relative tolerance on numbers.
        engine: Offline engine.
        spark: An existing SparkSession for ``engine="spark"``.
    """
    cfg = config or FeatureConfig()
    offline = build_features(
        data_dir,
        engine=engine,
        cutoff=cutoff,
        catalog=catalog,
        config=cfg,
        spark=spark,
        write=False,
    )
    cut = None if offline.cutoff is None else to_micros(offline.cutoff)
    categories: dict[str, str] = {}
    if catalog is not None and "category" in catalog.column_names:
        ids = catalog.column("listing_id").to_pylist()
        categories = dict(zip(ids, catalog.column("category").to_pylist(), strict=True))
    target = store if store is not None else MemoryStore()
    updater = StreamUpdater(target, config=cfg, categories=categories)
    feed_lake(updater, data_dir, cut)
    if cut is not None:
        updater.flush(cut, every_buyer=True)
    values = mismatches = missing = 0
    by_feature: dict[str, int] = {}
    examples: list[dict[str, Any]] = []
    for namespace, table in (
        ("buyer", offline.tables["buyer_features"]),
        ("session", offline.tables["session_features"]),
    ):
        buyers = table.column("buyer").to_pylist()
        rows = target.get_many([(namespace, b) for b in buyers])
        missing += sum(row is None for row in rows)
        n, bad, counts, ex = compare_tables(namespace, table, rows, "buyer", tolerance)
        values += n
        mismatches += bad
        by_feature.update(counts)
        examples.extend(ex)
    return SkewReport(
        cutoff=None if cut is None else from_micros(cut),
        entities=offline.tables["buyer_features"].num_rows,
        values=values,
        mismatches=mismatches,
        missing_online=missing,
        by_feature=by_feature,
        examples=examples[:20],
        tolerance=tolerance,
    )
