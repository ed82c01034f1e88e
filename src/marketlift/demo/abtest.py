"""Steps 5 and 6: the simulated A/B test of marketlift's decisions, and its analysis.

Every decision of the test is made by the decision engine that ``marketlift serve`` runs
(:mod:`marketlift.demo.replay`): opened on the demo's data directory, it assigns each buyer
to ``control`` (popularity ranking, no engagement) or ``treatment`` (the promoted ranker, the
intent gate, the engagement policy from ``DATA/policies/engagement.pkl``, copy in the buyer's
locale), and answers one ``DecideRequest`` per simulated decision. The simulator's ranking
effect is on: a browsing buyer sees the answer's listings and may switch to one of them, so
the ranking matters as well as the engagement.

The test runs on the history's marketplace (the same buyers and listings, which the models
and the online features know) in the days after the history ends, with fresh sessions (seed
``seed + 1``). The unit is the ``anonymous_id`` (the device: every buyer has one, while a
quarter of them never sign in and have no ``buyer_id``). The experiment engine
(:func:`marketlift.experiments.analyze_lake`) reads the exposures and purchases from the lake;
the simulator's truth is the difference in expected revenue between the two policies over the
same buyers (common random numbers), per exposed buyer, which is what the measured lift
estimates.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Final

from marketlift.demo.progress import Steps
from marketlift.demo.sizes import DemoSize
from marketlift.sim import SimConfig, SimResult
from marketlift.sim.world import World

__all__ = [
    "EXPERIMENTS_TOML",
    "EXPERIMENT_KEY",
    "ab_config",
    "ab_world",
    "analyze",
    "run_ab_test",
    "write_experiments_toml",
]

EXPERIMENT_KEY: Final = "demo_engagement"
REPLAY_BUDGET_MS: Final = 10_000.0
"""The replay's latency budget: lifted, so a busy machine cannot change an outcome."""
EXPERIMENTS_TOML: Final = f"""# Written by `marketlift demo`: the experiment it simulated, so
# `marketlift serve` on this data directory assigns and applies the same one (unit
# anonymous_id, so signed-out visitors too; 50/50). The control arm carries the baseline
# values: popularity ranking and no engagement; the treatment arm the served models.
[[experiment]]
key = "{EXPERIMENT_KEY}"
unit = "anonymous_id"
variants = [
    {{name = "control", weight = 1, values = {{ranker = "popularity", policy = "none"}}}},
    {{name = "treatment", weight = 1}},
]
control = "control"
"""


def ab_config(size: DemoSize, seed: int, start: dt.date) -> SimConfig:
    """The A/B test's configuration: fresh sessions from ``start`` (buyers: :func:`ab_world`)."""
    return SimConfig(n_buyers=size.train_buyers, n_days=size.ab_days, seed=seed + 1, start=start)


def ab_world(history: SimConfig, config: SimConfig) -> World:
    """The history's buyers and listings in the A/B test's period (what the models know)."""
    from marketlift.sim.world import continue_world, make_world  # noqa: PLC0415

    return continue_world(make_world(history), config)


def write_experiments_toml(data_dir: str | os.PathLike[str]) -> Path:
    """Write ``DATA/experiments.toml`` with the demo's experiment (checked by loading it)."""
    from marketlift.experiments import load_experiments  # noqa: PLC0415

    path = Path(data_dir) / "experiments.toml"
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(EXPERIMENTS_TOML)
    load_experiments(tmp)
    tmp.replace(path)
    return path


