"""Ground-truth tables of a simulation: Parquet files under ``DATA/lake/sim/<table>/``.

Tables (every one has a ``run`` column, so several runs can share a data directory):

- ``sim_runs``: one row per run: configuration, policies, counts, funnel, policy values.
- ``sim_buyers``: buyers and their hidden traits (price sensitivity, intent, fatigue
  sensitivity, opt-ins, arm in A/B mode).
- ``sim_listings``: listings with price, shipping, popularity, stock, reviews and their
  title and description in en, de, fr, es, it, ja.
- ``sim_truth_sessions``: per session the true add-to-cart, checkout and purchase
  probabilities under the action taken and the purchase probability under no action.
- ``sim_truth_decisions``: per decision (joins ``events.decision_id``) the true purchase
  probability ``p_<action>`` and expected revenue ``value_<action>`` (US cents) of every action
  available at that moment (null where unavailable), the action taken, and the outcome.
- ``sim_truth_effects``: per moment and action, the mean true effect on purchase probability
  and on expected revenue against no action, and the share of decisions where it hurts.

Files are written to a temporary name and renamed, so a reader never sees half a file.

Example:
    >>> import tempfile, duckdb
    >>> con = duckdb.connect()
    >>> register_views(con, tempfile.mkdtemp())[:3]
    ['sim_buyers', 'sim_listings', 'sim_runs']
    >>> con.sql("SELECT count(*) FROM sim_truth_decisions").fetchall()
    [(0,)]
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["TRUTH_TABLES", "read_truth", "register_views", "sim_dir", "write_table"]

TRUTH_TABLES: Final = (
    "sim_buyers", "sim_listings", "sim_runs", "sim_truth_decisions", "sim_truth_effects",
    "sim_truth_sessions",
)  # fmt: skip


def sim_dir(data_dir: str | os.PathLike[str]) -> Path:
    """The folder of the simulator's tables: ``DATA/lake/sim``."""
    return Path(data_dir) / "lake" / "sim"


def write_table(data_dir: str | os.PathLike[str], table: str, name: str, data: pa.Table) -> Path:
    """Write ``data`` as ``DATA/lake/sim/<table>/<name>.parquet`` atomically (tmp + rename)."""
    if table not in TRUTH_TABLES:
        msg = f"table == {table!r}, expected one of {', '.join(TRUTH_TABLES)}"
        raise ValueError(msg)
    folder = sim_dir(data_dir) / table
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.parquet"
    tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    pq.write_table(data, tmp, compression="zstd", compression_level=1)
    tmp.replace(path)
    return path


def register_views(con: duckdb.DuckDBPyConnection, data_dir: str | os.PathLike[str]) -> list[str]:
    """Create a DuckDB view per truth table on ``con`` (empty views where nothing is written).

    Use it on a connection from :func:`marketlift.lake.connect` to join truth with events.

    Returns:
        The names of the views.
    """
    root = sim_dir(data_dir)
    for table in TRUTH_TABLES:
        files = sorted((root / table).glob("*.parquet"))
        if files:
            listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            con.execute(
                f"CREATE OR REPLACE VIEW {table} AS "  # noqa: S608 - quoted paths
                f"SELECT * FROM read_parquet([{listing}], union_by_name = true)"
            )
        else:
            con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT NULL::VARCHAR AS run LIMIT 0")
    return list(TRUTH_TABLES)


def read_truth(data_dir: str | os.PathLike[str], table: str, *, run: str | None = None) -> pa.Table:
    """Read one truth table (optionally one run) as an Arrow table.

    Example:
        >>> import tempfile
        >>> read_truth(tempfile.mkdtemp(), "sim_runs").num_rows
        0
    """
    if table not in TRUTH_TABLES:
        msg = f"table == {table!r}, expected one of {', '.join(TRUTH_TABLES)}"
        raise ValueError(msg)
    con = duckdb.connect()
    try:
        register_views(con, data_dir)
        if run is None:
            return con.sql(f"SELECT * FROM {table}").to_arrow_table()  # noqa: S608
        return con.sql(f"SELECT * FROM {table} WHERE run = ?", params=[run]).to_arrow_table()  # noqa: S608
    finally:
        con.close()
