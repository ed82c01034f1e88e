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

The index of latest versions (listing id -> time, deleted) lives in memory, about 150 bytes a
listing (150 MB for a million); other processes' files are folded into it at the start of each
write, so a server and ``marketlift catalog load`` can write the same lake.

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
import pyarrow.compute as pc
import pyarrow.parquet as pq

from marketlift.catalog.schema import VERSIONS_SCHEMA, CatalogLimits
from marketlift.catalog.validate import Normalized, RejectedListing, normalize
from marketlift.events.validate import FieldError
from marketlift.lake.layout import fsync_dir

__all__ = ["FAR_FUTURE", "CatalogStore", "WriteReport", "connect_catalog", "listings_dir"]

_NEW: Final = 0
_DUPLICATE: Final = 1
_STALE: Final = 2
_UNKNOWN_ID: Final = 3
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
        # listing id -> (latest updated_at in microseconds, whether that version is a deletion)
        self._latest: dict[str, tuple[int, bool]] = {}
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
        table = checked.table
        with self._mutex, self._locked():
            self._refresh()
            rows, status = self._classify(table)
            report.duplicates = int((status == _DUPLICATE).sum())
            report.stale = int((status == _STALE).sum())
            for row in rows[status == _UNKNOWN_ID]:  # the error path: one entry per rejection
                lid = table.column("listing_id")[int(row)].as_py()
                report.rejected.append(
                    RejectedListing(
                        int(checked.indexes[row]), lid, [FieldError("listing_id", lid, _UNKNOWN)]
                    )
                )
            keep = table.take(pa.array(rows[status == _NEW]))  # sorted by listing, time
            if keep.num_rows:
                name = self._append(keep)
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
            return con.sql(_AS_OF_SQL, params=[at or FAR_FUTURE]).to_arrow_table()
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
                params=[listing_id, at or FAR_FUTURE],
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

    def _classify(self, table: pa.Table) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
        """Rows sorted by listing and time, and the status of each (see the module docstring)."""
        order = pc.sort_indices(
            table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64))),
            sort_keys=[("listing_id", "ascending"), ("updated_at", "ascending"),
                       ("_row", "ascending")],
        ).to_numpy()  # fmt: skip
        ids = table.column("listing_id").take(pa.array(order)).to_pylist()
        micros = table.column("updated_at").cast(pa.int64()).to_numpy()[order]
        deleted = table.column("deleted").to_numpy(zero_copy_only=False)[order].astype(bool)
        latest = self._latest
        found = [latest.get(lid) for lid in ids]
        known = np.array([f is not None for f in found], dtype=bool)
        last_us = np.array([f[0] if f else 0 for f in found], dtype=np.int64)
        last_deleted = np.array([f[1] if f else True for f in found], dtype=bool)
        ids_arr = np.asarray(ids, dtype=object)
        same_id = np.zeros(len(ids), dtype=bool)
        same_id[1:] = ids_arr[1:] == ids_arr[:-1]
        repeat = np.zeros(len(ids), dtype=bool)
        repeat[1:] = same_id[1:] & (micros[1:] == micros[:-1])
        status = np.full(len(ids), _NEW, dtype=np.int8)
        status[known & (micros < last_us)] = _STALE
        status[repeat | (known & (micros == last_us))] = _DUPLICATE
        # a deletion needs a live version before it: the previous new version in this batch, or
        # (for the first one) the index's latest
        cand = np.flatnonzero(status == _NEW)
        prev_same = np.zeros(len(cand), dtype=bool)
        prev_same[1:] = ids_arr[cand[1:]] == ids_arr[cand[:-1]]
        prev_deleted = np.where(prev_same, np.roll(deleted[cand], 1), last_deleted[cand])
        status[cand[deleted[cand] & prev_deleted]] = _UNKNOWN_ID
        return order, status

    def _refresh(self) -> None:
        """Fold files written by other processes (or before this store opened) into the index."""
        new = [str(p) for p in self.files() if p.name not in self._seen]
        if not new:
            return
        listing = ", ".join(_quote(f) for f in new)
        table = self._con.sql(
            "SELECT listing_id, updated_at, deleted FROM read_parquet(["  # noqa: S608
            f"{listing}]) ORDER BY listing_id, updated_at"
        ).to_arrow_table()
        self._fold(table)
        self._seen.update(Path(f).name for f in new)

    def _fold(self, table: pa.Table) -> None:
        """Update the index from versions sorted by listing and time (the newest wins)."""
        latest = self._latest
        ids = table.column("listing_id").to_pylist()
        micros = table.column("updated_at").cast(pa.int64()).to_pylist()
        deleted = table.column("deleted").to_pylist()
        for lid, us, gone in zip(ids, micros, deleted, strict=True):
            old = latest.get(lid)
            if old is None or us > old[0]:
                latest[lid] = (us, gone)

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


FAR_FUTURE: Final = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
"""A time after every version: reads "as of now" use it."""

_AS_OF_SQL: Final = """
SELECT * EXCLUDE (deleted) FROM (
    SELECT * FROM listing_versions WHERE updated_at <= $1
    QUALIFY row_number() OVER (PARTITION BY listing_id ORDER BY updated_at DESC) = 1
) WHERE NOT deleted ORDER BY listing_id
"""
