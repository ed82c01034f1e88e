"""The simulated buyers' decisions, made by the real decision engine.

:class:`EngineArm` is a simulator policy (:class:`~marketlift.sim.SlatePolicy`) that asks a
:class:`~marketlift.serve.decide.DecisionEngine`, opened by
:func:`~marketlift.serve.engine_setup.open_engine` exactly as ``marketlift serve`` opens it,
for every decision of the simulated buyers: one :class:`~marketlift.serve.decide_schema.
DecideRequest` per decision, as the storefront sends it, and the answer's listings (the slate
the buyer sees) and engagement (action and propensity) go back into the simulation.

What the request carries:

- a browsing session: ``surface="listing"`` with the listing on screen; a buyer back for an
  open cart: ``surface="cart"`` with the cart; an idle cart: ``surface="push"`` with the cart,
  the cart's listing as the only candidate, and the channels the buyer is opted in to;
- the buyer's signed-in ``buyer_id`` (or none), the device id of their usual platform (the
  experiment's unit), platform, locale and country.

The online store stands in for the stream updater: before each decision the buyer's row gets
the simulator's current cart, orders and fatigue (``b_cart_items``, ``b_cart_age_hours``,
``b_n_purchases``, ``b_fatigue``). The engine's own ``u`` is the simulator's, so runs with
common random numbers stay comparable, and the latency budget is lifted (a slow moment on a
busy laptop must not change an outcome; serving latency is measured in ``benchmarks/``).

Decisions are memoized by everything they depend on, so the truth runs (every buyer under
each variant) reuse the A/B run's decisions.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from marketlift.serve.decide_schema import DecideContext, DecideRequest
from marketlift.sim.effects import ACTIONS
from marketlift.sim.policies import ContextBatch, check_choice
from marketlift.sim.text import COUNTRY_OF, LOCALES
from marketlift.sim.world import PLATFORMS, World

__all__ = ["EngineArm", "ReplayStats", "device_id", "served_arms"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_INDEX: Final = {a.name: k for k, a in enumerate(ACTIONS)}
_PUSH_COLS: Final = [k for k, a in enumerate(ACTIONS) if a.channel == "push"]
_EMAIL_COLS: Final = [k for k, a in enumerate(ACTIONS) if a.channel == "email"]
_PLATFORM_LETTER: Final = ("w", "i", "a")
_SURFACE: Final = ("listing", "cart", "push", "push")
_CART_AGE_HOURS: Final = (None, 0.5, 1.0, 24.0)


def device_id(buyer: int, platform: int) -> str:
    """The simulator's device id of a buyer on a platform (the ``anonymous_id`` it logs).

    Example:
        >>> device_id(42, 0)
        'd0000042w'
    """
    return f"d{buyer:07d}{_PLATFORM_LETTER[platform]}"


def _listing_id(index: int) -> str:
    return f"l{index:07d}"


@dataclasses.dataclass(slots=True)
class ReplayStats:
    """What the engine did for the simulation.

    Attributes:
        decisions: Engine calls (memoized repeats are not counted).
        reused: Decisions answered from the memo.
        degraded: Answers with ``degraded: true``.
        seconds: Time in the engine.
        reasons: Degraded reasons and how often.
    """

    decisions: int = 0
    reused: int = 0
    degraded: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary with the mean time per decision."""
        out = dataclasses.asdict(self)
        out["seconds"] = round(self.seconds, 2)
        out["ms_per_decision"] = (
            round(1000.0 * self.seconds / self.decisions, 3) if self.decisions else None
        )
        return out


