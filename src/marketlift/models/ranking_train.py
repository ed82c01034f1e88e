"""Train the ranker from the lake or from a clickstream table, and register it for serving.

A registered ranker version holds ``model.txt``, ``model.compiled`` (when lleaves is installed),
``index.npz`` (the candidate index over all sessions before the holdout) and ``items.json`` (item
ids by code). Its ``meta.json`` lists ``features`` (the model's columns, in order) and
``store_features``: the online store's listing features (``l_*``) appended after the candidate
features (:data:`~marketlift.models.candidates.FEATURE_NAMES`). Rankers trained from the lake
use the numeric listing features (:data:`STORE_FEATURES`), computed point in time by
:func:`marketlift.features.build.compute_features`; rankers trained from a user's clickstream
use none. At serving, :func:`~marketlift.models.ranker.store_matrix` turns the store's rows into
the same columns.

Example:
    >>> import numpy as np, pyarrow as pa, tempfile
    >>> rng = np.random.default_rng(0)
    >>> start = rng.integers(0, 40, 2500)
    >>> clicks = pa.table({
    ...     "session": np.repeat(np.arange(2500), 3).astype(str),
    ...     "item": (np.stack([start, (start + 1) % 40, (start + 2) % 40], 1)).ravel().astype(str),
    ...     "t": np.arange(7500)})
    >>> result = train_ranker_table(clicks, session_col="session", item_col="item",
    ...                             time_col="t", n_estimators=10)
    >>> result.beats_baselines()
    True
    >>> version = register_ranker(tempfile.mkdtemp(), result, compile_=False)
    >>> sorted(p.name for p in version.path.iterdir())
    ['index.npz', 'items.json', 'meta.json', 'model.txt']
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.features.definitions import LISTING_FEATURES
from marketlift.models.compiled import compile_model, lleaves_available
from marketlift.models.ranker import RankerResult, store_matrix, train_ranker
from marketlift.models.registry import ModelVersion, Registry
from marketlift.models.sessions import (
    Sessions,
    catalog_from_lake,
    catalog_from_table,
    sessions_from_lake,
    sessions_from_table,
)

__all__ = [
    "STORE_FEATURES",
    "LakeListingFeatures",
    "listing_matrix",
    "register_ranker",
    "store_matrix",
    "train_ranker_lake",
    "train_ranker_table",
]

_MICROSECOND: Final = dt.timedelta(microseconds=1)
STORE_FEATURES: Final = tuple(f.name for f in LISTING_FEATURES if f.dtype != "str")
"""The online store's numeric listing features a lake-trained ranker uses (12, no category)."""

FloatArray = npt.NDArray[np.float64]


def listing_matrix(table: pa.Table, item_ids: Sequence[str], names: Sequence[str]) -> FloatArray:
    """Rows of a listing feature table aligned with ``item_ids`` (NaN: unknown listing or null).

    Vectorized: one hash look-up of the ids, then a gather per column.

    Example:
        >>> t = pa.table({"listing_id": ["b", "a"], "l_views": [2, None]})
        >>> listing_matrix(t, ["a", "b", "c"], ["l_views"]).ravel().tolist()
        [nan, 2.0, nan]
    """
    out = np.full((len(item_ids), len(names)), np.nan)
    if not len(item_ids) or not table.num_rows:
        return out
    pos = pc.index_in(pa.array(list(item_ids), pa.string()),
                      value_set=pc.cast(table.column("listing_id"), pa.string()))  # fmt: skip
    where = pos.to_numpy(zero_copy_only=False)  # float with NaN where absent
    known = ~np.isnan(where)
    rows = where[known].astype(np.int64)
    for j, name in enumerate(names):
        col = pc.cast(table.column(name), pa.float64()).to_numpy(zero_copy_only=False)
        out[known, j] = col[rows]
    return out


