"""Holdout metrics: probability quality for classifiers, top-k quality for rankers.

Example:
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1]); p = np.array([0.1, 0.4, 0.35, 0.8])
    >>> m = classification_metrics(y, p)
    >>> m.roc_auc, round(m.brier, 4)
    (0.75, 0.1581)
    >>> ranking_metrics([["a", "b", "c"], ["c", "a"]], ["b", "x"], k_ndcg=10, k_recall=20)
    RankingMetrics(ndcg_at_10=0.3155, recall_at_20=0.5, mrr_at_20=0.25, n_queries=2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "ClassificationMetrics",
    "RankingMetrics",
    "classification_metrics",
    "expected_calibration_error",
    "ranking_metrics",
]


class ClassificationMetrics(NamedTuple):
    """Holdout quality of predicted probabilities."""

    roc_auc: float
    pr_auc: float
    log_loss: float
    brier: float
    ece: float
    n: int
    positives: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return self._asdict()


class RankingMetrics(NamedTuple):
    """Top-k quality over queries with one or more relevant items each (rounded to 4 places)."""

    ndcg_at_10: float
    recall_at_20: float
    mrr_at_20: float
    n_queries: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return self._asdict()


def expected_calibration_error(
    y: npt.NDArray[Any], p: npt.NDArray[np.float64], n_bins: int = 10
) -> float:
    """Expected calibration error over ``n_bins`` equal-width bins of predicted probability.

    Example:
        >>> expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0]))
        0.0
    """
    bins = np.minimum((np.asarray(p) * n_bins).astype(np.int64), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        mask = bins == b
        total += float(mask.sum()) * abs(float(np.mean(y[mask])) - float(np.mean(p[mask])))
    return float(total / max(len(p), 1))


def classification_metrics(
    y: npt.NDArray[Any], p: npt.NDArray[np.float64]
) -> ClassificationMetrics:
    """ROC AUC, PR AUC (average precision), log loss, Brier score and ECE of ``p`` for ``y``.

    AUCs are NaN when the holdout holds a single class.
    """
    from sklearn.metrics import (  # noqa: PLC0415
        average_precision_score,
        brier_score_loss,
        log_loss,
        roc_auc_score,
    )

    y = np.asarray(y).astype(np.int64)
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15)
    both = len(np.unique(y)) == 2
    return ClassificationMetrics(
        roc_auc=float(roc_auc_score(y, p)) if both else math.nan,
        pr_auc=float(average_precision_score(y, p)) if both else math.nan,
        log_loss=float(log_loss(y, p, labels=[0, 1])),
        brier=float(brier_score_loss(y, p)),
        ece=float(expected_calibration_error(y, p)),
        n=len(y),
        positives=int(y.sum()),
    )


def ranking_metrics(
    ranked: Sequence[Sequence[Any]],
    relevant: Sequence[Any],
    *,
    k_ndcg: int = 10,
    k_recall: int = 20,
) -> RankingMetrics:
    """NDCG@k, Recall@k and MRR@k of ranked lists against one relevant item (or a set) per query.

    A query's NDCG uses binary gains; its ideal DCG places all relevant items first.
    """
    ndcg = recall = mrr = 0.0
    for items, target in zip(ranked, relevant, strict=True):
        wanted = set(target) if isinstance(target, set | frozenset | list | tuple) else {target}
        if not wanted:
            continue
        dcg = sum(1.0 / math.log2(i + 2) for i, x in enumerate(items[:k_ndcg]) if x in wanted)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(wanted), k_ndcg)))
        ndcg += dcg / ideal
        top = items[:k_recall]
        recall += len(wanted.intersection(top)) / len(wanted)
        mrr += next((1.0 / (i + 1) for i, x in enumerate(top) if x in wanted), 0.0)
    n = len(relevant)
    d = max(n, 1)
    return RankingMetrics(round(ndcg / d, 4), round(recall / d, 4), round(mrr / d, 4), n)
