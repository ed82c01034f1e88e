"""The listing catalog: ingestion (HTTP and files), versions in the lake, as-of reads.

A marketplace sends its listings (``POST /v1/listings`` or ``marketlift catalog load``); each
change is a version keyed by ``listing_id`` and ``updated_at``. Every part of marketlift reads
listings from here, as of the time it needs (see ``docs/catalog.md``).

Example:
    >>> import tempfile
    >>> store = CatalogStore(tempfile.mkdtemp())
    >>> store.as_of().num_rows
    0
"""

from marketlift.catalog.features import (
    feature_table,
    feature_versions,
    listing_texts,
    wide_listings,
)
from marketlift.catalog.files import FORMATS, load_files, pack_attributes, read_chunks
from marketlift.catalog.schema import (
    CORE_COLUMNS,
    REQUIRED_COLUMNS,
    VERSIONS_SCHEMA,
    CatalogLimits,
    ListingIn,
    ListingMoney,
    listing_json_schema,
)
from marketlift.catalog.store import CatalogStore, WriteReport, connect_catalog, listings_dir
from marketlift.catalog.validate import Normalized, RejectedListing, normalize
from marketlift.catalog.wire import DecodedListings, decode_listings, listings_to_raw

__all__ = [
    "CORE_COLUMNS",
    "FORMATS",
    "REQUIRED_COLUMNS",
    "VERSIONS_SCHEMA",
    "CatalogLimits",
    "CatalogStore",
    "DecodedListings",
    "ListingIn",
    "ListingMoney",
    "Normalized",
    "RejectedListing",
    "WriteReport",
    "connect_catalog",
    "decode_listings",
    "feature_table",
    "feature_versions",
    "listing_json_schema",
    "listing_texts",
    "listings_dir",
    "listings_to_raw",
    "load_files",
    "normalize",
    "pack_attributes",
    "read_chunks",
    "wide_listings",
]
