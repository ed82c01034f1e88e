"""One simulated day: sessions, the purchase funnel, engagement decisions and their outcomes.

Everything is vectorized over the day's sessions. Random numbers are drawn in a fixed order
from the stream ``(seed, 1, day)`` *before* any policy acts, so two policies run on the same
seed face the same buyers, sessions and uniforms (common random numbers): their outcomes differ
only through their choices.

Example:
    >>> from marketlift.sim.config import SimConfig
    >>> from marketlift.sim.policies import NeverNudge
    >>> from marketlift.sim.world import make_world
    >>> world = make_world(SimConfig(n_buyers=2000, seed=3))
    >>> state = BuyerState.start(world)
    >>> day = simulate_day(world, state, 0, [NeverNudge()], np.zeros(2000, dtype=np.int64))
    >>> bool(day.n_sessions > 300), bool((day.propensity == 1.0).all())
    (True, True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from marketlift.sim.effects import (
    DISCOUNT,
    FATIGUE_DECAY,
    FATIGUE_STEP,
    FREE_SHIPPING,
    available,
    is_message,
    is_push,
    logit_shift,
    unsubscribe_probability,
)
from marketlift.sim.policies import (
    ContextBatch,
    Policy,
    SlatePolicy,
    check_choice,
    choose,
    policy_name,
)
from marketlift.sim.world import World

__all__ = [
    "MAX_VIEWS",
    "N_IMPRESSIONS",
    "N_SLOTS",
    "BuyerState",
    "CartDecisions",
    "Day",
    "simulate_day",
]  # fmt: skip

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_VIEWS: Final = 8
N_IMPRESSIONS: Final = 6
N_SLOTS: Final = 19
"""Event slots of a session, in time order: page_view, search, decision, engagement_shown,
engagement click/dismiss, impression, 8 listing views, favorite, add_to_cart,
remove_from_cart, checkout_start, purchase."""
# Funnel intercepts (logit scale), calibrated so that about 10 % of sessions add to cart,
# about 45 % of carts reach checkout and about 65 % of checkouts buy.
_ATC0: Final = -2.8
_CO0: Final = -0.35
_PUR0: Final = 0.4
_REC1: Final = -3.1
_REC2: Final = -3.7
_HOUR_WEIGHTS: Final = np.array(
    [2, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 6, 6, 5, 5, 6, 7, 8, 9, 9, 8, 6, 4], dtype=float
)
_LOG_PRICE_CENTER: Final = np.log(np.array([38.0, 30, 42, 55, 22, 20, 48, 60]) * 100)
# The ranking effect (``ranking=True``): a browsing buyer sees the policy's slate beside the
# listing on screen and takes whichever of the seven fits best by a noisy comparison: logit
# choice at temperature _CHOICE_TEMPERATURE over fit (on the session's topic, well rated),
# with attention falling by position (_SLATE_ATTENTION / log2(k + 2)). An off-topic listing
# also lowers the logit of adding it to the cart by _OFF_TOPIC.
_CHOICE_TEMPERATURE: Final = 0.5
_SLATE_ATTENTION: Final = 0.6
_OFF_TOPIC: Final = -1.5
_TASTE: Final = 0.5
_RATING_PULL: Final = 0.6


@dataclasses.dataclass(slots=True)
class BuyerState:
    """What changes about buyers over the period (policies influence it)."""

    fatigue: FloatArray
    push_opt_in: BoolArray
    email_opt_in: BoolArray
    open_cart: IntArray
    purchases: IntArray
    exposed: BoolArray

    @classmethod
    def start(cls, world: World) -> BuyerState:
        """The state on day 0."""
        b = world.buyers
        return cls(
            fatigue=np.zeros(b.n),
            push_opt_in=b.push_opt_in.copy(),
            email_opt_in=b.email_opt_in.copy(),
            open_cart=np.full(b.n, -1, dtype=np.int64),
            purchases=np.zeros(b.n, dtype=np.int64),
            exposed=np.zeros(b.n, dtype=bool),
        )


@dataclasses.dataclass(slots=True)
class CartDecisions:
    """Decisions on idle carts (one row per decision) and whether the cart was bought after."""

    session: IntArray
    moment: IntArray
    ts_us: IntArray
    action: IntArray
    propensity: FloatArray
    arm: IntArray
    values: FloatArray
    probabilities: FloatArray
    available: BoolArray
    shown: BoolArray
    clicked: BoolArray
    dismissed: BoolArray
    recovered: BoolArray
    purchase_ts_us: IntArray
    revenue_cents: IntArray
    unsubscribed: BoolArray


@dataclasses.dataclass(slots=True)
class Day:
    """The outcome of one day; session arrays have one row per session.

    ``probabilities`` and ``values`` hold, for each session's in-session decision, the true
    purchase probability and expected revenue (US cents) under every action.
    """

    day: int
    n_sessions: int
    buyer: IntArray
    platform: IntArray
    start_us: IntArray
    offsets_us: IntArray
    moment: IntArray
    listing: IntArray
    views: IntArray
    n_views: IntArray
    impressions: IntArray
    searched: BoolArray
    query_variant: IntArray
    results_count: IntArray
    favorited: BoolArray
    add_to_cart: BoolArray
    removed: BoolArray
    checkout: BoolArray
    purchased: BoolArray
    revenue_cents: IntArray
    action: IntArray
    propensity: FloatArray
    arm: IntArray
    shown: BoolArray
    clicked: BoolArray
    dismissed: BoolArray
    exposure: BoolArray
    p_add_to_cart: FloatArray
    p_checkout: FloatArray
    p_purchase_given_checkout: FloatArray
    probabilities: FloatArray
    values: FloatArray
    available: BoolArray
    carts: CartDecisions


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def simulate_day(  # noqa: PLR0915 - one pass over the day, in the order things happen
    world: World,
    state: BuyerState,
    day: int,
    policies: Sequence[Policy],
    arm: IntArray,
    *,
    log_exposures: bool = False,
    ranking: bool = False,
) -> Day:
    """Simulate day ``day``; ``policies[arm[b]]`` decides for buyer ``b``; updates ``state``.

    With ``ranking``, the ranking effect is on: each browsing session shows the deciding
    policy's slate (:class:`~marketlift.sim.policies.SlatePolicy`; other policies show the
    organic impressions), and the buyer may switch to a listing from it, which changes what
    they may buy. Without it the run is the same as before the effect existed, draw for draw.
    """
    cfg, b, lst = world.config, world.buyers, world.listings
    rng = cfg.rng(1, day)
    # -- sessions (independent of any policy) ------------------------------------------------
    weekday = (cfg.start.toordinal() + day) % 7
    rate = cfg.sessions_per_buyer_day * b.activity * (1.15 if weekday in (5, 6) else 1.0)
    counts = np.minimum(rng.poisson(rate), 3) * (b.first_day <= day)
    buyer = np.repeat(np.arange(b.n, dtype=np.int64), counts)
    n = len(buyer)
    u = rng.random((n, 28))
    platform = np.where(u[:, 0] < 0.8, b.platform[buyer], (u[:, 1] * 3).astype(np.int64))
    hour = np.searchsorted(np.cumsum(_HOUR_WEIGHTS) / _HOUR_WEIGHTS.sum(), u[:, 2])
    day_us = (cfg.start.toordinal() - 719163 + day) * 86_400_000_000
    start_us = day_us + ((hour + u[:, 3]) * 3600e6).astype(np.int64)
    gaps = rng.exponential(25.0, (n, N_SLOTS)) + 1.0
    offsets_us = (np.cumsum(gaps, axis=1) * 1e6).astype(np.int64) | 1
    offsets_us[:, 0] = 1
    cum = np.cumsum(b.affinity[buyer], axis=1)
    category = np.minimum((cum < u[:, 4:5]).sum(axis=1), cum.shape[1] - 1)
    sampled = lst.sample(category, u[:, 5])
    others = lst.sample(np.repeat(category, MAX_VIEWS + N_IMPRESSIONS), rng.random(n * 14))
    others = others.reshape(n, MAX_VIEWS + N_IMPRESSIONS)
    n_views = np.minimum(rng.geometric(0.45, n), MAX_VIEWS).astype(np.int64)
    searched = u[:, 6] < 0.55
    query_variant = (u[:, 7] * 6).astype(np.int64)
    results_count = rng.poisson(120, n).astype(np.int64)
    # -- state at the start of the day ------------------------------------------------------
    open_cart = state.open_cart[buyer]
    returning = open_cart >= 0
    listing = np.where(returning, open_cart, sampled)
    moment = returning.astype(np.int64)
    views = others[:, :MAX_VIEWS].copy()
    views[np.arange(n), n_views - 1] = listing
    impressions = others[:, MAX_VIEWS:].copy()
    impressions[:, 0] = listing
    is_new = (b.first_day[buyer] >= 0) & (state.purchases[buyer] == 0)
    ps = b.price_sensitivity[buyer]
    intent = b.intent[buyer]
    fatigue = state.fatigue[buyer]
    fsens = b.fatigue_sensitivity[buyer]
    price = lst.price_cents[listing].astype(np.float64)
    ship = lst.shipping_cents[listing].astype(np.float64)
    price_rel = np.log(price) - _LOG_PRICE_CENTER[lst.category[listing]]
    l_atc = (_ATC0 + intent - 0.8 * ps * price_rel + 0.3 * (lst.rating[listing] - 4.5)
             + 1.6 * returning)  # fmt: skip
    l_co = _CO0 + 0.4 * intent - 2.0 * ps * ship / (price + ship)
    p_pur = _sigmoid(_PUR0 + 0.3 * intent)
    # -- in-session decision -----------------------------------------------------------------
    shift = logit_shift(
        moment, price_sensitivity=ps, is_new=is_new, fatigue=fatigue, fatigue_sensitivity=fsens
    )
    avail = available(
        moment, push_opt_in=state.push_opt_in[buyer], email_opt_in=state.email_opt_in[buyer]
    )
    p_atc_all = _sigmoid(l_atc[:, None] + shift)
    p_co_all = _sigmoid(l_co[:, None] + 0.5 * shift)
    value_all = _order_value(price, ship)
    prob_all = p_atc_all * p_co_all * p_pur[:, None]
    values = prob_all * value_all
    batch = ContextBatch(
        moment=moment, buyer=buyer, listing=listing, u=u[:, 8], price_sensitivity=ps,
        is_new=is_new, fatigue=fatigue, value_cents=price, available=avail, true_values=values,
    )  # fmt: skip
    session_arm = arm[buyer]
    slate_size = N_IMPRESSIONS if ranking else 0
    action, propensity, slate = _decide(policies, session_arm, batch, slate_size, lst.n)
    if ranking:
        rank_rng = cfg.rng(5, day)
        gumbel = rank_rng.gumbel(size=(n, 1 + N_IMPRESSIONS))
        taste = rank_rng.normal(0.0, _TASTE, (n, 1 + N_IMPRESSIONS))
        slate = np.where(slate >= 0, slate, others[:, MAX_VIEWS:])
        match = _switch(world, listing, slate, gumbel, taste, browsing=moment == 0)
        listing = np.where(match.switched, match.listing, listing)
        views[np.arange(n), n_views - 1] = listing
        impressions = slate.copy()
        price = lst.price_cents[listing].astype(np.float64)
        ship = lst.shipping_cents[listing].astype(np.float64)
        price_rel = np.log(price) - _LOG_PRICE_CENTER[lst.category[listing]]
        l_atc = (_ATC0 + intent - 0.8 * ps * price_rel + 0.3 * (lst.rating[listing] - 4.5)
                 + 1.6 * returning + match.match)  # fmt: skip
        l_co = _CO0 + 0.4 * intent - 2.0 * ps * ship / (price + ship)
        p_atc_all = _sigmoid(l_atc[:, None] + shift)
        p_co_all = _sigmoid(l_co[:, None] + 0.5 * shift)
        value_all = _order_value(price, ship)
        prob_all = p_atc_all * p_co_all * p_pur[:, None]
        values = prob_all * value_all
    rows = np.arange(n)
    p_atc = p_atc_all[rows, action]
    p_co = p_co_all[rows, action]
    atc = u[:, 9] < p_atc
    checkout = atc & (u[:, 10] < p_co)
    purchased = checkout & (u[:, 11] < p_pur)
    revenue = np.where(purchased, np.round(value_all[rows, action]), 0).astype(np.int64)
    shown = action > 0
    clicked = shown & (u[:, 12] < np.where(atc, 0.5, 0.04))
    dismissed = shown & ~clicked & (u[:, 13] < 0.3)
    favorited = u[:, 14] < 0.06 + 0.3 * atc
    removed = atc & ~purchased & (u[:, 15] < 0.12)
    np.add.at(state.fatigue, buyer, FATIGUE_STEP[action])
    exposure = np.zeros(n, dtype=bool)
    if log_exposures and n:
        first = np.r_[True, buyer[1:] != buyer[:-1]]
        exposure = first & ~state.exposed[buyer]
        state.exposed[buyer[exposure]] = True
    # -- idle carts --------------------------------------------------------------------------
    idle = atc & ~purchased & ~removed
    abandon_us = start_us + offsets_us[:, 15]
    carts = _cart_decisions(
        world, state, sessions=np.flatnonzero(idle), u=u, abandon_us=abandon_us, price=price,
        ship=ship, intent=intent, ps=ps, is_new=is_new, fsens=fsens, policies=policies,
        session_arm=session_arm, buyer=buyer, listing=listing,
    )  # fmt: skip
    # -- state at the end of the day ---------------------------------------------------------
    recovered_sessions = carts.session[carts.recovered]
    bought = purchased.copy()
    bought[recovered_sessions] = True
    still_open = idle & ~bought
    state.open_cart[buyer[bought | removed]] = -1
    state.open_cart[buyer[still_open]] = listing[still_open]
    np.add.at(state.purchases, buyer, bought.astype(np.int64))
    state.fatigue *= FATIGUE_DECAY
    return Day(
        day=day, n_sessions=n, buyer=buyer, platform=platform, start_us=start_us,
        offsets_us=offsets_us, moment=moment, listing=listing, views=views, n_views=n_views,
        impressions=impressions, searched=searched, query_variant=query_variant,
        results_count=results_count, favorited=favorited, add_to_cart=atc, removed=removed,
        checkout=checkout, purchased=purchased, revenue_cents=revenue, action=action,
        propensity=propensity, arm=session_arm, shown=shown, clicked=clicked,
        dismissed=dismissed, exposure=exposure, p_add_to_cart=p_atc, p_checkout=p_co,
        p_purchase_given_checkout=p_pur, probabilities=prob_all, values=values,
        available=avail, carts=carts,
    )  # fmt: skip


def _order_value(price: FloatArray, ship: FloatArray) -> FloatArray:
    """What the buyer pays (US cents) under each action: discounts and free shipping apply."""
    return np.asarray(
        price[:, None] * (1.0 - DISCOUNT[None, :]) + ship[:, None] * (~FREE_SHIPPING)[None, :]
    )


def _decide(
    policies: Sequence[Policy],
    arm: IntArray,
    batch: ContextBatch,
    slate_size: int = 0,
    n_listings: int = 0,
) -> tuple[IntArray, FloatArray, IntArray]:
    """Each arm's policy decides its rows; slates (``-1``: none) when ``slate_size`` > 0."""
    n = len(batch)
    action = np.zeros(n, dtype=np.int64)
    propensity = np.ones(n)
    slate = np.full((n, slate_size), -1, dtype=np.int64)
    for k, policy in enumerate(policies):
        rows = np.flatnonzero(arm == k)
        if len(rows) == 0:
            continue
        sub = ContextBatch(
            **{f.name: getattr(batch, f.name)[rows] for f in dataclasses.fields(batch)}
        )
        if slate_size and isinstance(policy, SlatePolicy):
            idx, prop, got = policy.decide_batch(sub, slate_size)
            _check_slate(policy, got, len(rows), slate_size, n_listings)
            slate[rows] = got
            action[rows], propensity[rows] = check_choice(policy_name(policy), sub, idx, prop)
        else:
            action[rows], propensity[rows] = choose(policy, sub)
    return action, propensity, slate