class EngineArm:
    """A simulator policy that asks the decision engine, for one variant or as assigned.

    Args:
        engine: The engine (:func:`~marketlift.serve.engine_setup.open_engine`).
        world: The simulated world (buyers' ids, platforms, locales; listing ids).
        variant: ``"control"`` or ``"treatment"`` to force one (the truth runs), or ``None``
            to follow the engine's assignment (the A/B run); ``expect`` then checks it.
        expect: The variant the engine must assign to every buyer this arm decides for.
        experiment: The experiment whose assignment ``expect`` checks.
        memo: A dictionary shared between arms of the same engine (reused decisions).
        stats: Where to count calls, shared between arms.
    """

    def __init__(
        self,
        engine: Any,
        world: World,
        *,
        variant: str | None = None,
        expect: str | None = None,
        experiment: str | None = None,
        memo: dict[tuple[Any, ...], tuple[int, float, tuple[int, ...]]] | None = None,
        stats: ReplayStats | None = None,
    ) -> None:
        self.engine = engine
        self.world = world
        self.variant = variant
        self.expect = expect
        self.experiment = experiment
        self.memo = memo if memo is not None else {}
        self.stats = stats if stats is not None else ReplayStats()
        self.name = f"engine:{variant or expect or 'assigned'}"

    # -- the simulator's policy protocol ------------------------------------------------------
    def select(self, context: Any, actions: Any) -> Any:  # pragma: no cover - batch only
        """Not used: the simulator calls :meth:`select_batch`."""
        raise NotImplementedError

    def select_batch(self, batch: ContextBatch) -> tuple[IntArray, FloatArray]:
        """Actions and propensities (the engine's answers, no slate)."""
        action, propensity, _ = self.decide_batch(batch, 0)
        return action, propensity

    def decide_batch(
        self, batch: ContextBatch, slate_size: int
    ) -> tuple[IntArray, FloatArray, IntArray]:
        """Ask the engine for every row; returns actions, propensities and slates."""
        n = len(batch)
        action = np.zeros(n, dtype=np.int64)
        propensity = np.ones(n)
        slate = np.full((n, slate_size), -1, dtype=np.int64)
        push: npt.NDArray[np.bool_] = np.asarray(batch.available[:, _PUSH_COLS].any(axis=1))
        email: npt.NDArray[np.bool_] = np.asarray(batch.available[:, _EMAIL_COLS].any(axis=1))
        for i in range(n):
            key = (
                self.variant or self.expect, slate_size, int(batch.buyer[i]), int(batch.moment[i]),
                int(batch.listing[i]), float(batch.u[i]), float(batch.fatigue[i]),
                bool(batch.is_new[i]), bool(push[i]), bool(email[i]),
            )  # fmt: skip
            got = self.memo.get(key)
            if got is None:
                got = self._decide_one(batch, i, slate_size, bool(push[i]), bool(email[i]))
                self.memo[key] = got
            else:
                self.stats.reused += 1
            action[i], propensity[i] = got[0], got[1]
            slate[i, : len(got[2])] = got[2]
        action, propensity = check_choice(self.name, batch, action, propensity)
        return action, propensity, slate

    # -- one decision ---------------------------------------------------------------------
    def _decide_one(
        self, batch: ContextBatch, i: int, slate_size: int, push: bool, email: bool
    ) -> tuple[int, float, tuple[int, ...]]:
        b = self.world.buyers
        buyer = int(batch.buyer[i])
        moment = int(batch.moment[i])
        listing = _listing_id(int(batch.listing[i]))
        locale = LOCALES[int(b.locale[buyer])]
        platform = int(b.platform[buyer])
        buyer_id = f"b{buyer:07d}" if b.signed_in[buyer] else None
        anonymous_id = device_id(buyer, platform)
        surface = _SURFACE[moment]
        if moment == 0:
            context = DecideContext(listing_id=listing)
            candidates = None
        else:
            channels: list[Literal["push", "email"]] = []
            if push:
                channels.append("push")
            if email:
                channels.append("email")
            context = DecideContext(cart=[listing], channels=channels if moment >= 2 else None)
            candidates = [listing] if moment >= 2 else None
        request = DecideRequest(
            surface=surface, platform=PLATFORMS[platform], buyer_id=buyer_id,  # type: ignore[arg-type]
            anonymous_id=anonymous_id, locale=locale, country=COUNTRY_OF[locale],
            context=context, candidates=candidates, limit=max(slate_size, 1),
        )  # fmt: skip
        self._write_buyer(request.unit, batch, i)
        control = None if self.variant is None else self.variant == "control"
        started = time.perf_counter()
        record = self.engine.decide(request, control=control, u=float(batch.u[i]))
        self.stats.seconds += time.perf_counter() - started
        self.stats.decisions += 1
        response = record.response
        if response.degraded:
            self.stats.degraded += 1
            for reason in response.degraded_reasons:
                self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1
        if self.expect is not None:
            variants = {a["experiment_key"]: a["variant"] for a in response.assignments}
            if variants.get(self.experiment or "") != self.expect:
                msg = (
                    f"the engine assigned {anonymous_id} to {variants.get(self.experiment or '')!r}"
                    f" of {self.experiment!r}, the simulation put it in {self.expect!r}"
                )
                raise RuntimeError(msg)
        eng = response.engagement
        if eng is None:
            act, prop = 0, 1.0
        else:
            act, prop = _INDEX[eng.action], float(eng.propensity)
        shown = tuple(
            int(x.listing_id[1:]) for x in response.listings[:slate_size]
        )  # ids are the simulator's "l0000123"
        return act, prop, shown

    def _write_buyer(self, unit: str, batch: ContextBatch, i: int) -> None:
        """The stream updater's part: the buyer's live cart, orders and fatigue."""
        store = self.engine.store
        if store is None:
            return
        moment = int(batch.moment[i])
        row = dict(store.store.get("buyer", unit) or {})
        row["b_cart_items"] = 1 if moment > 0 else 0
        row["b_cart_age_hours"] = _CART_AGE_HOURS[moment]
        row["b_n_purchases"] = 0 if batch.is_new[i] else max(int(row.get("b_n_purchases") or 0), 1)
        row["b_fatigue"] = float(batch.fatigue[i])
        store.store.write("buyer", {unit: row})


def served_arms(assigner: Any, world: World, experiment: str, variants: list[str]) -> IntArray:
    """Every simulated buyer's variant index as the served assigner assigns them.

    The unit is the device id of the buyer's usual platform, as :class:`EngineArm` sends it.

    Raises:
        RuntimeError: A buyer is not in ``experiment`` or gets a variant not in ``variants``.
    """
    from marketlift.serve.assign import AssignRequest  # noqa: PLC0415

    b = world.buyers
    arm = np.empty(b.n, dtype=np.int64)
    index = {v: k for k, v in enumerate(variants)}
    for buyer in range(b.n):
        platform = int(b.platform[buyer])
        locale = LOCALES[int(b.locale[buyer])]
        answer = assigner.assign(
            AssignRequest(
                PLATFORMS[platform], f"b{buyer:07d}" if b.signed_in[buyer] else None,
                device_id(buyer, platform), None, locale, COUNTRY_OF[locale],
            )
        )  # fmt: skip
        got = {a.experiment_key: a.variant for a in answer.assignments}.get(experiment)
        if got not in index:
            msg = f"buyer {buyer} got variant {got!r} of {experiment!r}, expected one of {variants}"
            raise RuntimeError(msg)
        arm[buyer] = index[got]
    return arm
