import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower

from marketlift.errors import ConfigError
from marketlift.experiments.power import mde, plan, power, sample_size
from marketlift.experiments.ttest import welch


@pytest.mark.parametrize(("d", "n", "ratio"), [(0.1, 1000, 1.0), (0.05, 5000, 2.0), (0.3, 50, 0.5)])
def test_power_matches_statsmodels(d: float, n: int, ratio: float) -> None:
    ref = NormalIndPower().power(d, n, 0.05, ratio=ratio)
    assert power(d * 2.0, 2.0, n, ratio=ratio) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("d", [0.02, 0.1, 0.25])
def test_sample_size_and_mde_match_statsmodels_solver(d: float) -> None:
    n_ref = NormalIndPower().solve_power(effect_size=d, alpha=0.05, power=0.8)
    assert sample_size(d, 1.0) == int(np.ceil(n_ref - 1e-6))
    assert mde(n_ref, 1.0) == pytest.approx(d, rel=1e-9)


def test_variance_reduction_shrinks_size_by_its_factor() -> None:
    base = sample_size(0.01, 1.0)
    reduced = sample_size(0.01, 1.0, variance_reduction=0.4)
    assert reduced / base == pytest.approx(0.6, rel=1e-3)


@pytest.mark.parametrize("seed", [0, 1])
def test_planned_size_reaches_power_in_simulation(seed: int) -> None:
    # the average of both arms' variances is what the Welch standard error sees
    p = plan(sd=np.sqrt((0.1 * 0.9 + 0.11 * 0.89) / 2), baseline=0.1, mde_rel=0.1)
    rng = np.random.default_rng(seed)
    n, k = p.units_per_arm, 10_000
    c = rng.binomial(n, 0.10, k) / n
    t = rng.binomial(n, 0.11, k) / n
    r = welch(c, c * (1 - c) * n / (n - 1), n, t, t * (1 - t) * n / (n - 1), n)
    assert float(np.mean(r.pvalue < 0.05)) == pytest.approx(0.8, abs=0.015)


def test_misuse() -> None:
    with pytest.raises(ConfigError, match="alpha"):
        power(0.1, 1.0, 100, alpha=0.0)
    with pytest.raises(ConfigError, match="exactly one"):
        plan(sd=1.0, baseline=1.0)
    with pytest.raises(ConfigError, match="baseline"):
        plan(sd=1.0, mde_rel=0.1)
    with pytest.raises(ConfigError, match="variance_reduction"):
        sample_size(0.1, 1.0, variance_reduction=1.0)
