import csv
import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from marketlift.models.tabular import (
    MAX_AUTO_CATEGORIES,
    ColumnError,
    encode,
    infer_schema,
    label_array,
    read_table,
)


def test_kinds_missing_and_unseen_categories():
    table = pa.table(
        {
            "n": pa.array([1, None, 3], pa.int32()),
            "price": pa.array(["1.50", "2.00", None], pa.string()).cast(pa.decimal128(5, 2)),
            "flag": [True, None, False],
            "city": ["a", None, "b"],
            "y": [0, 1, 0],
        }
    )
    schema = infer_schema(table, label="y")
    assert [(c.name, c.kind) for c in schema.columns] == [
        ("n", "numeric"),
        ("price", "numeric"),
        ("flag", "boolean"),
        ("city", "categorical"),
    ]
    feats = encode(table, schema)
    assert feats.flags.c_contiguous
    assert feats.dtype == np.float64
    assert feats[0].tolist() == [1.0, 1.5, 1.0, 0.0]
    assert np.isnan(feats[1]).tolist() == [True, False, True, True]
    unseen = encode(pa.table({"n": [1], "price": [2.0], "flag": [False], "city": ["zzz"]}), schema)
    assert np.isnan(unseen[0, 3])


def test_declared_categorical_integer_and_hash_changes():
    table = pa.table({"store": [10, 20, 10], "x": [1.0, 2.0, 3.0], "y": [1, 0, 1]})
    plain = infer_schema(table, label="y")
    declared = infer_schema(table, label="y", categorical=["store"])
    assert declared.columns[0].kind == "categorical"
    assert declared.columns[0].categories == ("10", "20")
    assert plain.hash != declared.hash


def test_timestamp_column_error_names_column_type_and_fix():
    table = pa.table({"ts": [dt.datetime(2026, 1, 1)], "y": [1]})
    with pytest.raises(ColumnError) as err:
        infer_schema(table, label="y")
    message = str(err.value)
    assert "'ts'" in message
    assert "timestamp" in message
    assert "--drop ts" in message


def test_list_column_and_high_cardinality_strings_are_refused():
    with pytest.raises(ColumnError, match=r"'tags'.*list"):
        infer_schema(pa.table({"tags": [["a"], ["b"]], "y": [0, 1]}), label="y")
    n = MAX_AUTO_CATEGORIES + 1
    table = pa.table({"user": [f"u{i}" for i in range(n)], "y": [i % 2 for i in range(n)]})
    with pytest.raises(ColumnError, match=f"'user' has {n} distinct values.*--categorical user"):
        infer_schema(table, label="y")


def test_missing_and_bad_labels_name_the_value():
    table = pa.table({"x": [1, 2, 3], "y": [0, 2, 1], "s": ["yes", "no", "maybe"]})
    with pytest.raises(ColumnError, match=r"'y' has value 2\.0, expected a binary label"):
        label_array(table, "y")
    with pytest.raises(ColumnError, match="'s' has value 'maybe'"):
        label_array(table, "s")
    with pytest.raises(ColumnError, match="'bought' has no such column"):
        infer_schema(table, label="bought")
    assert label_array(table.slice(0, 2), "s").tolist() == [1, 0]


def test_read_plain_csv_parquet_and_query(tmp_path):
    path = tmp_path / "plain.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["age", "country", "bought"])
        writer.writerows([[31, "DE", "true"], [45, "FR", "false"]])
    table = read_table(path)
    assert table.column_names == ["age", "country", "bought"]
    pq.write_table(table, tmp_path / "plain.parquet")
    assert read_table(tmp_path / "plain.parquet").equals(table)
    assert read_table(f"SELECT * FROM read_csv('{path}')").num_rows == 2
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match=r"expected \.csv, \.tsv or \.parquet"):
        read_table(tmp_path / "x.json")
