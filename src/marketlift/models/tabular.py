"""Bring-your-own-table input: read CSV, Parquet or a DuckDB query, infer and apply a schema.

A :class:`FeatureSchema` says, column by column, how a table becomes the float matrix the
boosted models take: numbers stay numbers (missing values become NaN), booleans become 0/1,
strings become category codes (a code LightGBM treats as categorical; unseen or missing values
become NaN). Columns that cannot be used (timestamps, lists, structs, binary, strings with too
many distinct values that were not declared categorical) raise :class:`ColumnError`, naming the
column, its type and what was expected.

Example:
    >>> import pyarrow as pa
    >>> table = pa.table({"price": [1.0, None, 3.0], "app": [True, False, True],
    ...                   "locale": ["de", "en", "de"], "bought": [1, 0, 1]})
    >>> schema = infer_schema(table, label="bought")
    >>> [(c.name, c.kind) for c in schema.columns]
    [('price', 'numeric'), ('app', 'boolean'), ('locale', 'categorical')]
    >>> encode(table, schema).tolist()[1]
    [nan, 0.0, 1.0]
    >>> label_array(table, "bought").tolist()
    [1, 0, 1]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.errors import MarketliftError

__all__ = [
    "MAX_AUTO_CATEGORIES",
    "ColumnError",
    "ColumnSpec",
    "FeatureSchema",
    "encode",
    "infer_schema",
    "label_array",
    "read_table",
]

MAX_AUTO_CATEGORIES: Final = 200
"""A string column with more distinct values than this must be declared categorical."""
_MAX_CATEGORIES: Final = 10_000

Kind = Literal["numeric", "boolean", "categorical"]


class ColumnError(MarketliftError, ValueError):
    """A column cannot be used: the message names the column, what it holds and what is expected.

    Example:
        >>> str(ColumnError("ts", "timestamp[us]", "a number, boolean or string column"))
        "column 'ts' has timestamp[us], expected a number, boolean or string column."
    """

    def __init__(self, column: str, found: str, expected: str) -> None:
        self.column = column
        super().__init__(f"column {column!r} has {found}, expected {expected}.")

    @classmethod
    def type_(cls, column: str, dtype: object, expected: str) -> ColumnError:
        """The column's type is the problem."""
        return cls(column, f"type {dtype}", expected)


