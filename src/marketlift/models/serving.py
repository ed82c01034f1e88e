"""What the decision API calls: the promoted intent model and ranker, loaded once, scored fast.

Both services load the promoted version (else the latest) from the registry, on the compiled
model when available, with a preallocated :class:`~marketlift.models.compiled.ServingPredictor`.
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
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.models.candidates import CandidateIndex, Query
from marketlift.models.compiled import ServingPredictor, load_predictor
from marketlift.models.registry import ModelVersion, Registry
from marketlift.models.tabular import FeatureSchema

__all__ = ["IntentService", "RankerService"]

FloatArray = npt.NDArray[np.float64]


class IntentService:
    """Calibrated purchase probabilities from the promoted intent model."""

    def __init__(self, version: ModelVersion, *, max_rows: int = 1024) -> None:
        if version.meta.get("kind") != "intent":
            raise ConfigError("model kind", version.meta.get("kind"), "'intent'")
        self.version = version
        self.schema = FeatureSchema.from_dict(version.meta["schema"])
        a, b = version.meta["platt"]
        compiled = version.file("model.compiled")
        self.predictor: ServingPredictor = load_predictor(
            version.file("model.txt"), compiled if compiled.exists() else None,
            max_rows=max_rows, platt=(float(a), float(b)),
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
        self.index = CandidateIndex.load(version.file("index.npz"))
        self.index.text_neighbors()  # computed once at load, not on the first request
        self.item_ids: list[str] = json.loads(version.file("items.json").read_text())
        self.codes = {item: k for k, item in enumerate(self.item_ids)}
        compiled = version.file("model.compiled")
        self.predictor = load_predictor(
            version.file("model.txt"), compiled if compiled.exists() else None, max_rows=max_rows
        )

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
    ) -> list[tuple[str, float]]:
        """The top ``k`` listings with scores; popular listings when nothing is known."""
        items = self._codes_of(session_items)
        if len(items) == 0:
            return [(self.item_ids[i], 0.0) for i in self.index.popular(k).tolist()]
        cands, X = self.index.features(Query(items, self._codes_of(history), locale))  # noqa: N806
        scores = self.predictor.predict(X)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.item_ids[int(cands[i])], float(scores[i])) for i in order]

    def score(self, X: FloatArray) -> FloatArray:  # noqa: N803
        """Scores of candidate feature rows built elsewhere (columns: the model's features)."""
        return self.predictor.predict(X)
