"""Check listings column by column (Arrow, no loop over rows) and turn them into versions.

Both paths (HTTP objects and file rows) arrive as a *raw* Arrow table whose columns are named
as in :data:`~marketlift.catalog.schema.CORE_COLUMNS` (strings, or already typed values), plus
``attributes`` (a JSON object as text). :func:`normalize` returns the valid rows as
:data:`~marketlift.catalog.schema.VERSIONS_SCHEMA` and, for every invalid row, its errors,
each naming the field, the value and what was expected. Nothing valid around a bad row is lost.

Example:
    >>> import datetime as dt
    >>> raw = pa.table({"listing_id": ["L-1", "L-2"], "title": ["Mug", "Vase"],
    ...                 "category": ["ceramics", "ceramics"], "price": ["24.90", "-3"],
    ...                 "currency": ["EUR", "EUR"],
    ...                 "updated_at": ["2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z"]})
    >>> now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    >>> out = normalize(raw, received_at=now, source="file")
    >>> out.table.column("price_amount").to_pylist()
    [Decimal('24.900000')]
    >>> out.rejected[0].errors[0].field, out.rejected[0].errors[0].value
    ('price', '-3')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.catalog.currency import CURRENCIES
from marketlift.catalog.schema import MONEY_TYPE, VERSIONS_SCHEMA, CatalogLimits
from marketlift.events.validate import FieldError

__all__ = ["Normalized", "RejectedListing", "normalize"]

_AMOUNT: Final = r"^[0-9]{1,13}(\.[0-9]{1,6})?$"
_AMOUNT_RULE: Final = "a non-negative decimal string such as '24.90' (at most 13+6 digits)"
_CURRENCY_RULE: Final = "an ISO 4217 currency code such as 'EUR'"
_TIME: Final = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|z|[+-]\d{2}:?\d{2})$"
_TIME_RULE: Final = "an RFC 3339 time with a zone, such as '2026-11-20T10:00:00Z'"
_INT: Final = r"^[0-9]{1,18}$"
_TS: Final = pa.timestamp("us", tz="UTC")
_LOOSE: Final = pa.schema([f.with_nullable(nullable=True) for f in VERSIONS_SCHEMA])
_TRUE: Final = ("true", "1", "yes", "True", "TRUE")
_FALSE: Final = ("false", "0", "no", "", "False", "FALSE")


class RejectedListing:
    """A listing that failed validation, with its position in the batch or file."""

    __slots__ = ("errors", "index", "listing_id")

    def __init__(self, index: int, listing_id: str | None, errors: list[FieldError]) -> None:
        self.index = index
        self.listing_id = listing_id
        self.errors = errors

    def to_dict(self) -> dict[str, object]:
        """The report entry: ``{"index", "listing_id", "errors": [{field, value, expected}]}``."""
        errors = [{"field": e.field, "value": e.value, "expected": e.expected} for e in self.errors]
        return {"index": self.index, "listing_id": self.listing_id, "errors": errors}


@dataclasses.dataclass(frozen=True, slots=True)
class Normalized:
    """Valid versions (:data:`VERSIONS_SCHEMA`, with their batch positions) and rejections."""

    table: pa.Table
    indexes: npt.NDArray[np.int64]
    rejected: list[RejectedListing]


class _Errors:
    """Per-row errors collected as (mask, field, values, expected) and expanded at the end."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.bad = np.zeros(n, dtype=bool)
        self.found: list[tuple[npt.NDArray[np.bool_], str, pa.Array, str]] = []

    def add(
        self, mask: pa.Array | npt.NDArray[np.bool_], field: str, values: pa.Array, expected: str
    ) -> None:
        arr = _mask(mask)
        if arr.any():
            self.bad |= arr
            self.found.append((arr, field, values, expected))

    def rejected(self, ids: pa.Array, positions: npt.NDArray[np.int64]) -> list[RejectedListing]:
        rows = np.flatnonzero(self.bad)
        by_row: dict[int, list[FieldError]] = {int(r): [] for r in rows}
        for mask, field, values, expected in self.found:
            for r in np.flatnonzero(mask):  # only the failing rows: the error path
                value = values[int(r)].as_py()
                if isinstance(value, str) and len(value) > 200:
                    value = f"<{len(value)} characters>"
                by_row[int(r)].append(FieldError(field, value, expected))
        return [
            RejectedListing(int(positions[r]), _id_or_none(ids, int(r)), by_row[int(r)])
            for r in rows
        ]


