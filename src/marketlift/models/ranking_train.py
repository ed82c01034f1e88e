"""Train the ranker from the lake or from a clickstream table, and register it for serving.

A registered ranker version holds ``model.txt``, ``model.compiled`` (when lleaves is installed),
``index.npz`` (the candidate index over all sessions before the holdout) and ``items.json`` (item
ids by code).

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

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from marketlift.models.candidates import FEATURE_NAMES
from marketlift.models.compiled import compile_model, lleaves_available
from marketlift.models.ranker import RankerResult, train_ranker
from marketlift.models.registry import ModelVersion, Registry
from marketlift.models.sessions import (
    Sessions,
    catalog_from_sim,
    sessions_from_lake,
    sessions_from_table,
)

__all__ = ["register_ranker", "train_ranker_lake", "train_ranker_table"]


def train_ranker_lake(
    data_dir: str | os.PathLike[str], *, text: bool = True, **kwargs: Any
) -> tuple[RankerResult, Sessions]:
    """Train on the lake's listing-view sessions.

    The simulator's listings, when present, are the catalog (categories, prices, titles for
    text similarity); listings nobody viewed join as cold-start items.
    """
    sessions = sessions_from_lake(data_dir)
    catalog = catalog_from_sim(data_dir, sessions.item_ids)
    embeddings = None
    if text and catalog is not None:
        from marketlift.models.embeddings import embed_texts  # noqa: PLC0415

        embeddings = embed_texts(catalog.titles)
    result = train_ranker(sessions, catalog=catalog, embeddings=embeddings, **kwargs)
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
            "features": list(FEATURE_NAMES),
            "schema_hash": _features_hash(),
            "data_range": result.data_range,
            "metrics": {k: v.to_dict() for k, v in result.metrics.items()},
            "sizes": result.sizes,
            "params": result.ranker.lgb_params() | {"n_estimators": result.ranker.n_estimators},
            "compiled": "lleaves" if compiled else None,
            "source": source,
        }
        return Registry(data_dir).register(name, files, meta)


def _features_hash() -> str:
    import hashlib  # noqa: PLC0415

    return hashlib.sha256(json.dumps(list(FEATURE_NAMES)).encode()).hexdigest()[:16]
