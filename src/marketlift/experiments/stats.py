"""Sufficient statistics: count, sums and sums of cross-products of a few columns.

A SQL engine reduces rows to one :class:`Moments` per group; inference reads only these.
Moments of disjoint samples merge with ``+`` (every field is a plain sum).

Example:
    >>> a = Moments.from_columns({"y": [1.0, 2.0], "x": [0.0, 1.0]})
    >>> b = Moments.from_columns({"y": [3.0], "x": [1.0]})
    >>> ab = a + b
    >>> ab.n, ab.mean("y"), ab.var("y"), round(ab.cov("x", "y"), 12)
    (3, 2.0, 1.0, 0.5)
    >>> ab == Moments.from_columns({"y": [1.0, 2.0, 3.0], "x": [0.0, 1.0, 1.0]})
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from marketlift.errors import ConfigError

__all__ = ["Moments", "pair_key"]


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The canonical (sorted) key of a cross-product."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Moments:
    """Count, per-column sums and sums of cross-products (including squares) of one sample.

    Attributes:
        n: Number of units.
        columns: Column names, in a fixed order.
        sums: ``sum(col)`` per column.
        pairs: Keys ``(a, b)`` with ``a <= b`` of the cross-products kept (``(a, a)`` is a sum
            of squares).
        cross: ``sum(a * b)`` per pair.
    """

    n: int
    columns: tuple[str, ...]
    sums: tuple[float, ...]
    pairs: tuple[tuple[str, str], ...] = ()
    cross: tuple[float, ...] = ()

    def __add__(self, other: Moments) -> Moments:
        if not isinstance(other, Moments):
            return NotImplemented
        if other.columns != self.columns or other.pairs != self.pairs:
            raise ConfigError(
                "other.columns", (other.columns, other.pairs), f"{(self.columns, self.pairs)}"
            )
        return Moments(
            self.n + other.n,
            self.columns,
            tuple(a + b for a, b in zip(self.sums, other.sums, strict=True)),
            self.pairs,
            tuple(a + b for a, b in zip(self.cross, other.cross, strict=True)),
        )

    @classmethod
    def zero(cls, columns: Sequence[str], pairs: Iterable[tuple[str, str]] = ()) -> Moments:
        """Moments of an empty sample (the identity of ``+``)."""
        keys = tuple(sorted({pair_key(*p) for p in pairs}))
        return cls(0, tuple(columns), (0.0,) * len(columns), keys, (0.0,) * len(keys))

    @classmethod
    def from_columns(
        cls,
        data: Mapping[str, Sequence[float]],
        pairs: Iterable[tuple[str, str]] | None = None,
    ) -> Moments:
        """Compute moments of columns in memory (every pair when ``pairs`` is ``None``).

        Example:
            >>> Moments.from_columns({"y": [1.0, 3.0]}).var("y")
            2.0
        """
        columns = tuple(data)
        if pairs is None:
            pairs = [(a, b) for i, a in enumerate(columns) for b in columns[i:]]
        keys = tuple(sorted({pair_key(*p) for p in pairs}))
        lengths = {len(v) for v in data.values()}
        if len(lengths) > 1:
            raise ConfigError("data", sorted(lengths), "columns of equal length")
        n = lengths.pop() if lengths else 0
        sums = tuple(float(sum(float(v) for v in data[c])) for c in columns)
        cross = tuple(
            float(sum(float(x) * float(y) for x, y in zip(data[a], data[b], strict=True)))
            for a, b in keys
        )
        return cls(n, columns, sums, keys, cross)

    def sum(self, column: str) -> float:
        """``sum(column)``."""
        try:
            return self.sums[self.columns.index(column)]
        except ValueError:
            raise ConfigError("column", column, f"one of {list(self.columns)}") from None

    def sum_product(self, a: str, b: str) -> float:
        """``sum(a * b)``."""
        key = pair_key(a, b)
        try:
            return self.cross[self.pairs.index(key)]
        except ValueError:
            raise ConfigError("pair", key, f"one of {list(self.pairs)}") from None

    def mean(self, column: str | None) -> float:
        """Sample mean; a missing column (``None``) is the constant 1."""
        if column is None:
            return 1.0
        return self.sum(column) / self.n if self.n else float("nan")

    def cov(self, a: str | None, b: str | None) -> float:
        """Sample covariance (``ddof=1``); zero when either column is ``None`` (a constant)."""
        if a is None or b is None:
            return 0.0
        if self.n < 2:
            return float("nan")
        centered = self.sum_product(a, b) - self.sum(a) * self.sum(b) / self.n
        return centered / (self.n - 1)

    def var(self, column: str | None) -> float:
        """Sample variance (``ddof=1``), never below zero; zero for ``None``."""
        return max(self.cov(column, column), 0.0) if column is not None else 0.0
