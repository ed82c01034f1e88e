"""Reduce a unit-level table to :class:`Moments` with one SQL ``GROUP BY`` scan (DuckDB).

The scan groups by variant and every segment dimension at once; overall and per-dimension
moments are then sums of groups (``+``), so a readout with segments still reads the data
once. NULL metric values count as 0; NULL segment values become ``"(missing)"``.

Example:
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE t AS SELECT i % 2 AS arm, i::DOUBLE AS y, "
    ...                 "CASE WHEN i < 5 THEN 'ios' ELSE 'web' END AS platform "
    ...                 "FROM range(10) r(i)")
    >>> groups = aggregate(con, "t", variant="arm", columns=["y"], pairs=[("y", "y")],
    ...                    dimensions=["platform"])
    >>> arms, segments = marginalize(groups, ["platform"])
    >>> arms["0"].n, arms["0"].sum("y"), segments[("platform", "web")]["1"].n
    (5, 20.0, 3)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from marketlift.experiments.stats import Moments, pair_key

if TYPE_CHECKING:
    import duckdb

__all__ = ["MISSING", "GroupKey", "aggregate", "marginalize", "moments_sql", "quote"]

MISSING = "(missing)"
GroupKey = tuple[str, tuple[str, ...]]
"""``(variant, segment values in dimension order)``."""


def quote(identifier: str, *, dialect: str = "duckdb") -> str:
    """Quote a SQL identifier for DuckDB (``"x"``) or Spark SQL (```x```)."""
    if dialect == "spark":
        return "`" + identifier.replace("`", "``") + "`"
    return '"' + identifier.replace('"', '""') + '"'


def moments_sql(
    source: str,
    *,
    variant: str,
    columns: Sequence[str],
    pairs: Iterable[tuple[str, str]],
    dimensions: Sequence[str] = (),
    extra_groups: Sequence[str] = (),
    dialect: str = "duckdb",
) -> str:
    """The one-scan ``GROUP BY`` that computes count, sums and cross-products.

    Args:
        source: A table or view name, or a parenthesized subquery.
        variant: Column of the variant.
        columns: Unit-level numeric columns.
        pairs: Cross-products to compute.
        dimensions: Segment columns grouped on as well.
        extra_groups: SQL expressions grouped on after the dimensions (e.g. a day).
        dialect: ``duckdb`` or ``spark`` (identifier quoting and the string type).
    """
    text = "STRING" if dialect == "spark" else "VARCHAR"

    def q(c: str) -> str:
        return quote(c, dialect=dialect)

    def val(c: str) -> str:
        return f"coalesce(CAST({q(c)} AS DOUBLE), 0)"

    keys = [f"CAST({q(variant)} AS {text})"]
    keys += [f"coalesce(CAST({q(d)} AS {text}), '{MISSING}')" for d in dimensions]
    keys += list(extra_groups)
    select = [f"{k} AS g{i}" for i, k in enumerate(keys)]
    select.append("count(*) AS n")
    select += [f"sum({val(c)})" for c in columns]
    select += [
        f"sum({val(a)} * {val(b)})" if a != b else f"sum({val(a)} * {val(a)})"
        for a, b in sorted({pair_key(*p) for p in pairs})
    ]
    group = ", ".join(f"g{i}" for i in range(len(keys)))
    return f"SELECT {', '.join(select)} FROM {source} GROUP BY {group}"  # noqa: S608


def aggregate(
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    variant: str,
    columns: Sequence[str],
    pairs: Iterable[tuple[str, str]],
    dimensions: Sequence[str] = (),
    extra_groups: Sequence[str] = (),
) -> dict[GroupKey, Moments]:
    """Run :func:`moments_sql` and wrap each group in a :class:`Moments`.

    Keys are ``(variant, values)`` with the dimension values, then the extra group values.
    """
    keys = tuple(sorted({pair_key(*p) for p in pairs}))
    cols = tuple(columns)
    sql = moments_sql(
        source,
        variant=variant,
        columns=cols,
        pairs=keys,
        dimensions=dimensions,
        extra_groups=extra_groups,
    )
    return _to_moments(con.sql(sql).fetchall(), cols, keys, 1 + len(dimensions) + len(extra_groups))


def _to_moments(
    rows: Iterable[Sequence[Any]], cols: tuple[str, ...], keys: tuple[tuple[str, str], ...], k: int
) -> dict[GroupKey, Moments]:
    """Wrap the rows of :func:`moments_sql` (``k`` group columns first) in :class:`Moments`."""
    out: dict[GroupKey, Moments] = {}
    for row in rows:
        n = int(row[k])
        sums = tuple(float(x or 0.0) for x in row[k + 1 : k + 1 + len(cols)])
        cross = tuple(float(x or 0.0) for x in row[k + 1 + len(cols) :])
        out[(str(row[0]), tuple(str(x) for x in row[1:k]))] = Moments(n, cols, sums, keys, cross)
    return out


def marginalize(
    groups: Mapping[GroupKey, Moments], dimensions: Sequence[str]
) -> tuple[dict[str, Moments], dict[tuple[str, str], dict[str, Moments]]]:
    """Sum groups into per-variant moments and per ``(dimension, value)`` per-variant moments."""
    arms: dict[str, Moments] = {}
    segments: dict[tuple[str, str], dict[str, Moments]] = {}
    for (variant, values), m in sorted(groups.items()):
        arms[variant] = arms[variant] + m if variant in arms else m
        for dim, value in zip(dimensions, values, strict=True):
            seg = segments.setdefault((dim, value), {})
            seg[variant] = seg[variant] + m if variant in seg else m
    order = {d: i for i, d in enumerate(dimensions)}
    ordered = dict(sorted(segments.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])))
    return arms, ordered
