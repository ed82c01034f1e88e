"""Logged bandit feedback: context, action, reward and the logging propensity of each decision.

Example:
    >>> import numpy as np
    >>> data = LoggedBandit.build(actions=["none", "push"], action=["none", "push", "push"],
    ...                           reward=[0.0, 1.0, 0.0], propensity=[0.5, 0.5, 0.5])
    >>> len(data), data.action.tolist(), data.context.shape
    (3, [0, 1, 1], (3, 0))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from marketlift.errors import ConfigError

__all__ = ["LoggedBandit"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclasses.dataclass(frozen=True, slots=True)
class LoggedBandit:
    """Logged decisions; action columns follow ``actions``.

    Attributes:
        actions: Action names (column order of every per-action array).
        action: Index of the action taken per row.
        reward: Observed reward per row.
        propensity: Probability the logging policy had of taking it, in (0, 1].
        context: Features ``(n, d)`` (``d`` may be 0).
        available: Which actions could be taken per row ``(n, k)``.
        context_names: Names of the context columns.
    """

    actions: tuple[str, ...]
    action: IntArray
    reward: FloatArray
    propensity: FloatArray
    context: FloatArray
    available: BoolArray
    context_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.action)

    @classmethod
    def build(
        cls,
        *,
        actions: Sequence[str],
        action: npt.ArrayLike,
        reward: npt.ArrayLike,
        propensity: npt.ArrayLike,
        context: npt.ArrayLike | None = None,
        available: npt.ArrayLike | None = None,
        context_names: Sequence[str] = (),
    ) -> LoggedBandit:
        """Check and assemble; ``action`` holds names (or indexes into ``actions``)."""
        names = tuple(str(a) for a in actions)
        raw = np.asarray(action)
        if raw.dtype.kind in "iu":
            idx = raw.astype(np.int64)
        else:
            lookup = {a: i for i, a in enumerate(names)}
            unknown = sorted({str(a) for a in raw.tolist()} - set(lookup))
            if unknown:
                raise ConfigError("action", unknown[:5], f"names among {list(names)}")
            idx = np.array([lookup[str(a)] for a in raw.tolist()], dtype=np.int64)
        n = len(idx)
        r = np.asarray(reward, dtype=np.float64)
        p = np.asarray(propensity, dtype=np.float64)
        if r.shape != (n,) or p.shape != (n,):
            raise ConfigError("reward, propensity", (r.shape, p.shape), f"one value per row ({n})")
        if n == 0:
            raise ConfigError("rows", 0, "at least one logged decision")
        if not np.isfinite(r).all():
            raise ConfigError("reward", "NaN or infinite", "finite rewards")
        bad = ~((p > 0) & (p <= 1))
        if bad.any():
            raise ConfigError("propensity", float(p[bad][0]), "probabilities in (0, 1]")
        x = np.zeros((n, 0)) if context is None else np.asarray(context, dtype=np.float64)
        if x.ndim != 2 or len(x) != n:
            raise ConfigError("context", x.shape, f"shape ({n}, d)")
        k = len(names)
        avail = (
            np.ones((n, k), dtype=bool) if available is None else np.asarray(available, dtype=bool)
        )
        if avail.shape != (n, k):
            raise ConfigError("available", avail.shape, f"shape ({n}, {k})")
        if idx.min() < 0 or idx.max() >= k or not avail[np.arange(n), idx].all():
            raise ConfigError("action", "unavailable or out of range", "an available action")
        return cls(names, idx, r, p, x, avail, tuple(context_names))

    @classmethod
    def from_table(
        cls,
        table: pa.Table,
        *,
        action: str,
        reward: str,
        propensity: str,
        context: Sequence[str] = (),
        actions: Sequence[str] | None = None,
    ) -> LoggedBandit:
        """From any Arrow table with the given column names (context columns must be numeric)."""
        missing = [c for c in (action, reward, propensity, *context) if c not in table.column_names]
        if missing:
            raise ConfigError(
                "column", missing, f"columns of the table ({', '.join(table.column_names)})"
            )
        acts = np.asarray(table.column(action).to_pylist(), dtype=object).astype(str)
        names = list(actions) if actions is not None else sorted(set(acts.tolist()))
        if actions is None and "none" in names:
            names.remove("none")
            names.insert(0, "none")
        ctx = np.column_stack([_numeric(table, c) for c in context]) if context else None
        return cls.build(
            actions=names,
            action=acts,
            reward=_numeric(table, reward),
            propensity=_numeric(table, propensity),
            context=ctx,
            context_names=tuple(context),
        )

    def chosen(self, matrix: FloatArray) -> FloatArray:
        """``matrix[i, action[i]]`` for every row."""
        return np.asarray(matrix[np.arange(len(self)), self.action])


def _numeric(table: pa.Table, name: str) -> FloatArray:
    import pyarrow.compute as pc  # noqa: PLC0415

    col = table.column(name)
    if pa.types.is_boolean(col.type) or pa.types.is_decimal(col.type):
        col = pc.cast(col, pa.float64())
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        raise ConfigError(name, str(col.type), "a numeric column")
    out: Any = col.to_numpy(zero_copy_only=False)
    return np.asarray(out, dtype=np.float64)
