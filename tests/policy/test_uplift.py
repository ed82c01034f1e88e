import copy

import numpy as np
import pytest
from sklearn.base import clone
from sklift import metrics as skm

from marketlift.errors import ConfigError
from marketlift.policy.uplift import (
    LEARNERS,
    NotFittedError,
    auuc,
    qini_coefficient,
    qini_curve,
    uplift_at_k,
    uplift_by_decile,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_match_scikit_uplift(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    t = rng.integers(0, 2, n)
    score = rng.normal(size=n).round(2)  # ties on purpose
    y = rng.binomial(1, 0.1 + 0.1 * t * (score > 0))
    assert qini_coefficient(y, score, t) == pytest.approx(skm.qini_auc_score(y, score, t))
    assert auuc(y, score, t) == pytest.approx(skm.uplift_auc_score(y, score, t))
    assert uplift_at_k(y, score, t, k=0.3) == pytest.approx(
        skm.uplift_at_k(y, score, t, strategy="overall", k=0.3)
    )
    x, v = qini_curve(y, score, t)
    sx, sv = skm.qini_curve(y, score, t)
    np.testing.assert_allclose(x, sx)
    np.testing.assert_allclose(v, sv)


def test_metrics_hand_computed():
    y = np.array([1, 0, 0, 1])
    t = np.array([1, 0, 1, 0])
    u = np.array([4.0, 3.0, 2.0, 1.0])
    x, v = qini_curve(y, u, t)
    # top 1: 1 - 0; top 2: 1 - 0*1/1; top 3: 1 - 0*2/1; top 4: 1 - 1*2/2 = 0
    assert x.tolist() == [0, 1, 2, 3, 4]
    assert v.tolist() == [0, 1, 1, 1, 0]
    rows = uplift_by_decile(y, u, t, bins=2)
    assert rows[0].uplift == pytest.approx(1.0)  # top half: treated 1, control 0
    assert rows[1].uplift == pytest.approx(-1.0)
    assert qini_coefficient(y, u, t, normalize=False) == pytest.approx((3.0 - 0.0) / 4)


def test_metrics_reject_bad_treatment():
    with pytest.raises(ConfigError, match="treatment"):
        qini_coefficient([1, 0], [0.1, 0.2], [2, 0])


def _data(seed, n=4000, binary=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))  # noqa: N806
    t = rng.choice(["none", "coupon", "push"], n)
    tau_c = 0.8 * (X[:, 0] > 0)
    tau_p = -0.5 + 0 * X[:, 0]
    lin = X[:, 1] + np.where(t == "coupon", tau_c, 0) + np.where(t == "push", tau_p, 0)
    if binary:
        y = rng.binomial(1, 1 / (1 + np.exp(-(lin - 1)))).astype(float)
    else:
        y = lin + rng.normal(scale=0.3, size=n)
    return X, t, y, tau_c, tau_p


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_learners_recover_heterogeneous_effects(name):
    X, t, y, tau_c, _ = _data(0)  # noqa: N806
    m = LEARNERS[name](random_state=0).fit(X, t, y)
    assert m.treatments_ == ["coupon", "push"]
    eff = m.predict(X)
    assert np.corrcoef(eff[:, 0], tau_c)[0, 1] > 0.8
    assert abs(eff[:, 1].mean() - (-0.5)) < 0.1
    assert not m.binary_


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_learners_binary_outcome_rank_effects(name):
    X, t, y, tau_c, _ = _data(1, n=6000, binary=True)  # noqa: N806
    m = LEARNERS[name](random_state=0).fit(X, t, y)
    assert m.binary_
    eff = m.predict(X)
    assert eff[tau_c > 0, 0].mean() > eff[tau_c == 0, 0].mean() + 0.05


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_learner_conformance(name):
    X, t, y, _, _ = _data(2, n=1500)  # noqa: N806
    cls = LEARNERS[name]
    m = cls(random_state=3)
    with pytest.raises(NotFittedError):
        m.predict(X)
    assert m.fit(X, t, y) is m
    assert all(
        k.endswith("_") for k in vars(m) if not k.startswith("_") and k not in m.get_params()
    )
    c = clone(cls(random_state=3))
    assert c.get_params() == cls(random_state=3).get_params()
    np.testing.assert_array_equal(c.fit(X, t, y).predict(X), m.predict(X))
    other = cls(random_state=4).fit(X, t, y).predict(X)
    assert not np.array_equal(other, m.predict(X))
    assert copy.deepcopy(m).predict(X[:5]).shape == (5, 2)
    with pytest.raises(ConfigError, match="control"):
        cls(control="nope").fit(X, t, y)
    with pytest.raises(ConfigError, match="outcome"):
        cls(outcome="binary").fit(X, t, y)


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_rare_arm_and_single_class_fall_back_to_means(name):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(600, 2))
    t = np.where(np.arange(600) < 3, "rare", rng.choice(["none", "common"], 600))
    y = (rng.random(600) < 0.3).astype(float)
    y[t == "rare"] = 0.0  # one class only
    eff = LEARNERS[name](random_state=0).fit(x, t, y).predict(x)
    assert eff.shape == (600, 2)
    assert np.isfinite(eff).all()


def test_ensemble_is_the_mean_of_seeded_copies():
    from marketlift.policy.uplift import EnsembleLearner, SLearner

    x, t, y, _, _ = _data(3, n=1500)
    ens = EnsembleLearner(SLearner(), n_models=3, random_state=7)
    assert ens.fit(x, t, y) is ens
    copies = [SLearner(random_state=7 + i).fit(x, t, y).predict(x) for i in range(3)]
    np.testing.assert_allclose(ens.predict(x), np.mean(copies, axis=0))
    assert ens.treatments_ == ["coupon", "push"]
    np.testing.assert_array_equal(clone(ens).fit(x, t, y).predict(x), ens.predict(x))
    with pytest.raises(ConfigError, match="n_models"):
        EnsembleLearner(n_models=0).fit(x, t, y)
