"""Next-item ranking: LightGBM lambdarank over generated candidates, with baselines.

The task: given the items a buyer viewed so far in a session, rank the item viewed next (we hold
out each session's last item). Sessions are split by start time into three consecutive blocks:
the oldest build the candidate index used for training queries, the middle ones are the
training queries, the newest are the held-out queries; held-out queries use an index built on
everything before them. The popularity and session-kNN baselines are scored on the same
held-out queries in the same run.

Example:
    >>> from marketlift.models.sessions import Sessions
    >>> rng = np.random.default_rng(0)
    >>> seqs = [np.array([a, (a + 1) % 50, (a + 2) % 50]) for a in rng.integers(0, 50, 3000)]
    >>> s = Sessions([str(i) for i in range(3000)], np.arange(3000), seqs, [None] * 3000,
    ...              [None] * 3000, [str(i) for i in range(50)])
    >>> result = train_ranker(s, n_estimators=20, max_train_queries=600, max_eval_queries=300)
    >>> result.metrics["ranker"].recall_at_20 >= result.metrics["popularity"].recall_at_20
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.models.candidates import FEATURE_NAMES, CandidateIndex, Query
from marketlift.models.metrics import RankingMetrics, ranking_metrics
from marketlift.models.sessions import Catalog, Sessions

__all__ = [
    "ItemFeatureSource",
    "LambdaRanker",
    "RankerResult",
    "buyer_histories",
    "session_queries",
    "store_matrix",
    "train_ranker",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def store_matrix(rows: Sequence[Mapping[str, Any] | None], names: Sequence[str]) -> FloatArray:
    """Online store rows as the float matrix of the columns ``names`` (NaN when missing).

    ``rows`` are the store's listing rows (feature name -> value), ``None`` for a listing the
    store does not know; missing keys and ``None`` values become NaN, booleans 0/1. Serving
    appends this matrix to the candidate features (the model's columns are
    ``FEATURE_NAMES + store_features``), exactly as training appends the offline listing
    features of the same names.

    Example:
        >>> store_matrix([{"l_views": 3, "l_price": None}, None], ["l_views", "l_price"])
        array([[ 3., nan],
               [nan, nan]])
    """
    out = np.full((len(rows), len(names)), np.nan)
    for i, row in enumerate(rows):
        if row is None:
            continue
        for j, name in enumerate(names):
            value = row.get(name)
            if value is not None:
                out[i, j] = float(value)
    return out


class ItemFeatureSource(Protocol):
    """Per-item features known at a cut-off (such as the lake's offline listing features).

    ``at(cutoff_us)`` returns an ``(n_items, len(names))`` float matrix whose rows follow the
    sessions' item codes, computed only from events strictly before ``cutoff_us`` (NaN when
    unknown).
    """

    @property
    def names(self) -> Sequence[str]:
        """The feature names (the matrix columns)."""
        ...

    def at(self, cutoff_us: int) -> FloatArray:
        """The item matrix at a cut-off (microseconds, the unit of ``Sessions.start``)."""
        ...


class LambdaRanker:
    """LightGBM lambdarank with scikit-learn conventions.

    ``__init__`` stores hyperparameters, ``fit`` returns self, learned state ends in ``_``.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        num_threads: int = 1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.num_threads = num_threads
        self.random_state = random_state

    def lgb_params(self) -> dict[str, Any]:
        """The LightGBM parameters of this ranker."""
        return {
            "objective": "lambdarank",
            "metric": "ndcg",
            "eval_at": [10],
            "lambdarank_truncation_level": 20,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": 0.9,
            "num_threads": self.num_threads,
            "seed": self.random_state,
            "deterministic": True,
            "verbose": -1,
        }

    def fit(
        self,
        X: FloatArray,  # noqa: N803
        y: npt.NDArray[Any],
        *,
        group: Sequence[int],
        feature_names: Sequence[str] | None = None,
    ) -> LambdaRanker:
        """Fit on rows grouped by query (``group`` holds each query's row count); returns self."""
        import lightgbm as lgb  # noqa: PLC0415

        if self.n_estimators < 1:
            raise ConfigError("n_estimators", self.n_estimators, "an integer >= 1")
        names = list(feature_names) if feature_names else [f"f{i}" for i in range(X.shape[1])]
        data = lgb.Dataset(X, y, group=list(group), feature_name=names)
        self.booster_ = lgb.train(self.lgb_params(), data, num_boost_round=self.n_estimators)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: FloatArray) -> FloatArray:  # noqa: N803
        """Ranking scores (higher first)."""
        return np.asarray(self.booster_.predict(X, num_threads=self.num_threads))


