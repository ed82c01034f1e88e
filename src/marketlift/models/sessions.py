"""Browsing sessions for ranking: from any clickstream table or from the lake.

A :class:`Sessions` holds, per session in start-time order, its item codes in time order, plus the
buyer and locale when known; item codes index :attr:`Sessions.item_ids`. A :class:`Catalog`
optionally adds per-item category, price, rating, review count and title text (the lake's
listing catalog, :mod:`marketlift.catalog`, or a user's own listing table).

Example:
    >>> import pyarrow as pa
    >>> clicks = pa.table({"sid": ["a", "a", "b", "b", "b"], "item": ["x", "y", "y", "z", "x"],
    ...                    "t": [1, 2, 5, 6, 7]})
    >>> s = sessions_from_table(clicks, session_col="sid", item_col="item", time_col="t")
    >>> s.session_ids, [s.item_ids[i] for i in s.items[1]]
    (['a', 'b'], ['y', 'z', 'x'])
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.models.tabular import ColumnError

__all__ = [
    "Catalog",
    "Sessions",
    "catalog_from_lake",
    "catalog_from_table",
    "sessions_from_lake",
    "sessions_from_table",
]

IntArray = npt.NDArray[np.int64]


@dataclasses.dataclass(slots=True)
class Sessions:
    """Sessions in start order with item codes; ``buyers``/``locales`` may hold ``None``."""

    session_ids: list[str]
    start: IntArray
    items: list[IntArray]
    buyers: list[str | None]
    locales: list[str | None]
    item_ids: list[str]

    def __len__(self) -> int:
        return len(self.session_ids)

    @property
    def n_items(self) -> int:
        """The number of distinct items."""
        return len(self.item_ids)

    def time_range(self) -> dict[str, int | None]:
        """First and last session start (microseconds or the table's time unit)."""
        if not len(self.start):
            return {"min": None, "max": None}
        return {"min": int(self.start.min()), "max": int(self.start.max())}


@dataclasses.dataclass(slots=True)
class Catalog:
    """Per-item attributes aligned with :attr:`Sessions.item_ids` (NaN / -1 / "" when unknown)."""

    category: IntArray
    category_names: list[str]
    price: npt.NDArray[np.float64]
    rating: npt.NDArray[np.float64]
    reviews: npt.NDArray[np.float64]
    titles: list[str]


_GROUP_SQL = """
SELECT s AS session_id, min(t) AS start, list(i ORDER BY t, n) AS items,
       any_value(b) AS buyer, any_value(l) AS locale
FROM (SELECT *, row_number() OVER () AS n FROM src)
GROUP BY s ORDER BY start, s
"""


def _group(con: duckdb.DuckDBPyConnection) -> Sessions:
    rows = con.sql(_GROUP_SQL).to_arrow_table().to_pydict()
    codes: dict[str, int] = {}
    items = [
        np.array([codes.setdefault(str(x), len(codes)) for x in seq], np.int64)
        for seq in rows["items"]
    ]
    return Sessions(
        session_ids=[str(s) for s in rows["session_id"]],
        start=np.array(rows["start"], dtype=np.int64),
        items=items,
        buyers=list(rows["buyer"]),
        locales=list(rows["locale"]),
        item_ids=list(codes),
    )


def sessions_from_table(
    table: pa.Table | Any,
    *,
    session_col: str,
    item_col: str,
    time_col: str,
    buyer_col: str | None = None,
) -> Sessions:
    """Group a clickstream (one row per interaction) into sessions.

    The time column may be a timestamp, a date or a number; rows without a session, item or
    time are skipped.

    Raises:
        ColumnError: a named column is missing or the time column is not orderable.
    """
    table = pa.table(table) if not isinstance(table, pa.Table) else table
    for role, col in (("session", session_col), ("item", item_col), ("time", time_col),
                      ("buyer", buyer_col)):  # fmt: skip
        if col is not None and col not in table.column_names:
            cols = ", ".join(table.column_names)
            raise ColumnError(
                col, f"no such column (given as the {role} column)", f"one of: {cols}"
            )
    ttype = table.schema.field(time_col).type
    if pa.types.is_timestamp(ttype) or pa.types.is_date(ttype):
        time_expr = f'epoch_us("{time_col}"::TIMESTAMP)'
    elif pa.types.is_integer(ttype) or pa.types.is_floating(ttype):
        time_expr = f'"{time_col}"::BIGINT'
    else:
        raise ColumnError.type_(time_col, ttype, "a timestamp, date or number time column")
    buyer = f'"{buyer_col}"::VARCHAR' if buyer_col else "NULL::VARCHAR"
    con = duckdb.connect()
    try:
        con.register("raw", table)
        con.execute(
            f'CREATE VIEW src AS SELECT "{session_col}"::VARCHAR AS s, "{item_col}"::VARCHAR AS i, '  # noqa: S608
            f"{time_expr} AS t, {buyer} AS b, NULL::VARCHAR AS l FROM raw "
            f'WHERE "{session_col}" IS NOT NULL AND "{item_col}" IS NOT NULL '
            f'AND "{time_col}" IS NOT NULL'
        )
        return _group(con)
    finally:
        con.close()


def sessions_from_lake(data_dir: str | os.PathLike[str]) -> Sessions:
    """Listing-view sessions of the lake (buyer: ``buyer_id``, else ``anonymous_id``)."""
    from marketlift.lake import connect  # noqa: PLC0415

    con = connect(data_dir)
    try:
        con.execute(
            "CREATE TEMP VIEW src AS SELECT session_id AS s, listing_id AS i, epoch_us(ts) AS t, "
            "coalesce(buyer_id, anonymous_id) AS b, locale AS l FROM events "
            "WHERE type = 'listing_view' AND listing_id IS NOT NULL ORDER BY ts, event_id"
        )
        return _group(con)
    finally:
        con.close()


def catalog_from_lake(
    data_dir: str | os.PathLike[str], item_ids: list[str], at: dt.datetime | None = None
) -> Catalog | None:
    """The lake's listing catalog (as of ``at``) aligned with ``item_ids`` (``None`` if empty).

    Listings that no session viewed are appended to ``item_ids`` (in place): they are the
    cold-start items that only text similarity can recommend.
    """
    from marketlift.catalog import listing_texts  # noqa: PLC0415 - DuckDB read on demand

    listings = listing_texts(data_dir, at)
    return None if listings is None else catalog_from_table(listings, item_ids)


def catalog_from_table(listings: pa.Table, item_ids: list[str]) -> Catalog:
    """A listing table as a catalog aligned with ``item_ids``.

    Columns: ``listing_id``, ``category``, ``price``, ``rating``, ``review_count``, ``title``
    and optionally ``tags``.
    Unknown listings are appended to ``item_ids`` (in place), as in :func:`catalog_from_lake`.
    The text of a listing is its title followed by its tags.

    Example:
        >>> table = pa.table({"listing_id": ["b", "c"], "category": ["mugs", "art"],
        ...                   "price": [9.5, 20.0], "rating": [4.0, None],
        ...                   "review_count": [3, 0], "title": ["Blue mug", "Print"]})
        >>> ids = ["a", "b"]
        >>> cat = catalog_from_table(table, ids)
        >>> ids, cat.category.tolist(), cat.category_names, cat.titles
        (['a', 'b', 'c'], [-1, 1, 0], ['art', 'mugs'], ['', 'Blue mug', 'Print'])
    """
    missing = [c for c in ("listing_id", "category", "price", "rating", "review_count", "title")
               if c not in listings.column_names]  # fmt: skip
    if missing:
        raise ColumnError("listings", missing[0], listings.column_names)
    lids = listings.column("listing_id").combine_chunks()
    known = pa.array(item_ids, pa.string())
    fresh = lids.filter(pc.invert(pc.is_in(lids, value_set=known)))
    item_ids.extend(fresh.to_pylist())
    aligned = pa.array(item_ids, pa.string())
    row = pc.index_in(aligned, value_set=lids).to_numpy(zero_copy_only=False)
    has = ~np.isnan(row.astype(np.float64))
    rows = np.where(has, np.nan_to_num(row.astype(np.float64)), 0).astype(np.int64)
    names = sorted(set(pc.unique(listings.column("category")).drop_null().to_pylist()))
    codes = pc.index_in(listings.column("category"), value_set=pa.array(names, pa.string()))
    n = len(item_ids)

    def take(column: pa.ChunkedArray | pa.Array, fill: float) -> npt.NDArray[np.float64]:
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        values = np.asarray(values, dtype=np.float64)
        out = np.full(n, fill)
        out[has] = values[rows[has]]
        return out

    category = take(pc.fill_null(codes, -1), -1).astype(np.int64)
    text = pc.fill_null(listings.column("title"), "")
    if "tags" in listings.column_names:
        tags = pc.fill_null(pc.binary_join(listings.column("tags"), " "), "")
        text = pc.utf8_trim_whitespace(pc.binary_join_element_wise(text, tags, " "))
    titles_all = np.asarray(text.to_pylist(), dtype=object)
    titles = np.full(n, "", dtype=object)
    titles[has] = titles_all[rows[has]]
    return Catalog(category, names, take(listings.column("price"), np.nan),
                   take(listings.column("rating"), np.nan),
                   take(listings.column("review_count"), np.nan), list(titles))  # fmt: skip
