"""Bring your own table: analyze any Parquet/CSV file, Arrow table or DataFrame.

Rows are units (or events, when ``unit`` names the unit column: rows are then summed per
unit first, and units seen in more than one variant are dropped and flagged).

Blank (NULL) metric values are counted (``missing_values`` of the result) and treated as
``missing`` says: ``"zero"`` reads them as 0 (flag ``missing_values``), ``"drop"`` drops their
rows (flag ``missing_dropped``), ``"error"`` refuses the table.

Example:
    >>> import pyarrow as pa
    >>> t = pa.table({"arm": ["a", "b"] * 200, "y": [1.0, 2.0, 3.0, 5.0] * 100})
    >>> r = analyze_table(t, variant="arm", control="a", metrics=["y"])
    >>> r.metrics[0].effect, r.arms[0].units
    (1.5, 200)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import duckdb
import msgspec

from marketlift.errors import ConfigError
from marketlift.experiments.aggregate import aggregate, marginalize, quote
from marketlift.experiments.analysis import analyze_moments
from marketlift.experiments.metrics import Metric
from marketlift.experiments.results import AnalysisResult

__all__ = ["MISSING_MODES", "analyze_table", "check_numeric", "open_source", "parse_metric"]

_VIEW = "__marketlift_source"
MISSING_MODES: Final = ("zero", "drop", "error")
"""How blank metric values are treated: read as 0, their rows dropped, or refused."""


def check_numeric(con: duckdb.DuckDBPyConnection, view: str, columns: Sequence[str]) -> None:
    """Refuse text that is not a number in metric ``columns``, naming the column, value and row.

    Raises:
        ConfigError: For the first such column, e.g. ``column 'revenue' == 'n/a' (row 3, 1 such
            value)``; blank cells are not errors (see ``missing``).
    """
    types = {str(r[0]): str(r[1]) for r in con.sql(f"DESCRIBE {view}").fetchall()}
    for c in columns:
        if types.get(c) not in ("VARCHAR", "STRING"):
            continue
        bad = f"{quote(c)} IS NOT NULL AND TRY_CAST({quote(c)} AS DOUBLE) IS NULL"
        row = con.sql(
            f"SELECT count(*) OVER (), __row, {quote(c)} FROM "  # noqa: S608 - quoted names
            f"(SELECT row_number() OVER () AS __row, {quote(c)} FROM {view}) WHERE {bad} LIMIT 1"
        ).fetchall()
        if row:
            n, at, value = row[0]
            raise ConfigError(
                f"column {c!r}",
                value,
                f"numbers in a metric column (data row {at}; {n} such value"
                f"{'s' if n > 1 else ''}; leave a cell blank for a missing value)",
            )


def _missing(
    con: duckdb.DuckDBPyConnection, view: str, columns: Sequence[str], mode: str
) -> tuple[str, dict[str, int], list[str]]:
    """The view to analyze, the blank count per column and the flags, after ``mode``."""
    if mode not in MISSING_MODES:
        raise ConfigError("missing", mode, f"one of {', '.join(MISSING_MODES)}")
    if not columns:
        return view, {}, []
    nulls = ", ".join(f"count(*) FILTER (WHERE {quote(c)} IS NULL)" for c in columns)
    counts = con.sql(f"SELECT {nulls} FROM {view}").fetchall()[0]  # noqa: S608 - quoted names
    blank = {c: int(n) for c, n in zip(columns, counts, strict=True) if n}
    if not blank:
        return view, {}, []
    if mode == "error":
        col, n = next(iter(blank.items()))
        raise ConfigError(
            f"column {col!r}", f"{n} blank values", "a value in every row (or --missing zero|drop)"
        )
    if mode == "drop":
        keep = " AND ".join(f"{quote(c)} IS NOT NULL" for c in blank)
        return f"(SELECT * FROM {view} WHERE {keep})", blank, ["missing_dropped"]  # noqa: S608
    return view, blank, ["missing_values"]


def parse_metric(spec: str | Metric, covariate: str | None = None) -> Metric:
    """``"col"`` is a mean; ``"numer/denom"`` a ratio; ``covariate`` may be ``"x"`` or ``"x/d"``.

    Example:
        >>> parse_metric("revenue/orders", "pre_revenue/pre_orders")
        Metric(name='revenue/orders', numerator='revenue', denominator='orders', \
covariate='pre_revenue', covariate_denominator='pre_orders')
    """
    if isinstance(spec, Metric):
        return spec
    num, _, den = spec.partition("/")
    cnum, cden = (None, None)
    if covariate:
        cnum, _, cd = covariate.partition("/")
        cden = cd or None
    if not num or (spec.count("/") and not den) or spec.count("/") > 1:
        raise ConfigError("metric", spec, "'column' or 'numerator/denominator'")
    return Metric(spec, num, den or None, cnum, cden)


def open_source(con: duckdb.DuckDBPyConnection, source: Any) -> str:
    """Expose ``source`` as a DuckDB view and return its name.

    ``source`` is a path (``.parquet``, ``.csv``, ``.csv.gz``, ``.tsv``), an Arrow table, a
    pandas DataFrame, or a DuckDB relation.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise ConfigError("table", str(path), "an existing Parquet or CSV file")
        suffixes = "".join(path.suffixes).lower()
        literal = "'" + str(path).replace("'", "''") + "'"
        if ".parquet" in suffixes or ".pq" in suffixes:
            reader = f"read_parquet({literal})"
        elif ".csv" in suffixes or ".tsv" in suffixes:
            reader = f"read_csv({literal})"
        else:
            raise ConfigError("table", str(path), "a .parquet, .csv or .tsv file")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {_VIEW} AS SELECT * FROM {reader}")  # noqa: S608 - quoted literal
    else:
        con.register(_VIEW, source)
    return _VIEW