def _check_slate(policy: Policy, slate: IntArray, n: int, size: int, n_listings: int) -> None:
    name = policy_name(policy)
    if np.shape(slate) != (n, size):
        msg = f"policy {name!r} returned a slate of shape {np.shape(slate)}, expected ({n}, {size})"
        raise ValueError(msg)
    if n and (slate.min() < -1 or slate.max() >= n_listings):
        bad = int(slate[(slate < -1) | (slate >= n_listings)][0])
        msg = (
            f"policy {name!r} returned listing index {bad} in a slate, expected -1 (no listing) "
            f"or an index in [0, {n_listings})"
        )
        raise ValueError(msg)


@dataclasses.dataclass(frozen=True, slots=True)
class _Switch:
    switched: BoolArray
    listing: IntArray
    match: FloatArray


def _switch(
    world: World,
    listing: IntArray,
    slate: IntArray,
    gumbel: FloatArray,
    taste: FloatArray,
    *,
    browsing: BoolArray,
) -> _Switch:
    """Which listing each browsing buyer ends up considering: on screen or from the slate.

    The buyer came for the on-screen listing's category: a listing of another category is off
    topic (``_OFF_TOPIC`` on the logit of wanting it). Each listing also has the buyer's own
    taste for it (``taste``, a normal draw per session and option, unknown to any policy).
    Among the seven the buyer takes one by a logit choice on fit (on topic, to their taste,
    well rated) with attention falling by position. ``match`` is the chosen listing's
    off-topic and taste terms, added to the logit of adding it to the cart; a buyer who is
    not browsing (back for a cart) stays with the listing, with no taste term.
    """
    lst = world.listings
    options = np.concatenate([listing[:, None], slate], axis=1)
    on_topic = lst.category[options] == lst.category[listing][:, None]
    match = np.where(on_topic, 0.0, _OFF_TOPIC) + taste
    fit = match + _RATING_PULL * (lst.rating[options] - 4.5)
    position = np.r_[1.0, _SLATE_ATTENTION / np.log2(np.arange(slate.shape[1]) + 2.0)]
    pick = np.argmax(fit / _CHOICE_TEMPERATURE + np.log(position)[None, :] + gumbel, axis=1)
    rows = np.arange(len(listing))
    switched = browsing & (pick > 0)
    chosen = options[rows, pick]
    return _Switch(switched, chosen, np.where(browsing, match[rows, pick], 0.0))


