"""Run a simulation: day by day, write events through the lake writer, keep the truth.

Example:
    >>> import tempfile
    >>> from marketlift.sim.config import SimConfig
    >>> data = tempfile.mkdtemp()
    >>> result = simulate(SimConfig(n_buyers=300, n_days=2, seed=1), data)
    >>> result.events == result.written > 0, result.duplicates
    (True, 0)
    >>> from marketlift.lake import query
    >>> query(data, "SELECT count(*) AS n FROM events").column("n")[0].as_py() == result.events
    True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import duckdb
import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from marketlift.errors import ConfigError
from marketlift.events.limits import Limits
from marketlift.ingest import Collector, LakeSink
from marketlift.lake import LakeWriter, load_currency_table, write_currency_table
from marketlift.sim.catalog_feed import write_catalog
from marketlift.sim.config import SimConfig
from marketlift.sim.effects import ACTIONS
from marketlift.sim.emit import EventBuilder
from marketlift.sim.faults import Faults, plant
from marketlift.sim.funnel import BuyerState, Day, simulate_day
from marketlift.sim.jsonfrag import join
from marketlift.sim.policies import Policy, make_policy, policy_name
from marketlift.sim.tables import buyers_table, decisions_table, listings_table, sessions_table
from marketlift.sim.truth import register_views, write_table
from marketlift.sim.world import FX, World, make_world

__all__ = [
    "ExperimentTruth",
    "Funnel",
    "PolicyValue",
    "Progress",
    "SimResult",
    "evaluate_policies",
    "run_ab",
    "simulate",
]

Progress = Callable[[int, int, int], None]
"""Called after each day with ``(days_done, n_days, events_so_far)``."""
_MAX_PENDING: Final = 2
_COLLECTOR_BATCH: Final = 5000


@dataclasses.dataclass(frozen=True, slots=True)
class Funnel:
    """Funnel counts and rates; recovery sessions (a buyer back for an idle cart) count as sessions.

    Attributes:
        sessions: Sessions (each starts with a ``page_view``).
        carts: Sessions with an ``add_to_cart``.
        checkouts: Sessions with a ``checkout_start``.
        orders: Purchases (each in its own session).
        session_conversion: ``orders / sessions``.
        add_to_cart_rate: ``carts / sessions``.
        cart_abandonment: ``1 - orders / carts``.
    """

    sessions: int
    carts: int
    checkouts: int
    orders: int
    session_conversion: float
    add_to_cart_rate: float
    cart_abandonment: float


@dataclasses.dataclass(frozen=True, slots=True)
class PolicyValue:
    """What a policy earned over the buyers it served.

    Attributes:
        policy: The policy's name.
        buyers: Buyers it decided for.
        orders: Purchases.
        revenue_per_buyer: Revenue in US dollars per buyer (what buyers paid).
        expected_revenue_per_buyer: The same from true probabilities (less noisy).
        decisions: Decisions taken.
        nudges: Decisions with an action other than ``none``.
        unsubscribes: Buyers who opted out of push or email after a nudge.
    """

    policy: str
    buyers: int
    orders: int
    revenue_per_buyer: float
    expected_revenue_per_buyer: float
    decisions: int
    nudges: int
    unsubscribes: int


@dataclasses.dataclass(frozen=True, slots=True)
class ExperimentTruth:
    """The known truth of an A/B run.

    Attributes:
        experiment_key: Logged on every exposure.
        control: The first variant.
        true_revenue_per_buyer: Per variant, its value over *all* buyers with common random
            numbers (what the experiment estimates).
        true_effect: Per variant, ``true_revenue_per_buyer[v] - true_revenue_per_buyer[control]``.
    """

    experiment_key: str
    control: str
    true_revenue_per_buyer: dict[str, float]
    true_effect: dict[str, float]


@dataclasses.dataclass(frozen=True, slots=True)
class SimResult:
    """The outcome of a run.

    Attributes:
        run: The run key (in every id and in the truth tables' ``run`` column).
        events: Events generated.
        written: Events stored now (``events - duplicates``).
        duplicates: Events already in the lake (a rerun of the same seed stores nothing twice).
        values: Per variant (one unless A/B), the :class:`PolicyValue`.
    """

    run: str
    config: SimConfig
    events: int
    written: int
    duplicates: int
    sessions: int
    buyers: int
    listings: int
    decisions: int
    seconds: float
    funnel: Funnel
    values: dict[str, PolicyValue]
    experiment: ExperimentTruth | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        out: dict[str, Any] = msgspec.to_builtins(dataclasses.asdict(self))
        out["events_per_second"] = round(self.events / self.seconds) if self.seconds else None
        return out


def simulate(
    config: SimConfig,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    policy: Policy | str = "logging",
    via_collector: bool = False,
    truth: bool = True,
    progress: Progress | None = None,
    faults: Faults | None = None,
) -> SimResult:
    """Simulate ``config`` with one policy deciding for every buyer.

    Args:
        config: The world and period.
        data_dir: Where to write events (the lake) and truth tables; ``None`` to only compute.
        policy: A policy object or a built-in name (see :func:`make_policy`).
        via_collector: Send every event as JSON through the collector (validation included)
            instead of building Arrow tables directly: the literal client path, much slower;
            the lake ends up identical.
        truth: Write the ``sim_*`` truth tables too.
        progress: Called after each day.
        faults: Faults to plant in the events (:mod:`marketlift.sim.faults`); ``None``: none.
    """
    pol = make_policy(policy) if isinstance(policy, str) else policy
    arm = np.zeros(config.n_buyers, dtype=np.int64)
    return _run(config, [pol], arm, data_dir, experiment_key=None, via_collector=via_collector,
                truth=truth, progress=progress, faults=faults)  # fmt: skip


def run_ab(
    config: SimConfig,
    policies: Mapping[str, Policy | str],
    data_dir: str | os.PathLike[str] | None = None,
    *,
    experiment_key: str = "sim_policy_ab",
    via_collector: bool = False,
    truth: bool = True,
    progress: Progress | None = None,
    arm: npt.NDArray[np.int64] | None = None,
    ranking: bool = False,
    truth_policies: Mapping[str, Policy | str] | None = None,
    world: World | None = None,
) -> SimResult:
    """A/B mode: buyers are split between ``policies`` (the first is control).

    Each buyer's first session logs an ``exposure`` (``experiment_key``, variant = the policy's
    key in ``policies``). The result's ``experiment`` holds the true value of every variant over
    all buyers (common random numbers) and the true effects against control.

    Args:
        config: The world and period.
        policies: Variant name to policy.
        data_dir: Where to write events and truth tables; ``None`` to only compute.
        experiment_key: Logged on every exposure.
        via_collector: Send every event through the collector (see :func:`simulate`).
        truth: Write the ``sim_*`` truth tables too.
        progress: Called after each day.
        arm: The variant index of every buyer (``None``: a random even split). Give the
            assignment your experiment service makes, so simulated arms are the served ones.
        ranking: Turn the ranking effect on (see :func:`~marketlift.sim.funnel.simulate_day`).
        truth_policies: The policies the truth evaluates over all buyers, when they are not
            ``policies`` themselves (for example the same engine forced to each variant);
            keys as in ``policies``.
        world: The buyers and listings (default ``make_world(config)``); for a test that
            follows an earlier run, :func:`~marketlift.sim.world.continue_world`.
    """
    if len(policies) < 2:
        raise ConfigError("policies", list(policies), "at least two variants")
    pols = [make_policy(p) if isinstance(p, str) else p for p in policies.values()]
    names = list(policies)
    if arm is None:
        arm = (config.rng(0, 3).permutation(config.n_buyers) % len(pols)).astype(np.int64)
    else:
        arm = np.asarray(arm, dtype=np.int64)
        if arm.shape != (config.n_buyers,) or arm.min() < 0 or arm.max() >= len(pols):
            raise ConfigError(
                "arm", f"array of shape {arm.shape}",
                f"one variant index in [0, {len(pols)}) per buyer ({config.n_buyers})",
            )  # fmt: skip
    result = _run(config, pols, arm, data_dir, experiment_key=experiment_key, names=names,
                  via_collector=via_collector, truth=truth, progress=progress,
                  ranking=ranking, world=world)  # fmt: skip
    if truth_policies is not None and list(truth_policies) != names:
        raise ConfigError("truth_policies", list(truth_policies), f"the variants {names}")
    evaluated = dict(zip(names, pols, strict=True)) if truth_policies is None else truth_policies
    values = evaluate_policies(config, evaluated, ranking=ranking, world=world)
    control = names[0]
    true_values = {k: v.expected_revenue_per_buyer for k, v in values.items()}
    experiment = ExperimentTruth(
        experiment_key=experiment_key,
        control=control,
        true_revenue_per_buyer=true_values,
        true_effect={k: v - true_values[control] for k, v in true_values.items()},
    )
    return dataclasses.replace(result, experiment=experiment)


def evaluate_policies(
    config: SimConfig,
    policies: Mapping[str, Policy | str],
    *,
    ranking: bool = False,
    world: World | None = None,
) -> dict[str, PolicyValue]:
    """The true value of each policy over all buyers, with common random numbers.

    Every policy faces the same buyers, sessions and uniforms; nothing is written. ``ranking``
    turns the ranking effect on; ``world`` gives the buyers and listings (as in :func:`run_ab`).

    Example:
        >>> from marketlift.sim.config import SimConfig
        >>> v = evaluate_policies(SimConfig(n_buyers=2000, n_days=3, seed=0),
        ...                       {"never": "never", "oracle": "oracle"})
        >>> v["oracle"].expected_revenue_per_buyer > v["never"].expected_revenue_per_buyer
        True
    """
    out = {}
    for key, pol in policies.items():
        p = make_policy(pol) if isinstance(pol, str) else pol
        result = _run(config, [p], np.zeros(config.n_buyers, dtype=np.int64), None,
                      experiment_key=None, names=[key], truth=False,
                      ranking=ranking, world=world)  # fmt: skip
        out[key] = result.values[key]
    return out


@dataclasses.dataclass(slots=True)
class _Totals:
    sessions: int = 0
    carts: int = 0
    checkouts: int = 0
    orders: int = 0
    decisions: int = 0
    events: int = 0
    written: int = 0
    arms: dict[int, npt.NDArray[np.float64]] = dataclasses.field(default_factory=dict)

    def add_day(self, day: Day, n_arms: int) -> None:
        c = day.carts
        n_rec = int(c.recovered.sum())
        self.sessions += day.n_sessions + n_rec
        self.carts += int(day.add_to_cart.sum())
        self.checkouts += int(day.checkout.sum()) + n_rec
        self.orders += int(day.purchased.sum()) + n_rec
        self.decisions += day.n_sessions + len(c.session)
        rows = np.arange(day.n_sessions)
        crow = np.arange(len(c.session))
        for k in range(n_arms):
            s, cs = day.arm == k, c.arm == k
            stats = np.array([
                day.purchased[s].sum() + c.recovered[cs].sum(),
                day.revenue_cents[s].sum() + c.revenue_cents[cs].sum(),
                day.values[rows, day.action][s].sum() + c.values[crow, c.action][cs].sum(),
                s.sum() + cs.sum(),
                (day.action[s] > 0).sum() + (c.action[cs] > 0).sum(),
                c.unsubscribed[cs].sum(),
            ], dtype=np.float64)  # fmt: skip
            self.arms[k] = self.arms.get(k, np.zeros(6)) + stats

    def funnel(self) -> Funnel:
        return Funnel(
            sessions=self.sessions, carts=self.carts, checkouts=self.checkouts,
            orders=self.orders,
            session_conversion=self.orders / self.sessions if self.sessions else 0.0,
            add_to_cart_rate=self.carts / self.sessions if self.sessions else 0.0,
            cart_abandonment=1.0 - self.orders / self.carts if self.carts else 0.0,
        )  # fmt: skip


CATALOG_FILE: Final = Path(__file__).with_name("engagement.toml")
"""The simulated marketplace's engagement catalog (one catalog among others)."""


