import numpy as np
import pyarrow as pa
import pytest

from marketlift.errors import ConfigError
from marketlift.models.intent import IntentClassifier, NotFittedError
from marketlift.models.metrics import classification_metrics
from marketlift.models.training import train_intent


def _logistic_world(seed: int, n: int = 6000):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x[rng.random(n) < 0.1, 1] = np.nan  # missing values
    device = rng.integers(0, 3, n).astype(float)
    logit = -3.0 + 1.2 * x[:, 0] + np.nan_to_num(0.8 * x[:, 1]) + 0.7 * (device == 2)
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    return np.column_stack([x, device]), y, p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_close_to_truth_and_calibrated(seed):
    feats, y, p = _logistic_world(seed)
    train, test = slice(0, 4500), slice(4500, None)
    clf = IntentClassifier(n_estimators=120, random_state=seed)
    clf.fit(feats[train], y[train], categorical_features=[3])
    proba = clf.predict_proba(feats[test])[:, 1]
    model, truth = classification_metrics(y[test], proba), classification_metrics(y[test], p[test])
    assert model.roc_auc > truth.roc_auc - 0.04
    assert model.ece < 0.03
    assert abs(proba.mean() - y[test].mean()) < 0.02


def test_balanced_weights_are_recalibrated():
    feats, y, _ = _logistic_world(5)
    raw = IntentClassifier(n_estimators=60, class_weight="balanced", calibration="none").fit(
        feats, y
    )
    cal = IntentClassifier(n_estimators=60, class_weight="balanced").fit(feats, y)
    base = y.mean()
    assert raw.predict_proba(feats)[:, 1].mean() > 2 * base  # reweighting inflates scores
    assert abs(cal.predict_proba(feats)[:, 1].mean() - base) < 0.02


def test_early_stopping_on_the_calibration_rows_stops_overfitting():
    """Weak signal, rare positives (intent at a decision): all rounds overfit, the best round
    chosen on the calibration rows does not."""
    rng = np.random.default_rng(8)
    n = 12_000
    x = rng.normal(size=(n, 8))  # two weak features, six noise features
    p = 1 / (1 + np.exp(-(-3.4 + 0.5 * x[:, 0] + 0.3 * x[:, 1])))
    y = (rng.random(n) < p).astype(int)
    train, test = slice(0, 9000), slice(9000, None)
    full = IntentClassifier(n_estimators=400, early_stopping_rounds=None).fit(x[train], y[train])
    stopped = IntentClassifier(n_estimators=400).fit(x[train], y[train])
    assert full.n_iter_ == 400
    assert stopped.n_iter_ < 100
    auc_full = classification_metrics(y[test], full.predict_proba(x[test])[:, 1]).roc_auc
    auc_stopped = classification_metrics(y[test], stopped.predict_proba(x[test])[:, 1]).roc_auc
    truth = classification_metrics(y[test], p[test]).roc_auc
    assert auc_stopped > auc_full + 0.03
    assert auc_stopped > truth - 0.05
    with pytest.raises(ConfigError, match="early_stopping_rounds == 0"):
        IntentClassifier(early_stopping_rounds=0).fit(x[:100], np.arange(100) % 2)


def test_sklearn_conventions_and_errors():
    clf = IntentClassifier(n_estimators=5, random_state=3)
    assert vars(clf) == {
        "n_estimators": 5,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_child_samples": 40,
        "class_weight": None,
        "calibration": "sigmoid",
        "calibration_fraction": 0.2,
        "early_stopping_rounds": 50,
        "num_threads": 1,
        "random_state": 3,
    }
    with pytest.raises(NotFittedError, match="call fit"):
        clf.predict_proba(np.zeros((1, 2)))
    with pytest.raises(ConfigError, match=r"y == \[0\], expected both classes"):
        clf.fit(np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(ConfigError, match="learning_rate == 2"):
        IntentClassifier(learning_rate=2).fit(np.zeros((10, 2)), np.arange(10) % 2)
    feats, y, _ = _logistic_world(0, 800)
    fitted = IntentClassifier(n_estimators=5).fit(feats, y)
    assert fitted is not None
    assert fitted.n_features_in_ == 4
    with pytest.raises(ConfigError, match=r"X.shape\[1\] == 2, expected 4 features"):
        fitted.predict_proba(feats[:, :2])


def test_train_intent_on_a_table_with_strings_booleans_and_time_split():
    rng = np.random.default_rng(4)
    n = 4000
    plan = rng.choice(["free", "pro", None], n)
    x = rng.normal(size=n)
    y = rng.random(n) < 1 / (1 + np.exp(-(-2 + 1.5 * x + 1.0 * (plan == "pro"))))
    table = pa.table(
        {
            "t": np.arange(n),
            "x": x,
            "plan": plan,
            "app": rng.random(n) < 0.5,
            "user_id": [f"u{i}" for i in range(n)],
            "bought": y,
        }
    )
    result = train_intent(table, label="bought", drop=["user_id"], time_column="t", n_estimators=50)
    assert result.schema.names == ["x", "plan", "app"]
    assert result.holdout_rows.min() == 3000  # the latest quarter by time
    assert result.metrics.roc_auc > 0.75
    assert result.data_range == {"column": "t", "min": "0", "max": str(n - 1)}
