"""``catalog load`` from CSV, Parquet and NDJSON: one contract, row numbers on rejections."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from marketlift.catalog import CatalogStore, listing_json_schema, load_files
from marketlift.errors import ConfigError

HEADER = "listing_id,title,category,price,currency,updated_at,colour,tags\n"
ROWS = [
    "L-1,Mug,ceramics,24.90,EUR,2026-11-20T10:00:00Z,blue,handmade|blue\n",
    "L-2,Vase,ceramics,abc,EUR,2026-11-20T10:00:00Z,red,\n",
    "L-3,Ring,jewelry,120,USD,2026-11-21T08:30:00+01:00,gold,\n",
]


def _objects() -> list[dict[str, object]]:
    return [
        {"listing_id": "L-1", "title": "Mug", "category": "ceramics", "tags": ["handmade", "blue"],
         "price": {"amount": "24.90", "currency": "EUR"}, "updated_at": "2026-11-20T10:00:00Z",
         "attributes": {"colour": "blue"}},
        {"listing_id": "L-2", "title": "Vase", "category": "ceramics",
         "price": {"amount": "abc", "currency": "EUR"}, "updated_at": "2026-11-20T10:00:00Z"},
        {"listing_id": "L-3", "title": "Ring", "category": "jewelry",
         "price": {"amount": "120", "currency": "USD"},
         "updated_at": "2026-11-21T08:30:00+01:00", "attributes": {"colour": "gold"}},
    ]  # fmt: skip


def _write(folder: Path, kind: str) -> Path:
    if kind == "csv":
        path = folder / "shop.csv"
        path.write_text(HEADER + "".join(ROWS))
    elif kind == "ndjson":
        path = folder / "shop.ndjson"
        path.write_text("\n".join(json.dumps(o) for o in _objects()) + "\n")
    else:
        path = folder / "shop.parquet"
        table = pa.table({
            "listing_id": ["L-1", "L-2", "L-3"], "title": ["Mug", "Vase", "Ring"],
            "category": ["ceramics", "ceramics", "jewelry"], "price": ["24.90", "abc", "120"],
            "currency": ["EUR", "EUR", "USD"], "colour": ["blue", "red", "gold"],
            "updated_at": ["2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z",
                           "2026-11-21T08:30:00+01:00"],
            "tags": [["handmade", "blue"], None, None],
        })  # fmt: skip
        pq.write_table(table, path)
    return path


@pytest.mark.parametrize("kind", ["csv", "parquet", "ndjson"])
def test_every_format_loads_the_same_catalog(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path, kind)
    report = load_files(tmp_path / "data", [path], chunk_rows=2)
    assert report.counts() == (2, 0, 0, 1)
    (rejected,) = report.rejected
    assert rejected.index == 1  # the row (or line) of the file, across chunks
    assert rejected.errors[0].field == "price"
    assert rejected.errors[0].value == "abc"
    store = CatalogStore(tmp_path / "data")
    mug = store.show("L-1")
    assert mug is not None
    assert mug["price"] == {"amount": "24.90", "currency": "EUR"}
    assert mug["tags"] == ["handmade", "blue"]
    assert mug["attributes"] == {"colour": "blue"}
    ring = store.show("L-3")
    assert ring is not None
    assert ring["updated_at"] == "2026-11-21T07:30:00Z"
    assert load_files(tmp_path / "data", [path]).counts() == (0, 2, 0, 1)


def test_missing_column_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("listing_id,title,price\nL-1,Mug,3\n")
    with pytest.raises(ConfigError, match=r"missing: category, currency, updated_at"):
        load_files(tmp_path / "data", [path])


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "shop.xlsx"
    path.write_text("x")
    with pytest.raises(ConfigError, match=r"a \.csv, \.parquet, \.ndjson or \.jsonl file"):
        load_files(tmp_path / "data", [path])


def test_json_schema_accepts_the_contract_example() -> None:
    schema = listing_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(_objects()[0])
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"listing_id": "L-1", "updated_at": "x", "colour": "blue"})