def run_ab_test(
    data_dir: str | os.PathLike[str], history: SimConfig, config: SimConfig, steps: Steps
) -> tuple[SimResult, dict[str, Any]]:
    """Simulate the A/B test into the lake, every decision made by the decision engine.

    The engine is opened on ``data_dir`` as ``marketlift serve`` opens it (promoted models,
    the policy file, the online store loaded from the feature build, ``experiments.toml``).
    The buyers' arms are the engine's own assignment. The truth runs every buyer through the
    same engine forced to each variant, with the ranking effect on in all runs.

    Returns:
        The simulation's result and what the engine did (calls, time, degraded answers).
    """
    from marketlift.demo.replay import EngineArm, ReplayStats, served_arms  # noqa: PLC0415
    from marketlift.serve.config import DecideConfig, ServeConfig  # noqa: PLC0415
    from marketlift.serve.engine_setup import open_engine  # noqa: PLC0415
    from marketlift.sim import run_ab  # noqa: PLC0415

    serve = ServeConfig(
        data_dir=str(data_dir),
        decide=DecideConfig(budget_ms=REPLAY_BUDGET_MS),
    )
    opened = open_engine(serve, reload_interval_s=0)
    try:
        world = ab_world(history, config)
        variants = ["control", "treatment"]
        arm = served_arms(opened.assigner, world, EXPERIMENT_KEY, variants)
        memo: dict[Any, Any] = {}
        stats = ReplayStats()

        def arms(*, forced: bool) -> dict[str, EngineArm]:
            return {
                v: EngineArm(opened.engine, world, experiment=EXPERIMENT_KEY, memo=memo,
                             stats=stats, variant=v if forced else None,
                             expect=None if forced else v)
                for v in variants
            }  # fmt: skip

        label = f"A/B test: {config.n_buyers:,} buyers over {config.n_days} days (+ truth)"
        with steps.step("ab_test", label, total=config.n_days) as advance:
            result = run_ab(
                config,
                arms(forced=False),
                data_dir,
                experiment_key=EXPERIMENT_KEY,
                progress=lambda d, n, _e: advance(d, n),
                arm=arm,
                ranking=True,
                truth_policies=arms(forced=True),
                world=world,
            )
    finally:
        opened.close()
    return result, stats.to_dict()


def analyze(
    data_dir: str | os.PathLike[str], sim: SimResult, steps: Steps
) -> tuple[Any, dict[str, Any]]:
    """Analyze the experiment from the lake; returns the analysis and the summary's part."""
    from marketlift.experiments import analyze_lake, load_experiments  # noqa: PLC0415

    experiment = load_experiments(Path(data_dir) / "experiments.toml")[EXPERIMENT_KEY]
    with steps.step("analysis", "experiment engine: analysis from the lake", total=1):
        result = analyze_lake(data_dir, EXPERIMENT_KEY, experiment=experiment)  # currencies.toml
    truth = sim.experiment
    assert truth is not None
    exposed = sum(a.units for a in result.arms)
    # The simulator's effect is per buyer of the world; buyers who never came during the
    # test (no exposure) have no decision, hence no effect: per exposed buyer it is scaled up.
    true_per_buyer = truth.true_effect["treatment"]
    true_lift = true_per_buyer * sim.buyers / exposed if exposed else None
    metrics = {m.metric: m for m in result.metrics if m.variant == "treatment"}

    def lift(name: str) -> dict[str, Any] | None:
        m = metrics.get(name)
        if m is None:
            return None
        return {
            "control": m.control_mean,
            "treatment": m.treatment_mean,
            "lift": m.effect,
            "interval": [m.effect_lower, m.effect_upper],
            "relative": m.rel_effect,
            "relative_interval": [m.rel_lower, m.rel_upper],
            "pvalue": m.pvalue,
            "significant": m.significant,
        }

    revenue = lift("revenue_per_unit")
    summary: dict[str, Any] = {
        "key": EXPERIMENT_KEY,
        "control": "popularity ranking, no engagement",
        "treatment": "marketlift ranking, intent gate and engagement policy with copy",
        "note": "every decision made by the decision engine that `marketlift serve` runs; "
        "buyers see its listings and may switch to one (ranking effect)",
        "units": {a.variant: a.units for a in result.arms},
        "srm_mismatch": result.srm.mismatch,
        "srm_pvalue": result.srm.pvalue,
        "flags": list(result.flags),
        "conversion": lift("conversion"),
        "revenue_per_buyer": revenue,
        "true_revenue_lift_per_buyer": true_lift,
        "true_revenue_per_buyer": truth.true_revenue_per_buyer,
        "truth_in_interval": None
        if revenue is None or true_lift is None
        else bool(revenue["interval"][0] <= true_lift <= revenue["interval"][1]),
        "events": sim.events,
        "sessions": sim.sessions,
        "buyers": sim.buyers,
        "nudges": {k: v.nudges for k, v in sim.values.items()},
        "seconds": round(sim.seconds, 2),
    }
    return result, summary