def _cart_decisions(
    world: World,
    state: BuyerState,
    *,
    sessions: IntArray,
    u: FloatArray,
    abandon_us: IntArray,
    price: FloatArray,
    ship: FloatArray,
    intent: FloatArray,
    ps: FloatArray,
    is_new: BoolArray,
    fsens: FloatArray,
    policies: Sequence[Policy],
    session_arm: IntArray,
    buyer: IntArray,
    listing: IntArray,
) -> CartDecisions:
    parts: list[dict[str, npt.NDArray[np.generic]]] = []
    pending = sessions
    for step, (moment_id, delay_h, intercept) in enumerate(((2, 1.0, _REC1), (3, 24.0, _REC2))):
        s = pending
        m = len(s)
        moment = np.full(m, moment_id, dtype=np.int64)
        bs = buyer[s]
        fatigue = state.fatigue[bs]
        shift = logit_shift(moment, price_sensitivity=ps[s], is_new=is_new[s],
                            fatigue=fatigue, fatigue_sensitivity=fsens[s])  # fmt: skip
        avail = available(moment, push_opt_in=state.push_opt_in[bs],
                          email_opt_in=state.email_opt_in[bs])  # fmt: skip
        prob_all = _sigmoid(intercept + 0.5 * intent[s][:, None] + shift)
        value_all = _order_value(price[s], ship[s])
        values = prob_all * value_all
        col = 16 + 6 * step
        batch = ContextBatch(
            moment=moment, buyer=bs, listing=listing[s], u=u[s, col], price_sensitivity=ps[s],
            is_new=is_new[s], fatigue=fatigue, value_cents=price[s], available=avail,
            true_values=values,
        )  # fmt: skip
        action, propensity, _ = _decide(policies, session_arm[s], batch)
        rows = np.arange(m)
        recovered = u[s, col + 1] < prob_all[rows, action]
        shown = action > 0
        clicked = shown & (u[s, col + 2] < np.where(recovered, 0.8, 0.03))
        dismissed = shown & ~clicked & (u[s, col + 3] < 0.3)
        message = is_message(action)
        unsub = message & (u[s, col + 4] < unsubscribe_probability(fatigue, fsens[s]))
        push = is_push(action)
        state.push_opt_in[bs[unsub & push]] = False
        state.email_opt_in[bs[unsub & ~push]] = False
        np.add.at(state.fatigue, bs, FATIGUE_STEP[action])
        ts = abandon_us[s] + int(delay_h * 3600e6)
        wait = (u[s, col + 5] * 3 * 3600e6).astype(np.int64) + 60_000_001
        parts.append({
            "session": s, "moment": moment, "ts_us": ts, "action": action,
            "propensity": propensity, "arm": session_arm[s], "values": values,
            "probabilities": prob_all, "available": avail, "shown": shown,
            "clicked": clicked, "dismissed": dismissed, "recovered": recovered,
            "purchase_ts_us": ts + wait,
            "revenue_cents": np.where(recovered, np.round(value_all[rows, action]), 0).astype(
                np.int64),
            "unsubscribed": unsub,
        })  # fmt: skip
        pending = s[~recovered]
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return CartDecisions(**merged)
