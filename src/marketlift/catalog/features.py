"""The catalog as the tables other packages need: listing features and listing texts.

One conversion for everything that reads listings (features, the ranker, copy, the demo site):
the live versions as of a time, prices as numbers of their own currency (the catalog does not
convert currencies).

Example:
    >>> import tempfile
    >>> feature_table(tempfile.mkdtemp()) is None
    True
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Final

import pyarrow as pa

from marketlift.catalog.store import _FAR, connect_catalog

__all__ = ["feature_table", "listing_texts"]

_FEATURES_SQL: Final = """
SELECT listing_id, category, CAST(price_amount AS DOUBLE) AS price, review_count, rating
FROM ({as_of}) ORDER BY listing_id
"""
_TEXTS_SQL: Final = """
SELECT listing_id, category, CAST(price_amount AS DOUBLE) AS price, price_currency,
       CAST(shipping_amount AS DOUBLE) AS shipping, review_count, rating, stock, shop_id,
       title, description, tags, materials, attributes
FROM ({as_of}) ORDER BY listing_id
"""
_AS_OF: Final = """
SELECT * FROM listing_versions WHERE updated_at <= $1
QUALIFY row_number() OVER (PARTITION BY listing_id ORDER BY updated_at DESC) = 1
"""


def feature_table(
    data_dir: str | os.PathLike[str], at: dt.datetime | None = None
) -> pa.Table | None:
    """Live listings as of ``at`` as a feature catalog, ``None`` when the catalog is empty.

    Columns: ``listing_id``, ``category``, ``price`` (DOUBLE), ``review_count``, ``rating``:
    the ``catalog`` table of :func:`marketlift.features.build.build_features`.
    """
    return _read(data_dir, _FEATURES_SQL, at)


def listing_texts(
    data_dir: str | os.PathLike[str], at: dt.datetime | None = None
) -> pa.Table | None:
    """Live listings as of ``at`` with their texts and facts (ranker text, copy facts)."""
    return _read(data_dir, _TEXTS_SQL, at)


def _read(data_dir: str | os.PathLike[str], sql: str, at: dt.datetime | None) -> pa.Table | None:
    con = connect_catalog(data_dir)
    try:
        live = f"SELECT * FROM ({_AS_OF}) WHERE NOT deleted"  # noqa: S608 - constants
        table = con.sql(sql.format(as_of=live), params=[at or _FAR]).to_arrow_table()
    finally:
        con.close()
    return table if table.num_rows else None
