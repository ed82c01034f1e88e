"""Logged decisions from the simulator: features, action, propensity, outcome and the truth.

:func:`simulate_logged` runs the simulator in memory with a logging policy and records every
decision with the features a policy sees (:data:`~marketlift.sim.features.SIM_FEATURES`), the
realized outcome and the true expected revenue of every action (for checking estimators).
:func:`logged_from_lake` rebuilds the same table from a data directory written by
``marketlift simulate`` (its truth tables): fatigue is replayed from the logged nudges.

Example:
    >>> from marketlift.sim import SimConfig
    >>> log = simulate_logged(SimConfig(n_buyers=300, n_days=2, seed=1))
    >>> len(log) > 0, bool((log.propensity > 0).all())
    (True, True)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from marketlift.errors import ConfigError
from marketlift.sim.config import SimConfig
from marketlift.sim.effects import FATIGUE_DECAY, FATIGUE_STEP, MOMENTS
from marketlift.sim.features import SIM_ACTIONS, SIM_FEATURES, batch_features
from marketlift.sim.funnel import BuyerState, simulate_day
from marketlift.sim.policies import ContextBatch, Policy, choose, make_policy, policy_name
from marketlift.sim.world import make_world

__all__ = ["LoggedDecisions", "logged_from_lake", "simulate_logged"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclasses.dataclass(frozen=True, slots=True)
class LoggedDecisions:
    """One row per decision; action columns follow :data:`SIM_ACTIONS` (``none`` first).

    Attributes:
        features: ``(n, len(SIM_FEATURES))``.
        action: Index of the action taken.
        propensity: Probability the logging policy had of taking it.
        available: Which actions were possible.
        revenue: Realized revenue in US dollars (the outcome).
        converted: Whether the decision ended in a purchase.
        true_value: Expected revenue (US dollars) of every action; NaN where unavailable.
        true_probability: True purchase probability of every action; NaN where unavailable.
        moment: Index into :data:`~marketlift.sim.MOMENTS`.
        buyer: Buyer index.
        day: Simulated day.
    """

    features: FloatArray
    action: IntArray
    propensity: FloatArray
    available: BoolArray
    revenue: FloatArray
    converted: BoolArray
    true_value: FloatArray
    true_probability: FloatArray
    moment: IntArray
    buyer: IntArray
    day: IntArray

    def __len__(self) -> int:
        return len(self.action)

    @property
    def action_names(self) -> npt.NDArray[np.str_]:
        """The action taken, by name (the treatment labels of uplift learners)."""
        return np.asarray(SIM_ACTIONS)[self.action]

    def subset(self, rows: npt.NDArray[Any]) -> LoggedDecisions:
        """The rows selected by a boolean mask or index array."""
        return LoggedDecisions(
            **{f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(self)}
        )

    def to_arrow(self) -> pa.Table:
        """A flat table: features, moment, action (name), propensity, revenue, converted."""
        cols: dict[str, Any] = {name: self.features[:, i] for i, name in enumerate(SIM_FEATURES)}
        cols.update(
            moment=np.asarray(MOMENTS)[self.moment],
            action=self.action_names,
            propensity=self.propensity,
            revenue=self.revenue,
            converted=self.converted,
        )
        return pa.table(cols)


class _Recorder:
    """Wraps the logging policy and keeps every batch it decides on, in order."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.name = policy_name(policy)
        self.parts: list[tuple[ContextBatch, IntArray, FloatArray]] = []

    def select(self, context: Any, actions: Sequence[Any]) -> Any:
        return self.policy.select(context, actions)

    def select_batch(self, batch: ContextBatch) -> tuple[IntArray, FloatArray]:
        idx, prop = choose(self.policy, batch)
        self.parts.append((batch, idx, prop))
        return idx, prop


def simulate_logged(config: SimConfig, policy: Policy | str = "logging") -> LoggedDecisions:
    """Run the simulator in memory under ``policy`` and return every logged decision."""
    pol = make_policy(policy) if isinstance(policy, str) else policy
    recorder = _Recorder(pol)
    world = make_world(config)
    state = BuyerState.start(world)
    arm = np.zeros(config.n_buyers, dtype=np.int64)
    out: dict[str, list[npt.NDArray[Any]]] = {
        f.name: [] for f in dataclasses.fields(LoggedDecisions)
    }
    for d in range(config.n_days):
        recorder.parts.clear()
        day = simulate_day(world, state, d, [recorder], arm)
        c = day.carts
        batches = [p[0] for p in recorder.parts]
        out["features"].extend(batch_features(b) for b in batches)
        out["available"].extend(b.available for b in batches)
        out["action"].append(np.concatenate([day.action, c.action]))
        out["propensity"].append(np.concatenate([day.propensity, c.propensity]))
        out["revenue"].append(np.concatenate([day.revenue_cents, c.revenue_cents]) / 100.0)
        out["converted"].append(np.concatenate([day.purchased, c.recovered]))
        avail = np.concatenate([day.available, c.available])
        out["true_value"].append(
            np.where(avail, np.concatenate([day.values, c.values]), np.nan) / 100.0
        )
        out["true_probability"].append(
            np.where(avail, np.concatenate([day.probabilities, c.probabilities]), np.nan)
        )
        out["moment"].append(np.concatenate([day.moment, c.moment]))
        out["buyer"].append(np.concatenate([day.buyer, day.buyer[c.session]]))
        out["day"].append(np.full(day.n_sessions + len(c.session), d, dtype=np.int64))
    if not out["features"]:
        raise ConfigError("config", config, "a simulation with at least one decision")
    merged = {k: np.concatenate(v) for k, v in out.items()}
    return LoggedDecisions(**merged)