def write_engagement_catalog(data_dir: str | os.PathLike[str]) -> Path:
    """Put the simulator's engagement catalog at ``DATA/engagement.toml`` unless one is there.

    A marketplace keeps its own catalog there; the simulator, as a client, ships its own.
    """
    target = Path(data_dir) / "engagement.toml"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(CATALOG_FILE.read_bytes())
    return target


def _run(
    config: SimConfig,
    policies: Sequence[Policy],
    arm: npt.NDArray[np.int64],
    data_dir: str | os.PathLike[str] | None,
    *,
    experiment_key: str | None,
    names: Sequence[str] | None = None,
    via_collector: bool = False,
    truth: bool = True,
    progress: Progress | None = None,
    ranking: bool = False,
    world: World | None = None,
    faults: Faults | None = None,
) -> SimResult:
    started = time.perf_counter()
    names = list(names) if names is not None else [policy_name(p) for p in policies]
    parts = [*names, experiment_key or ""] + (["ranking"] if ranking else [])
    if world is None:
        world = make_world(config)
    else:  # ids must not collide with a run of the same config on its own world
        digest = hashlib.blake2b(world.buyers.intent.tobytes(), digest_size=4)
        digest.update(world.buyers.first_day.tobytes())
        digest.update(world.listings.price_cents.tobytes())
        parts.append(f"world:{digest.hexdigest()}")
    if world.buyers.n != config.n_buyers or world.listings.n != config.listings:
        raise ConfigError("world", f"{world.buyers.n} buyers", f"{config.n_buyers} as in config")
    world = dataclasses.replace(world, config=config)
    run = config.run_key(*parts)
    state = BuyerState.start(world)
    totals = _Totals()
    sink = _Sink(data_dir, via_collector) if data_dir is not None else None
    builder = EventBuilder(world, run=run, policy_names=names, experiment_key=experiment_key)
    try:
        if data_dir is not None:
            _send_marketplace_files(data_dir, world)
        if sink is not None and truth:
            assert data_dir is not None
            write_table(data_dir, "sim_buyers", run, buyers_table(world, run, arm, names))
            write_table(data_dir, "sim_listings", run, listings_table(world, run))
        for d in range(config.n_days):
            day = simulate_day(world, state, d, policies, arm,
                               log_exposures=experiment_key is not None,
                               ranking=ranking)  # fmt: skip
            totals.add_day(day, len(policies))
            if sink is not None:
                table, broken = plant(builder.build(day), faults, d)
                totals.events += table.num_rows
                sink.put(table)
                if broken:  # rejected as they come in, during the day
                    day_end = dt.datetime.combine(config.start + dt.timedelta(days=d),
                                                  dt.time.max, dt.UTC)  # fmt: skip
                    sink.reject(broken, day_end)
                if truth:
                    assert data_dir is not None
                    _write_day_truth(data_dir, day, run, builder, names)
            if progress is not None:
                progress(d + 1, config.n_days, totals.events)
    finally:
        if sink is not None:
            written = sink.close()
            totals.written = written
    values = _policy_values(totals, names, policies, arm)
    result = SimResult(
        run=run, config=config, events=totals.events, written=totals.written,
        duplicates=totals.events - totals.written, sessions=totals.sessions,
        buyers=config.n_buyers, listings=config.listings, decisions=totals.decisions,
        seconds=time.perf_counter() - started, funnel=totals.funnel(), values=values,
    )  # fmt: skip
    if data_dir is not None and truth:
        _write_run_truth(data_dir, result, names)
    return result


