"""The features an engagement policy sees: the catalog's moment and its declared store features.

One definition for both paths: :func:`feature_matrix` turns training-set rows (point-in-time
from the lake, :mod:`marketlift.policy.decision_log`) into the matrix a policy is fitted on, and
:func:`feature_vector` turns the online store's buyer and session rows into the vector the
decision API scores. Columns: one per catalog moment (``moment=<id>``, one-hot), then the
catalog's ``[features]`` in order. A feature the store has no value for takes the value its
definition gives offline to a buyer or session without events (0 for counts and sums, NaN for
recencies), so a cold buyer looks the same online and offline.

Example:
    >>> from marketlift.policy.catalog import loads
    >>> cat = loads('''
    ... [features]
    ... names = ["b_n_purchases", "b_days_since_last_purchase"]
    ... [channels.onsite]
    ... [[moments]]
    ... id = "browsing"
    ... surfaces = ["home"]
    ... ''')
    >>> policy_feature_names(cat)
    ('moment=browsing', 'b_n_purchases', 'b_days_since_last_purchase')
    >>> feature_vector(cat, "browsing", None, None).tolist()
    [1.0, 0.0, nan]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from marketlift.errors import ConfigError
from marketlift.policy.catalog import EngagementCatalog

__all__ = ["empty_value", "feature_matrix", "feature_row", "feature_vector", "policy_feature_names"]

FloatArray = npt.NDArray[np.float64]


@functools.cache
def empty_value(name: str) -> float:
    """What a feature is for a buyer or session without events (its definition's default)."""
    from marketlift.features.definitions import BUYER_FEATURES, SESSION_FEATURES  # noqa: PLC0415

    for f in (*BUYER_FEATURES, *SESSION_FEATURES):
        if f.name == name:
            expr = f.expr.replace(" ", "")
            if expr.startswith("COALESCE(") and expr.endswith((",0)", ",0.0)")):
                return 0.0
            return math.nan
    raise ConfigError("feature", name, "a buyer or session feature of the store")


def policy_feature_names(catalog: EngagementCatalog) -> tuple[str, ...]:
    """The policy's column names: ``moment=<id>`` per moment, then the declared features."""
    return (*(f"moment={m}" for m in catalog.moment_ids), *catalog.features)


def feature_row(
    catalog: EngagementCatalog,
    buyer: Mapping[str, Any] | None,
    session: Mapping[str, Any] | None,
) -> dict[str, float]:
    """The declared features of one request from the online store's rows (defaults filled)."""
    b, s = buyer or {}, session or {}
    out = {}
    for name in catalog.features:
        raw = (b if name.startswith("b_") else s).get(name)
        out[name] = empty_value(name) if raw is None or isinstance(raw, str) else float(raw)
    return out


def feature_vector(
    catalog: EngagementCatalog,
    moment: str | None,
    buyer: Mapping[str, Any] | None,
    session: Mapping[str, Any] | None,
    row: Mapping[str, float] | None = None,
) -> FloatArray:
    """The policy's feature vector for one request (``row``: :func:`feature_row`, if made)."""
    values = row if row is not None else feature_row(catalog, buyer, session)
    k = len(catalog.moments)
    x = np.zeros(k + len(catalog.features))
    if moment is not None:
        x[catalog.moment_ids.index(moment)] = 1.0
    x[k:] = [values[n] for n in catalog.features]
    return x


def feature_matrix(catalog: EngagementCatalog, table: pa.Table) -> FloatArray:
    """The policy's feature matrix of training rows (columns ``moment`` and the features)."""
    missing = [c for c in ("moment", *catalog.features) if c not in table.column_names]
    if missing:
        raise ConfigError("training set columns", missing, "the moment and declared features")
    moments = np.asarray(table.column("moment").to_pylist(), dtype=object)
    k = len(catalog.moments)
    X = np.zeros((table.num_rows, k + len(catalog.features)))  # noqa: N806
    for j, m in enumerate(catalog.moment_ids):
        X[:, j] = moments == m
    for j, name in enumerate(catalog.features):
        col = table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        X[:, k + j] = np.where(np.isnan(col), empty_value(name), col)
    return X


def check_features(policy: Any, catalog: EngagementCatalog) -> Sequence[str]:
    """The policy's feature names, checked against what ``catalog`` computes.

    Raises:
        ConfigError: The policy was trained on other features (or has no feature list).
    """
    names = getattr(policy, "feature_names_", None)
    expected = policy_feature_names(catalog)
    if names is None or tuple(names) != expected:
        raise ConfigError("policy.feature_names_", names, f"the catalog's features {expected}")
    return expected
