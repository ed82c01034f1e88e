"""Engagement policies: anything with ``select(context, actions)`` returning action and propensity.

A policy sees one :class:`DecisionContext` (a buyer at a moment) and the actions available there,
and returns a :class:`PolicyDecision`: the action and the probability with which it chose it.
Built-ins also implement ``select_batch`` (vectorized, same result as calling ``select`` row by
row); :func:`choose` uses it when present and falls back to ``select`` otherwise.

Randomized policies use the uniform ``context.u`` that the simulator draws for every decision,
so they are deterministic by seed and share random numbers across policies.

Example:
    >>> from marketlift.sim.effects import ACTIONS
    >>> ctx = DecisionContext(moment="cart_idle_1h", buyer_id="b0000001", u=0.8,
    ...     price_sensitivity=0.4, is_new=False, fatigue=0.0, value_cents=4200.0,
    ...     true_values={"none": 100.0, "cart_reminder_email": 180.0})
    >>> actions = [ACTIONS[0], ACTIONS[6]]
    >>> UniformRandom().select(ctx, actions)
    PolicyDecision(action=Action(slug='cart_reminder', channel='email'), propensity=0.5)
    >>> Oracle().select(ctx, actions).action.name
    'cart_reminder_email'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from marketlift.errors import ConfigError
from marketlift.sim.effects import ACTIONS, MOMENTS, Action

__all__ = [
    "AlwaysNudge",
    "BatchPolicy",
    "ContextBatch",
    "DecisionContext",
    "EpsilonGreedy",
    "NeverNudge",
    "Oracle",
    "Policy",
    "PolicyDecision",
    "SlatePolicy",
    "UniformRandom",
    "as_sim_policy",
    "check_choice",
    "choose",
    "make_policy",
    "policy_name",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class PolicyDecision(NamedTuple):
    """What a policy chose and the probability it had of choosing it (in (0, 1])."""

    action: Action
    propensity: float


@dataclasses.dataclass(frozen=True, slots=True)
class DecisionContext:
    """One decision: a buyer at a moment.

    Attributes:
        moment: One of :data:`~marketlift.sim.effects.MOMENTS`.
        buyer_id: The buyer.
        u: A uniform number in [0, 1) for the policy's own randomization.
        price_sensitivity: The buyer's price sensitivity (a known segment trait here).
        is_new: Whether the buyer joined during the period and has not bought.
        fatigue: Nudges received recently (decayed daily).
        value_cents: What the listing at stake costs, in US cents.
        true_values: Ground truth an oracle may read: expected revenue (US cents) of each
            available action by name. Real policies must not use it.
    """

    moment: str
    buyer_id: str
    u: float
    price_sensitivity: float
    is_new: bool
    fatigue: float
    value_cents: float
    true_values: Mapping[str, float]


@dataclasses.dataclass(frozen=True, slots=True)
class ContextBatch:
    """Many decisions as arrays (row ``i`` is one :class:`DecisionContext`).

    ``available`` and ``true_values`` have one column per action of
    :data:`~marketlift.sim.effects.ACTIONS`. ``listing`` is the listing at stake: the one on
    screen in a session, the cart's listing for a returning visit or an idle cart.
    """

    moment: IntArray
    buyer: IntArray
    listing: IntArray
    u: FloatArray
    price_sensitivity: FloatArray
    is_new: npt.NDArray[np.bool_]
    fatigue: FloatArray
    value_cents: FloatArray
    available: npt.NDArray[np.bool_]
    true_values: FloatArray

    def __len__(self) -> int:
        return len(self.moment)

    def context(self, i: int) -> DecisionContext:
        """Row ``i`` as a :class:`DecisionContext`."""
        cols = np.flatnonzero(self.available[i])
        return DecisionContext(
            moment=MOMENTS[int(self.moment[i])],
            buyer_id=f"b{int(self.buyer[i]):07d}",
            u=float(self.u[i]),
            price_sensitivity=float(self.price_sensitivity[i]),
            is_new=bool(self.is_new[i]),
            fatigue=float(self.fatigue[i]),
            value_cents=float(self.value_cents[i]),
            true_values={ACTIONS[c].name: float(self.true_values[i, c]) for c in cols},
        )

    def actions(self, i: int) -> list[Action]:
        """The actions available at row ``i``."""
        return [ACTIONS[c] for c in np.flatnonzero(self.available[i])]


@runtime_checkable
class Policy(Protocol):
    """A policy: chooses one of the available actions and says with what probability."""

    def select(self, context: DecisionContext, actions: Sequence[Action]) -> PolicyDecision:
        """Choose an action among ``actions`` (never empty; ``none`` is always in it)."""
        ...


@runtime_checkable
class BatchPolicy(Policy, Protocol):
    """A policy that also decides many contexts at once."""

    def select_batch(self, batch: ContextBatch) -> tuple[IntArray, FloatArray]:
        """Action indexes (into ``ACTIONS``) and propensities, one per row of ``batch``."""
        ...


@runtime_checkable
class SlatePolicy(Protocol):
    """A policy that also ranks: it answers in-session decisions with a slate of listings.

    The simulator's ranking effect (``ranking=True``) shows the slate to the buyer, who may
    pick a listing from it instead of the one on screen.
    """

    def decide_batch(
        self, batch: ContextBatch, slate_size: int
    ) -> tuple[IntArray, FloatArray, IntArray]:
        """Actions, propensities and slates, one per row of ``batch``.

        Returns action indexes (into ``ACTIONS``), propensities and an ``(n, slate_size)``
        array of listing indexes, best first (``-1`` where the slate is shorter).
        """
        ...


def policy_name(policy: Policy) -> str:
    """The ``name`` attribute of a policy, or its class name."""
    name = getattr(policy, "name", None)
    return name if isinstance(name, str) else type(policy).__name__


def as_sim_policy(policy: Policy) -> Policy:
    """``policy``, or a marketlift policy in :class:`~marketlift.sim.features.SimAdapter`."""
    from marketlift.sim.features import SimAdapter, is_marketlift_policy  # noqa: PLC0415

    if not isinstance(policy, BatchPolicy) and is_marketlift_policy(policy):
        return SimAdapter(policy)
    return policy


def choose(policy: Policy, batch: ContextBatch) -> tuple[IntArray, FloatArray]:
    """Run ``policy`` on every row: vectorized when it can, row by row otherwise.

    Raises:
        ValueError: The policy chose an unavailable action or gave a propensity outside (0, 1].
    """
    n = len(batch)
    policy = as_sim_policy(policy)
    if isinstance(policy, BatchPolicy):
        idx, prop = policy.select_batch(batch)
        idx = np.asarray(idx, dtype=np.int64)
        prop = np.asarray(prop, dtype=np.float64)
    else:
        idx = np.zeros(n, dtype=np.int64)
        prop = np.ones(n, dtype=np.float64)
        index = {a: k for k, a in enumerate(ACTIONS)}
        for i in range(n):
            decision = policy.select(batch.context(i), batch.actions(i))
            idx[i] = index.get(decision.action, -1)
            prop[i] = decision.propensity
    return check_choice(policy_name(policy), batch, idx, prop)


def check_choice(
    name: str, batch: ContextBatch, idx: IntArray, prop: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Check a policy's actions and propensities for ``batch``; returns them.

    Raises:
        ValueError: An action is not available or a propensity is outside (0, 1].
    """
    n = len(batch)
    idx = np.asarray(idx, dtype=np.int64)
    prop = np.asarray(prop, dtype=np.float64)
    if n and (idx.min() < 0 or not batch.available[np.arange(n), idx].all()):
        msg = f"policy {name!r} chose an action that is not available"
        raise ValueError(msg)
    if n and not ((prop > 0.0) & (prop <= 1.0)).all():
        bad = float(prop[~((prop > 0.0) & (prop <= 1.0))][0])
        msg = f"policy {name!r} returned propensity == {bad}, expected in (0, 1]"
        raise ValueError(msg)
    return idx, prop


