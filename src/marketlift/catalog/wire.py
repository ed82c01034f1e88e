"""Listings as JSON (the body of ``POST /v1/listings``, or NDJSON lines) to a raw Arrow table.

msgspec checks the shape (types, unknown fields); :func:`marketlift.catalog.validate.normalize`
checks the values, so HTTP and files answer with the same errors.

Example:
    >>> body = (b'[{"listing_id": "L-1", "title": "Mug", "category": "ceramics", '
    ...         b'"price": {"amount": "24.90", "currency": "EUR"}, '
    ...         b'"updated_at": "2026-11-20T10:00:00Z"}, {"listing_id": 3}]')
    >>> decoded = decode_listings(body)
    >>> decoded.raw.column("currency").to_pylist(), decoded.rejected[0].errors[0].field
    (['EUR'], 'listing_id')
"""

from __future__ import annotations

import dataclasses
from typing import Final

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from marketlift.catalog.schema import CatalogLimits, ListingIn
from marketlift.catalog.validate import RejectedListing
from marketlift.events.validate import BatchFormatError, FieldError, explain_decode_error

__all__ = ["DecodedListings", "decode_listings", "listings_to_raw"]

_MANY: Final = msgspec.json.Decoder(list[ListingIn])
_ONE: Final = msgspec.json.Decoder(ListingIn)
_RAW: Final = msgspec.json.Decoder(list[msgspec.Raw])
_ENCODER: Final = msgspec.json.Encoder()


@dataclasses.dataclass(frozen=True, slots=True)
class DecodedListings:
    """The well-shaped listings as a raw table, their positions, and the misshapen ones."""

    raw: pa.Table
    positions: npt.NDArray[np.int64]
    rejected: list[RejectedListing]

    @property
    def size(self) -> int:
        """Listings in the body, valid or not."""
        return int(self.raw.num_rows) + len(self.rejected)


def decode_listings(body: bytes, *, limits: CatalogLimits | None = None) -> DecodedListings:
    """Decode a JSON array or NDJSON body of listings.

    Raises:
        BatchFormatError: The body is not a JSON array or NDJSON, is empty, or holds more
            listings than ``limits.max_listings`` (``status`` 413).
    """
    limits = limits or CatalogLimits()
    stripped = body.strip()
    if not stripped:
        msg = "the body is empty, expected a JSON array or NDJSON of listings"
        raise BatchFormatError(msg)
    if stripped[:1] == b"[":
        try:  # the fast path: every listing well-shaped, decoded in one call
            items = _MANY.decode(stripped)
        except msgspec.DecodeError:
            items = None
        if items is not None:
            _check_count(len(items), limits)
            return DecodedListings(
                listings_to_raw(items), np.arange(len(items), dtype=np.int64), []
            )
        try:
            elements: list[bytes] | list[msgspec.Raw] = _RAW.decode(stripped)
        except msgspec.DecodeError as exc:
            msg = f"the body is not a valid JSON array of listings: {exc}"
            raise BatchFormatError(msg) from None
    else:
        elements = [line for line in stripped.split(b"\n") if line.strip()]
    _check_count(len(elements), limits)
    good: list[ListingIn] = []
    positions: list[int] = []
    rejected: list[RejectedListing] = []
    for index, element in enumerate(elements):  # the slow path: some listing is misshapen
        raw = bytes(element)
        try:
            good.append(_ONE.decode(raw))
            positions.append(index)
        except msgspec.DecodeError as exc:
            error = explain_decode_error(exc, raw)
            if error.expected.startswith("no such field"):
                error = FieldError(error.field, error.value, "no such field on a listing")
            rejected.append(RejectedListing(index, _id_of(raw), [error]))
    return DecodedListings(listings_to_raw(good), np.asarray(positions, dtype=np.int64), rejected)


def _check_count(n: int, limits: CatalogLimits) -> None:
    if not n:
        msg = "the batch holds no listings, expected at least 1"
        raise BatchFormatError(msg)
    if n > limits.max_listings:
        msg = f"the batch holds {n} listings, expected at most {limits.max_listings}"
        raise BatchFormatError(msg, status=413)


def listings_to_raw(items: list[ListingIn]) -> pa.Table:
    """Columns of decoded listings, named as in the file contract."""
    price = [i.price for i in items]
    shipping = [i.shipping for i in items]
    return pa.table(
        {
            "listing_id": pa.array([i.listing_id for i in items], pa.string()),
            "updated_at": pa.array([i.updated_at for i in items], pa.string()),
            "deleted": pa.array([i.deleted for i in items], pa.bool_()),
            "title": pa.array([i.title for i in items], pa.string()),
            "description": pa.array([i.description for i in items], pa.string()),
            "category": pa.array([i.category for i in items], pa.string()),
            "tags": pa.array([i.tags for i in items], pa.list_(pa.string())),
            "materials": pa.array([i.materials for i in items], pa.list_(pa.string())),
            "price": pa.array([p.amount if p else None for p in price], pa.string()),
            "currency": pa.array([p.currency if p else None for p in price], pa.string()),
            "shipping": pa.array([p.amount if p else None for p in shipping], pa.string()),
            "shipping_currency": pa.array(
                [p.currency if p else None for p in shipping], pa.string()
            ),
            "stock": pa.array([i.stock for i in items], pa.int64()),
            "shop_id": pa.array([i.shop_id for i in items], pa.string()),
            "review_count": pa.array([i.review_count for i in items], pa.int64()),
            "rating": pa.array([i.rating for i in items], pa.float64()),
            "attributes": pa.array(
                [_ENCODER.encode(i.attributes).decode() if i.attributes else None for i in items],
                pa.string(),
            ),
        }
    )


def _id_of(raw: bytes) -> str | None:
    try:
        obj = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    value = obj.get("listing_id") if isinstance(obj, dict) else None
    return value[:128] if isinstance(value, str) else None
