"""Policies: propensities are the true selection probabilities; row and batch paths agree."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from marketlift.sim import (
    ACTIONS,
    Action,
    AlwaysNudge,
    ContextBatch,
    DecisionContext,
    EpsilonGreedy,
    NeverNudge,
    Oracle,
    PolicyDecision,
    UniformRandom,
)
from marketlift.sim.effects import available
from marketlift.sim.policies import choose


def _batch(n: int, seed: int) -> ContextBatch:
    rng = np.random.default_rng(seed)
    moment = rng.integers(0, 4, n)
    avail = available(moment, push_opt_in=rng.random(n) < 0.5, email_opt_in=rng.random(n) < 0.6)
    return ContextBatch(
        moment=moment, buyer=np.arange(n), listing=np.arange(n), u=rng.random(n),
        price_sensitivity=rng.random(n), is_new=rng.random(n) < 0.3,
        fatigue=rng.exponential(1.0, n), value_cents=rng.uniform(500, 9000, n),
        available=avail, true_values=rng.normal(0, 100, (n, len(ACTIONS))),
    )  # fmt: skip


class RowOnly:
    """A policy with ``select`` only (as a user would write it), delegating to a built-in."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def select(self, context: DecisionContext, actions: Sequence[Action]) -> PolicyDecision:
        return self.inner.select(context, actions)  # type: ignore[attr-defined,no-any-return]


POLICIES = [NeverNudge(), AlwaysNudge(), AlwaysNudge("cart_reminder"), UniformRandom(),
            EpsilonGreedy(NeverNudge(), 0.3), EpsilonGreedy(Oracle(), 0.5), Oracle()]  # fmt: skip


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_row_by_row_equals_batch(policy: object) -> None:
    batch = _batch(600, seed=1)
    idx, prop = choose(policy, batch)  # type: ignore[arg-type]
    idx_rows, prop_rows = choose(RowOnly(policy), batch)
    np.testing.assert_array_equal(idx, idx_rows)
    np.testing.assert_allclose(prop, prop_rows)
    assert batch.available[np.arange(len(batch)), idx].all()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("epsilon", [0.2, 0.5, 1.0])
def test_epsilon_greedy_propensities_are_selection_probabilities(seed: int, epsilon: float) -> None:
    n = 40_000
    batch = _batch(n, seed)
    idx, prop = choose(EpsilonGreedy(NeverNudge(), epsilon), batch)
    k = batch.available.sum(axis=1)
    # The chance of choosing "none" is 1 - eps + eps / k, and the propensity says so.
    expected_none = 1 - epsilon + epsilon / k
    np.testing.assert_allclose(prop[idx == 0], expected_none[idx == 0])
    se = np.sqrt((expected_none * (1 - expected_none)).sum()) / n
    assert abs((idx == 0).mean() - expected_none.mean()) < 4 * se + 1e-12
    # Inverse propensity identity: E[1 / pi(A)] = k for a policy that can take every action.
    ratio = (1 / prop).mean() / k.mean()
    if epsilon == 1.0:
        assert ratio == pytest.approx(1.0, abs=0.02)
    assert (prop > 0).all()
    assert (prop <= 1).all()


def test_always_nudge_nudges_whenever_it_can() -> None:
    batch = _batch(2000, seed=3)
    idx, prop = choose(AlwaysNudge(), batch)
    can_nudge = batch.available[:, 1:].any(axis=1)
    assert ((idx > 0) == can_nudge).all()
    coupon = np.array([a.slug == "discount_coupon" for a in ACTIONS])
    has_coupon = (batch.available & coupon).any(axis=1)
    assert coupon[idx][has_coupon].all()
    assert (prop == 1).all()


def test_oracle_takes_the_best_available_action() -> None:
    batch = _batch(2000, seed=4)
    idx, _ = choose(Oracle(), batch)
    best = np.where(batch.available, batch.true_values, -np.inf).max(axis=1)
    np.testing.assert_array_equal(batch.true_values[np.arange(len(batch)), idx], best)


class Unavailable:
    def select(self, context: DecisionContext, actions: Sequence[Action]) -> PolicyDecision:
        return PolicyDecision(ACTIONS[5] if ACTIONS[5] not in actions else ACTIONS[1], 1.0)


class ZeroPropensity:
    def select(self, context: DecisionContext, actions: Sequence[Action]) -> PolicyDecision:
        return PolicyDecision(actions[0], 0.0)


def test_misbehaving_policies_raise() -> None:
    batch = _batch(50, seed=5)
    with pytest.raises(ValueError, match="not available"):
        choose(Unavailable(), batch)
    with pytest.raises(ValueError, match=r"propensity == 0\.0"):
        choose(ZeroPropensity(), batch)
    with pytest.raises(ValueError, match="deterministic base"):
        choose(EpsilonGreedy(UniformRandom(), 0.3), batch)
