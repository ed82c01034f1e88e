import numpy as np
import pytest

from marketlift.errors import ConfigError
from marketlift.experiments.sequential import confidence_sequence_halfwidth, sequential_interval
from marketlift.experiments.ttest import welch

DAYS, PER_DAY, K = 30, 200, 10_000


def _daily_peeks(rng: np.random.Generator, p_c: float, p_t: float) -> tuple:
    """Cumulative conversion data of K experiments, peeked at after each of 30 days."""
    conv_c = rng.binomial(PER_DAY, p_c, (K, DAYS)).cumsum(axis=1)
    conv_t = rng.binomial(PER_DAY, p_t, (K, DAYS)).cumsum(axis=1)
    n = PER_DAY * np.arange(1, DAYS + 1)

    def var(conv: np.ndarray) -> np.ndarray:
        m = conv / n
        return m * (1 - m) * n / (n - 1)

    lift = welch(conv_c / n, var(conv_c), n, conv_t / n, var(conv_t), n)
    return lift, 2 * n


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sequential_stays_valid_under_daily_peeking_while_naive_does_not(seed: int) -> None:
    lift, n_total = _daily_peeks(np.random.default_rng(seed), 0.1, 0.1)
    naive_fpr = float(np.mean((lift.pvalue < 0.05).any(axis=1)))
    seq = sequential_interval(lift.effect, lift.se, n_total, alpha=0.05, tuning_n=12_000)
    seq_fpr = float(np.mean(seq.significant.any(axis=1)))
    assert naive_fpr > 0.15  # peeking 30 times inflates the nominal 5 percent
    assert seq_fpr <= 0.05
    # the last look alone is an ordinary fixed-horizon test
    assert 0.04 <= float(np.mean(lift.pvalue[:, -1] < 0.05)) <= 0.06
    # the always-valid p-value agrees with the interval decision
    assert np.array_equal(seq.pvalue < 0.05, seq.significant)


@pytest.mark.parametrize("seed", [3, 4])
def test_sequence_covers_true_effect_at_all_times(seed: int) -> None:
    lift, n_total = _daily_peeks(np.random.default_rng(seed), 0.10, 0.115)
    seq = sequential_interval(lift.effect, lift.se, n_total, alpha=0.05, tuning_n=12_000)
    ever_missed = ((seq.lower > 0.015) | (seq.upper < 0.015)).any(axis=1)
    assert float(np.mean(ever_missed)) <= 0.05
    assert float(np.mean(seq.significant[:, -1])) > 0.2  # it still has power


def test_sequence_is_wider_than_fixed_interval_and_shrinks() -> None:
    n = np.array([1_000, 10_000, 100_000])
    se = 1.0 / np.sqrt(n)
    half = confidence_sequence_halfwidth(se, n, alpha=0.05, tuning_n=10_000)
    assert np.all(half > 1.96 * se)
    assert np.all(np.diff(half) < 0)


def test_misuse_raises() -> None:
    with pytest.raises(ConfigError, match="alpha"):
        confidence_sequence_halfwidth(0.1, 100, alpha=1.5, tuning_n=100)
    with pytest.raises(ConfigError, match="tuning_n"):
        confidence_sequence_halfwidth(0.1, 100, alpha=0.05, tuning_n=0)


@pytest.mark.parametrize("tuning_n", [2_000, 50_000])
def test_sequence_is_tightest_near_the_planned_size(tuning_n: int) -> None:
    n = np.geomspace(100, 1_000_000, 400)
    se = 3.0 / np.sqrt(n)  # any unit standard deviation: the tuning must not depend on it
    ratio = confidence_sequence_halfwidth(se, n, alpha=0.05, tuning_n=tuning_n) / se
    best = n[np.argmin(ratio)]
    assert tuning_n / 1.5 < best < tuning_n * 1.5
