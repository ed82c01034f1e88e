import datetime as dt

import numpy as np
import pytest
from sklearn.base import clone

from marketlift.errors import ConfigError
from marketlift.policy import (
    BudgetTracker,
    ConstrainedPolicy,
    Constraints,
    EpsilonGreedyPolicy,
    LinearThompson,
    LinUCB,
    SoftmaxPolicy,
    TriggerState,
    UpliftGreedy,
    allocate_budget,
    load,
    save,
)
from marketlift.policy.base import sample
from marketlift.policy.uplift import SLearner, TLearner
from marketlift.sim import (
    SimAdapter,
    SimConfig,
    evaluate_policies,
    logged_from_lake,
    simulate,
    simulate_logged,
)


@pytest.fixture(scope="module")
def log():
    return simulate_logged(SimConfig(n_buyers=6000, n_days=3, seed=11))


def _policies(log):
    X, t, y = log.features, log.action_names, log.revenue  # noqa: N806
    a = log.action_names
    return {
        "epsilon": EpsilonGreedyPolicy(SLearner(random_state=0), epsilon=0.2).fit(X, t, y),
        "softmax": SoftmaxPolicy(TLearner(random_state=0), temperature=0.5).fit(X, t, y),
        "greedy": UpliftGreedy(SLearner(random_state=0), epsilon=0.1).fit(X, t, y),
        "linucb": LinUCB(alpha=0.5, epsilon=0.1).fit(X, a, y),
        "thompson": LinearThompson(noise=2.0, n_draws=100).fit(X, a, y),
    }


@pytest.fixture(scope="module")
def policies(log):
    return _policies(log)


@pytest.mark.parametrize("name", ["epsilon", "softmax", "greedy", "linucb", "thompson"])
def test_propensities_are_valid_and_match_frequencies(log, policies, name):
    pol = policies[name]
    from marketlift.sim import SIM_ACTIONS

    mask = log.available[:, [SIM_ACTIONS.index(a) for a in pol.actions_]]
    P = pol.probabilities(log.features, mask)  # noqa: N806
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert (P[~mask] == 0).all()
    for seed in (0, 1, 2):
        u = np.random.default_rng(seed).random(len(P))
        idx, prop = pol.choose(log.features, mask, u)
        np.testing.assert_allclose(prop, P[np.arange(len(P)), idx])
        assert mask[np.arange(len(P)), idx].all()
        counts = np.bincount(idx, minlength=P.shape[1])
        expected = P.sum(axis=0)
        sd = np.sqrt((P * (1 - P)).sum(axis=0)) + 1e-9
        assert (np.abs(counts - expected) <= 6 * sd + 1).all(), (counts, expected)


def test_sample_never_picks_zero_probability():
    P = np.array([[0.0, 0.5, 0.0, 0.5, 0.0]] * 4)  # noqa: N806
    idx = sample(P, np.array([0.0, 0.49, 0.5, 0.999999]))
    assert idx.tolist() == [1, 1, 3, 3]


def test_policies_run_in_the_simulator(log, policies):
    cfg = SimConfig(n_buyers=1500, n_days=2, seed=5)
    values = evaluate_policies(cfg, {"never": "never", **policies})
    assert values["greedy"].expected_revenue_per_buyer > values["never"].expected_revenue_per_buyer
    one = policies["epsilon"]
    from marketlift.sim import ACTIONS, DecisionContext

    ctx = DecisionContext(
        moment="browsing",
        buyer_id="b1",
        u=0.99,
        price_sensitivity=0.9,
        is_new=True,
        fatigue=0.0,
        value_cents=5000.0,
        true_values={},
    )
    d = SimAdapter(one).select(ctx, [ACTIONS[0], ACTIONS[1], ACTIONS[4]])
    assert d.action in (ACTIONS[0], ACTIONS[1], ACTIONS[4])
    assert 0 < d.propensity <= 1