def logged_from_lake(data_dir: str | os.PathLike[str], run: str | None = None) -> LoggedDecisions:
    """The logged decisions of a simulated data directory (its ``sim_*`` truth tables).

    Fatigue is replayed from the nudges in the decisions table as the simulator accrues it
    (in-session nudges before the day's cart decisions, decay at the end of each day). Each
    table is filtered to ``run`` before the joins, so no join is on ``run`` alone (which let the
    planner pair every buyer with every listing: minutes, and out of memory with two runs).

    Raises:
        ConfigError: The directory has no simulated decisions (or several runs and no ``run``).
    """
    import duckdb  # noqa: PLC0415

    from marketlift.sim.truth import register_views  # noqa: PLC0415

    con = duckdb.connect()
    try:
        register_views(con, data_dir)
        runs = [r[0] for r in con.sql("SELECT DISTINCT run FROM sim_truth_decisions").fetchall()]
        if not runs:
            raise ConfigError(
                "data", str(data_dir), "a data directory written by `marketlift simulate`"
            )
        if run is None:
            if len(runs) > 1:
                raise ConfigError(
                    "run", None, f"one of {sorted(runs)} (the directory holds several)"
                )
            run = runs[0]
        values = ", ".join(f"value_{a}" for a in SIM_ACTIONS)
        probs = ", ".join(f"p_{a}" for a in SIM_ACTIONS)
        table = con.sql(
            f"""SELECT d.day, CAST(substr(d.buyer_key, 2) AS BIGINT) AS buyer, d.moment, d.action,
                   d.propensity, d.converted, d.revenue_usd_cents, b.price_sensitivity,
                   b.first_day, l.price_usd_cents, {values}, {probs}
            FROM (SELECT * FROM sim_truth_decisions WHERE run = $run) d
            JOIN (SELECT session_id, listing_id FROM sim_truth_sessions WHERE run = $run) s
                ON s.session_id = d.session_id
            JOIN (SELECT buyer_key, price_sensitivity, first_day FROM sim_buyers
                  WHERE run = $run) b ON b.buyer_key = d.buyer_key
            JOIN (SELECT listing_id, price_usd_cents FROM sim_listings WHERE run = $run) l
                ON l.listing_id = s.listing_id
            ORDER BY d.day, CASE d.moment WHEN 'cart_idle_1h' THEN 1 WHEN 'cart_idle_1d' THEN 2
                     ELSE 0 END, d.decision_id""",  # noqa: S608 - the action names are ours
            params={"run": run},
        ).to_arrow_table()
    finally:
        con.close()
    col = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    n = table.num_rows
    moment = np.array([MOMENTS.index(m) for m in col["moment"].astype(str)], dtype=np.int64)
    action = np.array([SIM_ACTIONS.index(a) for a in col["action"].astype(str)], dtype=np.int64)
    value = np.column_stack([col[f"value_{a}"].astype(np.float64) for a in SIM_ACTIONS]) / 100.0
    prob = np.column_stack([col[f"p_{a}"].astype(np.float64) for a in SIM_ACTIONS])
    buyer = col["buyer"].astype(np.int64)
    day = col["day"].astype(np.int64)
    converted = col["converted"].astype(bool)
    fatigue, is_new = _replay(
        buyer, day, moment, action, converted, col["first_day"].astype(np.int64)
    )
    features = np.zeros((n, len(SIM_FEATURES)))
    features[np.arange(n), moment] = 1.0
    features[:, 4] = col["price_sensitivity"].astype(np.float64)
    features[:, 5] = is_new
    features[:, 6] = fatigue
    features[:, 7] = col["price_usd_cents"].astype(np.float64) / 100.0
    return LoggedDecisions(
        features=features,
        action=action,
        propensity=col["propensity"].astype(np.float64),
        available=~np.isnan(value),
        revenue=col["revenue_usd_cents"].astype(np.float64) / 100.0,
        converted=converted,
        true_value=value,
        true_probability=prob,
        moment=moment,
        buyer=buyer,
        day=day,
    )


def _replay(  # noqa: PLR0917 - private, one array per column
    buyer: IntArray,
    day: IntArray,
    moment: IntArray,
    action: IntArray,
    converted: BoolArray,
    first_day: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """Fatigue and is-new at each decision, as the simulator had them (rows sorted by day)."""
    n_buyers = int(buyer.max()) + 1 if len(buyer) else 0
    fatigue_state = np.zeros(n_buyers)
    purchases = np.zeros(n_buyers, dtype=np.int64)
    fatigue = np.zeros(len(buyer))
    is_new = np.zeros(len(buyer))
    step = FATIGUE_STEP[action]
    for d in np.unique(day):
        rows = day == d
        is_new[rows] = ((first_day[rows] >= 0) & (purchases[buyer[rows]] == 0)).astype(float)
        for group in ((0, 1), (2,), (3,)):
            g = rows & np.isin(moment, group)
            fatigue[g] = fatigue_state[buyer[g]]
            np.add.at(fatigue_state, buyer[g], step[g])
        np.add.at(purchases, buyer[rows], converted[rows].astype(np.int64))
        fatigue_state *= FATIGUE_DECAY
    return fatigue, is_new