def normalize(
    raw: pa.Table,
    *,
    received_at: dt.datetime,
    source: str,
    limits: CatalogLimits | None = None,
    positions: npt.NDArray[np.int64] | None = None,
) -> Normalized:
    """Validate a raw table of listings and convert the valid rows to versions.

    Args:
        raw: Columns named as in the file contract (see the module docstring).
        received_at: When the server (or loader) received them.
        source: Where they came from (``http``, ``file:<name>``, ``sim``).
        limits: Limits to apply; the defaults of :class:`CatalogLimits` when ``None``.
        positions: The position of each row in its batch or file; ``0..n-1`` when ``None``.

    Returns:
        The valid versions and the rejected rows.
    """
    limits = limits or CatalogLimits()
    n = raw.num_rows
    positions = np.arange(n, dtype=np.int64) if positions is None else positions
    errors = _Errors(n)
    ids = _text(raw, "listing_id", n)
    errors.add(_blank(ids), "listing_id", ids, "a listing id (the field is required)")
    _too_long(errors, ids, "listing_id", limits.max_id_chars)
    updated_at = _time(raw, errors, n)
    deleted = _deleted(raw, errors, n)
    live = pc.invert(deleted)
    for name, cap in (("title", limits.max_title_chars), ("category", limits.max_category_chars)):
        values = _text(raw, name, n)
        errors.add(
            pc.and_(live, _blank(values)),
            name,
            values,
            f"a non-empty {name} (required unless deleted)",
        )
        _too_long(errors, values, name, cap)
    description = _text(raw, "description", n)
    _too_long(errors, description, "description", limits.max_description_chars)
    shop = _text(raw, "shop_id", n)
    _too_long(errors, shop, "shop_id", limits.max_id_chars)
    price, currency = _money(raw, errors, "price", "currency", n, required=live)
    shipping, ship_currency = _money(
        raw, errors, "shipping", "shipping_currency", n, default_currency=currency
    )
    tags = _list(raw, errors, "tags", n, limits)
    materials = _list(raw, errors, "materials", n, limits)
    stock = _count(raw, errors, "stock", n)
    reviews = _count(raw, errors, "review_count", n)
    rating = _rating(raw, errors, n)
    attributes = _text(raw, "attributes", n)
    too_big = pc.greater(
        pc.binary_length(pc.cast(attributes, pa.binary())), limits.max_attributes_bytes
    )
    errors.add(
        too_big,
        "attributes",
        attributes,
        f"at most {limits.max_attributes_bytes} bytes of attributes as JSON",
    )
    table = pa.Table.from_arrays(
        [
            ids,
            updated_at,
            deleted,
            _text(raw, "title", n),
            description,
            _text(raw, "category", n),
            tags,
            materials,
            price,
            currency,
            shipping,
            ship_currency,
            stock,
            shop,
            reviews,
            rating,
            attributes,
            pa.repeat(pa.scalar(received_at, _TS), n),
            pa.repeat(pa.scalar(source, pa.string()), n),
        ],
        schema=_LOOSE,
    )
    good = ~errors.bad
    rejected = errors.rejected(ids, positions)
    valid = table.filter(pa.array(good)).cast(VERSIONS_SCHEMA)
    return Normalized(valid, positions[good], rejected)


def _mask(mask: pa.Array | npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    if isinstance(mask, np.ndarray):
        return mask.astype(bool)
    filled = pc.fill_null(mask, fill_value=False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _id_or_none(ids: pa.Array, row: int) -> str | None:
    value = ids[row].as_py()
    return value[:128] if isinstance(value, str) and value else None


def _column(raw: pa.Table, name: str, n: int) -> pa.Array:
    if name not in raw.column_names:
        return pa.nulls(n)
    return raw.column(name).combine_chunks()


def _text(raw: pa.Table, name: str, n: int) -> pa.Array:
    column = _column(raw, name, n)
    if pa.types.is_large_string(column.type) or pa.types.is_dictionary(column.type):
        return column.cast(pa.string())
    if not pa.types.is_string(column.type):
        return pc.cast(column, pa.string())
    return column


def _blank(values: pa.Array) -> pa.Array:
    return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(values), ""), fill_value=True)


def _too_long(errors: _Errors, values: pa.Array, name: str, cap: int) -> None:
    errors.add(pc.greater(pc.utf8_length(values), cap), name, values, f"at most {cap} characters")


def _time(raw: pa.Table, errors: _Errors, n: int) -> pa.Array:
    column = _column(raw, "updated_at", n)
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:  # a naive timestamp in a Parquet file is read as UTC
            column = pc.assume_timezone(column, "UTC")
        out = column.cast(_TS)
        errors.add(out.is_null(), "updated_at", out, _TIME_RULE)
        return out
    text = _text(raw, "updated_at", n)
    ok = pc.fill_null(pc.match_substring_regex(text, _TIME), fill_value=False)
    candidate = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    try:
        out = pc.cast(candidate, _TS)
    except pa.ArrowInvalid:  # a well-formed but impossible time (month 13): find it
        parsed = [_parse_one(v) for v in candidate.to_pylist()]
        out = pa.array(parsed, _TS)
    errors.add(out.is_null(), "updated_at", text, _TIME_RULE)
    return out


