"""What the decision API calls: the promoted intent model and ranker, loaded once, scored fast.

Both services load the promoted version (else the latest) from the registry, on the compiled
model when available, with a preallocated :class:`~marketlift.models.compiled.ServingPredictor`.
Before anything is parsed, every file is checked against the checksums recorded at registration
(:meth:`~marketlift.models.registry.ModelVersion.verify`); a compiled binary that no checksum
vouches for is first loaded in a child process, so a damaged one cannot abort this one.
Per request nothing heavy is built: intent rows are encoded with plain dict look-ups into a
reused buffer, ranking candidates come from the in-memory candidate index.

Example:
    >>> import numpy as np, pyarrow as pa, tempfile
    >>> from marketlift.models.training import register_intent, train_intent
    >>> rng = np.random.default_rng(1); x = rng.normal(size=2000)
    >>> table = pa.table({"x": x, "device": rng.choice(["ios", "web"], 2000),
    ...                   "bought": x + rng.normal(size=2000) > 1.5})
    >>> data = tempfile.mkdtemp()
    >>> _ = register_intent(data, train_intent(table, label="bought", n_estimators=10),
    ...                     compile_=False)
    >>> intent = IntentService.load(data)
    >>> p = intent.score([{"x": 2.0, "device": "ios"}, {"x": -2.0, "device": "android"}])
    >>> bool(p[0] > p[1])
    True
"""

from __future__ import annotations

import json
import math
import operator
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.models.candidates import FEATURE_NAMES, CandidateIndex, Query
from marketlift.models.compiled import ServingPredictor, load_predictor
from marketlift.models.registry import ModelVersion, Registry
from marketlift.models.tabular import FeatureSchema

__all__ = ["REASONS", "IntentService", "RankerService", "store_rows_matrix"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

REASONS: Final = (
    ("src_recent", "recently_viewed"),
    ("src_covis", "covisited"),
    ("src_sknn", "similar_sessions"),
    ("src_text", "similar"),
    ("src_category", "category"),
    ("src_locale", "popular_locale"),
    ("src_pop", "popular"),
)
"""Reason codes of ranked listings: the first candidate source that proposed it, in order."""
_REASON_COLS: Final = [FEATURE_NAMES.index(c) for c, _ in REASONS]
_REASON_NAMES: Final = np.array([r for _, r in REASONS] + ["ranked"], dtype=object)


def store_rows_matrix(rows: Sequence[Mapping[str, Any] | None], names: Sequence[str]) -> FloatArray:
    """Online store rows as a float matrix of ``names`` (missing row or value: NaN).

    Rows of one store share their keys, so one C-level ``itemgetter`` call reads a row; a row
    that lacks a key takes the slow path. ``None`` values become NaN, booleans 0/1 (the same
    numbers as :func:`marketlift.models.ranker.store_matrix`, which training uses).

    Example:
        >>> store_rows_matrix([{"l_views": 3, "l_rating": None}, None], ["l_views", "l_rating"])
        array([[ 3., nan],
               [nan, nan]])
    """
    n, k = len(rows), len(names)
    if k == 0:
        return np.zeros((n, 0))
    get = operator.itemgetter(*names)
    nan_row = (math.nan,) * k
    values: list[Any] = []
    for row in rows:
        if row is None:
            values.append(nan_row)
            continue
        try:
            got = get(row)
        except KeyError:
            got = tuple(row.get(name) for name in names)
        values.append(got if k > 1 else (got,))
    return np.array(values, dtype=np.float64).reshape(n, k)


def _compiled_of(version: ModelVersion) -> tuple[os.PathLike[str] | None, bool]:
    """The version's compiled binary (``None``: none), and whether to probe it in a child.

    Raises:
        CorruptArtifactError: a file does not match its recorded checksum.
    """
    vouched = version.verify() and "model.compiled" in version.meta["checksums"]
    compiled = version.file("model.compiled")
    return (compiled if compiled.exists() else None), not vouched


class IntentService:
    """Calibrated purchase probabilities from the promoted intent model."""

    def __init__(self, version: ModelVersion, *, max_rows: int = 1024) -> None:
        if version.meta.get("kind") != "intent":
            raise ConfigError("model kind", version.meta.get("kind"), "'intent'")
        self.version = version
        self.schema = FeatureSchema.from_dict(version.meta["schema"])
        compiled, probe = _compiled_of(version)
        a, b = version.meta["platt"]
        self.predictor: ServingPredictor = load_predictor(
            version.file("model.txt"), compiled, max_rows=max_rows, platt=(float(a), float(b)),
            probe=probe,
        )  # fmt: skip
        self._codes = [
            {c: float(k) for k, c in enumerate(spec.categories)}
            if spec.kind == "categorical" else None
            for spec in self.schema.columns
        ]  # fmt: skip
        self._names = self.schema.names
        self._buffer = np.zeros((max_rows, len(self._names)), dtype=np.float64)
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, data_dir: str | os.PathLike[str], name: str = "intent", version: str | None = None,
        *, max_rows: int = 1024,
    ) -> IntentService:  # fmt: skip
        """The promoted version of ``name`` (or ``version``)."""
        return cls(Registry(data_dir).get(name, version), max_rows=max_rows)

    def _value(self, j: int, raw: Any) -> float:
        codes = self._codes[j]
        if raw is None:
            return math.nan
        if codes is not None:
            return codes.get(str(raw), math.nan)
        return float(raw)

    def score(self, rows: Sequence[Mapping[str, Any]]) -> FloatArray:
        """Purchase probabilities of feature dicts (missing keys are missing values)."""
        n = len(rows)
        if n > self.predictor.max_rows:
            return np.concatenate([self.score(rows[i : i + self.predictor.max_rows])
                                   for i in range(0, n, self.predictor.max_rows)])  # fmt: skip
        with self._lock:
            buf = self._buffer
            for i, row in enumerate(rows):
                for j, name in enumerate(self._names):
                    buf[i, j] = self._value(j, row.get(name))
            return self.predictor.predict(buf[:n])

    def score_matrix(self, X: FloatArray) -> FloatArray:  # noqa: N803
        """Purchase probabilities of already-encoded rows (columns: ``schema.names``)."""
        return self.predictor.predict(X)


