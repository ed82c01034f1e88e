import lightgbm as lgb
import numpy as np
import pytest

from marketlift.errors import ConfigError
from marketlift.models.compiled import (
    BoosterRaw,
    CompiledRaw,
    ServingPredictor,
    compile_model,
)
from marketlift.models.intent import IntentClassifier


def _data(seed, n=3000, d=12):
    rng = np.random.default_rng(seed)
    feats = rng.normal(size=(n, d))
    feats[:, 3] = rng.integers(0, 7, n)  # categorical codes
    feats[rng.random(feats.shape) < 0.08] = np.nan
    return rng, feats


@pytest.fixture(scope="module")
def binary_model(tmp_path_factory):
    rng, feats = _data(0)
    y = (
        np.nan_to_num(feats[:, 0]) + (feats[:, 3] == 2) + rng.normal(size=len(feats)) > 0.5
    ).astype(int)
    clf = IntentClassifier(n_estimators=40, num_leaves=31, min_child_samples=10).fit(
        feats, y, categorical_features=[3]
    )
    folder = tmp_path_factory.mktemp("compiled")
    clf.booster_.save_model(folder / "model.txt")
    compile_model(folder / "model.txt", folder / "model.compiled")
    return clf, folder, feats


def test_compiled_binary_matches_lightgbm_within_1e6(binary_model):
    clf, folder, feats = binary_model
    raw = CompiledRaw(folder / "model.txt", folder / "model.compiled")
    serving = ServingPredictor(raw, max_rows=256, platt=clf.calibration_)
    expected = clf.predict_proba(feats)[:, 1]
    got = serving.predict(feats)  # 3000 rows: chunks of 256 through the preallocated buffer
    assert np.max(np.abs(got - expected)) < 1e-6
    margins = clf.booster_.predict(feats, raw_score=True)
    assert np.max(np.abs(raw.predict(feats) - margins)) < 1e-6


def test_compiled_lambdarank_matches_lightgbm_within_1e6(tmp_path):
    rng, feats = _data(1, n=2000)
    y = (np.nan_to_num(feats[:, 1]) + rng.normal(size=2000) > 1).astype(int)
    booster = lgb.train(
        {"objective": "lambdarank", "verbose": -1, "num_threads": 1, "num_leaves": 15},
        lgb.Dataset(feats, y, group=[20] * 100),
        num_boost_round=30,
    )
    booster.save_model(tmp_path / "model.txt")
    compile_model(tmp_path / "model.txt", tmp_path / "model.compiled")
    serving = ServingPredictor(CompiledRaw(tmp_path / "model.txt", tmp_path / "model.compiled"))
    assert np.max(np.abs(serving.predict(feats[:500]) - booster.predict(feats[:500]))) < 1e-6


def test_serving_predictor_reuses_buffers_and_checks_shape(binary_model):
    _, folder, feats = binary_model
    serving = ServingPredictor(BoosterRaw(folder / "model.txt"), max_rows=100)
    buffer = serving._in
    first = serving.predict(feats[:100])
    second = serving.predict(feats[100:150])
    assert serving._in is buffer
    assert first.shape == (100,)
    assert second.shape == (50,)
    assert not np.shares_memory(first, serving._out)
    with pytest.raises(ConfigError, match=r"rows.shape == \(3, 5\), expected \(n, 12\)"):
        serving.predict(np.zeros((3, 5)))
