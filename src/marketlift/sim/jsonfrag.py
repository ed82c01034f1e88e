"""Vectorized JSON fragments, byte-identical to what msgspec encodes for the same values.

msgspec writes strings as is (apart from escapes our texts never need), integers in decimal,
floats in shortest round-trip form (Python's ``repr``), ``null`` for ``None`` and datetimes in
UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (the simulator's times never fall on a whole second).

Example:
    >>> import numpy as np
    >>> join(['{"a":', string(pa.array(["x", None])), "}"]).to_pylist()
    ['{"a":"x"}', '{"a":null}']
    >>> floats(np.array([0.5, 1 / 3])).to_pylist()
    ['0.5', '0.3333333333333333']
    >>> timestamps(np.array([1_790_000_000_000_001])).to_pylist()
    ['"2026-09-21T14:13:20.000001Z"']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "Piece",
    "floats",
    "identifiers",
    "integers",
    "join",
    "money",
    "string",
    "timestamp_pieces",
    "timestamps",
]

Piece: TypeAlias = pa.Array | str
"""A column of fragments, or a constant fragment."""
_DAY_US: Final = 86_400_000_000
_EPOCH: Final = dt.date(1970, 1, 1)
_TABLES: dict[str, pa.Array] = {}


def _table(name: str) -> pa.Array:
    """Lookup tables built once: ``HH:MM:SS`` for every second of a day, six-digit micros."""
    if name not in _TABLES:
        if name == "hms":
            sec = np.arange(86_400)
            two = [pc.utf8_lpad(pc.cast(pa.array(x), pa.string()), 2, "0")
                   for x in (sec // 3600, sec // 60 % 60, sec % 60)]  # fmt: skip
            _TABLES[name] = join([two[0], ":", two[1], ":", two[2]])
        else:
            _TABLES[name] = pc.utf8_lpad(pc.cast(pa.array(np.arange(1_000_000)), pa.string()), 6,
                                         "0")  # fmt: skip
    return _TABLES[name]


def identifiers(prefix: str, idx: npt.NDArray[np.integer], width: int) -> pa.Array:
    """Identifiers such as ``b0000042``: a prefix and a zero-padded number.

    Example:
        >>> identifiers("b", np.array([42]), 7).to_pylist()
        ['b0000042']
    """
    digits = pc.utf8_lpad(pc.cast(pa.array(idx), pa.string()), width, "0")
    return join([prefix, digits])


def join(pieces: Sequence[Piece]) -> pa.Array:
    """Concatenate fragments row by row (constants are repeated)."""
    return pc.binary_join_element_wise(*pieces, "")


def string(values: pa.Array) -> pa.Array:
    """JSON strings, ``null`` where the value is null (values need no escaping)."""
    return pc.fill_null(join(['"', values, '"']), "null")


def integers(values: npt.NDArray[np.integer]) -> pa.Array:
    """JSON integers."""
    return pc.cast(pa.array(values), pa.string())


def floats(values: npt.NDArray[np.floating]) -> pa.Array:
    """JSON numbers in Python's shortest round-trip form."""
    uniq, inverse = np.unique(values, return_inverse=True)
    table = pa.array([repr(float(v)) for v in uniq], pa.string())
    return table.take(pa.array(inverse.reshape(-1)))


def money(amount: pa.Array, currency: pa.Array) -> pa.Array:
    """JSON ``{"amount": ..., "currency": ...}`` objects, ``null`` where the amount is null."""
    return pc.fill_null(join(['{"amount":"', amount, '","currency":"', currency, '"}']), "null")


def timestamps(ts_us: npt.NDArray[np.int64]) -> pa.Array:
    """JSON strings of UTC times given in microseconds since the epoch (never whole seconds)."""
    return join(['"', *timestamp_pieces(ts_us), 'Z"'])


def timestamp_pieces(ts_us: npt.NDArray[np.int64]) -> list[Piece]:
    """The pieces of :func:`timestamps` without quotes and ``Z`` (to inline in a larger join)."""
    days = ts_us // _DAY_US
    first = int(days.min()) if len(days) else 0
    last = int(days.max()) if len(days) else 0
    dates = pa.array([(_EPOCH + dt.timedelta(days=d)).isoformat() for d in range(first, last + 1)])
    tod = ts_us - days * _DAY_US
    sec = tod // 1_000_000
    micro = tod - sec * 1_000_000
    return [
        dates.take(pa.array(days - first)), "T", _table("hms").take(pa.array(sec)), ".",
        _table("micro").take(pa.array(micro)),
    ]  # fmt: skip
