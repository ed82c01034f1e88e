import numpy as np
import pytest

from marketlift.errors import ConfigError
from marketlift.experiments.analysis import compare_arm
from marketlift.experiments.metrics import Metric, covariate_theta
from marketlift.experiments.stats import Moments

CUPED = Metric("y", "y", covariate="x")
PLAIN = Metric("y", "y")


def _arms(y: np.ndarray, x: np.ndarray) -> list[Moments]:
    """Moments of each row (one experiment arm per row), computed with numpy."""
    sums = np.stack([y.sum(1), x.sum(1)], axis=1)
    cross = np.stack([(x * x).sum(1), (x * y).sum(1), (y * y).sum(1)], axis=1)
    n = y.shape[1]
    return [
        Moments(n, ("y", "x"), tuple(map(float, s)), CUPED.pairs, tuple(map(float, c)))
        for s, c in zip(sums, cross, strict=True)
    ]


@pytest.mark.parametrize("seed", [0, 1])
def test_cuped_is_unbiased_and_reduces_variance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, n, effect, rho = 1500, 400, 0.5, 0.8
    x_c, x_t = rng.normal(10, 3, (k, n)), rng.normal(10, 3, (k, n))

    def outcome(x: np.ndarray) -> np.ndarray:
        noise = rng.normal(0, 3 * np.sqrt(1 - rho**2), x.shape)
        return 20 + rho * (x - 10) + noise

    y_c, y_t = outcome(x_c), outcome(x_t) + effect
    controls, treatments = _arms(y_c, x_c), _arms(y_t, x_t)
    cuped = [compare_arm(CUPED, c, t, "t") for c, t in zip(controls, treatments, strict=True)]
    plain = [compare_arm(PLAIN, c, t, "t") for c, t in zip(controls, treatments, strict=True)]
    e_cuped = np.array([r.effect for r in cuped])
    e_plain = np.array([r.effect for r in plain])
    assert abs(e_cuped.mean() - effect) < 4 * e_cuped.std() / np.sqrt(k)
    assert e_cuped.var() / e_plain.var() == pytest.approx(1 - rho**2, rel=0.15)
    assert np.mean([r.variance_reduction for r in cuped]) == pytest.approx(rho**2, abs=0.03)
    covered = np.mean([r.effect_lower <= effect <= r.effect_upper for r in cuped])
    assert 0.93 <= covered <= 0.97


def test_ratio_metric_delta_method_matches_simulated_variance() -> None:
    """The delta-method variance of revenue per session matches the spread over 4,000 draws."""
    rng = np.random.default_rng(9)
    k, n = 4000, 500
    sessions = rng.poisson(3, (k, n)) + 1
    revenue = rng.gamma(2.0, 5.0, (k, n)) * sessions
    metric = Metric("rps", "revenue", "sessions")
    ratios, variances = [], []
    for r, s in zip(revenue[:200], sessions[:200], strict=True):
        m = Moments.from_columns({"revenue": r.tolist(), "sessions": s.tolist()}, metric.pairs)
        mean, var = metric.plain(m)
        ratios.append(mean)
        variances.append(var / n)
    empirical = (revenue.sum(1) / sessions.sum(1)).var()
    assert np.mean(variances) == pytest.approx(empirical, rel=0.08)


def test_zero_covariate_variance_means_no_adjustment() -> None:
    m = Moments.from_columns({"y": [1.0, 2.0, 3.0], "x": [1.0, 1.0, 1.0]}, CUPED.pairs)
    assert covariate_theta(CUPED, m) == 0.0
    assert CUPED.adjusted(m, m) == CUPED.plain(m)


def test_metric_misuse() -> None:
    with pytest.raises(ConfigError, match="covariate_denominator"):
        Metric("m", "y", covariate_denominator="d")
    with pytest.raises(ConfigError, match=r"metric\.name"):
        Metric("", "y")


def test_undefined_ratio_covariate_falls_back_to_plain_and_is_flagged() -> None:
    aov = Metric("aov", "revenue", "orders", "pre_revenue", "pre_orders")
    rng = np.random.default_rng(2)

    def arm() -> Moments:
        orders = rng.integers(1, 4, 200).astype(float)
        return Moments.from_columns(
            {
                "revenue": (orders * rng.gamma(2, 10, 200)).tolist(),
                "orders": orders.tolist(),
                "pre_revenue": [0.0] * 200,
                "pre_orders": [0.0] * 200,  # all new buyers
            },
            aov.pairs,
        )

    c, t = arm(), arm()
    r = compare_arm(aov, c, t, "t")
    assert "covariate_unused" in r.flags
    assert np.isfinite(r.effect)
    assert np.isfinite(r.pvalue)
    assert r.effect == compare_arm(Metric("aov", "revenue", "orders"), c, t, "t").effect
