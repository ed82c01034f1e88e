"""Simulated decisions made by the real decision engine (:mod:`marketlift.demo.replay`).

The engine is opened by ``open_engine`` on the served data directory of the service tests;
what it answers a simulated buyer is compared with what the HTTP app answers the same request.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from marketlift.demo.abtest import EXPERIMENTS_TOML
from marketlift.demo.replay import EngineArm, ReplayStats, device_id, served_arms
from marketlift.serve import ServeConfig, create_app
from marketlift.serve.config import DecideConfig
from marketlift.serve.engine_setup import OpenedEngine, open_engine
from marketlift.sim import ACTIONS, ContextBatch, SimConfig, make_world
from marketlift.sim.effects import available
from marketlift.sim.text import COUNTRY_OF, LOCALES
from tests.serve.served import explore_every_action

EXPERIMENT = "demo_engagement"
TOML = EXPERIMENTS_TOML  # the demo's: control carries the baseline values
WORLD = make_world(SimConfig(n_buyers=1500, n_days=5, seed=3))  # the served data's world


@pytest.fixture(scope="module")
def data(served: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("replay") / "data"
    shutil.copytree(served, copy)
    (copy / "experiments.toml").write_text(TOML)
    # Every reachable channel gets used, and one the buyer cannot be reached on would show
    # (the simulator refuses it).
    explore_every_action(copy)
    return copy


@pytest.fixture(scope="module")
def opened(data: Path) -> OpenedEngine:
    config = ServeConfig(data_dir=str(data), decide=DecideConfig(budget_ms=10_000))
    engine = open_engine(config, reload_interval_s=0)
    yield engine  # type: ignore[misc]
    engine.close()


def _batch(moment: int, n: int = 40, seed: int = 0) -> ContextBatch:
    rng = np.random.default_rng(seed)
    moments = np.full(n, moment, dtype=np.int64)
    push = rng.random(n) < 0.5
    email = rng.random(n) < 0.5
    return ContextBatch(
        moment=moments, buyer=rng.choice(WORLD.buyers.n, n, replace=False),
        listing=rng.integers(0, WORLD.listings.n, n), u=rng.random(n),
        price_sensitivity=np.full(n, 0.4), is_new=rng.random(n) < 0.3,
        fatigue=rng.exponential(0.5, n), value_cents=np.full(n, 3000.0),
        available=available(moments, push_opt_in=push, email_opt_in=email),
        true_values=np.zeros((n, len(ACTIONS))),
    )  # fmt: skip


def test_slates_are_the_answers_of_the_http_app(opened: OpenedEngine, data: Path) -> None:
    batch = _batch(0, n=12)
    slates = {
        v: EngineArm(opened.engine, WORLD, variant=v).decide_batch(batch, 6)[2]
        for v in ("control", "treatment")
    }
    assert all((s >= 0).all() for s in slates.values())
    app = create_app(ServeConfig(data_dir=str(data)))
    with TestClient(app) as client:
        for i in range(len(batch)):
            buyer = int(batch.buyer[i])
            b = WORLD.buyers
            body = {
                "surface": "listing",
                "platform": ("web", "ios", "android")[int(b.platform[buyer])],
                "anonymous_id": device_id(buyer, int(b.platform[buyer])),
                "context": {"listing_id": f"l{int(batch.listing[i]):07d}"},
                "locale": LOCALES[int(b.locale[buyer])],
                "country": COUNTRY_OF[LOCALES[int(b.locale[buyer])]],
                "limit": 6,
            }
            if b.signed_in[buyer]:
                body["buyer_id"] = f"b{buyer:07d}"
            got = client.post("/v1/decide", json=body).json()
            shown = [int(x["listing_id"][1:]) for x in got["listings"]]
            # plain serve applies the unit's arm: control's values give the baseline
            (variant,) = {a["variant"] for a in got["assignments"]}
            assert shown == slates[variant][i].tolist()


def test_control_gets_popularity_and_no_engagement(opened: OpenedEngine) -> None:
    batch = _batch(0)
    control = EngineArm(opened.engine, WORLD, variant="control")
    action, propensity, slate = control.decide_batch(batch, 6)
    assert (action == 0).all()
    assert (propensity == 1.0).all()
    popular = [int(x[1:]) for x in opened.engine.watcher.current.popular[:8]]
    for i in range(len(batch)):
        expected = [p for p in popular if p != int(batch.listing[i])][:6]
        assert slate[i].tolist() == expected


def test_treatment_engages_only_on_reachable_channels(opened: OpenedEngine) -> None:
    stats = ReplayStats()
    arm = EngineArm(opened.engine, WORLD, variant="treatment", stats=stats)
    used: set[str | None] = set()
    for moment in (0, 1, 2, 3):
        batch = _batch(moment, n=60, seed=moment)
        action, propensity = arm.select_batch(batch)
        # check_choice inside refused any action the buyer cannot get; check it again here
        assert batch.available[np.arange(len(batch)), action].all()
        assert ((propensity > 0) & (propensity <= 1)).all()
        channels = {ACTIONS[a].channel for a in action}
        if moment >= 2:
            assert channels <= {None, "push", "email"}
        else:
            assert channels <= {None, "onsite", "in_app"}
        used |= channels
    assert used == {None, "push", "email", "onsite", "in_app"}
    assert stats.decisions == 240
    assert stats.degraded == 0


def test_decisions_are_memoized_and_follow_the_simulators_uniform(opened: OpenedEngine) -> None:
    memo: dict[object, object] = {}
    stats = ReplayStats()
    batch = _batch(2, n=30, seed=7)
    first = EngineArm(opened.engine, WORLD, variant="treatment", memo=memo, stats=stats)
    a1, p1 = first.select_batch(batch)
    again = EngineArm(opened.engine, WORLD, variant="treatment", memo=memo, stats=stats)
    a2, p2 = again.select_batch(batch)
    assert stats.decisions == 30
    assert stats.reused == 30
    assert (a1 == a2).all()
    assert (p1 == p2).all()
    fresh = EngineArm(opened.engine, WORLD, variant="treatment")
    a3, p3 = fresh.select_batch(batch)  # no memo: the same u gives the same decisions
    assert (a1 == a3).all()
    assert np.allclose(p1, p3)


def test_arms_are_the_served_assignment(opened: OpenedEngine, data: Path) -> None:
    arm = served_arms(opened.assigner, WORLD, EXPERIMENT, ["control", "treatment"])
    assert 0.4 < arm.mean() < 0.6
    app = create_app(ServeConfig(data_dir=str(data)))
    b = WORLD.buyers
    with TestClient(app) as client:
        for buyer in range(0, 200, 7):
            platform = int(b.platform[buyer])
            got = client.post(
                "/v1/assign",
                json={
                    "platform": ("web", "ios", "android")[platform],
                    "anonymous_id": device_id(buyer, platform),
                },
            ).json()
            variant = {a["experiment_key"]: a["variant"] for a in got["assignments"]}
            assert variant[EXPERIMENT] == ("control", "treatment")[arm[buyer]]
    # The A/B arm checks that the engine's own assignment is the simulated arm.
    wrong = EngineArm(opened.engine, WORLD, expect="treatment", experiment=EXPERIMENT)
    batch = _batch(0, n=60)
    in_control = np.flatnonzero(arm[batch.buyer] == 0)
    assert len(in_control) > 0
    with pytest.raises(RuntimeError, match=r"the engine assigned d\d{7}[wia] to 'control'"):
        wrong.select_batch(batch)
