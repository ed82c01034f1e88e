"""Where events and tables live: Parquet files under the data directory, read with DuckDB.

Example:
    >>> import tempfile
    >>> from marketlift.lake import query
    >>> query(tempfile.mkdtemp(), "SELECT count(*) AS n FROM events").to_pylist()
    [{'n': 0}]
"""

from marketlift.lake.currencies import (
    CURRENCIES_FILE,
    CurrencyTable,
    load_currency_table,
    write_currency_table,
)
from marketlift.lake.layout import TABLES, LakeLayout
from marketlift.lake.reader import connect, query, refresh_views
from marketlift.lake.writer import CompactionReport, LakeWriter, WriterStats

__all__ = [
    "CURRENCIES_FILE",
    "TABLES",
    "CompactionReport",
    "CurrencyTable",
    "LakeLayout",
    "LakeWriter",
    "WriterStats",
    "connect",
    "load_currency_table",
    "query",
    "refresh_views",
    "write_currency_table",
]
