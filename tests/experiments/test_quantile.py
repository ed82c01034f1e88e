"""Quantile metrics: intervals that cover the known difference of quantiles."""

import math

import numpy as np
import pytest

from marketlift.experiments.quantile import ArmQuantiles, arm_quantiles, compare_quantile


@pytest.mark.parametrize("seed", [0, 1])
def test_interval_covers_the_true_difference_of_p90(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p, runs, n = 0.9, 400, 2000
    truth = -12.0 * math.log(1 - p) - (-10.0 * math.log(1 - p))  # exponential quantiles
    covered, effects, ses = 0, [], []
    for _ in range(runs):
        c = arm_quantiles(rng.exponential(10.0, n), p)
        t = arm_quantiles(rng.exponential(12.0, n), p)
        r = compare_quantile("p90", p, c, t)
        covered += r.effect_lower <= truth <= r.effect_upper
        effects.append(r.effect)
        ses.append(r.se)
    assert 0.92 <= covered / runs <= 0.98
    assert float(np.mean(ses)) == pytest.approx(float(np.std(effects)), rel=0.12)


def test_standard_error_matches_the_asymptotic_formula() -> None:
    """se of a quantile is sqrt(p (1 - p) / n) / f(q); for the exponential f(q) = (1 - p) / s."""
    rng = np.random.default_rng(3)
    p, n, s = 0.9, 50_000, 10.0
    ses = []
    for _ in range(20):
        c, t = (arm_quantiles(rng.exponential(s, n), p) for _ in range(2))
        ses.append(compare_quantile("p90", p, c, t).se)
    want = math.sqrt(2) * math.sqrt(p * (1 - p) / n) / ((1 - p) / s)
    assert float(np.mean(ses)) == pytest.approx(want, rel=0.05)


def test_empty_and_constant_arms_are_flags() -> None:
    empty = ArmQuantiles(0, math.nan, math.nan, math.nan)
    r = compare_quantile("p90", 0.9, empty, arm_quantiles([1.0] * 50, 0.9))
    assert "empty_arm" in r.flags
    constant = arm_quantiles([2.0] * 100, 0.9)
    r = compare_quantile("p90", 0.9, constant, constant)
    assert "zero_variance" in r.flags
    assert not r.significant
