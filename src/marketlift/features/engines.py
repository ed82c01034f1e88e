"""Where feature SQL runs: DuckDB (embedded, default) or Spark (local mode or a cluster).

Both engines expose the lake's ``events`` view and take the same statements (rendered with
their :class:`~marketlift.features.dialect.Dialect`); results come back as Arrow tables.
PySpark is imported only when a Spark engine is made.

Example:
    >>> import tempfile
    >>> engine = make_engine("duckdb", tempfile.mkdtemp())
    >>> engine.query("SELECT count(*) AS n FROM events").to_pylist()
    [{'n': 0}]
    >>> engine.close()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from marketlift.errors import ConfigError, MissingDependencyError
from marketlift.events.schema import EVENT_TYPES
from marketlift.events.table import EVENTS_SCHEMA
from marketlift.features.dialect import DUCKDB, SPARK, Dialect
from marketlift.lake import LakeLayout, refresh_views

__all__ = ["DuckDBEngine", "Engine", "SparkEngine", "local_spark", "make_engine"]


class Engine(Protocol):
    """A SQL engine with the lake's ``events`` view."""

    name: str
    dialect: Dialect
    state: dict[str, Any]
    """Scratch space of the feature code (which base views are prepared; on DuckDB also
    ``event_types``, every event type the lake can hold)."""

    def execute(self, sql: str) -> None:
        """Run a statement (views)."""

    def materialize(self, name: str, sql: str) -> None:
        """Compute a query once and keep it under a name (temp table or cached view)."""

    def register(self, name: str, table: pa.Table) -> None:
        """Expose an Arrow table as a view."""

    def query(self, sql: str) -> pa.Table:
        """Run a query and return its rows."""

    def close(self) -> None:
        """Release the engine's resources."""


class DuckDBEngine:
    """DuckDB over the lake's Parquet files (an in-memory database)."""

    name = "duckdb"
    dialect = DUCKDB

    def __init__(self, data_dir: str | os.PathLike[str], threads: int | None = None) -> None:
        self.con = duckdb.connect()
        # Feature tables are unordered; every result that needs an order says ORDER BY.
        # Without this setting DuckDB keeps the scan order through every CREATE TABLE.
        self.con.execute("SET preserve_insertion_order = false")
        # The build scans the lake's files more than once: read their footers once.
        self.con.execute("SET parquet_metadata_cache = true")
        files = refresh_views(self.con, LakeLayout(data_dir))["events"]
        self.state: dict[str, Any] = {"event_types": _event_types(self.con, files)}
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")

    def execute(self, sql: str) -> None:
        """Run a statement."""
        self.con.execute(sql)

    def materialize(self, name: str, sql: str) -> None:
        """Create (or replace) a temp table from a query."""
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def register(self, name: str, table: pa.Table) -> None:
        """Expose an Arrow table as a view."""
        self.con.register(name, table)

    def query(self, sql: str) -> pa.Table:
        """Run a query and return an Arrow table."""
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()


def _event_types(con: duckdb.DuckDBPyConnection, files: list[str]) -> tuple[str, ...]:
    """Every ``type`` the lake's event files can hold, the known types first.

    A partition's files hold the type of their ``type=`` folder; only files outside the
    partitions (incoming, not yet compacted: few and small) are read for theirs.
    """
    found: set[str] = set()
    loose: list[str] = []
    for path in files:
        folder = next((p for p in PurePath(path).parts if p.startswith("type=")), None)
        if folder is None:
            loose.append(path)
        else:
            found.add(folder.removeprefix("type="))
    if loose:
        rows = con.execute(
            "SELECT DISTINCT type FROM read_parquet(?, union_by_name = true) "
            "WHERE type IS NOT NULL",
            [loose],
        ).fetchall()
        found.update(str(row[0]) for row in rows)
    return tuple(EVENT_TYPES) + tuple(sorted(found - set(EVENT_TYPES)))


