"""The listing contract: what a marketplace sends, and the versioned table it becomes.

A listing version is identified by ``listing_id`` and ``updated_at`` (the version). Over HTTP
a listing is a JSON object (:class:`ListingIn`); in a file it is a row with the columns of the
same names, where ``price`` is a decimal string beside a ``currency`` column. Every version is
stored as one row of :data:`VERSIONS_SCHEMA`; a deletion is a version with ``deleted`` true.

Example:
    >>> doc = listing_json_schema()
    >>> doc["$schema"], sorted(doc["required"])
    ('https://json-schema.org/draft/2020-12/schema', ['listing_id', 'updated_at'])
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Final

import msgspec
import pyarrow as pa
from msgspec import Meta

from marketlift.errors import ConfigError

__all__ = [
    "CORE_COLUMNS",
    "INT64_MAX",
    "REQUIRED_COLUMNS",
    "VERSIONS_SCHEMA",
    "CatalogLimits",
    "ListingIn",
    "ListingMoney",
    "listing_json_schema",
]

MONEY_TYPE: Final = pa.decimal128(19, 6)
INT64_MAX: Final = 2**63 - 1
"""The largest ``stock`` or ``review_count`` (their columns are int64)."""
_TS: Final = pa.timestamp("us", tz="UTC")

VERSIONS_SCHEMA: Final = pa.schema(
    [
        pa.field("listing_id", pa.string(), nullable=False),
        pa.field("updated_at", _TS, nullable=False),
        pa.field("deleted", pa.bool_(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("description", pa.string()),
        pa.field("category", pa.string()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("materials", pa.list_(pa.string())),
        pa.field("price_amount", MONEY_TYPE),
        pa.field("price_currency", pa.string()),
        pa.field("shipping_amount", MONEY_TYPE),
        pa.field("shipping_currency", pa.string()),
        pa.field("stock", pa.int64()),
        pa.field("shop_id", pa.string()),
        pa.field("review_count", pa.int64()),
        pa.field("rating", pa.float64()),
        pa.field("attributes", pa.string()),
        pa.field("received_at", _TS, nullable=False),
        pa.field("source", pa.string(), nullable=False),
    ]
)
"""One row per stored listing version (``attributes`` is a JSON object of other columns)."""

REQUIRED_COLUMNS: Final = ("listing_id", "title", "category", "price", "currency", "updated_at")
"""The minimal file contract: any other column is kept as an attribute."""

CORE_COLUMNS: Final = (
    *REQUIRED_COLUMNS,
    "deleted",
    "description",
    "tags",
    "materials",
    "shipping",
    "shipping_currency",
    "stock",
    "shop_id",
    "review_count",
    "rating",
)
"""File columns with a meaning; ``tags`` and ``materials`` are ``|``-separated in CSV."""


@dataclasses.dataclass(frozen=True, slots=True)
class CatalogLimits:
    """Limits on listings, over HTTP and from files.

    Attributes:
        max_body_bytes: Largest ``POST /v1/listings`` body (after gzip); 413 above it.
        max_listings: Most listings in one HTTP batch; 413 above it.
        max_id_chars: Longest ``listing_id`` and ``shop_id``.
        max_title_chars: Longest ``title``.
        max_description_chars: Longest ``description``; a longer listing is rejected alone.
        max_category_chars: Longest ``category``.
        max_tags: Most ``tags`` and most ``materials`` (each at most ``max_tag_chars``).
        max_tag_chars: Longest tag or material.
        max_attributes_bytes: Largest ``attributes`` object, as JSON.

    Example:
        >>> CatalogLimits(max_listings=0)
        Traceback (most recent call last):
        ...
        marketlift.errors.ConfigError: max_listings == 0, expected an integer >= 1.
    """

    max_body_bytes: int = 20 * 1024 * 1024
    max_listings: int = 5000
    max_id_chars: int = 128
    max_title_chars: int = 512
    max_description_chars: int = 16_384
    max_category_chars: int = 128
    max_tags: int = 64
    max_tag_chars: int = 64
    max_attributes_bytes: int = 8192

    def __post_init__(self) -> None:
        """Validate every limit."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(field.name, value, "an integer >= 1")


class ListingMoney(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An amount of money: a non-negative decimal string and an ISO 4217 code.

    The format is checked with the rest of the listing, so HTTP and files give the same errors.
    """

    amount: Annotated[str, Meta(description="a decimal string such as '24.90'")]
    currency: Annotated[str, Meta(description="an ISO 4217 code such as 'EUR'")]


AttributeValue = str | int | float | bool | None


class ListingIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One listing version as sent to ``POST /v1/listings``.

    ``title``, ``category`` and ``price`` are required unless ``deleted`` is true.

    Example:
        >>> raw = (b'{"listing_id": "L-1", "title": "Mug", "category": "ceramics", '
        ...        b'"price": {"amount": "24.90", "currency": "EUR"}, '
        ...        b'"updated_at": "2026-11-20T10:00:00Z"}')
        >>> msgspec.json.decode(raw, type=ListingIn).price.amount
        '24.90'
    """

    listing_id: str
    updated_at: Annotated[str, Meta(description="RFC 3339 with a zone; the version")]
    deleted: bool = False
    title: str | None = None
    description: str | None = None
    category: str | None = None
    tags: list[str] | None = None
    materials: list[str] | None = None
    price: ListingMoney | None = None
    shipping: ListingMoney | None = None
    stock: Annotated[int, Meta(ge=0, le=INT64_MAX)] | None = None
    shop_id: str | None = None
    review_count: Annotated[int, Meta(ge=0, le=INT64_MAX)] | None = None
    rating: Annotated[float, Meta(ge=0.0, le=5.0)] | None = None
    attributes: dict[str, AttributeValue] | None = None


def listing_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of one listing as sent over HTTP."""
    schema: dict[str, Any] = msgspec.json.schema(ListingIn)
    defs = schema.pop("$defs", {})
    body = defs.pop("ListingIn", schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://marketlift.dev/schema/listings/v1.json",
        **body,
        "title": "marketlift listing version",
        "description": "One listing version; title, category and price are required unless "
        "deleted is true. Limits: see CatalogLimits.",
        "$defs": defs,
    }
