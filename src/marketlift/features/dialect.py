"""The few SQL spellings that differ between DuckDB and Spark SQL.

Feature definitions are written once as SQL in the subset both engines share (window
functions, ``CASE``, ``COALESCE``, ``percent_rank``, integer microseconds for time); the
handful of functions spelled differently are methods of :class:`Dialect`.

Example:
    >>> DUCKDB.epoch_us("ts"), SPARK.epoch_us("ts")
    ('epoch_us(ts)', 'unix_micros(ts)')
    >>> dialect_for("spark").name
    'spark'
"""

from __future__ import annotations

import dataclasses
from typing import Final

from marketlift.errors import ConfigError

__all__ = ["DUCKDB", "SPARK", "Dialect", "dialect_for"]


@dataclasses.dataclass(frozen=True, slots=True)
class Dialect:
    """SQL spellings of one engine.

    Attributes:
        name: ``duckdb`` or ``spark``.
    """

    name: str

    def order_key(self, *columns: str) -> str:
        """A value (a struct) that orders rows by several columns in turn, for :meth:`last_by`.

        Example:
            >>> DUCKDB.order_key("ts_us", "event_id"), SPARK.order_key("ts_us", "event_id")
            ('row(ts_us, event_id)', 'struct(ts_us, event_id)')
        """
        fn = "row" if self.name == "duckdb" else "struct"
        return f"{fn}({', '.join(columns)})"

    def floor_div(self, value: str, divisor: int) -> str:
        """``value`` divided by a positive integer, rounded down (also below zero), as BIGINT.

        Example:
            >>> import duckdb
            >>> sql = f"SELECT {DUCKDB.floor_div('x', 2)} FROM (VALUES (-3), (3)) t(x)"
            >>> duckdb.sql(sql).fetchall()
            [(-2,), (1,)]
        """
        op = "//" if self.name == "duckdb" else "div"
        return (
            f"(CASE WHEN {value} >= 0 THEN {value} {op} {divisor} "
            f"ELSE -((-{value} - 1) {op} {divisor}) - 1 END)"
        )

    def categorical(self, column: str, values: tuple[str, ...]) -> str:
        """A string column stored as a category of ``values`` where the engine has the type.

        DuckDB keeps an ``ENUM`` in one byte a row and compares it as an integer (a value
        outside ``values`` is a conversion error, so pass every value the column can hold and
        every literal it is compared with); Spark keeps the string.

        Example:
            >>> DUCKDB.categorical("type", ("a", "b")), SPARK.categorical("type", ("a", "b"))
            ("CAST(type AS ENUM('a', 'b'))", 'type')
        """
        if self.name != "duckdb":
            return column
        quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
        return f"CAST({column} AS ENUM({quoted}))"

    def drop_table(self, name: str) -> str:
        """A statement that drops a table made by an engine's ``materialize`` (if any)."""
        if self.name == "duckdb":
            return f"DROP TABLE IF EXISTS {name}"
        return f"UNCACHE TABLE IF EXISTS {name}"

    def epoch_us(self, column: str) -> str:
        """Microseconds since the Unix epoch of a timestamp column, as BIGINT."""
        return f"epoch_us({column})" if self.name == "duckdb" else f"unix_micros({column})"

    def last_by(self, value: str, order: str) -> str:
        """The value at the row where ``order`` is largest (a NULL value is kept).

        Rows with a NULL ``order`` are skipped.
        """
        fn = "arg_max_null" if self.name == "duckdb" else "max_by"
        return f"{fn}({value}, {order})"

    def create_view(self, name: str, sql: str) -> str:
        """A statement that (re)creates a temporary view."""
        kind = "TEMP VIEW" if self.name == "duckdb" else "TEMPORARY VIEW"
        return f"CREATE OR REPLACE {kind} {name} AS {sql}"

    def explode_json(self, payload: str, path: str, fields: dict[str, str]) -> str:
        """Select-list items that explode a JSON array of objects into one row per element.

        Args:
            payload: The JSON text column.
            path: The array's member name under the root (``line_items``).
            fields: Output name -> SQL type (``STRING`` or ``INT``) of each element member.

        Returns:
            ``(<item expression>) AS item``; read the members with :meth:`item_field`.
        """
        if self.name == "duckdb":
            return f"unnest(json_extract({payload}, '$.{path}[*]')) AS item"
        members = ",".join(f"{k}:{'int' if v == 'INT' else 'string'}" for k, v in fields.items())
        return (
            f"explode(from_json(get_json_object({payload}, '$.{path}'), "
            f"'array<struct<{members}>>')) AS item"
        )

    def item_field(self, name: str, sql_type: str) -> str:
        """One member of an exploded element (see :meth:`explode_json`)."""
        if self.name == "duckdb":
            text = f"json_extract_string(item, '$.{name}')"
            return f"CAST({text} AS INTEGER)" if sql_type == "INT" else text
        return f"item.{name}"

    def json_string(self, payload: str, path: str) -> str:
        """A string member of a JSON text column (path like ``$.properties.moment``)."""
        if self.name == "duckdb":
            return f"json_extract_string({payload}, '{path}')"
        return f"get_json_object({payload}, '{path}')"


DUCKDB: Final = Dialect("duckdb")
SPARK: Final = Dialect("spark")


def dialect_for(engine: str) -> Dialect:
    """The dialect of an engine name (``duckdb`` or ``spark``)."""
    if engine == "duckdb":
        return DUCKDB
    if engine == "spark":
        return SPARK
    raise ConfigError("engine", engine, "'duckdb' or 'spark'")