def _spark_type(arrow_type: pa.DataType) -> Any:
    from pyspark.sql import types as T  # noqa: N812, PLC0415

    if pa.types.is_timestamp(arrow_type):
        return T.TimestampType()
    if pa.types.is_date(arrow_type):
        return T.DateType()
    if pa.types.is_decimal(arrow_type):
        return T.DecimalType(arrow_type.precision, arrow_type.scale)
    if pa.types.is_int16(arrow_type):
        return T.ShortType()
    if pa.types.is_int32(arrow_type):
        return T.IntegerType()
    if pa.types.is_int64(arrow_type):
        return T.LongType()
    if pa.types.is_floating(arrow_type):
        return T.DoubleType()
    if pa.types.is_boolean(arrow_type):
        return T.BooleanType()
    return T.StringType()


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql import types as T  # noqa: N812, PLC0415

    return T.StructType([T.StructField(f.name, _spark_type(f.type), nullable=True) for f in schema])


def local_spark(
    memory: str = "2g",
    partitions: int = 2,
    cores: int = 2,
    conf: Mapping[str, str] | None = None,
) -> Any:
    """A local-mode SparkSession fit for tests and laptops (UI off, UTC, few partitions).

    Args:
        memory: ``spark.driver.memory``.
        partitions: Shuffle partitions (and default parallelism).
        cores: Local cores (``local[cores]``).
        conf: More settings, applied last (tests of small data turn off adaptive execution
            and whole-stage code generation, and start the JVM with C1 only).

    Raises:
        MissingDependencyError: pyspark is not installed (extra ``spark``).
    """
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415
    except ImportError as exc:
        raise MissingDependencyError("pyspark", "spark") from exc
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("marketlift-features")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.default.parallelism", str(partitions))
        .config("spark.driver.memory", memory)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


class SparkEngine:
    """Spark SQL over the same Parquet files, read with the lake's explicit schema.

    Args:
        data_dir: The data directory.
        spark: A SparkSession; a local one (:func:`local_spark`) when ``None``. It is
            stopped by :meth:`close` only when this engine made it.
    """

    name = "spark"
    dialect = SPARK

    def __init__(self, data_dir: str | os.PathLike[str], spark: Any = None) -> None:
        self._own = spark is None
        self.spark = local_spark() if spark is None else spark
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")
        self._cached: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        files = [str(p) for p in LakeLayout(data_dir).live_files("events")]
        schema = _spark_schema(EVENTS_SCHEMA)
        if files:
            # Explicit files and schema: no partition discovery from the date=/type= folders.
            frame = self.spark.read.schema(schema).parquet(*files)
        else:
            frame = self.spark.createDataFrame([], schema)
        frame.createOrReplaceTempView("events")

    def execute(self, sql: str) -> None:
        """Run a statement."""
        self.spark.sql(sql)

    def materialize(self, name: str, sql: str) -> None:
        """Cache a query's result under a temp view name."""
        old = self._cached.pop(name, None)
        if old is not None:
            old.unpersist()
        frame = self.spark.sql(sql).cache()
        frame.createOrReplaceTempView(name)
        self._cached[name] = frame

    def register(self, name: str, table: pa.Table) -> None:
        """Expose an Arrow table as a temp view."""
        schema = _spark_schema(table.schema)
        rows = table.to_pylist()
        self.spark.createDataFrame(rows, schema).createOrReplaceTempView(name)

    def query(self, sql: str) -> pa.Table:
        """Run a query and return an Arrow table."""
        frame = self.spark.sql(sql)
        if hasattr(frame, "toArrow"):
            result: pa.Table = frame.toArrow()
            return result
        return pa.Table.from_pandas(frame.toPandas(), preserve_index=False)  # pragma: no cover

    def close(self) -> None:
        """Drop cached results; stop the session if this engine started it."""
        for frame in self._cached.values():
            frame.unpersist()
        self._cached.clear()
        if self._own:
            self.spark.stop()


def make_engine(name: str, data_dir: str | os.PathLike[str], *, spark: Any = None) -> Engine:
    """The one dispatch point from an engine name to an engine.

    Args:
        name: ``duckdb`` or ``spark``.
        data_dir: The data directory whose lake is read.
        spark: An existing SparkSession for ``spark`` (else a local one is started).

    Raises:
        ConfigError: Unknown engine name.
        MissingDependencyError: ``spark`` without pyspark installed.
    """
    if name == "duckdb":
        return DuckDBEngine(data_dir)
    if name == "spark":
        return SparkEngine(data_dir, spark=spark)
    raise ConfigError("engine", name, "'duckdb' or 'spark'")