def _send_marketplace_files(data_dir: str | os.PathLike[str], world: World) -> None:
    """What a marketplace keeps beside its events: listings, engagement catalog, currencies."""
    write_catalog(data_dir, world)  # the listings, sent to the catalog like any marketplace's
    write_engagement_catalog(data_dir)  # its engagement catalog, as a marketplace keeps one
    if load_currency_table(data_dir) is None:  # the rates its prices were made with
        write_currency_table(data_dir, FX, reporting="USD")


def _policy_values(
    totals: _Totals, names: Sequence[str], policies: Sequence[Policy], arm: npt.NDArray[np.int64]
) -> dict[str, PolicyValue]:
    values = {}
    for k, name in enumerate(names):
        orders, revenue, expected, decisions, nudges, unsubs = totals.arms.get(k, np.zeros(6))
        n_buyers = max(int((arm == k).sum()), 1)
        values[name] = PolicyValue(
            policy=policy_name(policies[k]), buyers=int((arm == k).sum()), orders=int(orders),
            revenue_per_buyer=float(revenue) / 100.0 / n_buyers,
            expected_revenue_per_buyer=float(expected) / 100.0 / n_buyers,
            decisions=int(decisions), nudges=int(nudges), unsubscribes=int(unsubs),
        )  # fmt: skip
    return values