def _uniform_pick(available: npt.NDArray[np.bool_], u: FloatArray) -> tuple[IntArray, FloatArray]:
    k = available.sum(axis=1)
    rank = np.minimum((u * k).astype(np.int64), k - 1)
    cum = np.cumsum(available, axis=1)
    idx = (cum <= rank[:, None]).sum(axis=1).astype(np.int64)
    return idx, 1.0 / k


class NeverNudge:
    """Never engages: always ``none`` (propensity 1).

    Example:
        >>> NeverNudge().name
        'never'
    """

    name = "never"

    def select(self, context: DecisionContext, actions: Sequence[Action]) -> PolicyDecision:
        """Choose ``none``."""
        return PolicyDecision(ACTIONS[0], 1.0)

    def select_batch(self, batch: ContextBatch) -> tuple[IntArray, FloatArray]:
        """Choose ``none`` everywhere."""
        n = len(batch)
        return np.zeros(n, dtype=np.int64), np.ones(n)


class AlwaysNudge:
    """Always engages with one action (slug), on the first channel available for it.

    Where that action is unavailable it takes the first other available action, so every
    decision nudges unless nothing but ``none`` is possible.

    Args:
        action: The action slug, such as ``discount_coupon`` or ``cart_reminder``.
    """

    def __init__(self, action: str = "discount_coupon") -> None:
        self.action = action

    @property
    def name(self) -> str:
        """``always_<action>``."""
        return f"always_{self.action}"

    def select(self, context: DecisionContext, actions: Sequence[Action]) -> PolicyDecision:
        """Choose the configured action when available, else the first nudge available."""
        nudges = [a for a in actions if a.channel is not None]
        preferred = [a for a in nudges if a.slug == self.action]
        if preferred:
            return PolicyDecision(preferred[0], 1.0)
        return PolicyDecision(nudges[0] if nudges else ACTIONS[0], 1.0)

    def select_batch(self, batch: ContextBatch) -> tuple[IntArray, FloatArray]:
        """Vectorized :meth:`select`."""
        preferred = np.array([a.slug == self.action for a in ACTIONS])
        nudge = batch.available.copy()
        nudge[:, 0] = False
        pref = nudge & preferred[None, :]
        idx = np.where(pref.any(axis=1), pref.argmax(axis=1), nudge.argmax(axis=1))
        return idx.astype(np.int64), np.ones(len(batch))


