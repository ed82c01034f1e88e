"""Read the lake with SQL: DuckDB views ``events`` and ``dead_letters`` over its Parquet files.

Reading takes no lock, so it works while a server writes. A compaction that removes files
between listing and reading is retried transparently by :func:`query`.

:func:`query` is read-only unless told otherwise: it runs exactly one ``SELECT`` (or
``EXPLAIN``) statement, on a connection where DuckDB may open only the lake's live Parquet
files (``allowed_paths``), with ``enable_external_access = false``, extension loading off and
the configuration locked, so ``COPY ... TO``, ``ATTACH``, ``read_csv('/etc/passwd')``, ``SET``
and several statements separated by ``;`` are refused. ``allow_writes=True`` (the CLI's
``--allow-writes``) runs the SQL as given on a plain connection.

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

__all__ = ["READ_ONLY_STATEMENTS", "connect", "query", "refresh_views"]

_SCHEMAS: Final = {"events": EVENTS_SCHEMA, "dead_letters": DEAD_LETTERS_SCHEMA}
_RETRIES: Final = 5
READ_ONLY_STATEMENTS: Final = frozenset({"SELECT", "EXPLAIN"})
"""Statement types :func:`query` runs without ``allow_writes``."""
_EXPECTED: Final = (
    "exactly one read-only statement (SELECT, WITH ... SELECT or EXPLAIN) over the views events "
    "and dead_letters; COPY ... TO, ATTACH, SET, writes and several statements need "
    "allow_writes=True (marketlift query --allow-writes)"
)


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
    allow_writes: bool = False,
    limit: int | None = None,
) -> pa.Table:
    """Run one SQL statement on the lake and return the result as an Arrow table.

    Args:
        data_dir: The data directory.
        sql: One ``SELECT`` or ``EXPLAIN`` statement (any SQL with ``allow_writes``).
        params: Values of the statement's ``?`` or ``$n`` parameters.
        allow_writes: Run the SQL as given on a plain connection: it may write and read any
            file (``COPY ... TO`` a live part loses events), attach databases and hold several
            statements.
        limit: Keep the first rows only, without reading the rest (``None``: all rows).

    Raises:
        ConfigError: without ``allow_writes``, ``sql`` is not exactly one read-only statement.
        duckdb.PermissionException: without ``allow_writes``, the statement opens a file
            that is not a live file of the lake.

    Example:
        >>> import tempfile
        >>> data = tempfile.mkdtemp()
        >>> query(data, "SELECT count(*) AS n FROM dead_letters").to_pylist()
        [{'n': 0}]
        >>> query(data, "COPY (SELECT 1) TO 'x.csv'")
        Traceback (most recent call last):
        ...
        marketlift.errors.ConfigError: sql == "COPY (SELECT 1) TO 'x.csv'", expected exactly one ...
        >>> query(data, "SELECT * FROM range(10)", limit=2).num_rows
        2
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ConfigError("limit", limit, "an integer >= 0 or None")
    if not allow_writes:
        _check_read_only(sql)
    layout = LakeLayout(data_dir)
    for attempt in range(_RETRIES):
        con = duckdb.connect()
        try:
            listed = refresh_views(con, layout)
            if not allow_writes:
                _lock_down(con, [f for files in listed.values() for f in files])
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
        finally:
            con.close()
    raise AssertionError  # pragma: no cover - the loop returns or raises


def _check_read_only(sql: str) -> None:
    shown = sql if len(sql) <= 80 else sql[:77] + "..."
    statements = duckdb.extract_statements(sql)  # a syntax error raises duckdb's own error
    if len(statements) != 1:
        raise ConfigError("sql", shown, f"{_EXPECTED} (found {len(statements)} statements)")
    kind = statements[0].type.name
    if kind not in READ_ONLY_STATEMENTS:
        raise ConfigError("sql", shown, f"{_EXPECTED} (found a {kind} statement)")


def _lock_down(con: duckdb.DuckDBPyConnection, files: list[str]) -> None:
    """Only the listed files may be opened from now on, and nothing can change that."""
    if files:
        con.execute(f"SET allowed_paths = [{', '.join(_quote(f) for f in files)}]")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _quote(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"
