r"""Read listing files (CSV, Parquet, NDJSON) in chunks of raw Arrow tables, and load them.

The minimal contract is a spreadsheet: the columns ``listing_id``, ``title``, ``category``,
``price`` (a decimal string), ``currency`` and ``updated_at`` (RFC 3339); the other columns of
:data:`~marketlift.catalog.schema.CORE_COLUMNS` have their meaning, and any column beyond them
is kept, as text, in the version's ``attributes``. NDJSON lines are the objects of
``POST /v1/listings``. Files are read and written in chunks (Arrow, one Parquet file per chunk).

Example:
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "shop.csv").write_text(
    ...     "listing_id,title,category,price,currency,updated_at,colour\n"
    ...     "L-1,Mug,ceramics,24.90,EUR,2026-11-20T10:00:00Z,blue\n"
    ...     "L-2,Vase,ceramics,-1,EUR,2026-11-20T10:00:00Z,red\n")
    >>> report = load_files(folder / "data", [folder / "shop.csv"])
    >>> report.counts(), report.rejected[0].errors[0].field
    ((1, 0, 0, 1), 'price')
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from marketlift.catalog.schema import CORE_COLUMNS, REQUIRED_COLUMNS, CatalogLimits
from marketlift.catalog.store import CatalogStore, WriteReport
from marketlift.catalog.validate import RejectedListing
from marketlift.catalog.wire import decode_listings
from marketlift.errors import ConfigError

__all__ = ["FORMATS", "load_files", "pack_attributes", "read_chunks"]

FORMATS: Final = {".csv": "csv", ".parquet": "parquet", ".ndjson": "ndjson", ".jsonl": "ndjson"}
_CHUNK_ROWS: Final = 250_000


def read_chunks(
    path: str | os.PathLike[str],
    *,
    chunk_rows: int = _CHUNK_ROWS,
    limits: CatalogLimits | None = None,
) -> Iterator[tuple[pa.Table, npt.NDArray[np.int64], list[RejectedListing]]]:
    """Yield ``(raw table, row positions, rejected rows)`` per chunk of a listing file.

    Raises:
        ConfigError: The file's suffix is not a known format, or a required column is missing.
    """
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ConfigError("FILE", str(path), "a .csv, .parquet, .ndjson or .jsonl file")
    if kind == "ndjson":
        yield from _ndjson_chunks(path, chunk_rows, limits)
        return
    batches = (
        _csv_batches(path, chunk_rows) if kind == "csv" else _parquet_batches(path, chunk_rows)
    )
    start = 0
    for batch in batches:
        table = pa.Table.from_batches([batch])
        if start == 0:
            missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
            if missing:
                raise ConfigError(
                    f"{path.name} columns",
                    table.column_names,
                    "the columns "
                    + ", ".join(REQUIRED_COLUMNS)
                    + f" (missing: {', '.join(missing)})",
                )
        positions = np.arange(start, start + table.num_rows, dtype=np.int64)
        start += table.num_rows
        yield pack_attributes(table), positions, []


def load_files(
    data_dir: str | os.PathLike[str],
    paths: Sequence[str | os.PathLike[str]],
    *,
    limits: CatalogLimits | None = None,
    chunk_rows: int = _CHUNK_ROWS,
    store: CatalogStore | None = None,
) -> WriteReport:
    """Validate and store every listing of the files (rejections carry their row number)."""
    own = store is None
    store = store or CatalogStore(data_dir, limits=limits)
    report = WriteReport()
    received_at = dt.datetime.now(dt.UTC)
    try:
        for path in paths:
            source = f"file:{Path(path).name}"
            for raw, positions, rejected in read_chunks(
                path, chunk_rows=chunk_rows, limits=store.limits
            ):
                part = store.write_raw(
                    raw, source=source, received_at=received_at, positions=positions
                )
                part.rejected.extend(rejected)
                report.merge(part)
    finally:
        if own:
            store.close()
    return report


def _csv_batches(path: Path, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        columns = next(csv.reader([fh.readline()]), [])
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 24, encoding="utf8"),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=True
        ),
    )
    buffered: list[pa.RecordBatch] = []
    rows = 0
    for batch in reader:
        buffered.append(batch)
        rows += batch.num_rows
        if rows >= chunk_rows:
            yield from pa.Table.from_batches(buffered).combine_chunks().to_batches()
            buffered, rows = [], 0
    if buffered or not rows:
        table = pa.Table.from_batches(buffered, schema=reader.schema)
        yield from table.combine_chunks().to_batches() or [
            pa.RecordBatch.from_pylist([], schema=reader.schema)
        ]


def _parquet_batches(path: Path, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    file = pq.ParquetFile(path)
    yield from file.iter_batches(batch_size=chunk_rows)


def _ndjson_chunks(
    path: Path, chunk_rows: int, limits: CatalogLimits | None
) -> Iterator[tuple[pa.Table, npt.NDArray[np.int64], list[RejectedListing]]]:
    limits = CatalogLimits(
        max_listings=chunk_rows,
        **{
            k: getattr(limits or CatalogLimits(), k)
            for k in (
                "max_id_chars",
                "max_title_chars",
                "max_description_chars",
                "max_category_chars",
                "max_tags",
                "max_tag_chars",
                "max_attributes_bytes",
            )
        },
    )
    start = 0
    with path.open("rb") as fh:
        while True:
            lines = [line for _, line in zip(range(chunk_rows), fh, strict=False)]
            if not lines:
                return
            kept = [i for i, line in enumerate(lines) if line.strip()]
            body = b"".join(
                lines[i] if lines[i].endswith(b"\n") else lines[i] + b"\n" for i in kept
            )
            if kept:
                decoded = decode_listings(body, limits=limits)
                lines_at = np.asarray(kept, dtype=np.int64) + start
                for r in decoded.rejected:
                    r.index = int(lines_at[r.index])
                yield decoded.raw, lines_at[decoded.positions], list(decoded.rejected)
            start += len(lines)


def pack_attributes(table: pa.Table) -> pa.Table:
    """Gather the columns beyond the contract into one JSON ``attributes`` column."""
    extra = [c for c in table.column_names if c not in CORE_COLUMNS and c != "attributes"]
    if not extra:
        return table
    con = duckdb.connect()
    try:
        con.register("_t", table.select(extra))
        packed = ", ".join(f"{_quote_name(c)} := {_quote_name(c)}" for c in extra)
        attributes = (
            con.sql(
                f"SELECT to_json(struct_pack({packed}))::VARCHAR AS a FROM _t"  # noqa: S608
            )
            .to_arrow_table()
            .column("a")
        )
    finally:
        con.close()
    kept = table.drop_columns(extra)
    if "attributes" in kept.column_names:
        kept = kept.drop_columns(["attributes"])
    return kept.append_column("attributes", attributes)


def _quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
