"""Read the lake with SQL: DuckDB views ``events`` and ``dead_letters`` over its Parquet files.

Reading takes no lock, so it works while a server writes. A compaction that removes files
between listing and reading is retried transparently by :func:`query`.

Example:
    >>> import tempfile
    >>> con = connect(tempfile.mkdtemp())
    >>> con.sql("SELECT count(*) FROM events").fetchall()
    [(0,)]
"""

from __future__ import annotations

import os
import time
from typing import Any, Final, cast

import duckdb
import pyarrow as pa

from marketlift.errors import ConfigError
from marketlift.events.table import DEAD_LETTERS_SCHEMA, EVENTS_SCHEMA
from marketlift.lake.layout import LakeLayout

__all__ = ["connect", "query", "refresh_views"]

_SCHEMAS: Final = {"events": EVENTS_SCHEMA, "dead_letters": DEAD_LETTERS_SCHEMA}
_RETRIES: Final = 5


def connect(
    data_dir: str | os.PathLike[str], con: duckdb.DuckDBPyConnection | None = None
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection with the lake's views.

    Args:
        data_dir: The data directory.
        con: An existing connection to add the views to; a new one when ``None``.

    Returns:
        The connection, with views ``events`` and ``dead_letters``.
    """
    con = con if con is not None else duckdb.connect()
    refresh_views(con, LakeLayout(data_dir))
    return con


def refresh_views(con: duckdb.DuckDBPyConnection, layout: LakeLayout) -> dict[str, list[str]]:
    """(Re)create the views over the files that are live now.

    Returns:
        Table name -> the files its view reads.
    """
    listed: dict[str, list[str]] = {}
    for table, schema in _SCHEMAS.items():
        files = [str(p) for p in layout.live_files(table)]
        listed[table] = files
        if files:
            listing = ", ".join(_quote(f) for f in files)
            con.execute(
                f"CREATE OR REPLACE VIEW {table} AS "  # noqa: S608 - paths are quoted
                f"SELECT * FROM read_parquet([{listing}], union_by_name = true)"
            )
        else:
            empty = pa.Table.from_batches([], schema=schema)
            con.register(f"_empty_{table}", empty)
            con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM _empty_{table}")  # noqa: S608
    return listed


def query(
    data_dir: str | os.PathLike[str],
    sql: str,
    params: list[Any] | None = None,
    *,
    limit: int | None = None,
) -> pa.Table:
    """Run one SQL statement on the lake and return the result as an Arrow table.

    ``limit`` keeps the first rows only, without reading the rest (``None``: all rows).

    Example:
        >>> import tempfile
        >>> query(tempfile.mkdtemp(), "SELECT count(*) AS n FROM dead_letters").to_pylist()
        [{'n': 0}]
        >>> query(tempfile.mkdtemp(), "SELECT * FROM range(10)", limit=2).num_rows
        2
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ConfigError("limit", limit, "an integer >= 0 or None")
    layout = LakeLayout(data_dir)
    con = duckdb.connect()
    try:
        for attempt in range(_RETRIES):
            refresh_views(con, layout)
            try:
                relation = cast("duckdb.DuckDBPyRelation | None", con.sql(sql, params=params))
                if relation is None:
                    return pa.table({})
                if limit is not None:
                    relation = relation.limit(limit)
                return relation.to_arrow_table()
            except duckdb.IOException:
                # A compaction removed a file between listing and reading: list again.
                if attempt == _RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError  # pragma: no cover - the loop returns or raises
    finally:
        con.close()


def _quote(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"