class UniformRandom:
    """Chooses uniformly among the available actions (propensity ``1 / k``)."""

    name = "random"

    def select(self, context: DecisionContext, actions: Sequence[Action]) -> PolicyDecision:
        """Choose uniformly using ``context.u``."""
        k = len(actions)
        return PolicyDecision(actions[min(int(context.u * k), k - 1)], 1.0 / k)

    def select_batch(self, batch: ContextBatch) -> tuple[IntArray, FloatArray]:
        """Vectorized :meth:`select`."""
        return _uniform_pick(batch.available, batch.u)


class EpsilonGreedy:
    """Explores: uniform with probability ``epsilon``, otherwise a deterministic base policy.

    The propensity of the chosen action is ``(1 - epsilon) * [it is the base action] +
    epsilon / k``, which off-policy estimators need.

    Args:
        base: A deterministic policy (propensity 1 for everything it chooses).
        epsilon: Exploration probability in (0, 1].

    Example:
        >>> EpsilonGreedy(NeverNudge(), epsilon=0.0)
        Traceback (most recent call last):
        ...
        marketlift.errors.ConfigError: epsilon == 0.0, expected a probability in (0, 1].
    """

    def __init__(self, base: Policy | None = None, epsilon: float = 0.5) -> None:
        if not 0.0 < epsilon <= 1.0:
            raise ConfigError("epsilon", epsilon, "a probability in (0, 1]")
        self.base = base
        self.epsilon = epsilon

    @property
    def name(self) -> str:
        """``epsilon_<eps>_<base>``."""
        return f"epsilon_{self.epsilon:g}_{policy_name(self._base())}"

    def _base(self) -> Policy:
        return as_sim_policy(self.base) if self.base is not None else NeverNudge()

    def select(self, context: DecisionContext, actions: Sequence[Action]) -> PolicyDecision:
        """Explore with probability epsilon, using ``context.u``."""
        k = len(actions)
        u, eps = context.u, self.epsilon
        u_base = float(_rescale(np.array([u]), eps)[0])
        greedy = self._base().select(dataclasses.replace(context, u=u_base), actions)
        _check_deterministic(greedy.propensity, self)
        action = actions[min(int(u / eps * k), k - 1)] if u < eps else greedy.action
        return PolicyDecision(action, (1.0 - eps) * (action == greedy.action) + eps / k)

    def select_batch(self, batch: ContextBatch) -> tuple[IntArray, FloatArray]:
        """Vectorized :meth:`select`."""
        eps = self.epsilon
        rescaled = dataclasses.replace(batch, u=_rescale(batch.u, eps))
        greedy, greedy_prop = choose(self._base(), rescaled)
        _check_deterministic(float(greedy_prop.min(initial=1.0)), self)
        explore = batch.u < eps
        random_idx, inv_k = _uniform_pick(batch.available, np.minimum(batch.u / eps, 1.0))
        idx = np.where(explore, random_idx, greedy)
        prop = (1.0 - eps) * (idx == greedy) + eps * inv_k
        return idx.astype(np.int64), prop


