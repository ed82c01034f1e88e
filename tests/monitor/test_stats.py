"""The index, the calibration error and reliability against straightforward references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from marketlift.models.metrics import expected_calibration_error
from marketlift.monitor import categorical_psi, psi, reliability


def _reference_psi(ref: np.ndarray, cur: np.ndarray, n_bins: int = 10) -> float:
    edges = np.concatenate([[-np.inf], np.quantile(ref, np.arange(1, n_bins) / n_bins), [np.inf]])
    e = np.maximum(np.histogram(ref, edges)[0] / len(ref), 1e-4)
    a = np.maximum(np.histogram(cur, edges)[0] / len(cur), 1e-4)
    return float(np.sum(special.rel_entr(a, e) + special.rel_entr(e, a)))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shift", [0.0, 0.3, 1.5])
def test_psi_matches_histogram_reference(seed: int, shift: float) -> None:
    rng = np.random.default_rng(seed)
    ref, cur = rng.normal(size=4000), rng.normal(shift, 1.2, size=3000)
    assert psi(ref, cur) == pytest.approx(_reference_psi(ref, cur), rel=1e-9, abs=1e-12)


def test_psi_ignores_missing_and_sees_a_shift_above_a_mass_point() -> None:
    rng = np.random.default_rng(1)
    ref = np.where(rng.random(5000) < 0.8, 0.0, rng.lognormal(3, 1, 5000))
    same = np.where(rng.random(5000) < 0.8, 0.0, rng.lognormal(3, 1, 5000))
    scaled = np.where(ref > 0, ref * 100, 0.0)
    with_nan = np.concatenate([same, np.full(2000, np.nan)])
    assert psi(ref, with_nan) == pytest.approx(psi(ref, same))
    assert psi(ref, same) < 0.02
    assert psi(ref, scaled) > 1.0  # quantiles alone would be merged at 0 and miss it


def test_categorical_psi_matches_reference() -> None:
    rng = np.random.default_rng(2)
    ref = rng.choice(4, size=3000, p=[0.4, 0.3, 0.2, 0.1]).astype(float)
    cur = rng.choice(4, size=2000, p=[0.1, 0.2, 0.3, 0.4]).astype(float)
    e = np.bincount(ref.astype(int), minlength=4) / len(ref)
    a = np.bincount(cur.astype(int), minlength=4) / len(cur)
    expected = float(np.sum(special.rel_entr(a, e) + special.rel_entr(e, a)))
    assert categorical_psi(ref, cur) == pytest.approx(expected, rel=1e-12)


def test_reliability_by_decile_matches_scipy_binned_statistic() -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(1, 6, size=5000)
    y = (rng.random(5000) < np.clip(1.5 * p, 0, 1)).astype(float)
    rel = reliability(y, p)
    order = np.argsort(p, kind="stable")
    rank = np.empty(len(p))
    rank[order] = np.arange(len(p))
    obs = stats.binned_statistic(rank, y, "mean", bins=10, range=(0, len(p))).statistic
    pred = stats.binned_statistic(rank, p, "mean", bins=10, range=(0, len(p))).statistic
    np.testing.assert_allclose(rel.observed_rate, obs, rtol=1e-12)
    np.testing.assert_allclose(rel.mean_predicted, pred, rtol=1e-12)
    assert rel.rows == [500] * 10
    assert rel.ece == pytest.approx(float(np.mean(np.abs(obs - pred))), rel=1e-12)
    # a miscalibrated model (probabilities 1.5 times too low) has a large error both ways
    assert rel.ece > 0.03
    assert expected_calibration_error(y, p) > 0.03
    calibrated = (rng.random(5000) < p).astype(float)
    assert reliability(calibrated, p).ece < 0.02


def test_psi_critical_value_matches_a_simulation_of_noise() -> None:
    """Two samples of one population exceed the critical index about alpha of the time."""
    from marketlift.monitor.stats import psi_critical

    rng = np.random.default_rng(4)
    n, reps, alpha = 300, 2000, 0.05
    draws = np.array([psi(rng.normal(size=n), rng.normal(size=n)) for _ in range(reps)])
    share = float((draws > psi_critical(n, n, 10, alpha)).mean())
    assert 0.02 < share < 0.09  # binomial sd about 0.005 around 0.05; reference-quantile bins
    assert psi_critical(n, n, 10, 0.001) > psi_critical(n, n, 10, 0.05)