def _check_columns(con: duckdb.DuckDBPyConnection, view: str, needed: Sequence[str]) -> None:
    have = {row[0] for row in con.sql(f"DESCRIBE {view}").fetchall()}
    for col in needed:
        if col not in have:
            raise ConfigError("column", col, f"a column of the table ({sorted(have)})")


def analyze_table(
    source: Any,
    *,
    variant: str,
    control: str,
    metrics: Sequence[str | Metric],
    covariate: str | None = None,
    unit: str | None = None,
    segments: Sequence[str] = (),
    weights: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    tuning_n: float = 10_000,
    min_units: int = 30,
    missing: str = "zero",
    con: duckdb.DuckDBPyConnection | None = None,
) -> AnalysisResult:
    """Analyze a table with column names given as arguments.

    Args:
        source: See :func:`open_source`.
        variant: Column of the variant.
        control: Value of ``variant`` that is the control.
        metrics: Metric specs (``"col"``, ``"num/den"``) or :class:`Metric` objects.
        covariate: CUPED/CUPAC covariate for every metric given as a string.
        unit: Unit column, when rows are events rather than units.
        segments: Segment columns for breakdowns.
        weights: Configured weights for the SRM check; equal when ``None``.
        alpha: One minus the confidence level.
        correction: ``"holm"``, ``"bh"`` or ``"none"``.
        tuning_n: Units at which the sequential interval is tightest.
        min_units: Arms smaller than this are flagged ``too_few_units``.
        missing: Blank metric values: ``"zero"`` (read as 0, flagged), ``"drop"`` (their rows
            dropped, flagged) or ``"error"`` (a :class:`~marketlift.errors.ConfigError`).
        con: DuckDB connection to use; a new in-memory one when ``None``.
    """
    con = con if con is not None else duckdb.connect()
    parsed = [parse_metric(m, covariate) for m in metrics]
    columns = tuple(dict.fromkeys(c for m in parsed for c in m.columns))
    pairs = tuple(dict.fromkeys(p for m in parsed for p in m.pairs))
    view = open_source(con, source)
    _check_columns(con, view, [variant, *columns, *segments, *([unit] if unit else [])])
    check_numeric(con, view, columns)
    view, blank, flags = _missing(con, view, columns, missing)
    if unit is not None:
        sums = ", ".join(f"sum({quote(c)}) AS {quote(c)}" for c in columns)
        dims = "".join(f", any_value({quote(d)}) AS {quote(d)}" for d in segments)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __marketlift_units AS SELECT {quote(unit)}, "  # noqa: S608
            f"min({quote(variant)}) AS {quote(variant)}, "
            f"count(DISTINCT {quote(variant)}) AS __variants, {sums}{dims} "
            f"FROM {view} GROUP BY {quote(unit)}"
        )
        dropped = con.sql("SELECT count(*) FROM __marketlift_units WHERE __variants > 1")
        if dropped.fetchall()[0][0]:
            flags.append("multiple_variants")
        view = "(SELECT * FROM __marketlift_units WHERE __variants = 1)"
    groups = aggregate(
        con, view, variant=variant, columns=columns, pairs=pairs, dimensions=segments
    )
    arms, segs = marginalize(groups, segments)
    result = analyze_moments(
        arms,
        parsed,
        control=str(control),
        weights=weights,
        alpha=alpha,
        correction=correction,
        tuning_n=tuning_n,
        min_units=min_units,
        segments=segs,
        experiment=str(source) if isinstance(source, str | os.PathLike) else "table",
    )
    if flags:
        result = msgspec.structs.replace(
            result, flags=(*result.flags, *flags), missing_values=blank
        )
    return result
