"""Bandit experiments: Thompson shares with floor and burn-in; IPW effects under adaptivity."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from marketlift.errors import ConfigError
from marketlift.experiments.bandit import ThompsonAllocator, ipw_effects

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "experiments_bandit.py"


def test_shares_respect_floor_burn_in_and_favour_the_better_arm() -> None:
    alloc = ThompsonAllocator(["a", "b", "c"], floor=0.1, burn_in=50, random_state=1)
    assert alloc.shares({"a": (1, 10), "b": (9, 10), "c": (5, 49)}) == dict.fromkeys("abc", 1 / 3)
    shares = alloc.shares({"a": (10, 1000), "b": (200, 1000), "c": (12, 1000)})
    assert sum(shares.values()) == pytest.approx(1.0)
    assert min(shares.values()) >= 0.1 - 1e-12
    assert shares["b"] == pytest.approx(0.8, abs=0.01)  # floor 0.1 each for a and c
    means = ThompsonAllocator(["a", "b"], burn_in=2, kind="mean", random_state=0)
    assert means.shares({"a": (10.0, 10, 20.0), "b": (50.0, 10, 260.0)})["b"] > 0.9


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"floor": 0.6}, "floor"), ({"burn_in": -1}, "burn_in"), ({"kind": "median"}, "kind")],
)
def test_bad_settings_raise(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError) as info:
        ThompsonAllocator(["a", "b"], **kwargs)
    assert info.value.name == name


def test_ipw_equals_the_horvitz_thompson_formula_and_checks_input() -> None:
    arm = np.array(["c", "t", "t", "c", "t"])
    p = np.array([0.5, 0.5, 0.25, 0.75, 0.2])
    y = np.array([1.0, 0.0, 1.0, 1.0, 1.0])
    (e,) = ipw_effects(arm, p, y, control="c")
    terms = np.array([-2.0, 0.0, 4.0, -1 / 0.75, 5.0])
    assert e.effect == pytest.approx(terms.mean())
    assert e.se == pytest.approx(terms.std(ddof=1) / np.sqrt(5))
    with pytest.raises(ConfigError, match="propensity"):
        ipw_effects(arm, np.zeros(5), y, control="c")
    with pytest.raises(ConfigError, match="control"):
        ipw_effects(arm, p, y, control="x")


def test_adaptive_intervals_cover_the_truth_and_regret_beats_uniform() -> None:
    """A small version of benchmarks/experiments_bandit.py (known truth)."""
    spec = importlib.util.spec_from_file_location("experiments_bandit", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.bandit(runs=60, batches=8, batch=1500, seed=11)
    assert out["ipw_coverage"] >= 0.88
    assert out["regret_ratio_vs_uniform"] < 0.7


def test_lake_shares_favour_the_arm_that_converts_more(lake) -> None:
    from marketlift.experiments.bandit import lake_shares
    from marketlift.experiments.definitions import builtin_definitions

    alloc = ThompsonAllocator(["control", "short_copy"], floor=0.05, burn_in=30, random_state=0)
    shares = lake_shares(lake.path, lake.experiment, alloc, builtin_definitions()["conversion"])
    assert shares["short_copy"] > shares["control"]  # it converts 1.3 times as often
    assert min(shares.values()) >= 0.05 - 1e-12
    with pytest.raises(ConfigError, match=r"metric\.kind"):
        lake_shares(lake.path, lake.experiment, alloc, builtin_definitions()["aov"])
