"""Offline build: the feature tables of every buyer and listing at one cut-off.

Tables (written under ``DATA/features/<table>.parquet``, atomically):

- ``sessions``: one row per gap session (``buyer, session_no, session_key, start_ts, end_ts``,
  counts, revenue, deepest stage), over events before the cut-off.
- ``buyer_features``: ``buyer, cutoff_ts`` and the ``b_*`` features.
- ``session_features``: ``buyer, cutoff_ts`` and the ``s_*`` features of the live session.
- ``listing_features``: ``listing_id, cutoff_ts`` and the ``l_*`` features.

Example:
    >>> import tempfile
    >>> result = build_features(tempfile.mkdtemp(), write=False)
    >>> sorted(result.tables), result.tables["buyer_features"].num_rows
    (['buyer_features', 'listing_features', 'session_features', 'sessions'], 0)
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import os
import time
import uuid
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from marketlift.errors import ConfigError
from marketlift.features.config import FeatureConfig
from marketlift.features.definitions import feature_names
from marketlift.features.engines import Engine, make_engine
from marketlift.features.queries import (
    MAX_CATEGORIES,
    buckets_sql,
    buyer_features_sql,
    catalog_sql,
    items_sql,
    listing_features_sql,
    raw_events_sql,
    session_features_sql,
    sessions_sql,
    sessions_table_sql,
    tiles_sql,
)

__all__ = [
    "CATALOG_SCHEMA",
    "TABLES",
    "BuildResult",
    "build_features",
    "compute_features",
    "features_dir",
    "from_micros",
    "normalize_catalog",
    "prepare",
    "to_micros",
    "with_timestamps",
    "write_parquet_atomic",
]

TABLES: Final = ("sessions", "buyer_features", "session_features", "listing_features")
CATALOG_SCHEMA: Final = pa.schema(
    [
        pa.field("listing_id", pa.string()),
        pa.field("category", pa.string()),
        pa.field("price", pa.float64()),
        pa.field("review_count", pa.int64()),
        pa.field("rating", pa.float64()),
        pa.field("valid_from_us", pa.int64()),
        pa.field("valid_to_us", pa.int64()),
    ]
)
"""Columns of a listing catalog (bring your own: any missing column is NULL)."""

_UNIQUE: Final = {
    "sessions": ("session_key",),
    "buyer_features": ("buyer",),
    "session_features": ("buyer",),
    "listing_features": ("listing_id",),
}
_TS: Final = pa.timestamp("us", tz="UTC")
_BUYERS: Final = "fx_build_buyers"
_LISTINGS: Final = "fx_build_listings"


@dataclasses.dataclass(frozen=True, slots=True)
class BuildResult:
    """What :func:`build_features` produced.

    Attributes:
        tables: Table name -> Arrow table.
        cutoff: The cut-off (features use events strictly before it).
        engine: ``duckdb`` or ``spark``.
        seconds: Wall time of the build (computation and files).
        paths: Table name -> Parquet file written (empty with ``write=False``).
    """

    tables: dict[str, pa.Table]
    cutoff: dt.datetime | None
    engine: str
    seconds: float
    paths: dict[str, Path]

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (rows per table, paths, cut-off, seconds)."""
        return {
            "engine": self.engine,
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "seconds": round(self.seconds, 3),
            "rows": {name: t.num_rows for name, t in self.tables.items()},
            "paths": {name: str(p) for name, p in self.paths.items()},
        }


def features_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Where feature tables live: ``DATA/features``."""
    return Path(data_dir) / "features"


def to_micros(value: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime (naive means UTC).

    Example:
        >>> to_micros(dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.UTC))
        1000000
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return (value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def from_micros(value: int) -> dt.datetime:
    """The aware UTC datetime of microseconds since the epoch."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=value)