def _rescale(u: FloatArray, eps: float) -> FloatArray:
    """Map the non-exploring part ``[eps, 1)`` of ``u`` back onto ``[0, 1)``."""
    if eps >= 1.0:
        return u
    return np.asarray(np.clip((u - eps) / (1.0 - eps), 0.0, np.nextafter(1.0, 0.0)))


def _check_deterministic(propensity: float, policy: EpsilonGreedy) -> None:
    if propensity < 1.0:
        msg = (
            f"EpsilonGreedy base policy {policy_name(policy._base())!r} returned propensity "
            f"== {propensity}, expected 1 (a deterministic base policy)"
        )
        raise ValueError(msg)


class Oracle:
    """Knows the truth: takes the available action with the highest expected revenue.

    It is myopic (ignores fatigue and unsubscribes it causes later), so it is the best policy
    for each decision in isolation, a strong but not perfect reference.
    """

    name = "oracle"

    def select(self, context: DecisionContext, actions: Sequence[Action]) -> PolicyDecision:
        """Choose the action with the highest true expected revenue."""
        best = max(actions, key=lambda a: context.true_values.get(a.name, -np.inf))
        return PolicyDecision(best, 1.0)

    def select_batch(self, batch: ContextBatch) -> tuple[IntArray, FloatArray]:
        """Vectorized :meth:`select`."""
        values = np.where(batch.available, batch.true_values, -np.inf)
        return values.argmax(axis=1).astype(np.int64), np.ones(len(batch))


_NAMED = ("never", "always", "random", "logging", "oracle")


def make_policy(name: str) -> Policy:
    """A built-in policy by name.

    Names: never, always, random, logging (epsilon 0.5 around never), oracle;
    ``always:<slug>`` picks the action of always-nudge.

    Example:
        >>> policy_name(make_policy("always:cart_reminder"))
        'always_cart_reminder'
        >>> make_policy("best")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        marketlift.errors.ConfigError: policy == 'best', expected one of never, ...
    """
    head, _, arg = name.partition(":")
    if head == "never":
        return NeverNudge()
    if head == "always":
        return AlwaysNudge(arg or "discount_coupon")
    if head == "random":
        return UniformRandom()
    if head == "logging":
        return EpsilonGreedy(NeverNudge(), epsilon=0.5)
    if head == "oracle":
        return Oracle()
    raise ConfigError("policy", name, f"one of {', '.join(_NAMED)} (or always:<action>)")