def buyer_histories(sessions: Sessions, max_items: int = 50) -> list[IntArray]:
    """For every session, the items its buyer viewed in earlier sessions (most recent last)."""
    seen: dict[str, list[int]] = {}
    out: list[IntArray] = []
    for k in range(len(sessions)):
        buyer = sessions.buyers[k]
        if buyer is None:
            out.append(np.zeros(0, np.int64))
            continue
        past = seen.setdefault(buyer, [])
        out.append(np.array(past[-max_items:], dtype=np.int64))
        past.extend(sessions.items[k].tolist())
    return out


def session_queries(
    sessions: Sessions, rows: Sequence[int], histories: Sequence[IntArray]
) -> list[tuple[Query, int, int]]:
    """One query per session with two or more items: (all but the last item, the last, row)."""
    return [
        (
            Query(sessions.items[r][:-1], histories[r], sessions.locales[r]),
            int(sessions.items[r][-1]),
            r,
        )
        for r in rows
        if len(sessions.items[r]) >= 2
    ]


@dataclasses.dataclass(slots=True)
class RankerResult:
    """The trained ranker, the index for serving and held-out metrics of every method."""

    ranker: LambdaRanker
    index: CandidateIndex
    metrics: dict[str, RankingMetrics]
    sizes: dict[str, int]
    data_range: dict[str, int | None]
    candidate_recall: float
    eval_queries: list[tuple[Query, int, int]]
    eval_rankings: dict[str, list[list[int]]]
    item_ids: list[str]
    store_features: list[str] = dataclasses.field(default_factory=list)
    """Item features appended after :data:`FEATURE_NAMES` (online ``l_*`` store features)."""

    @property
    def feature_names(self) -> list[str]:
        """The model's columns: ``FEATURE_NAMES + store_features``."""
        return [*FEATURE_NAMES, *self.store_features]

    def summary(self) -> dict[str, Any]:
        """The JSON document of ``train ranker``."""
        return {
            "model": "ranker",
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "beats_baselines": self.beats_baselines(),
            "candidate_recall": round(self.candidate_recall, 4),
            "sizes": self.sizes,
            "data_range": self.data_range,
            "features": self.feature_names,
            "store_features": list(self.store_features),
        }

    def beats_baselines(self) -> bool:
        """Whether the ranker's NDCG@10 and MRR@20 beat both baselines."""
        r = self.metrics["ranker"]
        return all(
            r.ndcg_at_10 > self.metrics[b].ndcg_at_10 and r.mrr_at_20 > self.metrics[b].mrr_at_20
            for b in ("popularity", "session_knn")
        )


def _subsample(
    queries: list[tuple[Query, int, int]], k: int, rng: np.random.Generator
) -> list[tuple[Query, int, int]]:
    if len(queries) <= k:
        return queries
    keep = np.sort(rng.choice(len(queries), k, replace=False))
    return [queries[i] for i in keep]


def _pad(ranked: list[int], fill: IntArray, k: int) -> list[int]:
    out = list(dict.fromkeys(ranked))[:k]
    seen = set(out)
    for it in fill.tolist():
        if len(out) >= k:
            break
        if it not in seen:
            out.append(it)
            seen.add(it)
    return out