def test_select_and_select_batch_agree(log, policies):
    from marketlift.sim import ContextBatch

    pol = policies["softmax"]
    n = 50
    rng = np.random.default_rng(0)
    batch = ContextBatch(
        moment=np.zeros(n, dtype=np.int64),
        buyer=np.arange(n),
        listing=np.arange(n),
        u=rng.random(n),
        price_sensitivity=rng.random(n),
        is_new=rng.random(n) < 0.3,
        fatigue=rng.random(n),
        value_cents=rng.uniform(1000, 9000, n),
        available=np.tile(np.array([1, 1, 1, 1, 1, 0, 0, 0, 0], dtype=bool), (n, 1)),
        true_values=np.zeros((n, 9)),
    )
    idx, prop = SimAdapter(pol).select_batch(batch)
    from marketlift.sim import ACTIONS

    for i in range(n):
        d = SimAdapter(pol).select(batch.context(i), batch.actions(i))
        assert ACTIONS.index(d.action) == idx[i]
        assert d.propensity == pytest.approx(prop[i])


def test_policy_conformance(log):
    X, t, y = log.features[:2000], log.action_names[:2000], log.revenue[:2000]  # noqa: N806
    for make in (
        lambda: EpsilonGreedyPolicy(SLearner(random_state=1), epsilon=0.3),
        lambda: SoftmaxPolicy(SLearner(random_state=1)),
        lambda: UpliftGreedy(SLearner(random_state=1)),
        lambda: LinUCB(alpha=0.3),
        lambda: LinearThompson(random_state=1, n_draws=50),
    ):
        p = make()
        assert p.fit(X, t, y) is p
        q = clone(make())
        assert q.get_params().keys() == p.get_params().keys()
        np.testing.assert_array_equal(
            q.fit(X, t, y).probabilities(X[:200]), p.probabilities(X[:200])
        )


def test_thompson_seed_changes_draws(log):
    X, t, y = log.features[:3000], log.action_names[:3000], log.revenue[:3000]  # noqa: N806
    a = LinearThompson(random_state=0, noise=5.0).fit(X, t, y).probabilities(X[:300])
    b = LinearThompson(random_state=1, noise=5.0).fit(X, t, y).probabilities(X[:300])
    assert not np.array_equal(a, b)


def test_linucb_online_updates_equal_batch_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))  # noqa: N806
    a = rng.choice(["none", "push", "email"], 300)
    r = rng.normal(size=300)
    batch = LinUCB(actions=["none", "push", "email"]).fit(X, a, r)
    online = LinUCB(actions=["none", "push", "email"]).fit(X[:1], a[:1], r[:1])
    for i in range(1, 300):
        online.update(X[i], a[i], r[i])
    np.testing.assert_allclose(online.theta_, batch.theta_, atol=1e-8)
    np.testing.assert_allclose(online.scores(X[:20]), batch.scores(X[:20]), atol=1e-8)
    d = batch.decide(X[0], u=0.5)
    assert d.action == batch.actions_[int(np.argmax(batch.scores(X[:1])[0]))]
    with pytest.raises(ConfigError):
        batch.update(X[0], "sms", 1.0)


def test_constraints_caps_quiet_hours_opt_out():
    c = Constraints(caps={"email": (2, 24.0)}, quiet_hours=(21, 8))
    t0 = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
    acts = ["none", "cart_reminder_email", "free_shipping_banner_onsite", "cart_reminder_push"]
    assert c.allowed("b", acts, t0).tolist() == [True, True, True, True]
    c.record("b", "cart_reminder_email", t0)
    c.record("b", "cart_reminder_email", t0 + dt.timedelta(hours=1))
    assert c.allowed("b", acts, t0 + dt.timedelta(hours=2)).tolist() == [True, False, True, True]
    assert c.allowed("b", acts, t0 + dt.timedelta(hours=24, minutes=1)).tolist()[1] is True
    # 12:00 UTC is 04:00 in Los Angeles: push and email are quiet, onsite is not
    assert c.allowed("x", acts, t0, "America/Los_Angeles").tolist() == [True, False, True, False]
    c.opt_out("y", "push")
    assert c.allowed("y", acts, t0).tolist() == [True, True, True, False]
    with pytest.raises(ConfigError):
        c.allowed("y", acts, dt.datetime(2026, 11, 2, 12))  # naive time