def _write_day_truth(data_dir: str | os.PathLike[str], day: Day, run: str,
                     builder: EventBuilder, names: Sequence[str]) -> None:  # fmt: skip
    sids = builder.ids("s", day, np.arange(day.n_sessions, dtype=np.int64))
    dids = builder.ids("d", day, np.arange(day.n_sessions, dtype=np.int64))
    c = day.carts
    cdids = builder.ids("d", day, c.session)
    suffix = pa.array(np.where(c.moment == 2, "h", "d"))
    cdids = join([cdids, suffix]) if len(c.session) else pa.array([], pa.string())
    name = f"{run}-{day.day:03d}"
    write_table(data_dir, "sim_truth_sessions", name, sessions_table(day, run, sids, names))
    write_table(data_dir, "sim_truth_decisions", name,
                decisions_table(day, run, decision_ids=dids, cart_decision_ids=cdids,
                                session_ids=sids, variants=names))  # fmt: skip


def _write_run_truth(data_dir: str | os.PathLike[str], result: SimResult,
                     names: Sequence[str]) -> None:  # fmt: skip
    run = result.run
    con = duckdb.connect()
    try:
        register_views(con, data_dir)
        selects = " UNION ALL ".join(
            f"SELECT moment, '{a.name}' AS action, '{a.slug}' AS slug, "  # noqa: S608 - our names
            f"{'NULL' if a.channel is None else repr(a.channel)} AS channel, "
            f"p_{a.name} - p_none AS uplift, value_{a.name} - value_none AS value_uplift "
            f"FROM sim_truth_decisions WHERE run = $run AND p_{a.name} IS NOT NULL"
            for a in ACTIONS
        )
        sql = (
            "SELECT $run AS run, moment, action, slug, channel, count(*) AS decisions, "  # noqa: S608 - the action names are ours
            "avg(uplift) AS mean_purchase_uplift, "
            "avg(value_uplift) AS mean_value_uplift_usd_cents, "
            "avg((value_uplift < 0)::DOUBLE) AS share_harmful, "
            "quantile_cont(value_uplift, 0.1) AS value_uplift_p10, "
            "quantile_cont(value_uplift, 0.9) AS value_uplift_p90 "
            f"FROM ({selects}) GROUP BY ALL ORDER BY moment, action"
        )
        effects = con.sql(sql, params={"run": run}).to_arrow_table()
    finally:
        con.close()
    write_table(data_dir, "sim_truth_effects", run, effects)
    doc = result.to_dict()
    runs = pa.table({
        "run": [run], "seed": [result.config.seed], "variants": [list(names)],
        "events": [result.events], "sessions": [result.sessions],
        "result_json": [msgspec.json.encode(doc).decode()],
    })  # fmt: skip
    write_table(data_dir, "sim_runs", run, runs)


