"""The versioned listing table in the lake: idempotent, durable, vectorized writes; as-of reads.

Layout::

    DATA/lake/listings/part-<time_ns>-<id>.parquet   one file per write, VERSIONS_SCHEMA
    DATA/lake/listings/.lock                        held (flock) for the length of one write

A version is identified by ``(listing_id, updated_at)``. Each write, under the lock:

- a version whose ``updated_at`` equals the listing's latest stored one, or repeats one earlier
  in the same batch, is a **duplicate** (a retry): not stored again;
- a version older than the listing's latest stored one is **stale**: not stored (versions of a
  listing arrive in time order; a backfill sends its whole history in one load, which is sorted);
- a deletion of a listing with no live version before it is **rejected**
  (``listing_id``: ``a listing in the catalog``);
- every other version is appended, in one Parquet file (fsynced, then renamed into place).

The index of latest versions lives in an in-process DuckDB table; other processes' files are
folded into it at the start of each write, so a server and ``marketlift catalog load`` can
write the same lake.

Example:
    >>> import datetime as dt, tempfile
    >>> raw = pa.table({"listing_id": ["L-1"], "title": ["Mug"], "category": ["ceramics"],
    ...                 "price": ["24.90"], "currency": ["EUR"],
    ...                 "updated_at": ["2026-11-20T10:00:00Z"]})
    >>> store = CatalogStore(tempfile.mkdtemp())
    >>> store.write_raw(raw, source="file").counts()
    (1, 0, 0, 0)
    >>> store.write_raw(raw, source="file").counts()
    (0, 1, 0, 0)
    >>> store.show("L-1")["price"]
    {'amount': '24.90', 'currency': 'EUR'}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import json
import os
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from marketlift.catalog.schema import VERSIONS_SCHEMA, CatalogLimits
from marketlift.catalog.validate import Normalized, RejectedListing, normalize
from marketlift.events.validate import FieldError
from marketlift.lake.layout import fsync_dir

__all__ = ["CatalogStore", "WriteReport", "connect_catalog", "listings_dir"]

_UNKNOWN: Final = "a listing in the catalog (a deletion of an id with no live version)"


def listings_dir(data_dir: str | os.PathLike[str]) -> Path:
    """The folder of the listing table."""
    return Path(data_dir) / "lake" / "listings"


@dataclasses.dataclass(slots=True)
class WriteReport:
    """What one write did: versions stored, retries, out-of-order versions, rejections."""

    accepted: int = 0
    duplicates: int = 0
    stale: int = 0
    rejected: list[RejectedListing] = dataclasses.field(default_factory=list)

    def counts(self) -> tuple[int, int, int, int]:
        """``(accepted, duplicates, stale, rejected)``."""
        return self.accepted, self.duplicates, self.stale, len(self.rejected)

    def merge(self, other: WriteReport) -> None:
        """Add another report (the next chunk of a file) to this one."""
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.stale += other.stale
        self.rejected.extend(other.rejected)

    def to_dict(self, *, max_rejected: int | None = None) -> dict[str, Any]:
        """The JSON report: ``{"accepted", "duplicates", "stale", "rejected": [...]}``."""
        rejected = self.rejected if max_rejected is None else self.rejected[:max_rejected]
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "stale": self.stale,
            "rejected_count": len(self.rejected),
            "rejected": [r.to_dict() for r in rejected],
        }


class CatalogStore:
    """The listing table of one data directory.

    Args:
        data_dir: The data directory (created if missing).
        limits: Limits on each listing; the defaults of :class:`CatalogLimits` when ``None``.
    """

    def __init__(
        self, data_dir: str | os.PathLike[str], *, limits: CatalogLimits | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        self.folder = listings_dir(data_dir)
        self.limits = limits or CatalogLimits()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect()
        self._con.execute(
            "CREATE TABLE idx (listing_id VARCHAR PRIMARY KEY, latest TIMESTAMPTZ, deleted BOOLEAN)"
        )
        self._seen: set[str] = set()
        self._mutex = threading.Lock()

    def close(self) -> None:
        """Release the index."""
        self._con.close()

    def files(self) -> list[Path]:
        """The table's files, oldest first."""
        return sorted(self.folder.glob("part-*.parquet"))

    def write_raw(
        self,
        raw: pa.Table,
        *,
        source: str,
        received_at: dt.datetime | None = None,
        positions: npt.NDArray[np.int64] | None = None,
    ) -> WriteReport:
        """Validate a raw table of listings (file columns) and store the valid versions."""
        received_at = received_at or dt.datetime.now(dt.UTC)
        checked = normalize(
            raw, received_at=received_at, source=source, limits=self.limits, positions=positions
        )
        return self.write(checked)

    def write(self, checked: Normalized) -> WriteReport:
        """Store validated versions (see the module docstring for the rules)."""
        report = WriteReport(rejected=list(checked.rejected))
        if checked.table.num_rows == 0:
            return report
        batch = checked.table.append_column("_pos", pa.array(checked.indexes, pa.int64()))
        with self._mutex, self._locked():
            self._refresh()
            con = self._con
            con.register("_batch", batch)
            try:
                ranked = con.sql(_RANK_SQL).to_arrow_table()
            finally:
                con.unregister("_batch")
            status = ranked.column("_status").to_numpy(zero_copy_only=False)
            report.duplicates = int((status == "duplicate").sum())
            report.stale = int((status == "stale").sum())
            unknown = ranked.filter(pa.array(status == "unknown"))
            for pos, lid in zip(
                unknown.column("_pos").to_pylist(),
                unknown.column("listing_id").to_pylist(),
                strict=True,
            ):
                report.rejected.append(
                    RejectedListing(pos, lid, [FieldError("listing_id", lid, _UNKNOWN)])
                )
            keep = ranked.filter(pa.array(status == "new")).select(VERSIONS_SCHEMA.names)
            if keep.num_rows:
                name = self._append(keep.cast(VERSIONS_SCHEMA))
                self._fold(keep)
                self._seen.add(name)
            report.accepted = keep.num_rows
        report.rejected.sort(key=lambda r: r.index)
        return report

    def versions(self, listing_id: str | None = None) -> pa.Table:
        """Every stored version (of one listing), ordered by listing and time."""
        con = self.connect()
        try:
            where = "" if listing_id is None else "WHERE listing_id = $1"
            sql = f"SELECT * FROM listing_versions {where} ORDER BY listing_id, updated_at"  # noqa: S608
            params = [] if listing_id is None else [listing_id]
            return con.sql(sql, params=params).to_arrow_table()
        finally:
            con.close()

    def as_of(self, at: dt.datetime | None = None) -> pa.Table:
        """The live listings as of ``at`` (the latest version at or before it; now if ``None``)."""
        con = self.connect()
        try:
            return con.sql(_AS_OF_SQL, params=[at or _FAR]).to_arrow_table()
        finally:
            con.close()

    def show(self, listing_id: str, at: dt.datetime | None = None) -> dict[str, Any] | None:
        """One listing as of ``at``, prices as ``{"amount", "currency"}``; ``None`` if absent.

        The answer also carries ``versions``, the number of versions up to ``at``.
        """
        con = self.connect()
        try:
            versions = con.sql(
                "SELECT * FROM listing_versions WHERE listing_id = $1 AND updated_at <= $2 "
                "ORDER BY updated_at",
                params=[listing_id, at or _FAR],
            ).to_arrow_table()
        finally:
            con.close()
        if versions.num_rows == 0:
            return None
        row = versions.slice(versions.num_rows - 1).to_pylist()[0]
        if row["deleted"]:
            return None
        return _public(row, versions.num_rows)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with the view ``listing_versions`` over the table's files."""
        return connect_catalog(self.data_dir)

    def _locked(self) -> _FileLock:
        return _FileLock(self.folder / ".lock")

    def _refresh(self) -> None:
        """Fold files written by other processes (or before this store opened) into the index."""
        new = [str(p) for p in self.files() if p.name not in self._seen]
        if not new:
            return
        listing = ", ".join(_quote(f) for f in new)
        table = self._con.sql(
            f"SELECT listing_id, updated_at, deleted FROM read_parquet([{listing}])"  # noqa: S608
        ).to_arrow_table()
        self._fold(table)
        self._seen.update(Path(f).name for f in new)

    def _fold(self, table: pa.Table) -> None:
        con = self._con
        con.register("_new", table.select(["listing_id", "updated_at", "deleted"]))
        try:
            con.execute(_FOLD_SQL)
        finally:
            con.unregister("_new")

    def _append(self, table: pa.Table) -> str:
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = self.folder / f".{name}.tmp"
        with tmp.open("wb") as fh:
            pq.write_table(table, fh, compression="zstd")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.folder / name)
        fsync_dir(self.folder)
        return name