def normalize_catalog(catalog: pa.Table | None) -> pa.Table:
    """A catalog table cast to :data:`CATALOG_SCHEMA` (missing columns become NULL).

    Example:
        >>> row = normalize_catalog(pa.table({"listing_id": ["l1"], "price": [9]})).to_pylist()[0]
        >>> row["price"], row["category"], row["valid_from_us"]
        (9.0, None, None)
    """
    if catalog is None:
        return CATALOG_SCHEMA.empty_table()
    if "category" in catalog.column_names:
        categories = pc.count_distinct(catalog.column("category")).as_py()
        if categories >= MAX_CATEGORIES:
            raise ConfigError(
                "catalog.category", f"{categories} distinct values",
                f"fewer than {MAX_CATEGORIES}",
            )  # fmt: skip
    columns = []
    for field in CATALOG_SCHEMA:
        if field.name in catalog.column_names:
            columns.append(pc.cast(catalog.column(field.name), field.type))
        else:
            columns.append(pa.nulls(catalog.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=CATALOG_SCHEMA)


def prepare(engine: Engine, config: FeatureConfig, catalog: pa.Table | None = None) -> None:
    """Create the base tables (``fx_events``, ``fx_buckets``, ``fx_sessions``, ...) on an engine.

    Done once per engine, configuration and catalog: later calls with the same ones reuse
    the materialized views.
    """
    done = engine.state.get("fx_prepared")
    if done is not None and done[0] == config and done[1] is catalog:
        return
    d = engine.dialect
    catalog_in = _with_category_rank(normalize_catalog(catalog))
    engine.execute(d.create_view("fx_raw", raw_events_sql(d, engine.state.get("event_types"))))
    engine.materialize("fx_events", "SELECT * FROM fx_raw")
    engine.materialize("fx_tiles", tiles_sql(d, config))
    engine.materialize("fx_buckets", buckets_sql(config))
    engine.execute(d.drop_table("fx_tiles"))
    engine.materialize("fx_sessions", sessions_sql())
    engine.materialize("fx_items", items_sql(d))
    engine.register("fx_catalog_in", catalog_in)
    engine.materialize("fx_catalog", catalog_sql())
    engine.state["fx_prepared"] = (config, catalog)


def _with_category_rank(catalog: pa.Table) -> pa.Table:
    """Add ``category_rank``: 1 for the first category name in byte order, NULL for none.

    Ranked here (a few thousand names at most) rather than by a window over the whole
    catalog, which Spark would run in one partition.
    """
    names = pc.drop_null(pc.unique(catalog.column("category")))
    ordered = pc.take(names, pc.sort_indices(names))
    rank = pc.add(pc.index_in(catalog.column("category"), value_set=ordered), 1)
    return catalog.append_column("category_rank", pc.cast(rank, pa.int64()))


def with_timestamps(table: pa.Table) -> pa.Table:
    """Turn ``*_us`` microsecond columns into ``*_ts`` UTC timestamps (vectorized)."""
    for i, name in enumerate(table.column_names):
        if name.endswith("_us"):
            col = pc.cast(pc.cast(table.column(i), pa.int64()), _TS)
            table = table.set_column(i, name[:-3] + "_ts", col)
    return table


def _max_cutoff(engine: Engine) -> int | None:
    value = engine.query("SELECT MAX(ts_us) AS m FROM fx_events").column(0)[0].as_py()
    return None if value is None else int(value) + 1


def _cols(entity: str) -> str:
    return ", ".join(f"f.{name}" for name in feature_names(entity))


def _run(engine: Engine, sql: str, keys: list[str]) -> pa.Table:
    # The engine sorts (in parallel; both engines keep an ORDER BY's order in Arrow).
    table = engine.query(f"SELECT * FROM ({sql}) q ORDER BY {', '.join(keys)}")  # noqa: S608
    return with_timestamps(table)


def compute_features(
    engine: Engine,
    *,
    cutoff: dt.datetime | None = None,
    catalog: pa.Table | None = None,
    config: FeatureConfig | None = None,
) -> tuple[dict[str, pa.Table], int | None]:
    """Compute every feature table on an engine at one cut-off.

    Args:
        engine: The engine (its ``events`` view is the lake).
        cutoff: Features use events strictly before it; default: just after the last event.
        catalog: Listing catalog (:data:`CATALOG_SCHEMA`), optional.
        config: Feature parameters.

    Returns:
        The tables by name, and the cut-off in microseconds (``None`` for an empty lake).
    """
    cfg = config or FeatureConfig()
    d = engine.dialect
    prepare(engine, cfg, catalog)
    cut = to_micros(cutoff) if cutoff is not None else _max_cutoff(engine)
    cut_sql = "CAST(NULL AS BIGINT)" if cut is None else str(cut)
    # Spines are materialized: every feature query reads them several times.
    # A buyer has events before the cut-off when a session of theirs started before it.
    engine.materialize(
        _BUYERS,
        f"SELECT buyer AS sp_id, buyer, {cut_sql} AS cutoff_us FROM fx_sessions "  # noqa: S608
        f"WHERE start_us < {cut_sql} GROUP BY buyer",
    )
    engine.materialize(
        _LISTINGS,
        f"""SELECT listing_id AS sp_id, listing_id, {cut_sql} AS cutoff_us FROM (
            SELECT listing_id FROM fx_events WHERE ts_us < {cut_sql}
                AND listing_id IS NOT NULL
            UNION SELECT listing_id FROM fx_items WHERE ts_us < {cut_sql}
            UNION SELECT listing_id FROM fx_catalog
                WHERE valid_from_us IS NULL OR valid_from_us < {cut_sql}
        ) t WHERE listing_id IS NOT NULL""",  # noqa: S608
    )
    spine_cols = "s.sp_id AS buyer, s.cutoff_us"
    # One cut-off for every entity: the queries filter events by time (no spine join).
    tables = {
        "sessions": _run(engine, sessions_table_sql(cut_sql), ["buyer", "session_no"]),
        "buyer_features": _run(
            engine,
            f"SELECT {spine_cols}, {_cols('buyer')} FROM {_BUYERS} s "  # noqa: S608
            f"JOIN ({buyer_features_sql(d, cfg, _BUYERS, cut)}) f ON f.sp_id = s.sp_id",
            ["buyer"],
        ),
        "session_features": _run(
            engine,
            f"SELECT {spine_cols}, {_cols('session')} FROM {_BUYERS} s "  # noqa: S608
            f"JOIN ({session_features_sql(d, cfg, _BUYERS, cut)}) f ON f.sp_id = s.sp_id",
            ["buyer"],
        ),
        "listing_features": _run(
            engine,
            f"SELECT s.sp_id AS listing_id, s.cutoff_us, {_cols('listing')} "  # noqa: S608
            f"FROM {_LISTINGS} s "
            f"JOIN ({listing_features_sql(d, cfg, _LISTINGS, cut)}) f ON f.sp_id = s.sp_id",
            ["listing_id"],
        ),
    }
    for name in (_BUYERS, _LISTINGS):
        engine.execute(d.drop_table(name))
    return tables, cut


def write_parquet_atomic(table: pa.Table, path: Path, *, unique: tuple[str, ...] = ()) -> Path:
    """Write a Parquet file under a temporary name, fsync it, then rename it into place.

    ``unique``: columns with a different value in (nearly) every row, written without a
    dictionary (one would only be built to be dropped).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    dictionary = [c for c in table.column_names if c not in unique]
    pq.write_table(table, tmp, use_dictionary=dictionary)
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path


def build_features(
    data_dir: str | os.PathLike[str],
    *,
    engine: str = "duckdb",
    cutoff: dt.datetime | None = None,
    catalog: pa.Table | None = None,
    config: FeatureConfig | None = None,
    spark: Any = None,
    write: bool = True,
) -> BuildResult:
    """Build every feature table of a lake and (by default) write them under ``DATA/features``.

    Args:
        data_dir: The data directory.
        engine: ``duckdb`` (default) or ``spark``.
        cutoff: Features use events strictly before it; default: all events.
        catalog: Listing catalog (:data:`CATALOG_SCHEMA`), optional.
        config: Feature parameters.
        spark: An existing SparkSession for ``engine="spark"``.
        write: Write ``DATA/features/<table>.parquet``.
    """
    started = time.perf_counter()
    eng = make_engine(engine, data_dir, spark=spark)
    try:
        tables, cut = compute_features(eng, cutoff=cutoff, catalog=catalog, config=config)
    except BaseException:
        eng.close()
        raise
    paths: dict[str, Path] = {}
    out = features_dir(data_dir)
    # Arrow writes without the GIL: the four tables are written side by side, while the
    # engine frees its memory.
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(tables) + 1) as pool:
        closed = pool.submit(eng.close)
        futures = {
            name: pool.submit(
                write_parquet_atomic, table, out / f"{name}.parquet", unique=_UNIQUE[name]
            )
            for name, table in (tables.items() if write else ())
        }
    closed.result()
    seconds = time.perf_counter() - started
    paths = {name: future.result() for name, future in futures.items()}
    return BuildResult(
        tables=tables,
        cutoff=None if cut is None else from_micros(cut),
        engine=engine,
        seconds=seconds,
        paths=paths,
    )