class _Sink:
    """Writes day tables to the lake: straight to the writer, or as JSON through the collector."""

    def __init__(self, data_dir: str | os.PathLike[str], via_collector: bool) -> None:
        self.writer = LakeWriter(data_dir, compact_after_files=1)
        self.via_collector = via_collector
        self.pending: list[Future[list[bool]]] = []
        # Day tables go straight into the partitions (LakeWriter.append_bulk) on one worker
        # thread, so writing day d overlaps simulating day d + 1; at most _MAX_PENDING wait.
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sim-lake")
        self.written = 0

    def put(self, table: pa.Table) -> None:
        if self.via_collector:
            self._collect(table)
            return
        self.pending.append(self._pool.submit(self.writer.append_bulk, table))
        while len(self.pending) > _MAX_PENDING:
            self.written += sum(self.pending.pop(0).result())

    def reject(self, payloads: list[str], received: dt.datetime) -> None:
        """Send payloads the collector rejects (planted faults): they become dead letters."""
        for future in self.pending:  # in order after the day's events
            self.written += sum(future.result())
        self.pending.clear()
        limits = dataclasses.replace(Limits.unbounded_time(), max_events=_COLLECTOR_BATCH)
        collector = Collector(LakeSink("", writer=self.writer), limits=limits,
                              clock=lambda: received)  # fmt: skip
        for i in range(0, len(payloads), _COLLECTOR_BATCH):
            body = "\n".join(payloads[i : i + _COLLECTOR_BATCH]).encode()
            collector.ingest(body, source="sim-fault")

    def _collect(self, table: pa.Table) -> None:
        received = table.column("received_at")[0].as_py()
        limits = dataclasses.replace(Limits.unbounded_time(), max_events=_COLLECTOR_BATCH)
        collector = Collector(LakeSink("", writer=self.writer), limits=limits,
                              clock=lambda: received)  # fmt: skip
        payload = table.column("payload").to_pylist()
        for i in range(0, len(payload), _COLLECTOR_BATCH):
            body = "\n".join(payload[i : i + _COLLECTOR_BATCH]).encode()
            report = collector.ingest(body, source="sim")
            if report.rejected:
                msg = f"the collector rejected simulated events: {report.rejected[:3]}"
                raise RuntimeError(msg)
            self.written += report.accepted

    def close(self) -> int:
        try:
            for future in self.pending:
                self.written += sum(future.result())
        finally:
            self._pool.shutdown()
            self.writer.close()
        return self.written
