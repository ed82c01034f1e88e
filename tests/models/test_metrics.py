import math

import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from marketlift.models.metrics import (
    classification_metrics,
    expected_calibration_error,
    ranking_metrics,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_metrics_match_references(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.99, 500)
    y = (rng.random(500) < p).astype(int)
    m = classification_metrics(y, p)
    assert m.roc_auc == pytest.approx(roc_auc_score(y, p))
    assert m.log_loss == pytest.approx(log_loss(y, p))
    assert m.brier == pytest.approx(np.mean((p - y) ** 2))
    assert m.n == 500
    assert m.positives == int(y.sum())
    assert m.ece < 0.1  # calibrated by construction


def test_ece_of_a_miscalibrated_constant():
    y = np.array([1, 0, 0, 0])
    assert expected_calibration_error(y, np.full(4, 0.75)) == pytest.approx(0.5)


def test_single_class_holdout_gives_nan_auc():
    m = classification_metrics(np.zeros(3), np.array([0.1, 0.2, 0.3]))
    assert math.isnan(m.roc_auc)
    assert math.isnan(m.pr_auc)


def test_ranking_metrics_by_hand():
    ranked = [["a", "b", "c"], ["x"] * 0 + ["d", "e"], list("pqrstuvwxyzabcdefghijklm")]
    targets = ["c", "z", "m"]  # rank 3, missing, rank 24 (beyond 20)
    m = ranking_metrics(ranked, targets)
    assert m.ndcg_at_10 == pytest.approx(round((1 / math.log2(4)) / 3, 4))
    assert m.recall_at_20 == pytest.approx(round(1 / 3, 4))
    assert m.mrr_at_20 == pytest.approx(round((1 / 3) / 3, 4))
    assert m.n_queries == 3
