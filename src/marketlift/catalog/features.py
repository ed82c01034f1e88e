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
from collections.abc import Mapping
from typing import Final

import pyarrow as pa

from marketlift.catalog.store import FAR_FUTURE, connect_catalog

__all__ = ["feature_table", "feature_versions", "listing_texts", "wide_listings"]

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


def feature_versions(data_dir: str | os.PathLike[str]) -> pa.Table | None:
    """Every version as a feature catalog with its validity, for point-in-time features.

    The columns of :func:`feature_table` plus ``valid_from_us`` (the version's ``updated_at``
    in microseconds) and ``valid_to_us`` (the next version's, NULL for the current one). A
    deletion ends the version before it and has no row. Feature queries join the version live
    at each row's cut-off: updated strictly before it
    (:func:`marketlift.features.queries.live_at`). ``None`` when the catalog is empty.

    Example:
        >>> import tempfile
        >>> feature_versions(tempfile.mkdtemp()) is None
        True
    """
    con = connect_catalog(data_dir)
    try:
        table = con.sql(_VERSIONS_SQL).to_arrow_table()
    finally:
        con.close()
    return table if table.num_rows else None


_VERSIONS_SQL: Final = """
SELECT listing_id, category, price, review_count, rating, valid_from_us, valid_to_us FROM (
    SELECT listing_id, deleted, category, CAST(price_amount AS DOUBLE) AS price, review_count,
           rating, epoch_us(updated_at) AS valid_from_us,
           lead(epoch_us(updated_at)) OVER (PARTITION BY listing_id ORDER BY updated_at)
               AS valid_to_us
    FROM listing_versions
) WHERE NOT deleted ORDER BY listing_id, valid_from_us
"""


def listing_texts(
    data_dir: str | os.PathLike[str], at: dt.datetime | None = None
) -> pa.Table | None:
    """Live listings as of ``at`` with their texts and facts (ranker text, copy facts)."""
    return _read(data_dir, _TEXTS_SQL, at)


def wide_listings(
    data_dir: str | os.PathLike[str],
    fx: Mapping[str, float],
    at: dt.datetime | None = None,
) -> pa.Table:
    """Live listings with prices in US cents and each attribute as a text column.

    The columns the storefront and copy facts read: ``listing_id``, ``shop_id``, ``category``,
    ``price_usd_cents`` and ``shipping_usd_cents`` (converted with ``fx``, units per US dollar;
    NULL for a currency not in it), ``stock``, ``rating``, ``review_count``, ``title_en``,
    ``description_en``, ``tags``, ``materials``, then one column per attribute key (such as
    the ``title_de`` the simulator sends). Empty when the catalog is.

    Example:
        >>> import tempfile
        >>> wide_listings(tempfile.mkdtemp(), {"USD": 1.0}).num_rows
        0
    """
    rates = " ".join(f"WHEN '{c}' THEN {float(r)!r}" for c, r in fx.items() if c.isalpha())
    rate = f"(CASE {{col}} {rates} ELSE NULL END)" if rates else "NULL"
    con = connect_catalog(data_dir)
    try:
        live = f"WITH live AS (SELECT * FROM ({_AS_OF}) WHERE NOT deleted) "  # noqa: S608
        keys_sql = live + _KEYS_SQL
        keys = [str(k) for (k,) in con.sql(keys_sql, params=[at or FAR_FUTURE]).fetchall()]
        extra = "".join(
            f", json_extract_string(attributes, {_literal('$.' + _json_key(k))}) AS {_name(k)}"
            for k in keys
            if k not in _WIDE_CORE
        )
        body = f"""
            SELECT listing_id, shop_id, category,
                CAST(round(CAST(price_amount AS DOUBLE) * 100
                           / {rate.format(col="price_currency")}) AS BIGINT) AS price_usd_cents,
                CAST(round(CAST(shipping_amount AS DOUBLE) * 100
                           / {rate.format(col="shipping_currency")}) AS BIGINT)
                    AS shipping_usd_cents,
                stock, rating, review_count, title AS title_en, description AS description_en,
                tags, materials{extra}
            FROM live ORDER BY listing_id
        """  # noqa: S608 - keys are quoted, rates are numbers
        return con.sql(live + body, params=[at or FAR_FUTURE]).to_arrow_table()
    finally:
        con.close()


_KEYS_SQL: Final = (
    "SELECT DISTINCT unnest(json_keys(attributes)) AS k FROM live "
    "WHERE attributes IS NOT NULL ORDER BY k"
)
_WIDE_CORE: Final = frozenset({
    "listing_id", "shop_id", "category", "price_usd_cents", "shipping_usd_cents", "stock",
    "rating", "review_count", "title_en", "description_en", "tags", "materials",
})  # fmt: skip


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _name(key: str) -> str:
    return '"' + key.replace('"', '""') + '"'


def _read(data_dir: str | os.PathLike[str], sql: str, at: dt.datetime | None) -> pa.Table | None:
    con = connect_catalog(data_dir)
    try:
        live = f"SELECT * FROM ({_AS_OF}) WHERE NOT deleted"  # noqa: S608 - constants
        table = con.sql(sql.format(as_of=live), params=[at or FAR_FUTURE]).to_arrow_table()
    finally:
        con.close()
    return table if table.num_rows else None