def connect_catalog(
    data_dir: str | os.PathLike[str], con: duckdb.DuckDBPyConnection | None = None
) -> duckdb.DuckDBPyConnection:
    """Add the views ``listing_versions`` and ``listings`` (current, live) to a connection."""
    con = con if con is not None else duckdb.connect()
    files = sorted(listings_dir(data_dir).glob("part-*.parquet"))
    if files:
        listing = ", ".join(_quote(str(f)) for f in files)
        con.execute(
            f"CREATE OR REPLACE VIEW listing_versions AS SELECT * FROM "  # noqa: S608
            f"read_parquet([{listing}])"
        )
    else:
        con.register("_empty_listing_versions", pa.Table.from_batches([], VERSIONS_SCHEMA))
        con.execute(
            "CREATE OR REPLACE VIEW listing_versions AS SELECT * FROM _empty_listing_versions"
        )
    con.execute(
        "CREATE OR REPLACE VIEW listings AS SELECT * EXCLUDE (deleted) FROM listing_versions "
        "QUALIFY row_number() OVER (PARTITION BY listing_id ORDER BY updated_at DESC) = 1 "
        "AND NOT deleted"
    )
    return con


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: Any = None

    def __enter__(self) -> None:
        self.fh = self.path.open("a")
        fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX)

    def __exit__(self, *_exc: object) -> None:
        fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
        self.fh.close()