class RankerService:
    """Ranked listings for a session from the promoted ranker and its candidate index."""

    def __init__(self, version: ModelVersion, *, max_rows: int = 1024) -> None:
        if version.meta.get("kind") != "ranker":
            raise ConfigError("model kind", version.meta.get("kind"), "'ranker'")
        self.version = version
        compiled, probe = _compiled_of(version)
        self.index = CandidateIndex.load(version.file("index.npz"))
        self.index.text_neighbors()  # computed once at load, not on the first request
        self.item_ids: list[str] = json.loads(version.file("items.json").read_text())
        self.codes = {item: k for k, item in enumerate(self.item_ids)}
        self.predictor = load_predictor(
            version.file("model.txt"), compiled, max_rows=max_rows, probe=probe
        )
        self.store_features: list[str] = list(version.meta.get("store_features", []))
        """Online listing features the model uses after the index features, in order."""

    @classmethod
    def load(
        cls, data_dir: str | os.PathLike[str], name: str = "ranker", version: str | None = None,
        *, max_rows: int = 1024,
    ) -> RankerService:  # fmt: skip
        """The promoted version of ``name`` (or ``version``)."""
        return cls(Registry(data_dir).get(name, version), max_rows=max_rows)

    def _codes_of(self, items: Sequence[str]) -> npt.NDArray[np.int64]:
        return np.array([self.codes[i] for i in items if i in self.codes], dtype=np.int64)

    def rank(
        self,
        session_items: Sequence[str],
        *,
        history: Sequence[str] = (),
        locale: str | None = None,
        k: int = 20,
        listing_rows: Callable[[Sequence[str]], Sequence[Mapping[str, Any] | None]] | None = None,
    ) -> list[tuple[str, float]]:
        """The top ``k`` listings with scores; popular listings when nothing is known.

        ``listing_rows`` reads the online listing features of candidates (for example
        ``lambda ids: read_features(store, buyer, ids).listings``); without it a ranker that
        uses them scores with those features missing.
        """
        query = self.query(session_items, history, locale)
        if query is None:
            return [(self.item_ids[i], 0.0) for i in self.index.popular(k).tolist()]
        cands, X_index = self.generate(query)  # noqa: N806
        rows = listing_rows(cands) if listing_rows is not None else [None] * len(cands)
        scores = self.predictor.predict(self.full_matrix(X_index, rows))
        order = np.argsort(-scores, kind="stable")[:k]
        return [(cands[i], float(scores[i])) for i in order.tolist()]

    def score(self, X: FloatArray) -> FloatArray:  # noqa: N803
        """Scores of candidate feature rows built elsewhere (columns: the model's features)."""
        return self.predictor.predict(X)

    # -- the decision API's steps: query, candidates, features, scores ---------------------
    def query(
        self, session_items: Sequence[str], history: Sequence[str] = (), locale: str | None = None
    ) -> Query | None:
        """The ranking query of a session (``None``: nothing known, rank by popularity)."""
        items = self._codes_of(session_items)
        hist = self._codes_of(history)
        if len(items) == 0:
            if len(hist) == 0:
                return None
            items = hist[-1:]
        return Query(items, hist, locale)

    def generate(self, query: Query) -> tuple[list[str], FloatArray]:
        """Generated candidates of ``query`` and their index features (FEATURE_NAMES)."""
        codes, X = self.index.features(query)  # noqa: N806
        ids = self.item_ids
        return [ids[c] for c in codes.tolist()], X

    def index_features(self, candidates: Sequence[str], query: Query | None) -> FloatArray:
        """Index features of given candidates (unknown listings, or no query: NaN rows)."""
        n = len(candidates)
        X = np.full((n, len(FEATURE_NAMES)), np.nan)  # noqa: N806
        if query is None or n == 0:
            return X
        pos = [i for i, c in enumerate(candidates) if c in self.codes]
        if not pos:
            return X
        codes = np.array([self.codes[candidates[i]] for i in pos], dtype=np.int64)
        X[pos] = self.index.features_for(query, codes)
        return X

    def full_matrix(
        self,
        X_index: FloatArray,  # noqa: N803
        listing_rows: Sequence[Mapping[str, Any] | None],
    ) -> FloatArray:
        """Index features joined with the online listing features the model uses."""
        if not self.store_features:
            return X_index
        return np.hstack([X_index, store_rows_matrix(listing_rows, self.store_features)])

    @staticmethod
    def reasons(X_index: FloatArray) -> npt.NDArray[np.object_]:  # noqa: N803
        """A reason code per row: the first source that proposed the candidate."""
        src = np.nan_to_num(X_index[:, _REASON_COLS]) > 0
        first = np.where(src.any(axis=1), src.argmax(axis=1), len(REASONS))
        return _REASON_NAMES[first]
