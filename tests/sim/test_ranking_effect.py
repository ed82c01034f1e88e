"""The simulator's ranking effect: a browsing buyer may switch to a listing of the slate.

Known truths checked here: with the effect off, a slate policy changes nothing, draw for draw;
with it on, an on-topic slate (same category as the listing on screen) earns more than an
off-topic one, buyers switch to on-topic listings far more often, carts a buyer comes back for
are never switched, and the events log the slate as the impressions.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from marketlift.sim import (
    ContextBatch,
    NeverNudge,
    SimConfig,
    SlatePolicy,
    evaluate_policies,
    make_world,
    run_ab,
)
from marketlift.sim.funnel import N_IMPRESSIONS, BuyerState, Day, simulate_day
from marketlift.sim.world import World, continue_world

CONFIG = SimConfig(n_buyers=6000, n_days=4, seed=11)
WORLD = make_world(CONFIG)


class TopicSlate(NeverNudge):
    """Never nudges; shows the most popular listings of a category: the on-screen one's
    (``on_topic``) or the next category's."""

    def __init__(self, on_topic: bool, world: World = WORLD) -> None:
        self.on_topic = on_topic
        self.name = "on_topic" if on_topic else "off_topic"
        self.world = world
        lst = world.listings
        self.top = [
            np.flatnonzero(lst.category == c)[
                np.argsort(-lst.popularity[lst.category == c], kind="stable")
            ]
            for c in range(int(lst.category.max()) + 1)
        ]

    def decide_batch(
        self, batch: ContextBatch, slate_size: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        action, propensity = self.select_batch(batch)
        category = self.world.listings.category[batch.listing]
        if not self.on_topic:
            category = (category + 1) % len(self.top)
        slate = np.full((len(batch), slate_size), -1, dtype=np.int64)
        for c in np.unique(category):
            top = self.top[c][:slate_size]
            slate[category == c, : len(top)] = top
        return action, propensity, slate


class BadShape(NeverNudge):
    name = "bad_shape"

    def decide_batch(
        self, batch: ContextBatch, slate_size: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        action, propensity = self.select_batch(batch)
        return action, propensity, np.zeros((len(batch), slate_size + 1), dtype=np.int64)


def test_slate_policies_are_slate_policies() -> None:
    assert isinstance(TopicSlate(True), SlatePolicy)
    assert not isinstance(NeverNudge(), SlatePolicy)


def test_off_by_default_a_slate_changes_nothing() -> None:
    values = evaluate_policies(CONFIG, {"never": NeverNudge(), "slate": TopicSlate(True)})
    never, slate = values["never"], values["slate"]
    assert never.orders == slate.orders
    assert never.expected_revenue_per_buyer == slate.expected_revenue_per_buyer


def test_on_topic_slates_earn_more_than_off_topic_ones() -> None:
    values = evaluate_policies(
        CONFIG, {"on": TopicSlate(True), "off": TopicSlate(False)}, ranking=True
    )
    on, off = values["on"], values["off"]
    # Expected revenue from the true probabilities: common random numbers, so the gap is the
    # effect of the slate alone, and it is large (about 15 % at this size).
    assert on.expected_revenue_per_buyer > 1.08 * off.expected_revenue_per_buyer
    assert on.orders > off.orders


def _day(policy: NeverNudge, *, ranking: bool) -> tuple[Day, npt.NDArray[np.int64]]:
    """Day 1 (after a day 0 that left open carts), and the listings on screen without slates."""
    arm = np.zeros(CONFIG.n_buyers, dtype=np.int64)
    state = BuyerState.start(WORLD)
    simulate_day(WORLD, state, 0, [policy], arm, ranking=ranking)
    plain = BuyerState.start(WORLD)
    plain.open_cart = state.open_cart.copy()  # the same carts, so the same sessions come back
    day = simulate_day(WORLD, state, 1, [policy], arm, ranking=ranking)
    organic = simulate_day(WORLD, plain, 1, [NeverNudge()], arm, ranking=False)
    return day, organic.listing


def test_buyers_switch_to_on_topic_listings_and_never_leave_their_cart() -> None:
    on, organic = _day(TopicSlate(True), ranking=True)
    off, _ = _day(TopicSlate(False), ranking=True)
    browsing = on.moment == 0
    switched_on = (on.listing != organic)[browsing].mean()
    switched_off = (off.listing != organic)[browsing].mean()
    assert 0.2 < switched_on < 0.8
    assert switched_off < switched_on / 2
    returning = on.moment == 1
    assert returning.any()
    assert (on.listing[returning] == organic[returning]).all()
    lst = WORLD.listings
    same = lst.category[on.listing] == lst.category[organic]
    assert same[browsing].mean() > 0.95
    # The slate is what the buyer was shown: the impressions.
    slate = TopicSlate(True)
    assert on.impressions.shape[1] == N_IMPRESSIONS
    top = slate.top[int(lst.category[organic[0]])][:N_IMPRESSIONS]
    if on.moment[0] == 0:
        assert on.impressions[0].tolist() == top.tolist()


def test_a_slate_of_the_wrong_shape_is_refused_with_the_policy_name() -> None:
    with pytest.raises(ValueError, match=r"'bad_shape' returned a slate of shape \(\d+, 7\)"):
        evaluate_policies(SimConfig(n_buyers=300, n_days=1), {"bad": BadShape()}, ranking=True)


def test_ab_with_given_arms_and_truth_policies(tmp_path: object) -> None:
    config = SimConfig(n_buyers=2000, n_days=2, seed=5)
    world = make_world(config)
    arm = np.arange(config.n_buyers, dtype=np.int64) % 2
    result = run_ab(
        config, {"off": TopicSlate(False, world), "on": TopicSlate(True, world)}, None, arm=arm,
        ranking=True,
        truth_policies={"off": TopicSlate(False, world), "on": TopicSlate(True, world)},
    )  # fmt: skip
    assert result.values["off"].buyers == result.values["on"].buyers == 1000
    assert result.experiment is not None
    assert result.experiment.true_effect["on"] > 0
    with pytest.raises(ValueError, match="arm"):
        run_ab(config, {"a": "never", "b": "never"}, None, arm=np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="truth_policies"):
        run_ab(config, {"a": "never", "b": "never"}, None, truth_policies={"x": "never"})
    with pytest.raises(ValueError, match=r"listing index \d+ in a slate, expected -1"):
        evaluate_policies(config, {"wrong world": TopicSlate(True)}, ranking=True)


def test_a_continued_world_keeps_buyers_and_listings_and_its_own_ids() -> None:
    history = SimConfig(n_buyers=800, n_days=5, seed=2)
    later = SimConfig(n_buyers=800, n_days=2, seed=3, start=history.start)
    world = continue_world(make_world(history), later)
    fresh = make_world(later)
    assert (world.listings.price_cents == make_world(history).listings.price_cents).all()
    assert not (world.listings.price_cents == fresh.listings.price_cents).all()
    assert (world.buyers.first_day == -1).all()  # everyone joined during the history
    continued = evaluate_policies(later, {"never": "never"}, world=world)["never"]
    own = evaluate_policies(later, {"never": "never"})["never"]
    assert continued.buyers == own.buyers == 800
    assert continued.expected_revenue_per_buyer != own.expected_revenue_per_buyer
    with pytest.raises(ValueError, match="the world's 800 buyers"):
        continue_world(make_world(history), SimConfig(n_buyers=900, n_days=2))
