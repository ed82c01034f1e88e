import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from marketlift.experiments.ttest import welch


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_welch_matches_scipy_and_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = rng.exponential(10.0, 300 + 17 * seed)
    t = rng.exponential(11.0, 350)
    r = welch(c.mean(), c.var(ddof=1), c.size, t.mean(), t.var(ddof=1), t.size)
    ref = stats.ttest_ind(t, c, equal_var=False)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    lo, hi = ref.confidence_interval(0.95)
    assert (r.effect_lower, r.effect_upper) == pytest.approx((lo, hi), rel=1e-9)
    cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    sm_lo, sm_hi = cm.tconfint_diff(alpha=0.05, usevar="unequal")
    assert (r.effect_lower, r.effect_upper) == pytest.approx((sm_lo, sm_hi), rel=1e-9)
    assert r.df == pytest.approx(cm.ttest_ind(usevar="unequal")[2], rel=1e-9)


def test_zero_variance_gives_nan_not_exception() -> None:
    r = welch(1.0, 0.0, 50, 1.0, 0.0, 50)
    assert np.isnan(r.pvalue)
    assert r.se == 0.0


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_aa_false_positive_rate_and_coverage(seed: int) -> None:
    """10,000 A/A tests (and 10,000 with a true effect) on skewed data, vectorized."""
    rng = np.random.default_rng(seed)
    k, n = 10_000, 400
    c = rng.lognormal(1.0, 0.8, (k, n))
    t = rng.lognormal(1.0, 0.8, (k, n))
    r = welch(c.mean(1), c.var(1, ddof=1), n, t.mean(1), t.var(1, ddof=1), n)
    fpr = float(np.mean(r.pvalue < 0.05))
    assert 0.04 <= fpr <= 0.06
    true_effect = 0.3
    t2 = t + true_effect
    r2 = welch(c.mean(1), c.var(1, ddof=1), n, t2.mean(1), t2.var(1, ddof=1), n)
    coverage = float(np.mean((r2.effect_lower <= true_effect) & (true_effect <= r2.effect_upper)))
    assert 0.94 <= coverage <= 0.96
    rel_true = true_effect / np.exp(1.0 + 0.8**2 / 2)
    rel_cov = float(np.mean((r2.rel_lower <= rel_true) & (rel_true <= r2.rel_upper)))
    assert 0.94 <= rel_cov <= 0.96
