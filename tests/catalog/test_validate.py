"""Listing validation: each bad value named with its field, nothing valid around it lost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from marketlift.catalog import CatalogLimits, normalize

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
GOOD = {"listing_id": "L-0", "title": "Mug", "category": "ceramics", "price": "24.90",
        "currency": "EUR", "updated_at": "2026-11-20T10:00:00Z"}  # fmt: skip


def _check(bad: dict[str, object], limits: CatalogLimits | None = None) -> tuple[str, object]:
    rows = [GOOD, {**GOOD, "listing_id": "L-1", **bad}, {**GOOD, "listing_id": "L-2"}]
    names = sorted({k for r in rows for k in r})
    raw = pa.table({k: [r.get(k) for r in rows] for k in names})
    out = normalize(raw, received_at=NOW, source="t", limits=limits)
    assert out.table.column("listing_id").to_pylist() == ["L-0", "L-2"]
    assert out.indexes.tolist() == [0, 2]
    (rejected,) = out.rejected
    assert (rejected.index, rejected.listing_id) == (1, "L-1")
    (error,) = rejected.errors
    return error.field, error.value


@pytest.mark.parametrize(
    ("bad", "field", "value"),
    [
        ({"price": "-1.00"}, "price", "-1.00"),
        ({"price": "12,50"}, "price", "12,50"),
        ({"price": "1.1234567"}, "price", "1.1234567"),
        ({"price": None}, "price", None),
        ({"currency": "XYZ"}, "currency", "XYZ"),
        ({"currency": "eur"}, "currency", "eur"),
        ({"title": ""}, "title", ""),
        ({"category": None}, "category", None),
        ({"updated_at": "2026-11-20T10:00:00"}, "updated_at", "2026-11-20T10:00:00"),
        ({"updated_at": "2026-13-20T10:00:00Z"}, "updated_at", "2026-13-20T10:00:00Z"),
        ({"updated_at": "yesterday"}, "updated_at", "yesterday"),
        ({"deleted": "maybe"}, "deleted", "maybe"),
        ({"stock": "-3"}, "stock", "-3"),
        ({"rating": "7"}, "rating", 7.0),
        ({"shipping": "free"}, "shipping", "free"),
    ],
)
def test_bad_value_is_named(bad: dict[str, object], field: str, value: object) -> None:
    assert _check(bad) == (field, value)


def test_long_listing_id_is_rejected() -> None:
    raw = pa.table({**{k: [v] for k, v in GOOD.items()}, "listing_id": ["x" * 129]})
    (rejected,) = normalize(raw, received_at=NOW, source="t").rejected
    assert rejected.errors[0].field == "listing_id"
    assert rejected.errors[0].expected == "at most 128 characters"


def test_two_megabyte_description_is_rejected_alone() -> None:
    field, value = _check({"description": "x" * (2 * 1024 * 1024)})
    assert field == "description"
    assert value == "<2097152 characters>"  # the value is summarized, not echoed back


def test_description_limit_is_configurable() -> None:
    assert _check({"description": "abcdef"}, CatalogLimits(max_description_chars=5))[0] == (
        "description"
    )


def test_deletion_needs_no_title_or_price() -> None:
    raw = pa.table({"listing_id": ["L-1"], "updated_at": ["2026-11-20T10:00:00Z"],
                    "deleted": [True]})  # fmt: skip
    out = normalize(raw, received_at=NOW, source="t")
    assert out.rejected == []
    assert out.table.column("deleted").to_pylist() == [True]


def test_typed_columns_are_accepted() -> None:
    raw = pa.table({
        "listing_id": ["L-1"], "title": ["Mug"], "category": ["ceramics"],
        "price": pa.array([Decimal("24.90")], pa.decimal128(10, 2)), "currency": ["JPY"],
        "updated_at": pa.array([dt.datetime(2026, 11, 20, 10)], pa.timestamp("ms")),
        "stock": [3], "rating": [4.5], "tags": [["blue", "handmade"]],
    })  # fmt: skip
    out = normalize(raw, received_at=NOW, source="t")
    assert out.rejected == []
    row = out.table.to_pylist()[0]
    assert row["price_amount"] == Decimal("24.90")
    assert row["updated_at"] == dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)  # naive: UTC
    assert (row["stock"], row["rating"], row["tags"]) == (3, 4.5, ["blue", "handmade"])


def test_float_price_is_refused() -> None:
    raw = pa.table({"listing_id": ["L-1"], "title": ["Mug"], "category": ["c"],
                    "price": [24.9], "currency": ["EUR"],
                    "updated_at": ["2026-11-20T10:00:00Z"]})  # fmt: skip
    (rejected,) = normalize(raw, received_at=NOW, source="t").rejected
    assert rejected.errors[0].field == "price"
    assert "not a float" in rejected.errors[0].expected


def test_tags_split_and_limited() -> None:
    raw = pa.table({"listing_id": ["L-1", "L-2"], "title": ["a", "b"], "category": ["c", "c"],
                    "price": ["1", "2"], "currency": ["EUR", "EUR"],
                    "updated_at": ["2026-11-20T10:00:00Z"] * 2,
                    "tags": ["blue|handmade", "|".join(["t"] * 65)]})  # fmt: skip
    out = normalize(raw, received_at=NOW, source="t")
    assert out.table.column("tags").to_pylist() == [["blue", "handmade"]]
    assert out.rejected[0].errors[0].field == "tags"


def test_shipping_takes_the_price_currency() -> None:
    raw = pa.table({"listing_id": ["L-1"], "title": ["Mug"], "category": ["c"],
                    "price": ["9.99"], "currency": ["GBP"], "shipping": ["3.50"],
                    "updated_at": ["2026-11-20T10:00:00+01:00"]})  # fmt: skip
    row = normalize(raw, received_at=NOW, source="t").table.to_pylist()[0]
    assert (row["shipping_amount"], row["shipping_currency"]) == (Decimal("3.5"), "GBP")
    assert row["updated_at"] == dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