def _parse_one(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None


def _deleted(raw: pa.Table, errors: _Errors, n: int) -> pa.Array:
    column = _column(raw, "deleted", n)
    if pa.types.is_boolean(column.type):
        return pc.fill_null(column, fill_value=False)
    if pa.types.is_null(column.type):
        return pa.array(np.zeros(n, dtype=bool))
    text = pc.fill_null(_text(raw, "deleted", n), "")
    yes = pc.is_in(text, pa.array(_TRUE))
    errors.add(
        pc.invert(pc.or_(yes, pc.is_in(text, pa.array(_FALSE)))), "deleted", text, "true or false"
    )
    return yes


def _money(
    raw: pa.Table,
    errors: _Errors,
    amount_name: str,
    currency_name: str,
    n: int,
    *,
    required: pa.Array | None = None,
    default_currency: pa.Array | None = None,
) -> tuple[pa.Array, pa.Array]:
    column = _column(raw, amount_name, n)
    if pa.types.is_floating(column.type):
        text = pc.cast(column, pa.string())
        errors.add(column.is_valid(), amount_name, text, _AMOUNT_RULE + ", not a float")
        amount = pa.nulls(n, MONEY_TYPE)
    elif pa.types.is_decimal(column.type) or pa.types.is_integer(column.type):
        amount = pc.cast(column, MONEY_TYPE)
        errors.add(pc.less(amount, pa.scalar(0, MONEY_TYPE)), amount_name, column, _AMOUNT_RULE)
    else:
        text = _text(raw, amount_name, n)
        ok = pc.fill_null(pc.match_substring_regex(text, _AMOUNT), fill_value=False)
        errors.add(pc.and_(pc.invert(ok), text.is_valid()), amount_name, text, _AMOUNT_RULE)
        amount = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), MONEY_TYPE)
    if required is not None:
        errors.add(
            pc.and_(required, _column(raw, amount_name, n).is_null()),
            amount_name,
            pa.nulls(n, pa.string()),
            _AMOUNT_RULE + " (required unless deleted)",
        )
    currency = _text(raw, currency_name, n)
    if default_currency is not None:
        currency = pc.coalesce(currency, default_currency)
    has = amount.is_valid()
    known = pc.is_in(currency, pa.array(sorted(CURRENCIES)))
    errors.add(
        pc.and_(has, pc.invert(pc.fill_null(known, fill_value=False))),
        currency_name,
        currency,
        _CURRENCY_RULE,
    )
    return amount, pc.if_else(has, currency, pa.scalar(None, pa.string()))


def _list(raw: pa.Table, errors: _Errors, name: str, n: int, limits: CatalogLimits) -> pa.Array:
    column = _column(raw, name, n)
    if pa.types.is_null(column.type):
        return pa.nulls(n, pa.list_(pa.string()))
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        values = column.cast(pa.list_(pa.string()))
    else:
        text = _text(raw, name, n)
        blank = _blank(text)
        split = pc.split_pattern(pc.fill_null(text, ""), "|")
        values = pc.if_else(blank, pa.scalar(None, pa.list_(pa.string())), split)
    counts = pc.list_value_length(values)
    errors.add(
        pc.greater(counts, limits.max_tags), name, counts, f"at most {limits.max_tags} entries"
    )
    flat = pc.list_flatten(values)
    if len(flat):
        long = pc.greater(pc.utf8_length(flat), limits.max_tag_chars)
        parents = pc.list_parent_indices(values)
        rows = np.zeros(n, dtype=bool)
        rows[np.asarray(parents)[_mask(long)]] = True
        errors.add(rows, name, values, f"entries of at most {limits.max_tag_chars} characters")
    return values


def _count(raw: pa.Table, errors: _Errors, name: str, n: int) -> pa.Array:
    column = _column(raw, name, n)
    if pa.types.is_integer(column.type):
        out = pc.cast(column, pa.int64())
        errors.add(pc.less(out, 0), name, out, "an integer >= 0")
        return out
    text = pc.utf8_trim_whitespace(_text(raw, name, n))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    ok = pc.fill_null(pc.match_substring_regex(text, _INT), fill_value=False)
    errors.add(pc.and_(pc.invert(ok), text.is_valid()), name, text, "an integer >= 0")
    return pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.int64())


def _rating(raw: pa.Table, errors: _Errors, n: int) -> pa.Array:
    column = _column(raw, "rating", n)
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        out = pc.cast(column, pa.float64())
    else:
        text = pc.utf8_trim_whitespace(_text(raw, "rating", n))
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        ok = pc.fill_null(pc.match_substring_regex(text, r"^[0-9]+(\.[0-9]+)?$"), fill_value=False)
        errors.add(
            pc.and_(pc.invert(ok), text.is_valid()), "rating", text, "a number between 0 and 5"
        )
        out = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())
    bad = pc.or_(pc.less(out, 0.0), pc.greater(out, 5.0))
    errors.add(bad, "rating", out, "a number between 0 and 5")
    return pc.if_else(pc.fill_null(bad, fill_value=False), pa.scalar(None, pa.float64()), out)