class LakeListingFeatures:
    """The lake's offline listing features at any cut-off, aligned with item codes.

    Each :meth:`at` call runs :func:`marketlift.features.build.compute_features` with that
    cut-off (only events strictly before it) on one DuckDB engine, and joins the
    ``listing_features`` table to ``item_ids`` by listing id. Without a ``catalog`` table, the
    listing attributes are the lake catalog's versions as of the cut-off (updated strictly
    before it: :func:`marketlift.catalog.feature_table`), so a later price never leaks in.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        item_ids: Sequence[str],
        *,
        names: Sequence[str] = STORE_FEATURES,
        catalog: pa.Table | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.item_ids = item_ids
        self._names = list(names)
        self.catalog = catalog
        self.tables: dict[int, pa.Table] = {}

    @property
    def names(self) -> list[str]:
        """The feature names (matrix columns)."""
        return self._names

    def table_at(self, cutoff_us: int) -> pa.Table:
        """The ``listing_features`` table at a cut-off (computed once per cut-off)."""
        found = self.tables.get(cutoff_us)
        if found is None:
            from marketlift.features.build import compute_features, from_micros  # noqa: PLC0415
            from marketlift.features.engines import make_engine  # noqa: PLC0415

            engine = make_engine("duckdb", self.data_dir)
            try:
                cutoff = from_micros(cutoff_us)
                catalog = self.catalog
                if catalog is None:
                    from marketlift.catalog import feature_table  # noqa: PLC0415

                    catalog = feature_table(self.data_dir, cutoff - _MICROSECOND)
                tables, _ = compute_features(engine, cutoff=cutoff, catalog=catalog)
            finally:
                engine.close()
            found = self.tables[cutoff_us] = tables["listing_features"]
        return found

    def at(self, cutoff_us: int) -> FloatArray:
        """The ``(len(item_ids), len(names))`` matrix at a cut-off."""
        return listing_matrix(self.table_at(cutoff_us), self.item_ids, self._names)


def train_ranker_lake(
    data_dir: str | os.PathLike[str],
    *,
    text: bool = True,
    store_features: Sequence[str] | None = STORE_FEATURES,
    feature_catalog: pa.Table | None = None,
    listings: pa.Table | None = None,
    **kwargs: Any,
) -> tuple[RankerResult, Sessions]:
    """Train on the lake's listing-view sessions.

    The lake's listing catalog (:mod:`marketlift.catalog`), when it holds listings, gives
    categories, prices and texts for similarity; listings nobody viewed join as cold-start items.

    Args:
        data_dir: The data directory.
        text: Title-embedding candidates and features.
        store_features: Online listing features appended to every candidate (default: the
            numeric ``l_*`` features); ``None`` or empty for the candidate features only.
            Training queries read them at the start of the training block, held-out queries
            at the start of the holdout (:func:`~marketlift.models.ranker.train_ranker`).
        feature_catalog: The listing catalog of the feature build (default: the lake catalog
            as of each cut-off).
        listings: A listing table for :func:`~marketlift.models.sessions.catalog_from_table`
            instead of the lake catalog's current listings.
        **kwargs: Passed to :func:`~marketlift.models.ranker.train_ranker`.
    """
    sessions = sessions_from_lake(data_dir)
    catalog = (
        catalog_from_lake(data_dir, sessions.item_ids)
        if listings is None
        else catalog_from_table(listings, sessions.item_ids)
    )
    embeddings = None
    if text and catalog is not None:
        from marketlift.models.embeddings import embed_texts  # noqa: PLC0415

        embeddings = embed_texts(catalog.titles)
    source = None
    if store_features:
        source = LakeListingFeatures(data_dir, sessions.item_ids, names=store_features,
                                     catalog=feature_catalog)  # fmt: skip
    result = train_ranker(sessions, catalog=catalog, embeddings=embeddings,
                          item_features=source, **kwargs)  # fmt: skip
    return result, sessions


def train_ranker_table(
    table: pa.Table, *, session_col: str, item_col: str, time_col: str, **kwargs: Any
) -> RankerResult:
    """Train on a user's clickstream (one row per interaction)."""
    sessions = sessions_from_table(
        table, session_col=session_col, item_col=item_col, time_col=time_col
    )
    return train_ranker(sessions, **kwargs)


def register_ranker(
    data_dir: str | os.PathLike[str],
    result: RankerResult,
    *,
    name: str = "ranker",
    compile_: bool = True,
    source: str | None = None,
) -> ModelVersion:
    """Store the ranker, its compiled binary and its candidate index in the registry."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result.ranker.booster_.save_model(folder / "model.txt")
        result.index.save(folder / "index.npz")
        (folder / "items.json").write_text(json.dumps(result.item_ids))
        files: dict[str, bytes | os.PathLike[str]] = {
            "model.txt": folder / "model.txt",
            "index.npz": folder / "index.npz",
            "items.json": folder / "items.json",
        }
        compiled = compile_ and lleaves_available()
        if compiled:
            files["model.compiled"] = compile_model(folder / "model.txt", folder / "model.compiled")
        meta = {
            "kind": "ranker",
            "features": result.feature_names,
            "store_features": list(result.store_features),
            "schema_hash": _features_hash(result.feature_names),
            "data_range": result.data_range,
            "metrics": {k: v.to_dict() for k, v in result.metrics.items()},
            "sizes": result.sizes,
            "params": result.ranker.lgb_params() | {"n_estimators": result.ranker.n_estimators},
            "compiled": "lleaves" if compiled else None,
            "source": source,
        }
        return Registry(data_dir).register(name, files, meta)


def _features_hash(names: Sequence[str]) -> str:
    import hashlib  # noqa: PLC0415

    return hashlib.sha256(json.dumps(list(names)).encode()).hexdigest()[:16]