def test_budget_allocation_by_net_uplift_per_cost():
    net = np.array([[0, 10.0, 0.5], [0, 6.0, 0.0], [0, 4.0, 3.5], [0, -1.0, -1.0]])
    cost = np.array([0.0, 5.0, 0.0])
    # gains per cost: row0 (10-0.5)/5=1.9, row1 6/5=1.2, row2 (4-3.5)/5=0.1
    assert allocate_budget(net, cost, 10.0).tolist() == [1, 1, 2, 0]
    assert allocate_budget(net, cost, 5.0).tolist() == [1, 0, 2, 0]
    assert allocate_budget(net, cost, 0.0).tolist() == [2, 0, 2, 0]
    b = BudgetTracker(5.0, {"coupon": 5.0})
    assert b.allowed(["none", "coupon"]).tolist() == [True, True]
    b.spend("coupon")
    assert b.allowed(["none", "coupon"]).tolist() == [True, False]


def test_constrained_policy_masks_and_records(log):
    pol = UpliftGreedy(SLearner(random_state=0), threshold=-1e9).fit(
        log.features, log.action_names, log.revenue
    )
    c = Constraints(caps={"in_app": (1, 24.0), "onsite": (0, 24.0)}, quiet_hours=None)
    cp = ConstrainedPolicy(pol, c)
    x = log.features[log.moment == 0][0]
    when = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
    first = cp.decide(x, buyer="b", when=when)
    second = cp.decide(x, buyer="b", when=when)
    assert first.action == "discount_coupon_in_app" or "onsite" not in str(first.action)
    assert "onsite" not in str(second.action)
    if first.action == "discount_coupon_in_app":
        assert second.action != "discount_coupon_in_app"


def test_trigger_moments():
    t0 = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    s = TriggerState()
    assert s.on_event("listing_view", t0) == ["browsing"]
    s.on_event("add_to_cart", t0)
    assert s.due(t0 + dt.timedelta(days=3)) == ["cart_idle_1d"]
    assert s.due(t0 + dt.timedelta(days=4)) == []
    s.on_event("purchase", t0 + dt.timedelta(days=4))
    assert s.on_event("session_start", t0 + dt.timedelta(days=5)) == []


def test_save_load_roundtrip(tmp_path, policies, log):
    path = save(policies["greedy"], tmp_path / "p.pkl")
    back = load(path)
    np.testing.assert_array_equal(
        back.probabilities(log.features[:100]), policies["greedy"].probabilities(log.features[:100])
    )
    (tmp_path / "bad.pkl").write_bytes(b"\x80\x04N.")
    with pytest.raises(ConfigError):
        load(tmp_path / "bad.pkl")


def test_lake_replay_equals_in_memory_log(tmp_path):
    cfg = SimConfig(n_buyers=1200, n_days=3, seed=2)
    a = simulate_logged(cfg)
    simulate(cfg, tmp_path)
    b = logged_from_lake(tmp_path)

    def order(x):
        return np.lexsort((x.features[:, 7], x.action, x.buyer, x.moment, x.day))

    ka, kb = order(a), order(b)
    np.testing.assert_allclose(a.features[ka], b.features[kb])
    np.testing.assert_array_equal(a.action[ka], b.action[kb])
    np.testing.assert_allclose(a.revenue[ka], b.revenue[kb])
    np.testing.assert_allclose(a.true_value[ka], b.true_value[kb])


@pytest.mark.parametrize("name", ["epsilon", "softmax", "greedy"])
def test_decide_scores_matches_batch_probabilities(log, policies, name):
    pol = policies[name]
    x = log.features[:40]
    probs = pol.probabilities(x)
    scores = pol.scores(x)
    for i, u in enumerate(np.linspace(0.0, 0.999, 40)):
        d = pol.decide_scores(scores[i], None, float(u))
        k = pol.actions_.index(d.action)
        assert d.propensity == pytest.approx(probs[i, k])
        assert k == int(sample(probs[i : i + 1], np.array([u]))[0])
        assert pol.decide(x[i], None, float(u)).action == d.action
