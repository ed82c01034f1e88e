import numpy as np
import pytest

from marketlift.errors import ConfigError
from marketlift.ope import (
    DM,
    DR,
    IPS,
    SNIPS,
    LoggedBandit,
    SwitchDR,
    evaluate,
    fit_reward_model,
    gate,
    target_probabilities,
)
from marketlift.policy import UpliftGreedy
from marketlift.policy.uplift import SLearner
from marketlift.sim import SIM_ACTIONS, SIM_FEATURES, SimConfig, simulate_logged


@pytest.fixture
def tiny():
    d = LoggedBandit.build(
        actions=["a", "b"],
        action=["a", "b", "b", "a"],
        reward=[1.0, 0.0, 2.0, 3.0],
        propensity=[0.5, 0.25, 0.5, 0.8],
    )
    target = np.array([[0.2, 0.8]] * 4)
    q = np.array([[1.0, 2.0], [0.5, 0.0], [1.0, 1.0], [2.0, 0.0]])
    return d, target, q


def test_hand_computed_values(tiny):
    d, target, q = tiny
    w = np.array([0.2 / 0.5, 0.8 / 0.25, 0.8 / 0.5, 0.2 / 0.8])
    r = np.array([1.0, 0.0, 2.0, 3.0])
    assert IPS().estimate(d, target).value == pytest.approx((w * r).mean())
    assert IPS(clip=2.0).estimate(d, target).value == pytest.approx((np.minimum(w, 2) * r).mean())
    assert SNIPS().estimate(d, target).value == pytest.approx((w * r).sum() / w.sum())
    dm = (target * q).sum(axis=1)
    assert DM().estimate(d, target, q).value == pytest.approx(dm.mean())
    qa = np.array([1.0, 0.0, 1.0, 2.0])
    assert DR().estimate(d, target, q).value == pytest.approx((dm + w * (r - qa)).mean())
    keep = w <= 2.0
    sw = dm + np.where(keep, w, 0) * (r - qa)
    assert SwitchDR(tau=2.0).estimate(d, target, q).value == pytest.approx(sw.mean())
    e = IPS().estimate(d, target)
    se = (w * r).std(ddof=1) / 2
    assert e.ci_high - e.value == pytest.approx(1.959964 * se, rel=1e-5)
    diag = e.diagnostics
    assert diag.effective_sample_size == pytest.approx(w.sum() ** 2 / (w**2).sum())


def test_analytic_interval_matches_statsmodels():
    from statsmodels.stats.weightstats import DescrStatsW

    rng = np.random.default_rng(0)
    n = 500
    a = rng.integers(0, 3, n)
    d = LoggedBandit.build(
        actions=["x", "y", "z"],
        action=a,
        reward=rng.exponential(size=n),
        propensity=np.full(n, 1 / 3),
    )
    target = np.tile([0.6, 0.3, 0.1], (n, 1))
    e = IPS().estimate(d, target)
    lo, hi = DescrStatsW(d.chosen(target) / d.propensity * d.reward).zconfint_mean()
    assert (e.ci_low, e.ci_high) == pytest.approx((lo, hi))
    b = IPS().estimate(d, target, interval="bootstrap", n_boot=400)
    assert b.se == pytest.approx(e.se, rel=0.2)


def test_misuse_raises(tiny):
    d, target, _ = tiny
    with pytest.raises(ConfigError, match="propensity"):
        LoggedBandit.build(actions=["a"], action=["a"], reward=[1.0], propensity=[0.0])
    with pytest.raises(ConfigError, match="q"):
        DR().estimate(d, target)
    with pytest.raises(ConfigError, match="interval"):
        IPS().estimate(d, target, interval="magic")
    with pytest.raises(ConfigError, match="policy table"):
        target_probabilities(np.full((4, 2), 0.7), d)


def test_poor_overlap_is_flagged_not_raised():
    rng = np.random.default_rng(1)
    n = 5000
    a = rng.integers(0, 2, n)
    wrong = np.full(n, 0.25)  # true propensity is 0.5
    d = LoggedBandit.build(actions=["a", "b"], action=a, reward=rng.random(n), propensity=wrong)
    e = IPS().estimate(d, np.tile([0.5, 0.5], (n, 1)))
    assert "poor_overlap" in e.flags
    ok = LoggedBandit.build(
        actions=["a", "b"], action=a, reward=rng.random(n), propensity=np.full(n, 0.5)
    )
    assert IPS().estimate(ok, np.tile([0.5, 0.5], (n, 1))).flags == ()


@pytest.fixture(scope="module")
def sim_policy():
    train = simulate_logged(SimConfig(n_buyers=8000, n_days=3, seed=500))
    return UpliftGreedy(SLearner(random_state=0), epsilon=0.2).fit(
        train.features, train.action_names, train.revenue
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_estimators_against_simulated_truth(seed, sim_policy):
    log = simulate_logged(SimConfig(n_buyers=8000, n_days=3, seed=seed))
    data = LoggedBandit.build(
        actions=SIM_ACTIONS,
        action=log.action,
        reward=log.revenue,
        propensity=log.propensity,
        context=log.features,
        available=log.available,
        context_names=SIM_FEATURES,
    )
    for policy in ("uniform", sim_policy):
        target = target_probabilities(policy, data)
        truth = float(np.nansum(target * np.nan_to_num(log.true_value), axis=1).mean())
        report = evaluate(data, policy)
        for name in ("ips", "snips", "dr"):
            e = report.get(name)
            # within 4.5 standard errors of the truth: fails only if the estimator is biased
            assert abs(e.value - truth) < 4.5 * e.se + 0.02 * truth, (name, e, truth)


def test_evaluate_logging_is_on_policy_mean():
    rng = np.random.default_rng(0)
    n = 200
    d = LoggedBandit.build(
        actions=["a", "b"],
        action=rng.integers(0, 2, n),
        reward=rng.random(n),
        propensity=np.full(n, 0.5),
    )
    rep = evaluate(d, "logging")
    assert rep.get("ips").value == pytest.approx(d.reward.mean())


def test_gate_says_yes_for_a_better_policy_and_no_for_never():
    rng = np.random.default_rng(3)
    n = 20000
    x = rng.normal(size=(n, 1))
    a = rng.integers(0, 2, n)
    r = rng.binomial(1, np.where(a == 1, 0.3, 0.1)).astype(float)
    d = LoggedBandit.build(
        actions=["none", "push"], action=a, reward=r, propensity=np.full(n, 0.5), context=x
    )
    always_push = np.tile([0.0, 1.0], (n, 1))
    yes = gate(d, always_push, estimator="dr")
    assert yes.worth_testing
    assert yes.ci_low > 0
    assert yes.lift == pytest.approx(0.1, abs=0.02)
    no = gate(d, "never", estimator="ips")
    assert not no.worth_testing
    q = fit_reward_model(d)
    assert q[:, 1].mean() - q[:, 0].mean() == pytest.approx(0.2, abs=0.02)