def _public(row: dict[str, Any], n_versions: int) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in row.items() if not k.endswith(("_amount", "_currency"))}
    for money in ("price", "shipping"):
        amount = row[f"{money}_amount"]
        out[money] = (
            None
            if amount is None
            else {"amount": _amount_text(amount), "currency": row[f"{money}_currency"]}
        )
    if row["attributes"] is not None:
        out["attributes"] = json.loads(row["attributes"])
    for key in ("updated_at", "received_at"):
        out[key] = row[key].isoformat().replace("+00:00", "Z")
    out.pop("deleted", None)
    out["versions"] = n_versions
    return out


def _amount_text(amount: Decimal) -> str:
    """``24.900000`` as ``24.90``; more decimals only where they are not zero."""
    cents = amount.quantize(Decimal("0.01"))
    return f"{cents:f}" if cents == amount else f"{amount.normalize():f}"


def _quote(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


_FAR: Final = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)

_RANK_SQL: Final = """
WITH b AS (
    SELECT _batch.*, idx.latest AS _latest, idx.deleted AS _was_deleted,
           row_number() OVER (PARTITION BY _batch.listing_id, _batch.updated_at
                              ORDER BY _batch._pos) AS _copy
    FROM _batch LEFT JOIN idx USING (listing_id)
), cand AS (
    SELECT *, lag(deleted) OVER (PARTITION BY listing_id ORDER BY updated_at) AS _prev_deleted
    FROM b WHERE _copy = 1 AND (_latest IS NULL OR updated_at > _latest)
)
SELECT * EXCLUDE (_prev_deleted), CASE
    WHEN deleted AND coalesce(_prev_deleted, _latest IS NULL OR _was_deleted) THEN 'unknown'
    ELSE 'new' END AS _status
FROM cand
UNION ALL BY NAME
SELECT *, CASE WHEN _copy > 1 OR updated_at = _latest THEN 'duplicate' ELSE 'stale' END AS _status
FROM b WHERE NOT (_copy = 1 AND (_latest IS NULL OR updated_at > _latest))
ORDER BY listing_id, updated_at
"""
"""Classify each version of a batch against the index (see the module docstring)."""

_FOLD_SQL: Final = """
INSERT OR REPLACE INTO idx
SELECT n.listing_id, n.updated_at, n.deleted FROM (
    SELECT listing_id, max(updated_at) AS updated_at, arg_max(deleted, updated_at) AS deleted
    FROM _new GROUP BY listing_id
) n LEFT JOIN idx i USING (listing_id)
WHERE i.latest IS NULL OR n.updated_at > i.latest
"""

_AS_OF_SQL: Final = """
SELECT * EXCLUDE (deleted) FROM (
    SELECT * FROM listing_versions WHERE updated_at <= $1
    QUALIFY row_number() OVER (PARTITION BY listing_id ORDER BY updated_at DESC) = 1
) WHERE NOT deleted ORDER BY listing_id
"""
