"""The simulator as a marketplace client of the catalog: its listings, sent like anyone's.

:func:`write_catalog` turns the world's listings into the file contract of
:mod:`marketlift.catalog` (prices in USD as decimals, English title and description, the other
languages' texts as attributes) and writes them through the same validation and versioned store
as ``marketlift catalog load``. Hidden traits (popularity) stay in the truth tables.

Example:
    >>> import tempfile
    >>> from marketlift.sim.config import SimConfig
    >>> from marketlift.sim.world import make_world
    >>> from marketlift.catalog import CatalogStore
    >>> data = tempfile.mkdtemp()
    >>> write_catalog(data, make_world(SimConfig(n_buyers=50))).counts()
    (500, 0, 0, 0)
    >>> CatalogStore(data).show("l0000000")["price"]["currency"]
    'USD'
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from marketlift.catalog import CatalogStore, WriteReport, pack_attributes
from marketlift.sim.tables import listings_table
from marketlift.sim.world import TEXT_LOCALES, World

__all__ = ["catalog_feed", "listings_version_time", "write_catalog"]

_CENTS: Final = pa.decimal128(19, 2)


def listings_version_time(world: World) -> dt.datetime:
    """When the simulated listings were last updated: the day before the first simulated day."""
    start = dt.datetime.combine(world.config.start, dt.time(), tzinfo=dt.UTC)
    return start - dt.timedelta(days=1)


def catalog_feed(world: World) -> pa.Table:
    """The world's listings in the catalog's file contract (one row per listing)."""
    lst = listings_table(world, "feed")
    n = lst.num_rows
    texts = {f"{kind}_{lang}": lst.column(f"{kind}_{lang}") for lang in TEXT_LOCALES
             if lang != "en" for kind in ("title", "description")}  # fmt: skip
    updated = listings_version_time(world)
    table = pa.table({
        "listing_id": lst.column("listing_id"),
        "title": lst.column("title_en"),
        "description": lst.column("description_en"),
        "category": lst.column("category"),
        "price": _dollars(lst.column("price_usd_cents")),
        "currency": pa.repeat(pa.scalar("USD"), n),
        "shipping": _dollars(lst.column("shipping_usd_cents")),
        "stock": lst.column("stock"),
        "shop_id": lst.column("shop_id"),
        "review_count": lst.column("review_count"),
        "rating": lst.column("rating"),
        "updated_at": pa.repeat(pa.scalar(updated, pa.timestamp("us", tz="UTC")), n),
        **texts,
    })  # fmt: skip
    return pack_attributes(table)


def write_catalog(data_dir: str | os.PathLike[str], world: World) -> WriteReport:
    """Send the world's listings to the data directory's catalog (a retry is a duplicate)."""
    store = CatalogStore(data_dir)
    try:
        return store.write_raw(catalog_feed(world), source="sim")
    finally:
        store.close()


def _dollars(cents: pa.ChunkedArray) -> pa.Array:
    cent = pa.scalar(Decimal("0.01"), pa.decimal128(3, 2))
    return pc.multiply(pc.cast(cents, pa.decimal128(19, 0)), cent).cast(_CENTS)