@dataclasses.dataclass(frozen=True, slots=True)
class ColumnSpec:
    """How one column becomes a feature: ``kind`` and, for categorical ones, the categories."""

    name: str
    kind: Kind
    categories: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class FeatureSchema:
    """The ordered feature columns of a model; :attr:`hash` identifies it in the registry."""

    columns: tuple[ColumnSpec, ...]

    @property
    def names(self) -> list[str]:
        """Feature names in matrix order."""
        return [c.name for c in self.columns]

    @property
    def categorical_indices(self) -> list[int]:
        """Positions of the categorical features (for LightGBM's ``categorical_feature``)."""
        return [i for i, c in enumerate(self.columns) if c.kind == "categorical"]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {"columns": [dataclasses.asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSchema:
        """The inverse of :meth:`to_dict`."""
        return cls(
            tuple(
                ColumnSpec(c["name"], c["kind"], tuple(c.get("categories", ())))
                for c in data["columns"]
            )
        )

    @property
    def hash(self) -> str:
        """A short SHA-256 of the names, kinds and categories."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def read_table(source: str | os.PathLike[str] | pa.Table | Any) -> pa.Table:
    """Read a table: a CSV or Parquet file, a DuckDB query, or a DataFrame.

    A string starting with ``SELECT``, ``WITH`` or ``FROM`` is run as a DuckDB query; anything
    else that ``pyarrow.table`` accepts (a pandas or polars DataFrame) is converted.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the file is neither ``.csv`` nor ``.parquet``.
    """
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, str) and source.lstrip()[:6].upper() in {"SELECT", "WITH ", "FROM "}:
        relation = duckdb.sql(source)
        if relation is None:
            raise ValueError(f"query {source!r} returns no rows; expected a SELECT")
        return relation.to_arrow_table()
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            msg = f"table file {str(path)!r} does not exist"
            raise FileNotFoundError(msg)
        suffix = path.suffix.lower()
        if suffix in {".parquet", ".pq"}:
            import pyarrow.parquet as pq  # noqa: PLC0415

            return pq.read_table(path)
        if suffix in {".csv", ".tsv"}:
            import pyarrow.csv as pacsv  # noqa: PLC0415

            parse = pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
            return pacsv.read_csv(path, parse_options=parse)
        msg = f"table file {str(path)!r} has suffix {suffix!r}, expected .csv, .tsv or .parquet"
        raise ValueError(msg)
    return pa.table(source)


def _require(table: pa.Table, column: str, role: str) -> None:
    if column not in table.column_names:
        found = ", ".join(table.column_names)
        msg = f"{role} column {column!r} is not in the table; its columns are: {found}"
        raise ColumnError(column, "no such column", f"one of: {found}") from KeyError(msg)


def _is_number(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def _is_string(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t))


def infer_schema(
    table: pa.Table,
    *,
    label: str | None = None,
    drop: Sequence[str] = (),
    categorical: Sequence[str] = (),
) -> FeatureSchema:
    """Decide how each column (except ``label`` and ``drop``) becomes a feature.

    Numbers are numeric, booleans boolean, strings categorical (at most
    :data:`MAX_AUTO_CATEGORIES` distinct values unless listed in ``categorical``). Integer
    columns listed in ``categorical`` are treated as categories too.

    Raises:
        ColumnError: a named column is missing, or a column's type cannot be used.
    """
    for name in (*drop, *categorical, *([label] if label else [])):
        _require(table, name, "label" if name == label else "named")
    declared = set(categorical)
    specs: list[ColumnSpec] = []
    for field in table.schema:
        name, dtype = field.name, field.type
        if name == label or name in drop:
            continue
        if pa.types.is_boolean(dtype) and name not in declared:
            specs.append(ColumnSpec(name, "boolean"))
        elif _is_number(dtype) and name not in declared:
            specs.append(ColumnSpec(name, "numeric"))
        elif _is_string(dtype) or (
            name in declared and (_is_number(dtype) or pa.types.is_boolean(dtype))
        ):
            values = pc.unique(pc.cast(table[name], pa.string())).drop_null()
            n = len(values)
            limit = _MAX_CATEGORIES if name in declared else MAX_AUTO_CATEGORIES
            if n > limit:
                raise ColumnError(
                    name, f"{n} distinct values",
                    f"at most {limit} for a categorical feature; drop it (--drop {name})"
                    + ("" if name in declared else f" or declare it (--categorical {name})"),
                )  # fmt: skip
            specs.append(ColumnSpec(name, "categorical", tuple(sorted(values.to_pylist()))))
        else:
            raise ColumnError.type_(
                name, dtype,
                f"a number, boolean or string column; drop it (--drop {name}) or derive a number",
            )  # fmt: skip
    if not specs:
        raise ColumnError("*", "no feature columns left", "at least one feature column")
    return FeatureSchema(tuple(specs))


def encode(table: pa.Table, schema: FeatureSchema) -> npt.NDArray[np.float64]:
    """The C-contiguous float64 matrix of ``table`` under ``schema`` (NaN for missing/unseen).

    Raises:
        ColumnError: a schema column is missing or has an incompatible type.
    """
    out = np.empty((table.num_rows, len(schema.columns)), dtype=np.float64)
    for j, spec in enumerate(schema.columns):
        _require(table, spec.name, "feature")
        col = table[spec.name]
        dtype = col.type
        if spec.kind == "categorical":
            strings = pc.cast(col, pa.string())
            codes = pc.index_in(strings, value_set=pa.array(spec.categories, pa.string()))
            out[:, j] = codes.to_numpy(zero_copy_only=False).astype(np.float64)
            out[:, j][np.asarray(pc.is_null(codes).to_numpy(zero_copy_only=False))] = np.nan
        elif pa.types.is_boolean(dtype) or _is_number(dtype):
            values = pc.cast(col, pa.float64())
            out[:, j] = values.to_numpy(zero_copy_only=False)
        else:
            raise ColumnError.type_(spec.name, dtype, f"a {spec.kind} column as at training")
    return out


def label_array(table: pa.Table, label: str) -> npt.NDArray[np.int64]:
    """The binary label as 0/1: booleans, 0/1 numbers, or strings ``true/false``, ``yes/no``.

    Raises:
        ColumnError: the label is missing, has missing values or is not binary.
    """
    _require(table, label, "label")
    col = table[label]
    if col.null_count:
        raise ColumnError(label, f"{col.null_count} missing values", "a label on every row")
    dtype = col.type
    if pa.types.is_boolean(dtype):
        return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.int64)
    if _is_number(dtype):
        values = np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False))
        bad = values[(values != 0) & (values != 1)]
        if len(bad):
            raise ColumnError(label, f"value {float(bad[0])!r}", "a binary label (0 or 1)")
        return values.astype(np.int64)
    if _is_string(dtype):
        lowered = pc.utf8_lower(pc.cast(col, pa.string())).to_pylist()
        mapping = {"1": 1, "true": 1, "yes": 1, "0": 0, "false": 0, "no": 0}
        for v in lowered:
            if v not in mapping:
                raise ColumnError(label, f"value {v!r}", "a binary label (1/0, true/false, yes/no)")
        return np.array([mapping[v] for v in lowered], dtype=np.int64)
    raise ColumnError.type_(label, dtype, "a boolean, 0/1 number or yes/no string label")