def train_ranker(
    sessions: Sessions,
    *,
    catalog: Catalog | None = None,
    embeddings: npt.NDArray[np.float32] | None = None,
    item_features: ItemFeatureSource | None = None,
    holdout_fraction: float = 0.2,
    train_fraction: float = 0.3,
    n_estimators: int = 200,
    max_train_queries: int = 20_000,
    max_eval_queries: int = 5_000,
    num_threads: int = 1,
    random_state: int = 0,
) -> RankerResult:
    """Build indexes, train the lambdarank re-ranker and evaluate it against the baselines.

    With ``item_features``, each candidate's row gets that source's features after
    :data:`FEATURE_NAMES`, point in time: training queries read them at the start of the
    training block (the end of the data their candidate index saw), held-out queries at the
    start of the holdout (what serving would have read then from the online store).

    Raises:
        ConfigError: fractions out of range, or too few multi-item sessions to train on.
    """
    for name, value in (("holdout_fraction", holdout_fraction), ("train_fraction", train_fraction)):
        if not 0 < value < 1:
            raise ConfigError(name, value, "a number in (0, 1)")
    if holdout_fraction + train_fraction >= 1:
        raise ConfigError("holdout_fraction + train_fraction", holdout_fraction + train_fraction,
                          "< 1 (the oldest sessions build the candidate index)")  # fmt: skip
    n = len(sessions)
    eval_start = int(n * (1 - holdout_fraction))
    train_start = int(n * (1 - holdout_fraction - train_fraction))
    rng = np.random.default_rng(random_state)
    hist = buyer_histories(sessions)
    train_q = _subsample(
        session_queries(sessions, range(train_start, eval_start), hist), max_train_queries, rng
    )
    eval_q = _subsample(
        session_queries(sessions, range(eval_start, n), hist), max_eval_queries, rng
    )
    if len(train_q) < 10 or len(eval_q) < 10:
        raise ConfigError("sessions", f"{len(train_q)} training and {len(eval_q)} held-out queries",
                          "at least 10 of each (sessions with two or more items)")  # fmt: skip
    index = CandidateIndex.build(sessions, range(train_start), catalog=catalog,
                                 embeddings=embeddings)  # fmt: skip
    names = list(item_features.names) if item_features is not None else []
    train_items = _item_matrix(item_features, sessions, train_start)
    blocks: list[FloatArray] = []
    labels: list[npt.NDArray[np.float64]] = []
    groups: list[int] = []
    for query, target, _ in train_q:
        cands, X = index.features(query)  # noqa: N806
        hit = cands == target
        if not hit.any():
            continue
        if train_items is not None:
            X = np.hstack([X, train_items[cands]])  # noqa: N806
        blocks.append(X)
        labels.append(hit.astype(np.float64))
        groups.append(len(cands))
    if not groups:
        raise ConfigError("sessions", "no training query whose next item is among the candidates",
                          "more sessions")  # fmt: skip
    ranker = LambdaRanker(n_estimators=n_estimators, num_threads=num_threads,
                          random_state=random_state)  # fmt: skip
    ranker.fit(np.vstack(blocks), np.concatenate(labels), group=groups,
               feature_names=[*FEATURE_NAMES, *names])  # fmt: skip
    serve_index = CandidateIndex.build(sessions, range(eval_start), catalog=catalog,
                                       embeddings=embeddings)  # fmt: skip
    eval_items = _item_matrix(item_features, sessions, eval_start)
    rankings: dict[str, list[list[int]]] = {"ranker": [], "popularity": [], "session_knn": []}
    popular = serve_index.popular(100)
    covered = 0
    for query, target, _ in eval_q:
        cands, X = serve_index.features(query)  # noqa: N806
        covered += int((cands == target).any())
        if eval_items is not None:
            X = np.hstack([X, eval_items[cands]])  # noqa: N806
        order = np.argsort(-ranker.predict(X), kind="stable")
        rankings["ranker"].append(cands[order][:20].tolist())
        rankings["popularity"].append(popular[:20].tolist())
        knn = serve_index.sknn_scores(query.items)
        top = [i for i, _ in sorted(knn.items(), key=lambda kv: -kv[1])[:20]]
        rankings["session_knn"].append(_pad(top, popular, 20))
    targets = [t for _, t, _ in eval_q]
    metrics = {name: ranking_metrics(r, targets) for name, r in rankings.items()}
    return RankerResult(
        ranker=ranker,
        index=serve_index,
        metrics=metrics,
        sizes={
            "sessions": n,
            "index_sessions": train_start,
            "train_queries": len(groups),
            "eval_queries": len(eval_q),
            "items": sessions.n_items,
        },
        data_range=sessions.time_range(),
        candidate_recall=covered / len(eval_q),
        eval_queries=eval_q,
        eval_rankings=rankings,
        item_ids=sessions.item_ids,
        store_features=names,
    )


def _item_matrix(
    source: ItemFeatureSource | None, sessions: Sessions, row: int
) -> FloatArray | None:
    """The source's item matrix at the start of session ``row`` (checked against the items)."""
    if source is None:
        return None
    matrix = source.at(int(sessions.start[row]))
    expected = (sessions.n_items, len(source.names))
    if matrix.shape != expected:
        raise ConfigError("item feature matrix shape", matrix.shape, f"{expected}")
    return matrix
